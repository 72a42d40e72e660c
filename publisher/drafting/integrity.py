"""What is approved is what is sent.

Guarantees: `check_unchanged` recomputes a draft's hash from the very payloads the
delivery engine is about to send and refuses (exit 1, naming the event that holds
them) unless it equals the draft's recorded hash, its id, and the hash every counted
approval bound itself to. A payload edited in the store after approval, even with the
chain (and its HMAC key) recomputed, is therefore never sent. `verify_with_trust` runs
the same recomputation over every stored draft for `publish log verify`, with every
signature check, inside the one streaming walk of the chain.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields

from publisher.drafting.drafts import Draft, DraftRecord, Payload, _draft_from
from publisher.errors import CheckFailed
from publisher.i18n import _
from publisher.log.store import Event, VerifyResult, chain_hash, read_event
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


def draft_problem(event: Event) -> Tampered | None:
    """Why one stored draft.rendered event no longer hashes to its recorded hash and id."""
    try:
        draft = _draft_from(event.data)
        computed = draft.computed_hash()
    except (KeyError, TypeError, ValueError, AttributeError):
        return Tampered(event.seq, event.draft or "", _("its payloads cannot be read"))
    if computed != draft.hash or draft.id != computed[:12] or event.draft != draft.id:
        return Tampered(event.seq, event.draft or "", _(
            "its payloads hash to {computed}, not to the recorded {recorded}").format(
                computed=computed[:16], recorded=str(draft.hash)[:16]))
    return None


DRAFT_FIELDS = frozenset(field.name for field in fields(Draft))
PAYLOAD_FIELDS = frozenset(field.name for field in fields(Payload))


def _kind_of(body: str) -> object:
    import orjson

    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return event.get("kind") if isinstance(event, dict) else None


def draft_fits(body: str) -> bool:
    """The fast path of `draft_problem` for one canonical draft.rendered row (orjson):
    True only when its draft has exactly the fields a Draft has and its payloads hash to
    its recorded hash and id. False means "check it the exact way", which names why."""
    import orjson

    try:
        event = orjson.loads(body)
        data = event["data"]
        if data.keys() != DRAFT_FIELDS or event.get("draft") != data["id"]:
            return False
        hashed = {}
        for name, payload in data["payloads"].items():
            if payload.keys() != PAYLOAD_FIELDS:
                return False
            hashed[name] = {"type": payload["type"], "title": payload["title"], "parts": list(payload["parts"])}
        content = {"incident": data["incident"], "template": data["template"], "language": data["language"],
                   "reply_to": data["reply_to"], "payloads": hashed}
        computed = hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()
    except (orjson.JSONDecodeError, orjson.JSONEncodeError, KeyError, TypeError, AttributeError):
        return False
    return computed == data["hash"] and data["id"] == computed[:12]


class TrustAudit:
    """The per-row trust checks of `publish log verify`, fed one row at a time by the
    chain walk (`Store.verify(audit)`, in two processes on a long log), so the log is read once and never held:
    each draft's hash is recomputed, each signed action's signature checked. A row is
    parsed only when its kind (read from the canonical body's end) needs it."""

    def __init__(self, app: App) -> None:
        from publisher.incident.identity import signing_on
        from publisher.log.signatures import ACTIONS

        self.app = app
        self.signed = frozenset(kind for kind in ACTIONS if not kind.startswith("key."))
        self.all_signed = signing_on(app)
        self.kinds = ("draft.rendered", *(sorted(self.signed) if self.all_signed else ()))
        self.needle = None if self.all_signed else '"signature":{'
        self.drafts: list[Tampered] = []
        self.signatures: list[tuple[Event, str]] = []
        self.deferred: list[tuple[int, str]] | None = None

    def row(self, seq: int, body: str, digest: str) -> None:
        start = body.rfind('"kind":"') + 8
        end = body.find('"', start)
        canonical_tail = start > 7 and body.startswith(',"seq":', end + 1)
        kind = body[start:end] if canonical_tail else _kind_of(body)
        if kind == "draft.rendered":
            problem = None if draft_fits(body) else draft_problem(read_event(seq, body, digest))
            if problem:
                self.drafts.append(problem)
        elif kind in self.signed and (self.all_signed or '"signature":{' in body):
            if self.deferred is None:
                self._signature(read_event(seq, body, digest))
            else:
                self.deferred.append((seq, digest))

    def apart(self) -> None:
        """In the store's helper process: a signature check reads the keyring through the
        app's connection, so it is left to the main process (`merge`)."""
        self.deferred = []

    def found(self) -> tuple[list[Tampered], list[tuple[int, str]]]:
        return self.drafts, self.deferred or []

    def merge(self, found: tuple[list[Tampered], list[tuple[int, str]]]) -> None:
        """The helper's drafts, then its signed rows checked here, read again by number;
        a row that no longer hashes to what the walk saw is named, not trusted."""
        drafts, deferred = found
        self.drafts.extend(drafts)
        for start in range(0, len(deferred), 500):
            chunk = deferred[start:start + 500]
            rows = self.app.store.backend.rows_at([seq for seq, _digest in chunk])
            for seq, digest in chunk:
                body, prev, stored = rows.get(seq, ("", "", ""))
                event = read_event(seq, body, digest) if body else None
                if event is None or stored != digest or chain_hash(prev, body, self.app.store.key) != digest:
                    self.signatures.append((event or Event(seq, "", "", None, None, None, None, {}, digest),
                                            _("its row changed while the log was verified")))
                else:
                    self._signature(event)

    def _signature(self, event: Event) -> None:
        from publisher.incident.identity import untrusted

        problem = untrusted(self.app, event)
        if problem:
            self.signatures.append((event, problem))

    def problems(self) -> list[str]:
        from publisher.incident.identity import keyring, mirror_problem

        found = [_("row {seq}: draft {draft} was changed after it was rendered ({reason})").format(
            seq=item.seq, draft=item.draft, reason=item.reason) for item in self.drafts]
        found += [_("row {seq}: the {kind} by {name} has a bad signature ({reason})").format(
            seq=event.seq, kind=event.kind, name=event.actor, reason=reason) for event, reason in self.signatures]
        found += [_("row {seq}: {reason}").format(seq=seq, reason=reason) for seq, reason in keyring(self.app).problems]
        mirror = mirror_problem(self.app)
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
