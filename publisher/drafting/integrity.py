"""What is approved is what is sent.

Guarantees: `check_unchanged` recomputes a draft's hash from the very payloads the
delivery engine is about to send and refuses (exit 1, naming the event that holds
them) unless it equals the draft's recorded hash, its id, and the hash every counted
approval bound itself to. A payload edited in the store after approval, even with the
chain (and its HMAC key) recomputed, is therefore never sent. `tampered_drafts` runs
the same recomputation over every stored draft for `publish log verify`.
"""
from __future__ import annotations

from dataclasses import dataclass

from publisher.drafting.drafts import DraftRecord, _draft_from
from publisher.errors import CheckFailed
from publisher.i18n import _
from publisher.workspace.app import App


@dataclass(frozen=True)
class Tampered:
    seq: int
    draft: str
    reason: str


def mismatch(record: DraftRecord) -> str | None:
    """Why the draft's payloads are not what was approved; None when they are."""
    draft = record.draft
    computed = draft.computed_hash()
    if computed != draft.hash:
        return _("its payloads hash to {computed}, not to the recorded {recorded}").format(
            computed=computed[:16], recorded=draft.hash[:16])
    if draft.id != computed[:12]:
        return _("its id is not the start of its hash {computed}").format(computed=computed[:16])
    for event in record.approvals:
        if event.actor in record.valid_approvers() and event.data.get("hash") != computed:
            return _("the approval by {name} (#{seq}) is for another hash").format(name=event.actor, seq=event.seq)
    return None


def check_unchanged(app: App, record: DraftRecord) -> None:
    """Refuse to send a draft whose payloads are not exactly what was approved."""
    problem = mismatch(record)
    if problem is None:
        return
    rendered = app.store.events(draft=record.draft.id, kind="draft.rendered", limit=1)
    seq = rendered[0].seq if rendered else 0
    raise CheckFailed(_("draft {draft} was changed after approval (event #{seq}: {problem}); nothing was sent. "
                        "Render it again and have it approved.").format(draft=record.draft.id, seq=seq,
                                                                        problem=problem))


def tampered_drafts(app: App) -> list[Tampered]:
    """Every stored draft whose payloads no longer hash to its recorded hash and id."""
    found = []
    for event in app.store.events(kind="draft.rendered"):
        try:
            draft = _draft_from(event.data)
            computed = draft.computed_hash()
        except (KeyError, TypeError, ValueError, AttributeError):
            found.append(Tampered(event.seq, event.draft or "", _("its payloads cannot be read")))
            continue
        if computed != draft.hash or draft.id != computed[:12] or event.draft != draft.id:
            found.append(Tampered(event.seq, event.draft or "", _(
                "its payloads hash to {computed}, not to the recorded {recorded}").format(
                    computed=computed[:16], recorded=str(draft.hash)[:16])))
    return found


def trust_problems(app: App) -> list[str]:
    """For `publish log verify`: every stored draft whose hash no longer fits, every signed
    action whose signature does not verify, every enrolment that does not count, and an
    allowed_signers file that differs from the keys the log enrols; one sentence each."""
    from publisher.incident.identity import bad_signatures, keyring, mirror_problem

    found = [_("row {seq}: draft {draft} was changed after it was rendered ({reason})").format(
        seq=item.seq, draft=item.draft, reason=item.reason) for item in tampered_drafts(app)]
    found += [_("row {seq}: the {kind} by {name} has a bad signature ({reason})").format(
        seq=event.seq, kind=event.kind, name=event.actor, reason=reason) for event, reason in bad_signatures(app)]
    found += [_("row {seq}: {reason}").format(seq=seq, reason=reason) for seq, reason in keyring(app).problems]
    mirror = mirror_problem(app)
    if mirror:
        found.append(mirror)
    return found


def check_sendable(app: App, record: DraftRecord) -> None:
    """Everything checked before a delivery run: the payloads are what was approved, and
    (with signing on) config/allowed_signers still mirrors the keys the log enrols."""
    from publisher.incident.identity import check_mirror

    check_unchanged(app, record)
    check_mirror(app)
