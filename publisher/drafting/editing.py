"""Editing a draft by hand: `publish drafts edit DRAFT [--channel NAME]`.

Guarantees:
- An edit never changes a draft: it makes a new one, whose payloads pass the same
  length rules (refusal, thread split) as a rendered draft and whose id is the hash of
  its payloads (`drafts.draft_hash`, the one definition). Approvals given to the old
  draft do not carry over: the new draft starts awaiting approval.
- The old draft is superseded by the new one (`draft.superseded`), so it can no longer
  be approved or sent; the log records who edited what (`draft.edited`, with a unified
  diff of every changed title and text).
- Only a draft nothing was sent from can be edited: a rejected, superseded or (partly)
  delivered draft is refused, naming why.
- Saving the file unchanged changes nothing.
"""
from __future__ import annotations

import difflib
from dataclasses import replace
from typing import Callable

from publisher.drafting.drafts import Draft, DraftRecord, Payload, draft_hash, load_draft
from publisher.drafting.lengths import DESCRIPTIONS, check_accepted, measure
from publisher.drafting.splitting import fit
from publisher.errors import BadInput, Refused
from publisher.i18n import _
from publisher.incident.incidents import load_incident, refuse_void
from publisher.workspace.app import App
from publisher.workspace.inputs import check_text

Editor = Callable[[str], "str | None"]
MARKER = "===== channel "
EDITABLE = ("awaiting approval", "approved, not sent")


def edit_draft(app: App, draft_id: str, author: str, editor: Editor,
               channels: tuple[str, ...] = ()) -> DraftRecord | None:
    """Open the payloads in `editor`; return the new draft's record, or None if unchanged."""
    record = load_draft(app, draft_id)
    _check_editable(record)
    draft = record.draft
    names = _chosen(draft, channels)
    document = editable_document(draft, names)
    saved = editor(document)
    if saved is None or saved == document:
        return None
    check_text(saved, _("the edited draft"))
    edited = _apply(app, draft, parse_document(saved, names))
    if edited.hash == draft.hash:
        return None
    return _save(app, record, replace(edited, author=author))


def editable_document(draft: Draft, names: list[str]) -> str:
    header = _("# Edit the title and text of each channel below, then save and close the editor.\n"
               "# Saving makes a new draft: approvals start again. Lines above the first\n"
               "# '{marker}' line are ignored; keep those lines as they are.\n").format(marker=MARKER.strip())
    sections = []
    label = _("Title")
    for name in names:
        payload = draft.payloads[name]
        sections.append(f"{MARKER}{name} =====\n{label}: {payload.title}\n\n{unnumbered(payload)}\n")
    return header + "\n" + "\n".join(sections)


def unnumbered(payload: Payload) -> str:
    if len(payload.parts) == 1:
        return payload.parts[0]
    return "\n\n".join(part.split(" ", 1)[1] if " " in part else part for part in payload.parts)


def parse_document(text: str, names: list[str]) -> dict[str, tuple[str, str]]:
    """{channel: (title, text)} from a saved document; a missing or unknown section is `BadInput`."""
    found: dict[str, tuple[str, str]] = {}
    blocks = text.split("\n" + MARKER)
    for block in blocks[1:]:
        heading, _sep, body = block.partition("\n")
        name = heading.strip().removesuffix("=====").strip()
        if name not in names:
            raise BadInput(_("the edited file has a section for channel {name!r}, which is not being "
                             "edited; keep the '{marker}' lines as they are.").format(name=name, marker=MARKER.strip()))
        title_line, _sep, rest = body.lstrip("\n").partition("\n")
        title = title_line.partition(":")[2].strip() if ":" in title_line else title_line.strip()
        found[name] = (title, rest.strip())
    missing = [name for name in names if name not in found]
    if missing:
        raise BadInput(_("the edited file lost the section of channel(s) {names}; nothing was changed.")
                       .format(names=", ".join(missing)))
    empty = [name for name, (_title, body) in found.items() if not body]
    if empty:
        raise BadInput(_("the edited text of channel(s) {names} is empty; nothing was changed.")
                       .format(names=", ".join(empty)))
    return found


def _check_editable(record: DraftRecord) -> None:
    if record.status not in EDITABLE:
        raise Refused(_("draft {draft} is {status}; only a draft nothing was sent from can be edited.")
                      .format(draft=record.draft.id, status=record.status))


def _chosen(draft: Draft, channels: tuple[str, ...]) -> list[str]:
    unknown = [name for name in channels if name not in draft.payloads]
    if unknown:
        raise BadInput(_("--channel {name}: draft {draft} has no payload for it (it has: {names}).")
                       .format(name=unknown[0], draft=draft.id, names=", ".join(draft.payloads)))
    return list(dict.fromkeys(channels)) or list(draft.payloads)


def _apply(app: App, draft: Draft, edits: dict[str, tuple[str, str]]) -> Draft:
    payloads = dict(draft.payloads)
    for name, (title, text) in edits.items():
        old = payloads[name]
        if title == old.title and text == unnumbered(old):
            continue
        payloads[name] = edited_payload(app, old, title or old.title, text, draft.template)
    digest = draft_hash(draft.incident, draft.template, draft.language, draft.reply_to, payloads)
    return replace(draft, id=digest[:12], hash=digest, payloads=payloads)


def edited_payload(app: App, old: Payload, title: str, text: str, template: str) -> Payload:
    channel = app.channel(old.channel)
    counting = channel.counting
    what = _("channel {name!r}: the edited {template} text ({unit})").format(
        name=old.channel, template=template, unit=DESCRIPTIONS[counting])
    check_accepted(text, counting, what)
    parts = fit(text, channel.max_length, lambda value: measure(value, counting), channel.overflow, what)
    return replace(old, title=title.splitlines()[0], parts=parts, length=measure(text, counting),
                   limit=channel.max_length, counting=counting)


def _save(app: App, record: DraftRecord, draft: Draft) -> DraftRecord:
    old = record.draft
    refuse_void(load_incident(app, old.incident))
    if app.store.events(draft=draft.id, kind="draft.rendered", limit=1):
        raise BadInput(_("the edited text is the same as draft {draft}, which already exists.").format(draft=draft.id))
    app.store.append("draft.rendered", actor=draft.author, incident=draft.incident, draft=draft.id,
                     data=draft.as_dict())
    app.store.append("draft.edited", actor=draft.author, incident=draft.incident, draft=draft.id,
                     data={"from": old.id, "to": draft.id, "channels": _changed(old, draft),
                           "diff": edit_diff(old, draft)})
    app.store.append("draft.superseded", actor=draft.author, incident=draft.incident, draft=old.id,
                     data={"by": draft.id})
    return load_draft(app, draft.id)


def _changed(old: Draft, new: Draft) -> list[str]:
    return [name for name in new.payloads if new.payloads[name] != old.payloads[name]]


def edit_diff(old: Draft, new: Draft) -> str:
    """A unified diff of every changed title and text, channel by channel."""
    chunks: list[str] = []
    for name in _changed(old, new):
        before, after = old.payloads[name], new.payloads[name]
        chunks += difflib.unified_diff(
            [f"Title: {before.title}"] + before.text.splitlines(),
            [f"Title: {after.title}"] + after.text.splitlines(),
            fromfile=f"{old.id}/{name}", tofile=f"{new.id}/{name}", lineterm="")
    return "\n".join(chunks)
