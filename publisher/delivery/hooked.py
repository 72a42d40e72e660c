"""What a platform pushes to us (a webhook) becomes heard items, like what a source reads.

Guarantees: `receive_facebook` stores nothing unless the body is signed with the app
secret of a configured `[listen.NAME]` source of type facebook (`channels.facebook_hook`);
the signed comments are stored through `publisher.delivery.listening.record` under the
source whose Page they came to (the entry's id) and whose secret signed them, so an item
the webhook brings and polling later reads (or Facebook delivers twice) is stored once.
Entries for a Page no source listens to are left out. No cursor is written: polling keeps
its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publisher.workspace.app import App


@dataclass(frozen=True)
class FacebookHook:
    """One Facebook source's webhook settings, secrets resolved."""

    source: str
    page_id: str
    app_secret: str
    verify_token: str


def facebook_hooks(app: App) -> list[FacebookHook]:
    """Every `[listen.NAME]` source of type facebook, with what the webhook needs."""
    from publisher.delivery.listening import build_source

    hooks = []
    for name, configured in sorted(app.config.sources.items()):
        if configured.type != "facebook":
            continue
        settings = build_source(app, name).settings
        hooks.append(FacebookHook(name, str(settings.get("page_id") or ""), str(settings.get("app_secret") or ""),
                                  str(settings.get("verify_token") or "")))
    return hooks


def facebook_challenge(app: App, params: dict[str, str]) -> str:
    """The challenge to echo to Facebook's subscription check (`HookRefused` otherwise)."""
    from channels.facebook_hook import challenge

    return challenge(params, [hook.verify_token for hook in facebook_hooks(app)])


def receive_facebook(app: App, body: bytes, signature: str | None) -> int:
    """Store the comments of one signed `feed` delivery; how many were new."""
    from channels.facebook_hook import comments, signed_by
    from publisher.delivery.listening import record

    hooks = facebook_hooks(app)
    signer = signed_by(body, signature, [hook.app_secret for hook in hooks])
    by_source: dict[str, list] = {}
    for page_id, item in comments(body):
        for hook in hooks:
            if hook.page_id == page_id and hook.app_secret == signer:
                by_source.setdefault(hook.source, []).append(item)
                break
    return sum(record(app, source, items, None) for source, items in by_source.items())
