"""The log: an append-only, hash-chained store of every event, on SQLite (embedded,
the default) or PostgreSQL (a cabinet on several machines). The chain, the canonical
form, the HMAC, the clock check and verification are written here once; a backend
(`publisher.log.backend`) only appends rows, reads them and locks.

Guarantees:
- Rows are only ever inserted, serialised by the backend against every other appender
  (every process, every machine), so the chain never forks. Each row is made (its seq,
  prev and hash read from the row before it) inside the transaction that inserts it.
- Group commit (SQLite): appends that the delivery threads make at the same moment are
  committed together, one transaction and one disk sync for whatever rows are waiting.
  The guarantee "every delivery attempt is recorded durably before its network call and
  its outcome after it" is unchanged, because `append()` still returns only once the
  COMMIT holding its own row has returned (with `synchronous=FULL`, after the sync): a
  thread makes its network call only after its attempt row is on disk, exactly as with
  one transaction per row. Grouping only changes who syncs: a crash before the group's
  COMMIT loses rows that no caller was told were written (no call was made for them),
  and a crash after it keeps them all. Rows of a group are still made one by one, in
  order, under the writer lock, and a refused row (a clock gone back, a rollback found)
  is dropped alone before the group is inserted, so the chain stays consecutive.
  tests/test_store.py kills a many-thread fan-out with SIGKILL to prove every
  acknowledged row survives and the log verifies.
- `before_write`, when set (the rollback guard), is called inside the append's
  transaction with the log's true last (seq, hash) before the row is made, and may
  refuse the row by raising; `made_here` is the last row this store object made.
- Each row holds the event as canonical JSON (`body`: sorted keys, no spaces, UTF-8)
  and `hash = sha256(prev_hash + "\\n" + body)`, where `prev_hash` is the previous
  row's hash (64 zeros for the first). The body carries its own sequence number, so
  an edited, deleted, inserted or reordered row breaks the chain at that row, and
  `verify()` names it. Both backends store the same bytes: a log copied from one to
  the other verifies identically.
- With a key (`[store] hmac_key`), every hash is an HMAC-SHA256 instead: without the
  key nobody can rewrite the chain, not even all of it. A store keeps the mode it was
  created with; opening a keyed store without its key is refused.
- Event times never go backwards: an event's time is taken under the append lock and
  an append whose clock is earlier than the last event's is refused (`ClockWentBack`,
  naming by how much). A difference up to `CLOCK_SKEW` (two machines' clocks a
  moment apart) is absorbed by recording the last event's time instead. `verify()`
  names any row whose time is earlier than the row before it.
- No single clock bends the log. Where an outside clock answers (PostgreSQL's own
  clock, read inside the append's transaction; on SQLite the time-stamp authority,
  asked through `outside_clock` before a process's first append and again after
  `OUTSIDE_CLOCK_AGE`, and carried forward by this machine's clock in between), an
  event this machine would date more than `FUTURE_LIMIT` ahead of it is refused
  (`ClockAhead`, naming that clock), and a log whose last event is already dated more
  than `FUTURE_LIMIT` ahead of it does not block anyone: the row is written at the last
  event's time (times stay monotonic, the chain keeps its order) with a `clock` note in
  its body (this machine's time, the outside clock's, the row it continues after and
  the future-dated row that began the run),
  and the anomaly is said once per row (`clock_notes`, printed as a warning). Without
  an outside clock, a machine behind the last event is refused as before: nothing can
  tell its clock set back from the last event's set ahead.
- On PostgreSQL every row's body holds `server_time`, the server's clock when the row
  was made. It is in the hashed body, so it cannot be changed afterwards without
  breaking the chain, and a log copied to SQLite carries it and verifies identically;
  rows written before it existed hold no such key and keep their hashes. The server
  clock is `clock_timestamp()`, not `now()`: `now()` is fixed when the transaction
  starts, before the wait for the append lock.
- The head (last sequence number and hash, MAC'd when keyed) is kept outside the
  database in a head file (`<store>.head`) and, with `[store] anchor = PATH`, in a
  second one on another disk, so rows cut off the end, or a whole log emptied, are
  detected. A head file only moves forward (processes and machines may finish their
  appends in either order) and is replaced atomically (temporary file, fsync, rename).
- The head files are written after each append, except inside `batch()` (one delivery
  run): there they are written once, when the batch ends. The argument: every row is
  committed durably by the database before the append returns, so a crash inside a
  batch loses no row; only the head files lag behind, and a head that is behind is
  still a true statement (verify only requires the log to reach and match it). The
  rows of a batch are covered from the batch's end (or from the next append after a
  crash); until then, cutting exactly those newest rows off is the one thing the head
  files cannot see. tests/test_store.py kills a batch with SIGKILL to prove it.
- A machine joining a shared log (PostgreSQL) has no head file until its first write:
  a head file it has never held is not a deleted one. Every head file a workspace
  writes for a shared log is recorded in a marker beside it (`<store>.joined`, e.g.
  `var/postgresql.joined`), and every head file leaves its lock file (`<head>.lock`)
  behind. A missing head file that either of them names is reported as deleted, as
  before; one that neither names is this machine's first: `verify()` (having walked
  the chain up to it) and `verify_rows()` take the log's head as the server holds it,
  write it, and say so in `VerifyResult.note` ("No head file yet on this machine"). A SQLite log is never joined: its head file sits beside it from its first
  row, so a missing one is always reported. What deleting the head file, its lock file
  and the marker together buys an attacker who also cuts rows off the shared log:
  this one machine adopts the cut log as its first head, and says so where `publish log
  verify` prints; every other machine's head file, the anchor (`[store] anchor`, on
  another disk) and the log heads this workspace's site and outbox files carry (the
  rollback guard, checked before every write and by `publish log verify`) still name
  the cut rows. It buys silence on one machine, never on the cabinet.
- Every string in an event passes through the redactor before it is written.

All reads go through `events()`, one function with keyword filters.
"""
from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

from publisher.errors import Refused
from publisher.i18n import _
from publisher.log.backend import Backend, Query, Row, StoreUnavailable, Tail
from publisher.timeparse import from_iso, iso
from publisher.timeparse import now as utc_now

GENESIS = "0" * 64
NEXT_INCIDENT = object()
CLOCK_SKEW = timedelta(seconds=2)
FUTURE_LIMIT = timedelta(minutes=5)
OUTSIDE_CLOCK_AGE = 600.0
"""Seconds after which a long-running process (the worker) asks the outside clock again."""

__all__ = ["Audit", "GENESIS", "NEXT_INCIDENT", "ClockAhead", "ClockWentBack", "Event", "FUTURE_LIMIT", "Store",
           "StoreKeyError", "StoreUnavailable", "VerifyResult", "canonical", "canonical_bytes", "chain_hash",
           "clock_name", "open_store", "read_event"]


@dataclass(frozen=True)
class Event:
    """One row of the log, as stored: its body's fields and its chain hash."""

    seq: int
    ts: str
    kind: str
    actor: str | None
    incident: str | None
    draft: str | None
    channel: str | None
    data: dict[str, Any]
    hash: str
    server_time: str | None = None
    """PostgreSQL's clock when the row was made (None on rows SQLite wrote)."""
    clock: dict[str, Any] | None = None
    """The note of a row written at the last event's later time (see `Store`)."""

    def as_dict(self) -> dict[str, Any]:
        shown = {"seq": self.seq, "ts": self.ts, "kind": self.kind, "actor": self.actor,
                 "incident": self.incident, "draft": self.draft, "channel": self.channel,
                 "data": self.data, "hash": self.hash}
        if self.server_time:
            shown["server_time"] = self.server_time
        if self.clock:
            shown["clock"] = self.clock
        return shown


@dataclass(frozen=True)
class WorkerBeat:
    """A worker as its heartbeats tell it: ages in seconds by the store's clock."""

    name: str
    host: str
    pid: int
    age: float
    silent_for: float
    state: str
    beat: float
    """The last heartbeat's time (seconds since the epoch, by the store's clock)."""


@dataclass(frozen=True)
class VerifyResult:
    """How a chain walk ended: intact up to `rows`, or the first problem and its row."""

    ok: bool
    rows: int
    head: str
    problem: str | None = None
    bad_seq: int | None = None
    note: str | None = None
    """A sentence to show beside the verdict: this machine wrote its first head file."""
    future: tuple[str, ...] = ()
    """Rows dated ahead of an outside clock (a finding; the chain itself is intact)."""


class Audit(Protocol):
    """Checks that `Store.verify` feeds, in its one pass, every row that fits the chain
    and whose kind is one of `kinds`: its number, its stored body, the body parsed
    (the walk's own parse, handed on so the row is parsed once) and its hash."""
    kinds: frozenset[str]

    def row(self, seq: int, body: str, fields: dict[str, Any], digest: str) -> None: ...


def canonical(value: Any) -> str:
    """The canonical form of a value, the text every hash the log holds is taken over
    (a row's body, a head file; a draft's content through `canonical_bytes`)."""
    return canonical_bytes(value).decode("utf-8")


def canonical_bytes(value: Any) -> bytes:
    """The canonical form, defined here once, as UTF-8: JSON with sorted keys, no spaces
    and UTF-8 left unescaped, the bytes `json.dumps(value, sort_keys=True,
    separators=(",", ":"), ensure_ascii=False)` wrote before.

    orjson writes it, byte for byte as json.dumps did for strings (every code point),
    keys, integers, booleans, null and floats from 1e-4 up; a float under 1e-4 takes
    orjson's notation (`1e-5` or `0.00001` where json.dumps wrote `1e-05`), the same
    number to every reader. No recorded hash is ever recomputed from a row's values but
    a draft's, whose content is text, so every hash recorded before still matches. A
    value orjson refuses (an integer beyond 64 bits, a key that is not a string, a
    subclass, a date, a dataclass) is written by json.dumps as before.
    tests/test_one_verify.py proves the equality. What it buys: `publish log verify`
    recomputes every draft's hash with a dump of 2 µs instead of 26 µs, about 4 s of
    CPU at 1,000,000 events."""
    import orjson

    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS
                            | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)
    except TypeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_hash(prev: str, body: str, key: bytes | None = None) -> str:
    import hashlib
    import hmac

    message = f"{prev}\n{body}".encode("utf-8")
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


class StoreKeyError(Exception):
    """The store's keying and the configured key disagree."""


class ClockWentBack(Refused):
    """This machine's clock is earlier than the log's last event: nothing was written."""


class ClockAhead(Refused):
    """This machine's clock is ahead of the outside clock by more than `FUTURE_LIMIT`:
    nothing was written."""


OutsideTime = tuple[datetime, str]
"""An outside clock's time and which clock it is: "postgresql" or "tsa"."""


def clock_name(which: str) -> str:
    """An outside clock as people read it."""
    return _("the PostgreSQL server's clock") if which == "postgresql" else _("the time-stamp authority's clock")


def how_long(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{delta.total_seconds():.1f} s"


def open_store(*, path: Path, url: str | None = None, anchor: Path | None = None,
               redact: Callable[[Any], Any] = lambda value: value, clock: Callable[[], datetime] = utc_now,
               key: bytes | None = None) -> "Store":
    """The workspace's store: PostgreSQL when `url` is given (psycopg is imported only
    then), else the SQLite file at `path`."""
    if url:
        from publisher.log.postgres_backend import PostgresBackend

        backend: Backend = PostgresBackend(url)
        head_path = path.with_name("postgresql.head")
    else:
        from publisher.log.sqlite_backend import SQLiteBackend

        backend = SQLiteBackend(path)
        head_path = path.with_name(path.name + ".head")
    return Store(backend=backend, head_path=head_path, anchor=anchor, redact=redact, clock=clock, key=key)


class Store:
    def __init__(self, path: Path | None = None, redact: Callable[[Any], Any] = lambda value: value,
                 clock: Callable[[], datetime] = utc_now, key: bytes | None = None, *,
                 backend: Backend | None = None, head_path: Path | None = None, anchor: Path | None = None):
        if backend is None:
            from publisher.log.sqlite_backend import SQLiteBackend

            assert path is not None
            backend = SQLiteBackend(path)
            head_path = path.with_name(path.name + ".head")
        assert head_path is not None
        self.backend = backend
        self.path = path
        self.head_path = head_path
        self.anchor = anchor
        self.redact = redact
        self.clock = clock
        self.key = key or None
        self._batch_depth = 0
        self._batch_head: tuple[int, str] | None = None
        self._batch_lock = threading.Lock()
        self._snapshot = threading.local()
        self.before_write: Callable[[tuple[int, str]], None] | None = None
        self.made_here: tuple[int, str] | None = None
        self.joined_path = head_path.with_name(head_path.name.removesuffix(".head") + ".joined")
        self._joined: set[str] = set()
        self.outside_clock: Callable[[], OutsideTime | None] | None = None
        self.clock_notes: list[str] = []
        self._offset: tuple[timedelta, str] | None = None
        self._offset_asked = 0.0
        self._check_keying()

    @property
    def head_files(self) -> list[Path]:
        return [self.head_path] + ([self.anchor] if self.anchor else [])

    def _check_keying(self) -> None:
        wanted = "hmac-sha256" if self.key else "sha256"
        mode = self.backend.claim_mode(wanted)
        if mode == "hmac-sha256" and not self.key:
            raise StoreKeyError("the log is keyed (HMAC) but no [store] hmac_key is configured; "
                                "set it so the log can be written and verified")
        if mode == "sha256" and self.key:
            raise StoreKeyError("the log was started without [store] hmac_key and already has events; "
                                "remove hmac_key or start a new log")

    def close(self) -> None:
        self.backend.close()

    def append(self, kind: str, *, actor: str | None = None, incident: Any = None, draft: str | None = None,
               channel: str | None = None, data: dict[str, Any] | None = None) -> Event:
        """Write one event in its own transaction and return it as stored.
        `incident=NEXT_INCIDENT` assigns the next incident number inside that transaction."""
        clean = self.redact(data or {})
        asked: list[OutsideTime | None] = []
        if self.outside_clock is not None and not self.backend.shared:
            asked.append(self._outside_now())

        def make(tail: Tail) -> Row:
            last = tail.last()
            if self.before_write is not None:
                self.before_write((last[0], last[1]) if last else (0, GENESIS))
            number = str(tail.count("incident.opened") + 1) if incident is NEXT_INCIDENT else incident
            server = tail.server_time()
            outside = (server, "postgresql") if server else (asked[0] if asked else None)
            return self._make_row(last, server, outside, kind, actor, number, draft, channel, clean)

        while True:
            try:
                seq, body, _prev, digest = self.backend.append(make)
                break
            except ClockWentBack:
                if asked or self.outside_clock is None:
                    raise
                asked.append(self._outside_now())
                if asked[0] is None:
                    raise
        self._advance_heads(seq, digest)
        return _event(seq, body, digest)

    def _make_row(self, last: tuple[int, str, str] | None, server: datetime | None, outside: OutsideTime | None,
                  kind: str, actor: str | None, incident: Any, draft: str | None, channel: str | None,
                  clean: Any) -> Row:
        """The row after `last` (seq, hash, body) holding this event."""
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        ts, note = self._timestamp(last[2] if last else None, last[0] if last else 0, outside)
        fields: dict[str, Any] = {"seq": seq, "ts": ts, "kind": kind, "actor": actor, "incident": incident,
                                  "draft": draft, "channel": channel, "data": clean}
        if server:
            fields["server_time"] = iso(server, "milliseconds")
        if note:
            fields["clock"] = note
        body = canonical(fields)
        digest = chain_hash(prev, body, self.key)
        self.made_here = (seq, digest)
        return seq, body, prev, digest

    def append_heard(self, source: str, items: list[tuple[str | None, dict[str, Any]]],
                     cursor: str | None = None, *, actor: str | None = None) -> int:
        """Append the items a source read, each as one `item.heard` event (`(incident,
        payload)`, the payload holding the item's `key`), skipping every key the log
        already holds or that comes twice in `items`, and then, when `cursor` is given,
        a `listen.cursor` event naming where `source` resumes; all in one transaction, so
        a crash keeps both or neither. Returns how many items were new."""
        cleaned = [(incident, self.redact(payload)) for incident, payload in items]
        keys = [str(payload["key"]) for _incident, payload in cleaned]
        asked = [self._outside_now()] if self.outside_clock is not None and not self.backend.shared else []
        new: list[int] = []

        def make(tail: Tail) -> list[Row]:
            last = tail.last()
            if self.before_write is not None:
                self.before_write((last[0], last[1]) if last else (0, GENESIS))
            known = tail.heard(keys)
            server = tail.server_time()
            outside = (server, "postgresql") if server else (asked[0] if asked else None)
            rows: list[Row] = []
            new.clear()
            for incident, payload in cleaned:
                if payload["key"] in known:
                    continue
                known.add(payload["key"])
                rows.append(self._make_row(last, server, outside, "item.heard", actor, incident, None, None, payload))
                last = (rows[-1][0], rows[-1][3], rows[-1][1])
                new.append(rows[-1][0])
            if cursor is not None:
                data = self.redact({"source": source, "cursor": cursor, "new": len(new)})
                rows.append(self._make_row(last, server, outside, "listen.cursor", actor, None, None, None, data))
            return rows

        rows = self.backend.append_many(make)
        if rows:
            self._advance_heads(rows[-1][0], rows[-1][3])
        return len(new)

    def heard(self, *, incident: str | None = None, keys: list[str] | None = None, after_seq: int | None = None,
              before_seq: int | None = None, limit: int | None = None, newest_first: bool = False) -> list[Event]:
        """The `item.heard` events, filtered (the incident that claimed an item when it
        was heard, its keys, a page by sequence number)."""
        query = Query(("item.heard",), incident, None, None, after_seq, limit, newest_first,
                      tuple(keys) if keys is not None else None, before_seq)
        return [_event(*row) for row in self.backend.select(query)]

    def item_events(self, keys: list[str], *, kind: str | tuple[str, ...] | None = None) -> list[Event]:
        """Every `item.*` event about these items (heard, attached, assigned, answered...), oldest first."""
        if not keys:
            return []
        kinds = None if kind is None else ((kind,) if isinstance(kind, str) else tuple(kind))
        found: list[Event] = []
        for start in range(0, len(keys), 500):
            query = Query(kinds, items=tuple(keys[start:start + 500]))
            found.extend(_event(*row) for row in self.backend.select(query))
        return sorted(found, key=lambda event: event.seq)

    def last_heard(self, source: str, page: int = 500) -> str | None:
        """Where `source` resumes: the cursor of its newest `listen.cursor` event (None
        when it never read anything)."""
        before = None
        while True:
            rows = self.backend.select(Query(("listen.cursor",), None, None, None, None, page, True, None, before))
            for row in rows:
                data = _event(*row).data
                if data.get("source") == source:
                    return data.get("cursor")
            if len(rows) < page:
                return None
            before = rows[-1][0]

    def _outside_now(self) -> OutsideTime | None:
        """The outside clock's time now: asked once per store (`outside_clock`), then
        carried forward by this machine's clock."""
        stale = time.monotonic() - self._offset_asked > OUTSIDE_CLOCK_AGE
        if (self._offset is None or stale) and self.outside_clock is not None:
            self._offset_asked = time.monotonic()
            answer = self.outside_clock()
            if answer is not None:
                self._offset = (answer[0] - self.clock(), answer[1])
        if self._offset is None:
            return None
        return self.clock() + self._offset[0], self._offset[1]

    def _timestamp(self, last_body: str | None, last_seq: int,
                   outside: OutsideTime | None) -> tuple[str, dict[str, Any] | None]:
        """The new row's time and, when it continues after a future-dated last event,
        its `clock` note; `ClockAhead` or `ClockWentBack` when the row is refused."""
        local = self.clock()
        stamp = iso(local, "milliseconds")
        if outside is not None and local - outside[0] > FUTURE_LIMIT:
            raise ClockAhead(_("This machine's clock is {gap} ahead of {clock} ({reference}), more than 5 min; set "
                               "the system clock right (nothing was written).").format(
                                   gap=how_long(local - outside[0]), clock=clock_name(outside[1]),
                                   reference=iso(outside[0])))
        last_ts = _number_and_time(last_body)[1] if last_body else None
        if last_ts is None or stamp >= last_ts:
            return stamp, None
        behind = from_iso(last_ts) - local
        if behind <= CLOCK_SKEW:
            return last_ts, None
        if outside is not None and from_iso(last_ts) - outside[0] > FUTURE_LIMIT:
            ahead = from_iso(last_ts) - outside[0]
            before = _parsed(last_body or "null")
            earlier = before.get("clock") if isinstance(before, dict) else None
            origin = earlier.get("origin", last_seq) if isinstance(earlier, dict) else last_seq
            self.clock_notes.append(_("the log holds an event dated {last} (row {row}), {gap} ahead of {clock} "
                                      "({reference}): a clock was set ahead when it was written; this event is "
                                      "recorded at that later time so the log keeps its order.").format(
                                          row=origin, last=last_ts, gap=how_long(ahead), clock=clock_name(outside[1]),
                                          reference=iso(outside[0])))
            return last_ts, {"local": stamp, "after": last_seq, "origin": origin,
                             "reference": iso(outside[0], "milliseconds"), "by": outside[1]}
        raise ClockWentBack(_("The clock went back by {behind}: the log's last event is at {last}, this machine "
                              "says {now}; set the system clock right (nothing was written).").format(
                                  behind=how_long(behind), last=last_ts, now=stamp))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Appends inside write the head files once, when the outermost batch ends."""
        with self._batch_lock:
            self._batch_depth += 1
        try:
            yield
        finally:
            with self._batch_lock:
                self._batch_depth -= 1
                pending, done = self._batch_head, self._batch_depth == 0
                if done:
                    self._batch_head = None
            if done and pending:
                self._write_heads(*pending)

    def _advance_heads(self, seq: int, digest: str) -> None:
        with self._batch_lock:
            if self._batch_depth:
                if self._batch_head is None or self._batch_head[0] < seq:
                    self._batch_head = (seq, digest)
                return
        self._write_heads(seq, digest)

    def _head_mac(self, seq: int, digest: str) -> str:
        return chain_hash("head", f"{seq}:{digest}", self.key)

    def _write_heads(self, seq: int, digest: str) -> None:
        data = canonical({"seq": seq, "hash": digest, "mac": self._head_mac(seq, digest)}).encode()
        for path in self.head_files:
            _advance_head_file(path, seq, data)
        self._record_joined()

    def _shown_name(self, path: Path) -> str:
        return path.name if path == self.head_path else str(path)

    def _record_joined(self) -> None:
        """Name every head file in the marker of a shared log (once per store object)."""
        names = {self._shown_name(path) for path in self.head_files}
        if not self.backend.shared or names <= self._joined:
            return
        recorded = _read_joined(self.joined_path)
        if not names <= recorded:
            replace_file(self.joined_path, canonical({"heads": sorted(recorded | names)}).encode())
        self._joined = recorded | names

    def _never_held(self, path: Path) -> bool:
        """True when this workspace has never held this head file of a shared log: it is
        missing, no lock file of it is left, and the marker does not name it."""
        if not self.backend.shared or path.exists():
            return False
        if path.with_name(path.name + ".lock").exists():
            return False
        return self._shown_name(path) not in _read_joined(self.joined_path)

    def _head_problem(self, rows: int, hashes: dict[int, str], last_hash: str) -> tuple[str | None, str | None]:
        """The first problem of the head files (or None), and the note when this machine
        writes its first head file now (a shared log it has never held one of)."""
        first = [path for path in self.head_files if rows and self._never_held(path)]
        for path in self.head_files:
            if path in first:
                continue
            problem = self._one_head_problem(path, rows, hashes)
            if problem:
                return problem, None
        if not first:
            return None, None
        self._write_heads(rows, last_hash)
        return None, _("No head file yet on this machine; the log's head is row {seq} ({hash}), checked against "
                       "the server, and {name} now records it.").format(
                           seq=rows, hash=last_hash[:12], name=", ".join(self._shown_name(path) for path in first))

    def _one_head_problem(self, path: Path, rows: int, hashes: dict[int, str]) -> str | None:
        import hmac

        name = self._shown_name(path)
        try:
            head = _parse_head(path.read_bytes())
        except FileNotFoundError:
            return f"the head file {name} is missing (deleted?)" if rows else None
        if head is None:
            return f"the head file {name} is unreadable (edited?)"
        seq, digest, mac = head
        if not hmac.compare_digest(mac, self._head_mac(seq, digest)):
            return f"the head file {name} does not match its own check (edited?)"
        if seq > rows:
            return f"rows {rows + 1}..{seq} are missing at the end (truncated?)"
        if hashes.get(seq) != digest:
            return f"row {seq}: differs from the head recorded after it was written (rewritten?)"
        return None

    def _head_seqs(self) -> set[int]:
        found = set()
        for path in self.head_files:
            try:
                head = _parse_head(path.read_bytes())
            except FileNotFoundError:
                continue
            if head:
                found.add(head[0])
        return found

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads in this thread inside the block see the log as of the block's first read
        of each question: the head is read once, a question about whole kinds (no
        incident, draft or channel) is asked once, and one about all of some kinds after
        a row (`after_seq`) is answered from one read of those kinds. For a computation
        that asks the same questions once per incident ("Awaiting me" over two thousand
        open incidents): its answers cannot change half-way, and the database is not
        asked the same thing thousands of times. Appends are not affected."""
        if getattr(self._snapshot, "memo", None) is not None:
            yield
            return
        self._snapshot.memo = {}
        try:
            yield
        finally:
            self._snapshot.memo = None

    def events(self, *, kind: str | tuple[str, ...] | None = None, incident: str | None = None,
               draft: str | None = None, channel: str | None = None, after_seq: int | None = None,
               limit: int | None = None, newest_first: bool = False) -> list[Event]:
        kinds = None if kind is None else ((kind,) if isinstance(kind, str) else tuple(kind))
        query = Query(kinds, incident, draft, channel, after_seq, limit, newest_first)
        memo = getattr(self._snapshot, "memo", None)
        if memo is None or kinds is None or incident is not None or draft is not None or channel is not None:
            return [_event(*row) for row in self.backend.select(query)]
        if after_seq is not None:
            return self._after(memo, kinds, after_seq, newest_first)[:limit]
        if query not in memo:
            memo[query] = [_event(*row) for row in self.backend.select(query)]
        return list(memo[query])

    def events_of(self, incidents: list[str], chunk: int = 500) -> dict[str, list[Event]]:
        """The events of each of these incidents, in log order: one indexed query per
        `chunk` incidents instead of one per incident."""
        found: dict[str, list[Event]] = {name: [] for name in incidents}
        for start in range(0, len(incidents), chunk):
            query = Query(incidents=tuple(incidents[start:start + chunk]))
            for row in self.backend.select(query):
                event = _event(*row)
                found[event.incident or ""].append(event)
        return found

    def _after(self, memo: dict[Any, Any], kinds: tuple[str, ...], after_seq: int,
               newest_first: bool) -> list[Event]:
        import bisect

        whole = Query(kinds)
        if whole not in memo:
            found = [_event(*row) for row in self.backend.select(whole)]
            memo[whole] = found
            memo[("seqs", kinds)] = [event.seq for event in found]
        found = memo[whole][bisect.bisect_right(memo[("seqs", kinds)], after_seq):]
        return found[::-1] if newest_first else found

    def each(self, *, kind: str | tuple[str, ...] | None = None, page: int = 2000) -> Iterator[Event]:
        """The events of these kinds, oldest first, read a page at a time (keyset on seq),
        so a caller that folds them holds one page of rows, never the whole log."""
        kinds = None if kind is None else ((kind,) if isinstance(kind, str) else tuple(kind))
        after = None
        while True:
            rows = self.backend.select(Query(kinds, None, None, None, after, page, False))
            yield from (_event(*row) for row in rows)
            if len(rows) < page:
                return
            after = rows[-1][0]

    def head(self) -> tuple[int, str]:
        """The log's last sequence number and hash, as the database has them now (inside
        `snapshot`, as it had them at the block's first question)."""
        memo = getattr(self._snapshot, "memo", None)
        if memo is not None and "head" in memo:
            return memo["head"]
        last = self.backend.last() or (0, GENESIS)
        if memo is not None:
            memo["head"] = last
        return last

    def attempt(self, key: str, limit: int, window: timedelta) -> bool:
        """Count one attempt under `key` (a login from one address) unless `limit` were
        counted in the `window` before it; True when it was counted. The count lives in
        the store, outside the chain (no event, nothing in the log or a report), so every
        process and every console server of one log shares it. The key is stored as its
        sha256: no address in clear (though an address can still be matched by trying
        it); attempts older than the window are deleted as the next one is counted."""
        import hashlib

        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.backend.attempt(digest, limit, window.total_seconds(), self.clock().timestamp())

    def views(self, name: str, version: int, keys: list[str] | None = None) -> dict[str, tuple[int, str]]:
        """The kept views of this name (all, or these keys): key -> (seq, body), the body
        being a fold of the chain up to row `seq`. A view of another version, or whose
        row `seq` is no longer in the log with the hash it was folded from (a restored
        or replaced database), is left out: the caller folds it again from the log."""
        rows = [row for row in self.backend.read_views(name, keys) if row[1] == version]
        if not rows:
            return {}
        found = self.backend.rows_at(sorted({row[2] for row in rows}))
        return {key: (seq, body) for key, _version, seq, head, body in rows
                if seq in found and found[seq][2] == head}

    def keep_views(self, name: str, version: int, folded: dict[str, tuple[int, str]]) -> None:
        """Keep these folds (key -> (seq, body)) for the next reader, outside the chain.
        A view already kept as far along or further is left as it is."""
        if not folded:
            return
        heads = self.backend.rows_at(sorted({seq for seq, _body in folded.values()}))
        self.backend.keep_views(name, [(key, version, seq, heads[seq][2], body)
                                       for key, (seq, body) in folded.items() if seq in heads])

    def beat(self, name: str, host: str, pid: int, state: str) -> float | None:
        """Record a worker's heartbeat outside the chain (see `publisher.log.backend`);
        return how far this machine's clock is ahead of the store's (seconds; negative
        when behind), or None where the store has no clock of its own (SQLite)."""
        theirs = self.backend.beat(name, host, pid, state, time.time())
        return None if theirs is None else self.clock().timestamp() - theirs

    def workers(self) -> list[WorkerBeat]:
        """Every worker that beat in the last week, with how long since it last did."""
        return [WorkerBeat(*row) for row in self.backend.workers(time.time())]

    def worker_slot(self):
        """The workspace's worker place (one per SQLite log, any number on PostgreSQL);
        yields whether this process holds it, until the block ends or the process dies."""
        return self.backend.worker_slot()

    def delivery_lock(self, draft: str, channel: str):
        """The per-(draft, channel) lock held for one delivery; yields a function that
        tries to take it without blocking and says whether it is held."""
        return self.backend.delivery_lock(draft, channel)

    def verify(self, audit: Audit | None = None) -> VerifyResult:
        """Walk the chain once, from the first row, in this process, holding one row at a
        time (memory stays the same however long the log): each row's position, link to
        the row before, hash, own recorded number and time are checked, and the walk stops
        at the first row that does not fit, naming it. Each body is parsed once
        (`_parsed`); `audit.row` sees, in the same pass and in order, every row that fits
        whose kind is one of `audit.kinds`, with that parse. Then the head files are
        checked against where the chain ends."""
        import hashlib
        import hmac

        import orjson

        key, sha256, loads = self.key, hashlib.sha256, orjson.loads
        kinds, visit = (audit.kinds, audit.row) if audit is not None else (frozenset(), None)
        head_seqs = self._head_seqs()
        hashes: dict[int, str] = {}
        future: list[str] = []
        continued: set[int] = set()
        expected_prev, expected_seq, last_ts = GENESIS, 1, ""
        for seq, body, prev, digest in self.backend.chain():
            message = f"{prev}\n{body}".encode()
            computed = hmac.new(key, message, sha256).hexdigest() if key else sha256(message).hexdigest()
            try:
                fields = loads(body)
                ts = fields["ts"]
                fits = (computed == digest and prev == expected_prev and seq == expected_seq
                        and fields["seq"] == seq and ts >= last_ts)
                audited = fields.get("kind") in kinds
            except (ValueError, TypeError, KeyError):
                fits = False
            if not fits:
                problem = _row_problem(seq, body, prev, digest, expected_seq, expected_prev, key)
                if problem is None:
                    fields = _parsed(body)
                    ts, kind = fields["ts"], fields.get("kind")
                    audited = isinstance(kind, str) and kind in kinds
                    if ts < last_ts:
                        problem = _went_back(seq, ts, last_ts)
                if problem:
                    return VerifyResult(False, expected_seq - 1, expected_prev, problem, seq)
            if seq in head_seqs:
                hashes[seq] = digest
            if audited and visit is not None:
                visit(seq, body, fields, digest)
            if "clock" in fields or "server_time" in fields:
                found = _future_row(seq, fields, last_ts, continued)
                if found:
                    future.append(found)
            expected_prev, expected_seq, last_ts = digest, seq + 1, ts
        rows = expected_seq - 1
        problem, note = self._head_problem(rows, hashes, expected_prev)
        if problem:
            return VerifyResult(False, rows, expected_prev, problem, rows + 1, future=tuple(future))
        return VerifyResult(True, rows, expected_prev, note=note, future=tuple(future))

    def verify_rows(self, seqs: list[int]) -> VerifyResult:
        """Check only these rows: each one's hash, its link to the row before and the
        row after it, and the head files. Any edit, deletion or reordering touching them
        is caught without walking the whole chain (what a one-incident report needs)."""
        wanted = sorted(set(seqs))
        neighbours = sorted({n for seq in wanted for n in (seq - 1, seq, seq + 1) if n >= 1})
        rows = self.backend.rows_at(neighbours)
        last_seq, last_hash = self.head()
        for seq in wanted:
            if seq not in rows:
                return VerifyResult(False, 0, last_hash, f"row {seq} is missing (deleted?)", seq)
            body, prev, digest = rows[seq]
            before = GENESIS if seq == 1 else (rows[seq - 1][2] if seq - 1 in rows else None)
            if before is None:
                return VerifyResult(False, 0, last_hash, f"row {seq - 1} is missing (deleted?)", seq - 1)
            problem = _row_problem(seq, body, prev, digest, seq, before, self.key)
            if not problem and seq > 1 and seq - 1 in rows:
                earlier, ts = _number_and_time(rows[seq - 1][0])[1], _number_and_time(body)[1]
                if earlier and ts and ts < earlier:
                    problem = _went_back(seq, ts, earlier)
            if not problem and seq < last_seq:
                after = rows.get(seq + 1)
                if after is None or after[1] != digest:
                    problem = f"row {seq + 1}: does not link to row {seq} (rows deleted, inserted or reordered?)"
            if problem:
                return VerifyResult(False, 0, last_hash, problem, seq)
        heads = self._head_seqs() | {last_seq}
        found = self.backend.rows_at(sorted(s for s in heads if 0 < s <= last_seq))
        problem, note = self._head_problem(last_seq, {seq: found[seq][2] for seq in found}, last_hash)
        if problem:
            return VerifyResult(False, len(wanted), last_hash, problem, last_seq + 1)
        return VerifyResult(True, len(wanted), last_hash, note=note)

    def info(self) -> dict[str, Any]:
        """What `publish store info` shows: backend, where, size, head, head files."""
        seq, digest = self.head()
        details = self.backend.info()
        details.update({"events": seq, "head": {"seq": seq, "hash": digest},
                        "chain": "hmac-sha256" if self.key else "sha256",
                        "head_files": [str(path) for path in self.head_files]})
        return details

    def copy_to(self, target: "Store") -> int:
        """Copy every row, as stored, into `target` (an empty log), then write its head."""
        count = target.backend.import_rows(self.backend.chain(), "hmac-sha256" if self.key else "sha256")
        last = target.backend.last()
        if last:
            target._write_heads(*last)
        return count


def _advance_head_file(path: Path, seq: int, data: bytes) -> None:
    """Record the newest row in one head file; never move it backwards. The new head
    is written to a temporary file renamed over the old one, so a crash never leaves
    it empty."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle = os.open(path.with_name(path.name + ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            current = _parse_head(path.read_bytes())
        except FileNotFoundError:
            current = None
        if current and current[0] >= seq:
            return
        replace_file(path, data, path.with_name(path.name + ".tmp"))
    finally:
        os.close(handle)


def replace_file(path: Path, data: bytes, temporary: Path | None = None) -> None:
    """Write `data` to a temporary file (synced; one of this thread's own unless named)
    and rename it over `path`, so a crash never leaves `path` half written."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = temporary or path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    out = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        os.write(out, data)
        os.fsync(out)
    finally:
        os.close(out)
    os.replace(temporary, path)


def _read_joined(path: Path) -> set[str]:
    """The head files a shared log's marker names (none when it is missing or unreadable)."""
    try:
        heads = json.loads(path.read_bytes()).get("heads")
    except (FileNotFoundError, ValueError, AttributeError):
        return set()
    return {str(name) for name in heads} if isinstance(heads, list) else set()


def _parse_head(data: bytes) -> tuple[int, str, str] | None:
    try:
        head = json.loads(data or b"null")
        return (int(head["seq"]), str(head["hash"]), str(head["mac"])) if head else None
    except (ValueError, KeyError, TypeError):
        return None


def _parsed(body: str) -> Any:
    """A stored body as Python values; None when it is not JSON. Read by orjson, else by
    json for what `canonical` may write and orjson refuses (NaN, Infinity). orjson reads
    an integer beyond 64 bits as a float: no field the walk checks holds one, and an
    audit that needs a row's exact values reads it with `read_event`."""
    import orjson

    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            return json.loads(body)
        except ValueError:
            return None


def _number_and_time(body: str) -> tuple[Any, str | None]:
    """The body's own `seq` and `ts`, None for either it does not hold."""
    fields = _parsed(body)
    if not isinstance(fields, dict):
        return None, None
    ts = fields.get("ts")
    return fields.get("seq"), ts if isinstance(ts, str) else None


def _future_row(seq: int, fields: dict[str, Any], last_ts: str, continued: set[int]) -> str | None:
    """The row a verify walk names as dated ahead of an outside clock, from this row's
    fields: the row a `clock` note continues after (unless that row itself continued
    after an earlier one), or this row when its own `server_time` is more than
    `FUTURE_LIMIT` behind its time and it is not a continuation."""
    note = fields.get("clock")
    if isinstance(note, dict):
        continued.add(seq)
        after = note.get("after")
        if not isinstance(after, int) or after in continued:
            return None
        try:
            gap = how_long(from_iso(last_ts) - from_iso(str(note.get("reference"))))
        except (TypeError, ValueError):
            gap = "?"
        return _("row {row}: dated {ts}, {gap} ahead of {clock} ({reference}) as row {seq} found it; the rows after "
                 "it continue from that time").format(row=after, ts=last_ts, gap=gap,
                                                       clock=clock_name(str(note.get("by"))),
                                                       reference=note.get("reference"), seq=seq)
    try:
        ahead = from_iso(str(fields["ts"])) - from_iso(str(fields["server_time"]))
    except (KeyError, TypeError, ValueError):
        return None
    if ahead <= FUTURE_LIMIT:
        return None
    return _("row {row}: dated {ts}, {gap} ahead of {clock} ({reference})").format(
        row=seq, ts=fields["ts"], gap=how_long(ahead), clock=clock_name("postgresql"),
        reference=fields["server_time"])


def _went_back(seq: int, ts: str, earlier: str) -> str:
    behind = how_long(from_iso(earlier) - from_iso(ts))
    return f"row {seq}: its time {ts} is earlier than the row before it ({earlier}): the clock went back by {behind}"


def _row_problem(seq: int, body: str, prev: str, digest: str, expected_seq: int, expected_prev: str,
                 key: bytes | None) -> str | None:
    """Why a row does not fit where it stands in the chain; None when it does."""
    import hmac

    if seq != expected_seq:
        if seq > expected_seq:
            return f"row {seq}: rows {expected_seq}..{seq - 1} are missing (deleted?)"
        return f"row {seq}: out of order after row {expected_seq - 1} (reordered?)"
    if prev != expected_prev:
        return f"row {seq}: does not link to the row before it (rows deleted, inserted or reordered?)"
    if not hmac.compare_digest(chain_hash(prev, body, key), digest):
        return f"row {seq}: its content does not match its hash (edited?)"
    body_seq, ts = _number_and_time(body)
    if body_seq != seq:
        return f"row {seq}: its recorded number differs from its position (reordered?)"
    if ts is None:
        return f"row {seq}: it records no time (edited?)"
    return None


def _loads(body: str) -> Any:
    import orjson

    return orjson.loads(body)


def read_event(seq: int, body: str, digest: str) -> Event:
    """One stored row as an Event, its values exactly as its JSON says."""
    return _event(seq, body, digest)


def _event(seq: int, body: str, digest: str) -> Event:
    try:
        fields = _loads(body)
    except ValueError:  # what orjson refuses and json reads (integers past 64 bits, lone surrogates)
        fields = json.loads(body)
    return Event(seq, fields["ts"], fields["kind"], fields.get("actor"), fields.get("incident"),
                 fields.get("draft"), fields.get("channel"), fields.get("data") or {}, digest,
                 fields.get("server_time"), fields.get("clock"))
