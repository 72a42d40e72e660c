"""What the console shows about one draft: each payload as its platform will show it
(with its count against the limit and every part of a thread), the differences from
the draft it superseded, who approved it and what is still missing, the time left
before the incident's two deadlines and the freeze in force.

Platforms the draft does not go to (of X, Mastodon, Telegram, Facebook, the statements
page and an email) get a preview too, rendered from the same template, variables and
the platform's declared limits; it is marked as such, is never stored and is never
sent (what is sent is the draft's own payloads, byte for byte)."""
from __future__ import annotations

import difflib
from datetime import timedelta
from functools import partial
from dataclasses import dataclass, field
from typing import Any

from publisher.drafting.drafts import DraftRecord, describe_length, load_draft
from publisher.evidence.view import IncidentView, draft_view
from publisher.i18n import _
from publisher.incident.authority import approvers
from publisher.timeparse import hours
from publisher.workspace.app import App

LOOKS = {"x": "x", "mastodon": "mastodon", "telegram": "telegram", "facebook": "facebook", "site": "site",
         "email": "email"}


@dataclass
class Preview:
    channel: str
    type: str
    look: str
    audience: str
    title: str
    parts: tuple[str, ...]
    count: str
    configured: bool = True
    note: str | None = None


@dataclass
class DraftFacts:
    record: DraftRecord
    previews: list[Preview]
    approved_by: list[str]
    missing: int
    may_approve: list[str]
    previous: str | None = None
    changes: dict[str, list[str]] = field(default_factory=dict)
    prepare_left: float = 0.0
    """Hours left before the incident's 12 h (prepare) deadline, negative once past."""
    publish_left: float = 0.0
    """Hours left before its 48 h (publish) deadline."""
    frozen: Any = None
    """The freeze in force (an `Event`), None when publishing is not frozen."""
    void: bool = False


def draft_facts(app: App, draft_id: str) -> DraftFacts:
    """From the view of the draft's incident (`publisher.evidence.view`): the draft and
    the one it superseded come from the same rows, each signature checked once."""
    seen, record = draft_view(app, draft_id)
    draft = record.draft
    previews = [Preview(p.channel, p.type, LOOKS.get(p.type, "plain"), p.audience, p.title, p.parts,
                        describe_length(p))
                for p in draft.payloads.values()]
    approved = sorted(set(record.valid_approvers()))
    config = app.config
    eligible = [name for name in approvers(app) if name not in approved
                and (name != draft.author or config.self_approval)]
    previews += _other_platforms(record, {p.type for p in previews})
    first_seen = seen.incident.first_seen
    facts = DraftFacts(record, previews, approved, max(0, record.required - len(approved)), eligible,
                       prepare_left=hours(first_seen + timedelta(hours=config.prepare_hours) - seen.now),
                       publish_left=hours(first_seen + timedelta(hours=config.publish_hours) - seen.now),
                       frozen=seen.frozen, void=seen.incident.void is not None)
    _add_changes(seen, facts)
    return facts


def _other_platforms(record: DraftRecord, present: set[str]) -> list[Preview]:
    """Previews for platforms the draft does not go to, from its own text of the same
    variant (short for X and Mastodon, long for the others), split by each platform's
    declared limit; nothing is rendered again."""
    from channels import channel_class
    from publisher.drafting.lengths import DESCRIPTIONS, measure
    from publisher.drafting.splitting import fit
    from publisher.errors import BadInput

    texts = {p.variant: p.text for p in record.draft.payloads.values() if len(p.parts) == 1}
    titles = [p.title for p in record.draft.payloads.values() if p.title]
    found = []
    for platform in [name for name in LOOKS if name not in present]:
        cls = channel_class(platform)
        text, note = texts.get(cls.variant), None
        parts: tuple[str, ...] = ()
        if text is None:
            note = _("this draft has no {variant} text to preview; a {platform} channel would get one.").format(
                variant=cls.variant, platform=platform)
        else:
            try:
                parts = fit(text, cls.max_length, partial(measure, counting=cls.counting), cls.overflow, platform)
            except BadInput as error:
                note = str(error)
        limit = f"/{cls.max_length}" if cls.max_length else ""
        split = f", {len(parts)} parts" if len(parts) > 1 else ""
        count = f"{measure(text or '', cls.counting)}{limit} {DESCRIPTIONS[cls.counting]}{split}"
        found.append(Preview(platform, platform, LOOKS[platform], "", titles[0] if titles else "", tuple(parts),
                             count, configured=False, note=note))
    return found


def _add_changes(seen: IncidentView, facts: DraftFacts) -> None:
    """The differences, line by line, from the draft this one superseded."""
    for event in seen.rows.incident:
        if event.kind == "draft.superseded" and event.data.get("by") == facts.record.draft.id and event.draft:
            older = seen.draft(event.draft).draft
            facts.previous = older.id
            for name, payload in facts.record.draft.payloads.items():
                before = older.payloads.get(name)
                lines = list(difflib.unified_diff((before.text if before else "").splitlines(),
                                                  payload.text.splitlines(), lineterm="", n=1))[2:]
                if lines:
                    facts.changes[name] = lines
            return


def progress(app: App, draft_id: str) -> dict[str, Any]:
    record = load_draft(app, draft_id)
    return {"status": record.status, "done": all(d.state in ("delivered", "failed-permanent", "unknown")
                                                  for d in record.deliveries.values()),
            "deliveries": [{"channel": name, "state": d.state, "attempts": d.attempts,
                            "url": (d.receipt or {}).get("url"), "reason": d.reason}
                           for name, d in record.deliveries.items()]}
