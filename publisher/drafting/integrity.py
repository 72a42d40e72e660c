"""What is approved is what is sent.

Guarantees: `check_unchanged` recomputes a draft's hash from the very payloads the
delivery engine is about to send and refuses (exit 1, naming the event that holds
them) unless it equals the draft's recorded hash, its id, and the hash every counted
approval bound itself to. A payload edited in the store after approval, even with the
chain (and its HMAC key) recomputed, is therefore never sent. `verify_with_trust` runs
the same recomputation (`drafts.draft_hash`, the one definition) over every stored
draft for `publish log verify`, with every signature check, inside the one streaming
walk of the chain, with every change of the cabinet and every credential re-checked
(`publisher.incident.roster`: signed, by an approver at that row, with enough approvers'
signatures before a change took effect).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from publisher.drafting.drafts import Draft, DraftRecord, Payload, draft_hash
from publisher.errors import CheckFailed
from publisher.incident.identity import APPROVER_ACTIONS
from publisher.i18n import _
from publisher.log.store import Event, VerifyResult, read_event
from publisher.workspace.app import App

if TYPE_CHECKING:
    from publisher.incident.roster import Cabinet

DRAFT_FIELDS = frozenset(field.name for field in fields(Draft))
OPTIONAL_DRAFT_FIELDS = frozenset({"corrects", "promises"})
"""Left out of a stored draft when empty (`Draft.as_dict`)."""
PAYLOAD_FIELDS = frozenset(field.name for field in fields(Payload))


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


def draft_problem(seq: int, event: dict[str, Any]) -> Tampered | None:
    """Why one stored draft.rendered event (its body as parsed) no longer hashes to its
    recorded hash and id. Its draft must have exactly the fields a `Draft` has, and each
    payload those of a `Payload` (what `load_draft` can read), else it cannot be read."""
    draft = event.get("draft") or ""
    try:
        data = event["data"]
        payloads = data["payloads"]
        if not data.keys() <= DRAFT_FIELDS or not DRAFT_FIELDS - data.keys() <= OPTIONAL_DRAFT_FIELDS:
            raise ValueError
        for payload in payloads.values():
            if payload.keys() != PAYLOAD_FIELDS:
                raise ValueError
        computed = draft_hash(data["incident"], data["template"], data["language"], data["reply_to"], payloads,
                              data.get("corrects"))
    except (KeyError, TypeError, ValueError, AttributeError):
        return Tampered(seq, str(draft), _("its payloads cannot be read"))
    if computed != data["hash"] or data["id"] != computed[:12] or draft != data["id"]:
        return Tampered(seq, str(draft), _("its payloads hash to {computed}, not to the recorded {recorded}").format(
            computed=computed[:16], recorded=str(data["hash"])[:16]))
    return None


class TrustAudit:
    """The per-row trust checks of `publish log verify`, fed by the chain walk
    (`Store.verify(audit)`) in its one pass, so the log is read once and never held:
    each draft's hash is recomputed from the walk's own parse of its row, and each
    signed action's signature is checked (its row read exactly, `read_event`) when
    signing is on or the row carries a signature, and every action that needs an
    approver is checked against the cabinet at its row."""

    def __init__(self, app: App) -> None:
        from publisher.incident.identity import signing_on
        from publisher.incident.roster import CABINET_KINDS
        from publisher.log.signatures import ACTIONS

        self.app = app
        self.signed = frozenset(kind for kind in ACTIONS if kind not in CABINET_KINDS)
        self.all_signed = signing_on(app)
        self.kinds = self.signed | {"draft.rendered"}
        self.drafts: list[Tampered] = []
        self.signatures: list[tuple[Event, str]] = []
        self.roles: list[tuple[Event, str]] = []
        self._made: tuple[int, Cabinet] | None = None

    def row(self, seq: int, body: str, event: dict[str, Any], digest: str) -> None:
        if event["kind"] == "draft.rendered":
            problem = draft_problem(seq, event)
            if problem:
                self.drafts.append(problem)
            return
        data = event.get("data")
        if self.all_signed or event["kind"] in APPROVER_ACTIONS or \
                (isinstance(data, dict) and isinstance(data.get("signature"), dict)):
            self._signature(read_event(seq, body, digest))

    def _signature(self, event: Event) -> None:
        from publisher.incident.identity import role_problem, untrusted

        made = self._cabinet(event.seq)
        role = role_problem(self.app, event, made)
        if role:
            self.roles.append((event, role))
            return
        problem = untrusted(self.app, event, made)
        if problem:
            self.signatures.append((event, problem))

    def _cabinet(self, seq: int) -> Cabinet:
        """The cabinet, read once for the whole walk, and again only for a row appended
        after it was read (a cabinet's freshness costs a query of the log's head)."""
        from publisher.incident.roster import cabinet

        if self._made is None or seq > self._made[0]:
            head = self.app.store.head()[0]
            self._made = (head, cabinet(self.app))
        return self._made[1]

    def problems(self) -> list[str]:
        from publisher.incident.identity import mirror_problem
        from publisher.incident.roster import cabinet, mirror_difference

        found = [_("row {seq}: draft {draft} was changed after it was rendered ({reason})").format(
            seq=item.seq, draft=item.draft, reason=item.reason) for item in self.drafts]
        found += [_("row {seq}: the {kind} by {name} has a bad signature ({reason})").format(
            seq=event.seq, kind=event.kind, name=event.actor, reason=reason) for event, reason in self.signatures]
        found += [_("row {seq}: the {kind} by {name} does not count ({reason})").format(
            seq=event.seq, kind=event.kind, name=event.actor, reason=reason) for event, reason in self.roles]
        made = cabinet(self.app)
        found += [_("row {seq}: {reason}").format(seq=seq, reason=reason) for seq, reason in made.problems]
        for mirror in (mirror_problem(self.app), mirror_difference(self.app.config, made)):
            if mirror:
                found.append(mirror)
        return found


def verify_with_trust(app: App) -> tuple[VerifyResult, list[str]]:
    """The chain walk and every trust check in one streaming pass; the trust problems
    are reported only when the chain itself is intact."""
    audit = TrustAudit(app)
    result = app.store.verify(audit)
    return result, (audit.problems() if result.ok else [])


def check_sendable(app: App, record: DraftRecord) -> None:
    """Everything checked before a delivery run: the payloads are what was approved, and
    (with signing on) config/allowed_signers still mirrors the keys the log enrols."""
    from publisher.incident.identity import check_mirror

    check_unchanged(app, record)
    check_mirror(app)
