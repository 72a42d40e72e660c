"""The log: an append-only, hash-chained SQLite store of every event.

Guarantees:
- Rows are only ever inserted, one transaction per event (`BEGIN IMMEDIATE`, so two
  processes appending at once are serialised and never fork the chain).
- Each row holds the event as canonical JSON (`body`: sorted keys, no spaces, UTF-8)
  and `hash = sha256(prev_hash + "\\n" + body)`, where `prev_hash` is the previous
  row's hash (64 zeros for the first). The body carries its own sequence number, so
  an edited, deleted, inserted or reordered row breaks the chain at that row, and
  `verify()` names it.
- The columns queries filter on (kind, incident, draft, channel) are generated from
  the body by SQLite itself and cannot disagree with what is hashed.
- With a key (`[store] hmac_key`), every hash is an HMAC-SHA256 instead: without the
  key nobody can rewrite the chain, not even all of it. A store keeps the mode it was
  created with; opening a keyed store without its key is refused.
- After each append the head (last sequence number and hash, MAC'd when keyed) is
  written to `<store>.head`, so rows cut off the end are detected too.
- The database file is created mode 0600 inside a folder created 0700.
- Every string in an event passes through the redactor before it is written.

All reads go through `events()`, one function with keyword filters.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from publisher.timeparse import iso, now as utc_now

GENESIS = "0" * 64
NEXT_INCIDENT = object()


@dataclass(frozen=True)
class Event:
    seq: int
    ts: str
    kind: str
    actor: str | None
    incident: str | None
    draft: str | None
    channel: str | None
    data: dict[str, Any]
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "kind": self.kind, "actor": self.actor,
                "incident": self.incident, "draft": self.draft, "channel": self.channel,
                "data": self.data, "hash": self.hash}


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows: int
    head: str
    problem: str | None = None
    bad_seq: int | None = None


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev: str, body: str, key: bytes | None = None) -> str:
    message = f"{prev}\n{body}".encode("utf-8")
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


class StoreKeyError(Exception):
    """The store's keying and the configured key disagree."""


def _m001_events(db: sqlite3.Connection) -> None:
    db.execute("""
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            body TEXT NOT NULL,
            prev TEXT NOT NULL,
            hash TEXT NOT NULL,
            kind TEXT GENERATED ALWAYS AS (json_extract(body, '$.kind')) VIRTUAL,
            incident TEXT GENERATED ALWAYS AS (json_extract(body, '$.incident')) VIRTUAL,
            draft TEXT GENERATED ALWAYS AS (json_extract(body, '$.draft')) VIRTUAL,
            channel TEXT GENERATED ALWAYS AS (json_extract(body, '$.channel')) VIRTUAL
        )""")
    db.execute("CREATE INDEX events_incident ON events(incident, seq)")
    db.execute("CREATE INDEX events_draft ON events(draft, channel, seq)")
    db.execute("CREATE INDEX events_kind ON events(kind, seq)")


def _m002_meta(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _m003_incident_kind(db: sqlite3.Connection) -> None:
    db.execute("CREATE INDEX IF NOT EXISTS events_incident_kind ON events(incident, kind, seq)")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m001_events, _m002_meta, _m003_incident_kind]

SELECT = "SELECT seq, body, hash FROM events"


class Store:
    def __init__(self, path: Path, redact: Callable[[Any], Any] = lambda value: value,
                 clock: Callable[[], datetime] = utc_now, key: bytes | None = None):
        self.path = path
        self.head_path = path.with_name(path.name + ".head")
        self.redact = redact
        self.clock = clock
        self.key = key or None
        self._lock = threading.RLock()
        self._db = self._open(path)
        self._check_keying()

    def _check_keying(self) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT value FROM meta WHERE name = 'chain'").fetchone()
            has_rows = db.execute("SELECT 1 FROM events LIMIT 1").fetchone() is not None
            wanted = "hmac-sha256" if self.key else "sha256"
            if row is None or (not has_rows and row[0] != wanted):
                db.execute("INSERT OR REPLACE INTO meta VALUES ('chain', ?)", (wanted,))
            elif row[0] == "hmac-sha256" and not self.key:
                raise StoreKeyError("the log is keyed (HMAC) but no [store] hmac_key is configured; "
                                    "set it so the log can be written and verified")
            elif row[0] == "sha256" and self.key:
                raise StoreKeyError("the log was started without [store] hmac_key and already has events; "
                                    "remove hmac_key or start a new log")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(path, 0o600)
        db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            applied = {row[0] for row in db.execute("SELECT name FROM migrations")}
            for migration in MIGRATIONS:
                if migration.__name__ not in applied:
                    migration(db)
                    db.execute("INSERT INTO migrations VALUES (?, ?)", (migration.__name__, iso(utc_now())))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return db

    def close(self) -> None:
        self._db.close()

    def append(self, kind: str, *, actor: str | None = None, incident: Any = None, draft: str | None = None,
               channel: str | None = None, data: dict[str, Any] | None = None) -> Event:
        """Write one event in its own transaction and return it as stored.
        `incident=NEXT_INCIDENT` assigns the next incident number inside that transaction."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
                if incident is NEXT_INCIDENT:
                    count = db.execute("SELECT count(*) FROM events WHERE kind = 'incident.opened'").fetchone()[0]
                    incident = str(count + 1)
                fields = {"seq": seq, "ts": iso(self.clock(), "milliseconds"), "kind": kind, "actor": actor,
                          "incident": incident, "draft": draft, "channel": channel,
                          "data": self.redact(data or {})}
                body = canonical(fields)
                digest = chain_hash(prev, body, self.key)
                db.execute("INSERT INTO events (seq, body, prev, hash) VALUES (?, ?, ?, ?)", (seq, body, prev, digest))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._advance_head(seq, digest)
        return _event(seq, body, digest)

    def _head_mac(self, seq: int, digest: str) -> str:
        return chain_hash("head", f"{seq}:{digest}", self.key)

    def _advance_head(self, seq: int, digest: str) -> None:
        """Record the newest row in the head file; never move it backwards (two
        processes may finish their appends in either order). The new head is written
        to a temporary file renamed over the old one, so a crash never leaves it empty."""
        handle = os.open(self.head_path.with_name(self.head_path.name + ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                current = _parse_head(self.head_path.read_bytes())
            except FileNotFoundError:
                current = None
            if current and current[0] >= seq:
                return
            data = canonical({"seq": seq, "hash": digest, "mac": self._head_mac(seq, digest)}).encode()
            temporary = self.head_path.with_name(self.head_path.name + ".tmp")
            out = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
            try:
                os.write(out, data)
                os.fsync(out)
            finally:
                os.close(out)
            os.replace(temporary, self.head_path)
        finally:
            os.close(handle)

    def _head_problem(self, rows: int, hashes: dict[int, str]) -> str | None:
        try:
            head = _parse_head(self.head_path.read_bytes())
        except FileNotFoundError:
            return f"the head file {self.head_path.name} is missing (deleted?)" if rows else None
        if head is None:
            return f"the head file {self.head_path.name} is unreadable (edited?)"
        seq, digest, mac = head
        if mac != self._head_mac(seq, digest):
            return f"the head file {self.head_path.name} does not match its own check (edited?)"
        if seq > rows:
            return f"rows {rows + 1}..{seq} are missing at the end (truncated?)"
        if hashes.get(seq) != digest:
            return f"row {seq}: differs from the head recorded after it was written (rewritten?)"
        return None

    def events(self, *, kind: str | tuple[str, ...] | None = None, incident: str | None = None,
               draft: str | None = None, channel: str | None = None, after_seq: int | None = None,
               limit: int | None = None, newest_first: bool = False) -> list[Event]:
        where: list[str] = []
        params: list[Any] = []
        if kind is not None:
            kinds = (kind,) if isinstance(kind, str) else kind
            where.append(f"kind IN ({', '.join('?' * len(kinds))})")
            params.extend(kinds)
        for column, value in (("incident", incident), ("draft", draft), ("channel", channel)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if after_seq is not None:
            where.append("seq > ?")
            params.append(after_seq)
        sql = SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY seq DESC" if newest_first else " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [_event(*row) for row in rows]

    def head(self) -> tuple[int, str]:
        with self._lock:
            row = self._db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)

    def verify(self) -> VerifyResult:
        """Walk the chain from the first row, stop at the first row that does not fit,
        then check the head file against where the chain ends."""
        expected_prev, expected_seq, rows = GENESIS, 1, 0
        head_seq = (_parse_head(self.head_path.read_bytes()) or (0,))[0] if self.head_path.exists() else 0
        hashes: dict[int, str] = {}
        for seq, body, prev, digest, body_seq in self._iter_rows():
            problem = _row_problem(seq, body, prev, digest, body_seq, expected_seq, expected_prev, self.key)
            if problem:
                return VerifyResult(False, rows, expected_prev, problem, seq)
            if seq == head_seq:
                hashes[seq] = digest
            expected_prev, expected_seq, rows = digest, expected_seq + 1, rows + 1
        problem = self._head_problem(rows, hashes)
        if problem:
            return VerifyResult(False, rows, expected_prev, problem, rows + 1)
        return VerifyResult(True, rows, expected_prev)

    def verify_rows(self, seqs: list[int]) -> VerifyResult:
        """Check only these rows: each one's hash, its link to the row before and the
        row after it, and the head file. Any edit, deletion or reordering touching them
        is caught without walking the whole chain (what a one-incident report needs)."""
        wanted = sorted(set(seqs))
        neighbours = sorted({n for seq in wanted for n in (seq - 1, seq, seq + 1) if n >= 1})
        rows = self._rows_at(neighbours)
        last_seq, last_hash = self.head()
        for seq in wanted:
            if seq not in rows:
                return VerifyResult(False, 0, last_hash, f"row {seq} is missing (deleted?)", seq)
            body, prev, digest, body_seq = rows[seq]
            before = GENESIS if seq == 1 else (rows[seq - 1][2] if seq - 1 in rows else None)
            if before is None:
                return VerifyResult(False, 0, last_hash, f"row {seq - 1} is missing (deleted?)", seq - 1)
            problem = _row_problem(seq, body, prev, digest, body_seq, seq, before, self.key)
            if not problem and seq < last_seq:
                after = rows.get(seq + 1)
                if after is None or after[1] != digest:
                    problem = f"row {seq + 1}: does not link to row {seq} (rows deleted, inserted or reordered?)"
            if problem:
                return VerifyResult(False, 0, last_hash, problem, seq)
        head_rows = self._rows_at([last_seq]) if last_seq else {}
        problem = self._head_problem(last_seq, {last_seq: head_rows[last_seq][2]} if head_rows else {})
        if problem:
            return VerifyResult(False, len(wanted), last_hash, problem, last_seq + 1)
        return VerifyResult(True, len(wanted), last_hash)

    def _rows_at(self, seqs: list[int]) -> dict[int, tuple[str, str, str, Any]]:
        found: dict[int, tuple[str, str, str, Any]] = {}
        with self._lock:
            for start in range(0, len(seqs), 500):
                chunk = seqs[start:start + 500]
                for seq, body, prev, digest, body_seq in self._db.execute(
                        "SELECT seq, body, prev, hash, CASE WHEN json_valid(body) THEN json_extract(body, '$.seq') "
                        f"END FROM events WHERE seq IN ({', '.join('?' * len(chunk))})", chunk):
                    found[seq] = (body, prev, digest, body_seq)
        return found

    def _iter_rows(self) -> Iterator[tuple[int, str, str, str, Any]]:
        reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            yield from reader.execute("SELECT seq, body, prev, hash, CASE WHEN json_valid(body) "
                                      "THEN json_extract(body, '$.seq') END FROM events ORDER BY rowid")
        finally:
            reader.close()


def _parse_head(data: bytes) -> tuple[int, str, str] | None:
    try:
        head = json.loads(data or b"null")
        return (int(head["seq"]), str(head["hash"]), str(head["mac"])) if head else None
    except (ValueError, KeyError, TypeError):
        return None


def _row_problem(seq: int, body: str, prev: str, digest: str, body_seq: Any, expected_seq: int,
                 expected_prev: str, key: bytes | None) -> str | None:
    if seq != expected_seq:
        if seq > expected_seq:
            return f"row {seq}: rows {expected_seq}..{seq - 1} are missing (deleted?)"
        return f"row {seq}: out of order after row {expected_seq - 1} (reordered?)"
    if prev != expected_prev:
        return f"row {seq}: does not link to the row before it (rows deleted, inserted or reordered?)"
    if not hmac.compare_digest(chain_hash(prev, body, key), digest):
        return f"row {seq}: its content does not match its hash (edited?)"
    if body_seq != seq:
        return f"row {seq}: its recorded number differs from its position (reordered?)"
    return None


def _event(seq: int, body: str, digest: str) -> Event:
    fields = json.loads(body)
    return Event(seq, fields["ts"], fields["kind"], fields.get("actor"), fields.get("incident"),
                 fields.get("draft"), fields.get("channel"), fields.get("data") or {}, digest)
