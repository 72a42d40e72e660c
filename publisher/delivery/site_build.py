"""The statements page and the outbox, rebuilt from the log: one public page for the cabinet.

Guarantees:
- A site channel's statements (`site_entries`) are read from the log alone: each draft
  delivered (or confirmed, with the platform's time) on that channel, in the order of its
  first delivery, with the text its draft rendered for the channel, the publication time
  and id its receipt recorded, the log head of the attempt that delivered it, each
  correction that changed its text and its withdrawal. Machines that share one log
  therefore build byte-identical folders (`SiteChannel.files` depends on nothing else).
- `build_site` writes a folder under the channel's own lock; a statement a send in
  another process has written there but whose outcome the log does not hold yet (its
  attempt started, not ended) is kept as the folder has it, so a rebuild never takes a
  statement off the page while it is being published.
- `build_outbox` writes one file per delivered (draft, outbox channel), each carrying the
  log head of the attempt that delivered it, beside whatever else the folder holds
  (files a pick-up tool moved away come back only when someone asks for a rebuild, so
  the worker never rebuilds an outbox on its own).
- `keep_sites_current` is the worker's step: every site channel's configured `path`
  rebuilt when the log's head moved.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from publisher.errors import BadInput
from publisher.i18n import _

if TYPE_CHECKING:
    from publisher.workspace.app import App

OUTCOMES = ("delivery.delivered", "delivery.confirmed")
KINDS = ("delivery.started", "delivery.failed", *OUTCOMES, "statement.corrected", "statement.withdrawn")


@dataclass(frozen=True)
class Built:
    channel: str
    folder: Path
    statements: int
    head: tuple[int, str]


def channel_of_type(app: App, kind: str, name: str | None) -> str:
    """The channel `name` (which must be of type `kind`), or the only one of that type."""
    names = [one for one, channel in app.config.channels.items() if channel.type == kind]
    if name is not None:
        if name not in names:
            raise BadInput(_("no {type} channel named {name!r} in config/publisher.toml; {type} channels: "
                             "{known}.").format(type=kind, name=name, known=", ".join(names) or "-"))
        return name
    if len(names) != 1:
        raise BadInput(_("config/publisher.toml has {count} {type} channels ({known}); name one with "
                         "--channel.").format(count=len(names), type=kind, known=", ".join(names) or "-"))
    return names[0]


def _payloads(app: App, channel: str) -> dict[str, dict[str, Any]]:
    """Each draft's rendering for `channel`, with the draft's own fields."""
    found = {}
    for event in app.store.events(kind="draft.rendered"):
        payload = (event.data.get("payloads") or {}).get(channel)
        if payload is not None:
            found[event.draft or ""] = {**event.data, "payload": payload}
    return found


def site_entries(app: App, channel: str) -> tuple[list[dict[str, Any]], set[str]]:
    """The manifest entries of site channel `channel` as the log has them, and the drafts
    whose delivery there is in flight (an attempt started, no outcome recorded yet)."""
    drafts = _payloads(app, channel)
    entries: dict[str, dict[str, Any]] = {}
    started: dict[str, tuple[int, str]] = {}
    in_flight: set[str] = set()
    for event in app.store.events(kind=KINDS, channel=channel):
        draft = event.draft or ""
        data = event.data
        if event.kind == "delivery.started":
            started[draft] = (event.seq, event.hash)
            in_flight.add(draft)
        elif event.kind == "delivery.failed":
            in_flight.discard(draft)
        elif event.kind in OUTCOMES:
            in_flight.discard(draft)
            if draft in entries or draft not in drafts or not data.get("id") or not data.get("platform_time"):
                continue
            entries[draft] = _entry(drafts[draft], channel, data, started.get(draft))
        elif event.kind == "statement.corrected":
            _correct(entries.get(str(data.get("corrects") or "")), drafts.get(draft), data)
        elif event.kind == "statement.withdrawn":
            entry = entries.get(draft)
            if entry is not None and not entry.get("withdrawn") and data.get("how") == "deleted":
                entry["withdrawn"] = {"at": str(data.get("platform_time") or event.ts),
                                      "reason": str(data.get("reason") or "")}
    return list(entries.values()), in_flight - set(entries)


def _entry(rendered: dict[str, Any], channel: str, receipt: dict[str, Any],
           head: tuple[int, str] | None) -> dict[str, Any]:
    payload = rendered["payload"]
    text = "\n\n".join(payload["parts"])
    title = str(payload.get("title") or "").strip() or text.strip().split("\n", 1)[0]
    entry = {"draft": rendered["id"], "channel": channel, "title": title, "text": text,
             "published": receipt["platform_time"], "language": rendered["language"],
             "incident": rendered["incident"], "case": rendered["case"], "template": rendered["template"],
             "slug": str(receipt["id"])}
    if head is not None:
        entry.update({"log_seq": head[0], "log_hash": head[1]})
    return entry


def _correct(entry: dict[str, Any] | None, rendered: dict[str, Any] | None, data: dict[str, Any]) -> None:
    """Apply a `statement.corrected` to the entry it corrects, as `SiteChannel.edit` did."""
    if entry is None or rendered is None or data.get("how") != "edit":
        return
    payload = rendered["payload"]
    text = "\n\n".join(payload["parts"])
    if entry["text"] != text:
        entry["text"] = text
        entry["title"] = str(payload.get("title") or "").strip() or entry["title"]
        entry.setdefault("corrected", []).append(str(data.get("platform_time")))


def site_files(app: App, name: str | None = None) -> tuple[str, dict[str, str]]:
    """The statements site of one site channel, built from the log in memory (for
    `publish serve --public`): its name and {relative path: content}."""
    from channels.site import SiteChannel

    name = channel_of_type(app, "site", name)
    channel = app.channel(name)
    assert isinstance(channel, SiteChannel)
    entries, _flight = site_entries(app, name)
    return name, channel.files(entries, app.config.organisation)


def build_site(app: App, name: str | None = None, folder: Path | None = None) -> Built:
    """Write the statements page of site channel `name` (default the only one) into
    `folder` (default its configured `path`) from the log."""
    from channels.site import SiteChannel

    name = channel_of_type(app, "site", name)
    channel = app.channel(name)
    assert isinstance(channel, SiteChannel)
    target = folder or channel.folder
    head: list[tuple[int, str]] = []

    def entries_for(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        head.append(app.store.head())
        entries, in_flight = site_entries(app, name)
        return entries + [entry for entry in found if entry.get("draft") in in_flight]

    written = channel.rebuild(entries_for, app.config.organisation, target)
    return Built(name, target, len(written), head[0])


def build_outbox(app: App, name: str | None = None, folder: Path | None = None) -> Built:
    """Write one file per statement delivered on outbox channel `name` into `folder`
    (default its configured `path`) from the log."""
    from channels.outbox import OutboxChannel

    name = channel_of_type(app, "outbox", name)
    channel = app.channel(name)
    assert isinstance(channel, OutboxChannel)
    target = folder or channel.folder
    head = app.store.head()
    drafts = _payloads(app, name)
    started: dict[str, tuple[int, str]] = {}
    written: set[str] = set()
    for event in app.store.events(kind=("delivery.started", *OUTCOMES), channel=name, after_seq=None):
        draft = event.draft or ""
        if event.seq > head[0]:
            break
        if event.kind == "delivery.started":
            started[draft] = (event.seq, event.hash)
        elif draft in drafts and draft not in written:
            channel.write(target, draft, tuple(drafts[draft]["payload"]["parts"]), started.get(draft))
            written.add(draft)
    return Built(name, target, len(written), head)


def keep_sites_current(app: App) -> None:
    """Rebuild every site channel's configured folder from the log (the worker's step)."""
    for name, configured in app.config.channels.items():
        if configured.type == "site":
            build_site(app, name)
