"""The outside time witness: the log's head time-stamped by an RFC 3161 authority (TSA),
`[store] witness`, and the hooks that call it from every command.

Guarantees:
- A witness is a `log.witnessed` event holding the TSA's whole signed answer (DER,
  base64) over `head_message(seq, hash)`: it proves that row `seq`, and so every row
  before it, existed at the TSA's time, whatever the local clock said.
- A token is checked before it is stored (status granted, our nonce, our message, a
  signature chaining to the configured certificates, a critical timeStamping key
  usage), and again offline by `check_witnesses` from the stored bytes and the
  certificates in the config only: no network is needed to verify.
- After each approval and after each delivery run that delivered something the head is
  time-stamped (`witness_after`); after any other command that wrote to the log, a head
  not yet covered is witnessed then (`after_command`).
- A TSA that cannot be reached (or answers badly) never stops a command: the miss is
  recorded once (`log.witness_missed`, with why; later hooks of the same command record
  the miss without waiting again), said as a warning, and the head is witnessed later by
  `catch_up` (after the next command that writes, or `publish log witness`). Since a
  witness covers every row before it, one later token covers every earlier miss.
- The local clock is compared with the TSA's at each witness: a witness event whose
  local time differs from the TSA's by more than `CLOCK_TOLERANCE` is named by
  `check_witnesses` (the clock was set wrong when the log was written).
- A row cannot have been written after a time-stamp of a head that includes it: a row
  dated more than `FUTURE_LIMIT` after the TSA's time of the first token covering it was
  dated by a clock set ahead, and `log verify` names it (`ahead_of_witness`). Row times
  only grow, so each stretch of rows a token newly covers is searched by bisection:
  a few reads per token, never a walk of the log.
- On SQLite, when this machine is behind the log's last event, the store asks the TSA
  for its time (`tsa_time`, the store's `outside_clock`) to tell a clock set back (the
  write is refused) from a last event dated ahead (the write continues after it, noted).
- Without `[store] witness` every hook does nothing.

The token format is parsed and verified by `rfc3161-client` (Trail of Bits; used by
sigstore-python), never by hand. `outside_problems` is everything `publish log verify`
checks beyond the chain: these tokens and the rollback guard's sightings (`rollback`).
"""
from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from publisher.errors import BadInput, CheckFailed, PublishError
from publisher.i18n import _
from publisher.timeparse import from_iso, human_hours, iso
from publisher.workspace.config import Config, WitnessSettings
from publisher.workspace.rollback import contradiction, sightings

if TYPE_CHECKING:
    from publisher.log.store import Event, Store


class App(Protocol):
    """What the hooks read of the opened workspace (`publisher.workspace.app.App`, which
    imports this module to ask the TSA for its time, so it is described, not imported)."""

    config: Config
    witness_missed: str | None
    clock_missed: str | None

    @property
    def store(self) -> Store: ...

WITNESSED = "log.witnessed"
MISSED = "log.witness_missed"
POINTS = ("draft.approved", "delivery.delivered", "delivery.confirmed")
CLOCK_TOLERANCE = timedelta(minutes=5)
MAX_REPLY = 256 * 1024


@dataclass(frozen=True)
class Token:
    seq: int
    hash: str
    time: datetime
    tsa: str
    event_seq: int


@dataclass(frozen=True)
class WitnessProblem:
    seq: int
    text: str


class WitnessFailed(Exception):
    """The TSA could not be reached, or its answer is not a valid witness."""


def head_message(seq: int, digest: str) -> bytes:
    return f"publish log head\nseq {seq}\nhash {digest}\n".encode()


class Trust:
    """The certificates a token must chain to (from `[store] witness_certificate`)."""

    def __init__(self, settings: WitnessSettings):
        from cryptography import x509

        try:
            certificates = x509.load_pem_x509_certificates(settings.certificate.read_bytes())
        except FileNotFoundError:
            raise BadInput(_("[store] witness_certificate: {path} does not exist; put the TSA's certificate "
                             "and the certificate of the authority that issued it there (PEM).")
                           .format(path=settings.shown_certificate)) from None
        except (OSError, ValueError) as error:
            raise BadInput(_("[store] witness_certificate: {path} is not a PEM certificate file ({error}).")
                           .format(path=settings.shown_certificate, error=error)) from None
        stamping = x509.ExtendedKeyUsageOID.TIME_STAMPING
        self.tsa = [cert for cert in certificates if _has_usage(cert, stamping)]
        self.roots = [cert for cert in certificates if cert.issuer == cert.subject] or certificates
        self.intermediates = [cert for cert in certificates if cert not in self.roots and cert not in self.tsa]

    def verifier(self, nonce: int | None = None) -> Any:
        from rfc3161_client import VerifierBuilder

        builder = VerifierBuilder()
        for root in self.roots:
            builder = builder.add_root_certificate(root)
        for middle in self.intermediates:
            builder = builder.add_intermediate_certificate(middle)
        if len(self.tsa) == 1:
            builder = builder.tsa_certificate(self.tsa[0])
        if nonce is not None:
            builder = builder.nonce(nonce)
        return builder.build()

    def check(self, reply: bytes, message: bytes, nonce: int | None = None) -> datetime:
        """The TSA's time from a valid reply over `message`; `WitnessFailed` otherwise."""
        from rfc3161_client import VerificationError, decode_timestamp_response

        try:
            response = decode_timestamp_response(reply)
            self.verifier(nonce).verify_message(response, message)
        except (ValueError, VerificationError) as error:
            reason = str(error).split(": ErrorStack", 1)[0][:200]
            raise WitnessFailed(_("the time-stamp does not verify: {error}").format(error=reason)) from None
        return response.tst_info.gen_time


def _has_usage(certificate: Any, usage: Any) -> bool:
    from cryptography import x509

    try:
        return usage in certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False


def request_token(settings: WitnessSettings, trust: Trust, message: bytes) -> tuple[bytes, datetime]:
    """Ask the TSA to time-stamp `message`; return its checked reply and its time."""
    import urllib.error
    import urllib.request

    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

    query = TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256).build()
    request = urllib.request.Request(settings.url, data=query.as_bytes(), method="POST",
                                     headers={"Content-Type": "application/timestamp-query",
                                              "Accept": "application/timestamp-reply"})
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout) as answer:  # noqa: S310 (http(s) only)
            reply = _read_within(answer, time.monotonic() + settings.timeout)
    except urllib.error.HTTPError as error:
        raise WitnessFailed(_("the TSA answered HTTP {status}").format(status=error.code)) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise WitnessFailed(_("the TSA could not be reached ({reason})").format(reason=reason)) from None
    if len(reply) > MAX_REPLY:
        raise WitnessFailed(_("the TSA's answer is larger than {size} KB").format(size=MAX_REPLY // 1024))
    return reply, trust.check(reply, message, query.nonce)


def _read_within(answer: Any, deadline: float) -> bytes:
    """The whole answer, or `WitnessFailed` once `deadline` passes (a TSA trickling bytes
    cannot hold a command longer than `witness_timeout`)."""
    chunks: list[bytes] = []
    while True:
        if time.monotonic() > deadline:
            raise WitnessFailed(_("the TSA did not answer in time"))
        chunk = answer.read1(16384)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        if sum(map(len, chunks)) > MAX_REPLY:
            return b"".join(chunks)


def stamp(store: Store, settings: WitnessSettings, reason: str) -> Event:
    """Time-stamp the log's head now and record the token; `WitnessFailed` when the TSA
    cannot be reached or its answer does not verify (nothing is recorded then)."""
    seq, digest = store.head()
    try:
        reply, moment = request_token(settings, Trust(settings), head_message(seq, digest))
    except BadInput as error:
        raise WitnessFailed(str(error)) from None
    token = base64.b64encode(reply).decode("ascii")
    return store.append(WITNESSED, data={"seq": seq, "hash": digest, "tsa": settings.url, "for": reason,
                                         "time": iso(moment, "microseconds"), "token": token})


def witness_head(store: Store, settings: WitnessSettings, reason: str) -> Event:
    """`stamp`, recording a miss (with why) instead of failing."""
    try:
        return stamp(store, settings, reason)
    except WitnessFailed as error:
        return record_miss(store, settings, reason, str(error))


def record_miss(store: Store, settings: WitnessSettings, reason: str, why: str) -> Event:
    seq, digest = store.head()
    return store.append(MISSED, data={"seq": seq, "hash": digest, "tsa": settings.url, "for": reason, "reason": why})


def pending_since(store: Store) -> int | None:
    """The first row an approval or delivery was recorded at that no witness covers yet."""
    last = store.events(kind=WITNESSED, newest_first=True, limit=1)
    covered = int(last[0].data.get("seq", 0)) if last else 0
    waiting = store.events(kind=POINTS, after_seq=covered, limit=1)
    return waiting[0].seq if waiting else None


def catch_up(store: Store, settings: WitnessSettings) -> Event | None:
    """Witness the head when an approval or delivery is not yet covered (`WitnessFailed`
    when the TSA still cannot be reached)."""
    if pending_since(store) is None:
        return None
    return stamp(store, settings, "catch-up")


def witness_of(store: Store, trust: Trust | None, seq: int) -> tuple[Token | None, str | None]:
    """The first stored witness covering row `seq` that holds, else (None, why not; None
    when nobody tried)."""
    why = None
    for event in store.events(kind=WITNESSED, after_seq=seq):
        token = _token(event)
        if token is None or token.seq < seq:
            continue
        problem = _problem(store, trust, event)
        if problem is None:
            return token, None
        why = why or _("row {seq}: {text}").format(seq=event.seq, text=problem)
    if why is None:
        missed = store.events(kind=MISSED, after_seq=seq, limit=1)
        if missed:
            why = _("not witnessed: {reason}").format(reason=missed[0].data.get("reason"))
    return None, why


def _token(event: Event) -> Token | None:
    data = event.data
    try:
        return Token(int(data["seq"]), str(data["hash"]), from_iso(str(data["time"])), str(data.get("tsa", "")),
                     event.seq)
    except (KeyError, TypeError, ValueError):
        return None


def check_witnesses(store: Store, trust: Trust | None, after_seq: int = 0) -> list[WitnessProblem]:
    """Every stored witness (covering a row after `after_seq`) that does not hold, offline."""
    problems = []
    for event in store.events(kind=WITNESSED, after_seq=after_seq):
        text = _problem(store, trust, event)
        if text:
            problems.append(WitnessProblem(event.seq, _("row {seq}: {text}").format(seq=event.seq, text=text)))
    return problems


def _problem(store: Store, trust: Trust | None, event: Event) -> str | None:
    data = event.data
    try:
        seq, digest = int(data["seq"]), str(data["hash"])
        reply = base64.b64decode(str(data["token"]), validate=True)
        recorded = from_iso(str(data["time"]))
    except (KeyError, TypeError, ValueError, binascii.Error):
        return _("the witness record is incomplete or unreadable (edited?)")
    rows = store.events(after_seq=seq - 1, limit=1)
    if not rows or rows[0].seq != seq or rows[0].hash != digest or seq >= event.seq:
        return _("the time-stamp is for row {seq} as it was, and that row is no longer the same "
                 "(rewritten?)").format(seq=seq)
    if trust is None:
        return None
    try:
        moment = trust.check(reply, head_message(seq, digest))
    except WitnessFailed as error:
        return str(error)
    if abs(moment - recorded) >= timedelta(seconds=1):
        return _("the recorded witness time {recorded} differs from the token's {moment}").format(
            recorded=iso(recorded), moment=iso(moment))
    local = from_iso(event.ts)
    if abs(local - moment) > CLOCK_TOLERANCE:
        direction = _("behind") if local < moment else _("ahead of")
        return _("the local clock was {gap} {direction} the TSA's time ({tsa}) when the witness was recorded")\
            .format(gap=human_hours(abs((local - moment).total_seconds()) / 3600), direction=direction,
                    tsa=iso(moment))
    return None


def tsa_time(app: App) -> tuple[datetime, str] | None:
    """The TSA's time now, from a checked time-stamp of a throwaway message; None when
    no witness is configured or it cannot be reached (the miss is remembered in
    `clock_missed`, so this command asks no more, and its witness hook does not wait for
    the same TSA again)."""
    settings = app.config.witness
    if settings is None or app.witness_missed or app.clock_missed:
        return None
    try:
        _reply, moment = request_token(settings, Trust(settings), f"publish clock check {time.time_ns()}\n".encode())
    except (WitnessFailed, BadInput) as error:
        app.clock_missed = str(error)
        return None
    return moment, "tsa"


def ahead_of_witness(store: Store) -> list[str]:
    """Rows dated more than `FUTURE_LIMIT` after the TSA's time of a token covering
    them (the first such row of each stretch; a row the next row's `clock` note already
    names is left to `Store.verify`)."""
    from publisher.log.store import FUTURE_LIMIT

    found, start = [], 0
    for event in store.events(kind=WITNESSED):
        token = _token(event)
        if token is None or token.seq <= start:
            continue
        limit = token.time + FUTURE_LIMIT
        first = _first_after(store, start + 1, token.seq, limit)
        start = token.seq
        if first is None or first.clock:
            continue
        following = store.events(after_seq=first.seq, limit=1)
        if following and (following[0].clock or {}).get("after") == first.seq:
            continue
        found.append(_("row {row}: dated {ts}, {gap} after the time-stamp authority's time ({tsa}) for a head that "
                       "includes it (row {witness}): a clock was set ahead when it was written").format(
                           row=first.seq, ts=first.ts, gap=human_hours(hours_between(token.time, first.ts)),
                           tsa=iso(token.time), witness=event.seq))
    return found


def _first_after(store: Store, low: int, high: int, limit: datetime) -> Event | None:
    """The first row in `low..high` dated after `limit` (rows' times only grow)."""
    def at(seq: int) -> Event | None:
        rows = store.events(after_seq=seq - 1, limit=1)
        return rows[0] if rows and rows[0].seq == seq else None

    last = at(high)
    if last is None or from_iso(last.ts) <= limit:
        return None
    while low < high:
        middle = (low + high) // 2
        row = at(middle)
        if row is not None and from_iso(row.ts) > limit:
            high = middle
        else:
            low = middle + 1
    return at(low)


def hours_between(earlier: datetime, later: str) -> float:
    return (from_iso(later) - earlier).total_seconds() / 3600


def clock_warnings(app: App) -> list[str]:
    """What this command's writes said about a log dated ahead of the outside clock
    (each said once)."""
    store = app.__dict__.get("store")
    notes = getattr(store, "clock_notes", None) or []
    return list(dict.fromkeys(notes))


def witness_after(app: App, reason: str) -> None:
    """The hook after an approval (`reason` "approval") or a delivery run ("delivery")."""
    settings = app.config.witness
    if settings is None:
        return
    missed = app.witness_missed or app.clock_missed
    try:
        if missed:
            record_miss(app.store, settings, reason, missed)
            return
        event = witness_head(app.store, settings, reason)
    except PublishError:
        return
    if event.kind == MISSED:
        app.witness_missed = event.data.get("reason")


def trust(app: App) -> Trust | None:
    """The configured certificates tokens are checked against (None without a witness)."""
    settings = app.config.witness
    return Trust(settings) if settings else None


def witness_now(app: App) -> Event | None:
    """`publish log witness`: witness the head if anything is not yet covered; say why not
    when the TSA cannot be reached."""
    settings = app.config.witness
    if settings is None:
        raise BadInput(_("no time witness is configured; set [store] witness = \"https://…\" (an RFC 3161 TSA) "
                         "and [store] witness_certificate in config/publisher.toml."))
    try:
        return catch_up(app.store, settings)
    except WitnessFailed as error:
        raise CheckFailed(_("the log's head was not witnessed: {reason}; try again later.").format(
            reason=error)) from None


def after_command(app: App) -> str | None:
    """The end of every command: when it wrote to the log, witness what is not yet
    covered. Returns a warning to show when the head stays unwitnessed."""
    store = app.__dict__.get("store")
    if app.config.witness is None or store is None or not getattr(store, "wrote", None) or not store.wrote.is_set():
        return None
    missed = app.witness_missed
    if missed is None and app.clock_missed and pending_since(store) is not None:
        missed = app.clock_missed
    elif missed is None:
        try:
            catch_up(store, app.config.witness)
        except WitnessFailed as error:
            missed = str(error)
        except Exception:  # the command is done and has printed its result; a witness is retried later
            return None
    if missed is None:
        return None
    return _("the log's head is not time-stamped yet: {reason}; the next command that writes, or "
             "`publish log witness`, tries again.").format(reason=missed)


def outside_problems(app: App) -> list[str]:
    """What `publish log verify` finds outside the chain: a witness file the store cannot
    account for, and every time-stamp token that does not verify offline."""
    problems = []
    rolled_back = contradiction(app.store, sightings(app))
    if rolled_back:
        problems.append(rolled_back)
    problems += [problem.text for problem in check_witnesses(app.store, trust(app))]
    return problems + ahead_of_witness(app.store)


def verified_words(app: App) -> str:
    """What `publish log verify` adds when it checked time-stamps ("" when none)."""
    if not app.config.witness:
        return ""
    count = len(app.store.events(kind=WITNESSED))
    return _("; {count} time-stamps verified offline").format(count=count) if count else ""


def unwitnessed_note(app: App) -> str | None:
    """What `publish status` warns when an approval or delivery is not yet time-stamped."""
    if app.config.witness is None:
        return None
    since = pending_since(app.store)
    if since is None:
        return None
    missed = app.store.events(kind=MISSED, after_seq=since, newest_first=True, limit=1)
    why = f" ({missed[0].data.get('reason')})" if missed else ""
    return _("the log is not time-stamped by the TSA since row {row}{why}; `publish log witness` tries again").format(
        row=since, why=why)
