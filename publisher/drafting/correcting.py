"""Correcting a delivered statement: `publish correct DRAFT [--channel NAME]...`.

Guarantees:
- A correction is a new draft (`Draft.corrects` names the delivered draft it corrects,
  and is part of its hash), written in the editor like `drafts edit` and passing the
  same length rules; it is approved like any statement (same approvals, signatures,
  hash check before sending) and is never itself counted as the response.
- It covers only channels where the original was delivered and not withdrawn, and where
  the platform can edit a post in place (`Channel.can_edit`) or answer it
  (`supports_reply`); every other channel asked for is refused, or, when none was named,
  left out with one sentence saying why (`Skipped`). An edit keeps the number of parts
  the post has, so a corrected text that splits differently is refused before approval.
- The original draft is not changed or superseded: its delivery stays its proof.
"""
from __future__ import annotations

from dataclasses import dataclass

from publisher.drafting.drafts import Draft, DraftRecord, draft_hash, load_draft
from publisher.drafting.editing import Editor, edited_payload, editable_document, parse_document, unnumbered
from publisher.errors import BadInput, Refused
from publisher.i18n import _
from publisher.incident.incidents import load_incident, refuse_void
from publisher.workspace.app import App
from publisher.workspace.inputs import check_text


@dataclass(frozen=True)
class Skipped:
    """A channel of the original left out of the correction, and why (one sentence)."""

    channel: str
    why: str


def correctable(app: App, record: DraftRecord, channels: tuple[str, ...]) -> tuple[list[str], list[Skipped]]:
    """The channels a correction of `record` covers, and those left out with why; a
    channel named in `channels` that cannot be corrected is `BadInput`."""
    if record.draft.corrects:
        raise Refused(_("draft {draft} is itself a correction of {original}; correct {original} instead.").format(
            draft=record.draft.id, original=record.draft.corrects))
    unknown = [name for name in channels if name not in record.deliveries]
    if unknown:
        raise BadInput(_("--channel {name}: draft {draft} has no payload for it (it has: {names}).").format(
            name=unknown[0], draft=record.draft.id, names=", ".join(record.deliveries)))
    chosen, skipped = [], []
    for name in list(dict.fromkeys(channels)) or list(record.deliveries):
        why = _why_not(app, record, name)
        if why is None:
            chosen.append(name)
        elif channels:
            raise BadInput(why)
        else:
            skipped.append(Skipped(name, why))
    if not chosen:
        raise Refused(_("draft {draft} has no channel a correction can reach: {why}").format(
            draft=record.draft.id, why=" ".join(item.why for item in skipped)))
    return chosen, skipped


def _why_not(app: App, record: DraftRecord, name: str) -> str | None:
    delivery = record.deliveries[name]
    if delivery.state != "delivered":
        return _("channel {name}: draft {draft} was not delivered there ({state}), so there is nothing to "
                 "correct.").format(name=name, draft=record.draft.id, state=delivery.state)
    if delivery.withdrawn:
        return _("channel {name}: draft {draft} was withdrawn there.").format(name=name, draft=record.draft.id)
    channel = app.channel(name)
    if not channel.can_edit and not channel.supports_reply:
        return _("channel {name} ({type}) can neither edit a post nor reply to one, so a correction cannot be "
                 "applied there; publish a new statement instead.").format(name=name, type=channel.type)
    return None


def correct_draft(app: App, draft_id: str, author: str, editor: Editor,
                  channels: tuple[str, ...] = ()) -> tuple[DraftRecord | None, list[Skipped]]:
    """Open the delivered payloads in `editor`; return the correction's record (None when
    nothing changed) and the channels left out."""
    record = load_draft(app, draft_id)
    refuse_void(load_incident(app, record.draft.incident))
    names, skipped = correctable(app, record, channels)
    document = editable_document(record.draft, names)
    saved = editor(document)
    if saved is None or saved == document:
        return None, skipped
    check_text(saved, _("the corrected text"))
    edits = parse_document(saved, names)
    original = record.draft
    if all(title == original.payloads[name].title and text == unnumbered(original.payloads[name])
           for name, (title, text) in edits.items()):
        return None, skipped
    payloads = {name: edited_payload(app, original.payloads[name], title or original.payloads[name].title, text,
                                     original.template)
                for name, (title, text) in edits.items()}
    for name, payload in payloads.items():
        _check_parts(app, record, name, len(payload.parts))
    digest = draft_hash(original.incident, original.template, original.language, None, payloads, original.id)
    correction = Draft(digest[:12], digest, original.incident, original.case, original.template, original.language,
                       author, dict(original.variables), None, payloads, corrects=original.id)
    return _save(app, correction), skipped


def _check_parts(app: App, record: DraftRecord, name: str, parts: int) -> None:
    if not app.channel(name).can_edit:
        return
    receipt = record.deliveries[name].receipt or {}
    posted = len((receipt.get("extra") or {}).get("part_ids") or [receipt.get("id")])
    if posted != parts:
        raise BadInput(_("channel {name}: the post has {posted} part(s) and the corrected text needs {parts}; an "
                         "edit keeps the number of parts, so shorten or lengthen the text to fit.").format(
                             name=name, posted=posted, parts=parts))


def _save(app: App, draft: Draft) -> DraftRecord:
    if app.store.events(draft=draft.id, kind="draft.rendered", limit=1):
        raise BadInput(_("this correction already exists as draft {draft}.").format(draft=draft.id))
    app.store.append("draft.rendered", actor=draft.author, incident=draft.incident, draft=draft.id,
                     data=draft.as_dict())
    return load_draft(app, draft.id)
