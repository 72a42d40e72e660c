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
- The database file is created mode 0600 inside a folder created 0700.
- Every string in an event passes through the redactor before it is written.

All reads go through `events()`, one function with keyword filters.
"""
from __future__ import annotations

import hashlib
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


def chain_hash(prev: str, body: str) -> str:
    return hashlib.sha256(f"{prev}\n{body}".encode("utf-8")).hexdigest()


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


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m001_events]

SELECT = "SELECT seq, body, hash FROM events"


class Store:
    def __init__(self, path: Path, redact: Callable[[Any], Any] = lambda value: value,
                 clock: Callable[[], datetime] = utc_now):
        self.path = path
        self.redact = redact
        self.clock = clock
        self._lock = threading.RLock()
        self._db = self._open(path)

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
                digest = chain_hash(prev, body)
                db.execute("INSERT INTO events (seq, body, prev, hash) VALUES (?, ?, ?, ?)", (seq, body, prev, digest))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return _event(seq, body, digest)

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
        """Walk the chain from the first row; stop at the first row that does not fit."""
        expected_prev, expected_seq, rows = GENESIS, 1, 0
        for seq, body, prev, digest in self._iter_rows():
            problem = _row_problem(seq, body, prev, digest, expected_seq, expected_prev)
            if problem:
                return VerifyResult(False, rows, expected_prev, problem, seq)
            expected_prev, expected_seq, rows = digest, expected_seq + 1, rows + 1
        return VerifyResult(True, rows, expected_prev)

    def _iter_rows(self) -> Iterator[tuple[int, str, str, str]]:
        reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            yield from reader.execute("SELECT seq, body, prev, hash FROM events ORDER BY rowid")
        finally:
            reader.close()


def _row_problem(seq: int, body: str, prev: str, digest: str, expected_seq: int, expected_prev: str) -> str | None:
    if seq != expected_seq:
        if seq > expected_seq:
            return f"row {seq}: rows {expected_seq}..{seq - 1} are missing (deleted?)"
        return f"row {seq}: out of order after row {expected_seq - 1} (reordered?)"
    if prev != expected_prev:
        return f"row {seq}: does not link to the row before it (rows deleted, inserted or reordered?)"
    if chain_hash(prev, body) != digest:
        return f"row {seq}: its content does not match its hash (edited?)"
    try:
        if json.loads(body).get("seq") != seq:
            return f"row {seq}: its recorded number differs from its position (reordered?)"
    except ValueError:
        return f"row {seq}: its content is not valid JSON (edited?)"
    return None


def _event(seq: int, body: str, digest: str) -> Event:
    fields = json.loads(body)
    return Event(seq, fields["ts"], fields["kind"], fields.get("actor"), fields.get("incident"),
                 fields.get("draft"), fields.get("channel"), fields.get("data") or {}, digest)
