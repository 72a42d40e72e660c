"""The embedded backend: one SQLite file, the default (`[store] path`).

Guarantees:
- Appends are serialised by `BEGIN IMMEDIATE` (SQLite's one writer lock, shared by
  every process on the machine), so the last row read under it is the true last row.
- Group commit: appends from this process's threads that arrive while a commit is under
  way queue up; the next thread to take the writer commits every queued row in one
  transaction (one WAL sync); each row is made from the one before it (in the
  database or made earlier in the group) and a refused row (a clock gone back, a
  rollback found) is dropped alone, before anything of the group is inserted. `append()` returns only after
  the COMMIT that holds its row, so every row acknowledged is durable; a row whose
  transaction did not commit was never acknowledged. Rows are made in queue order
  under the writer, so `seq`/`prev`/`hash` stay consecutive.
- The database is in WAL mode with `synchronous=FULL`: a committed append survives a
  crash or power loss. Reads use a connection of their own, so readers (`status`,
  `incident list`, `log`, a delivery thread reading the log) never wait for a writer,
  in this process or another. Opening the store takes the write lock only when there is something to write
  (a migration not yet applied, the chain's mode not yet recorded), so a reader opening
  the store while a writer holds a long transaction does not wait either.
- The columns queries filter on (kind, incident, draft, channel) are generated from
  the body by SQLite itself and cannot disagree with what is hashed.
- The file is created mode 0600 inside a folder created 0700.
- Attempts (`attempt`) are counted in a table of their own, outside the chain, by this
  machine's clock under the writer lock: every process using the file shares one count.
- Worker heartbeats (`beat`) live in a table of their own, outside the chain, timed by
  this machine's clock (the one every worker of the file runs on). One worker per
  file: `worker_slot` is a `flock` on `locks/worker.lock`, released when its process dies.
- The per-(draft, channel) delivery lock lives in `locks/` beside the database: on Linux
  one byte per channel of one file per draft, locked as an open-file-description lock
  (exclusive between threads and processes alike); elsewhere a `flock` on a file per
  (draft, channel). The kernel releases it when its process dies. It is only as wide as
  one machine: a cabinet on several machines uses the PostgreSQL backend.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import sqlite3
import struct
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from publisher.i18n import _
from publisher.log.backend import HEARD_SQL, KEEP_VIEW, VIEWS_TABLE, Query, Row, StoreUnavailable, ViewRow, select_sql, views_sql
from publisher.timeparse import iso
from publisher.timeparse import now as utc_now


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


def _m004_attempts(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE attempts (key TEXT NOT NULL, at REAL NOT NULL)")
    db.execute("CREATE INDEX attempts_key ON attempts(key, at)")
    db.execute("CREATE INDEX attempts_at ON attempts(at)")


def _m005_workers(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE workers (name TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, "
               "started REAL NOT NULL, beat REAL NOT NULL, state TEXT NOT NULL)")


def _m006_items(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE events ADD COLUMN item TEXT GENERATED ALWAYS AS (CASE WHEN json_extract(body, '$.kind') "
               "LIKE 'item.%' THEN json_extract(body, '$.data.key') END) VIRTUAL")
    db.execute("CREATE UNIQUE INDEX events_heard ON events(item) WHERE kind = 'item.heard'")
    db.execute("CREATE INDEX events_item ON events(item, seq) WHERE item IS NOT NULL")


def _m007_views(db: sqlite3.Connection) -> None:
    db.execute(VIEWS_TABLE)


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m001_events, _m002_meta, _m003_incident_kind,
                                                          _m004_attempts, _m005_workers, _m006_items,
                                                          _m007_views]
LAST_ROW = "SELECT seq, hash, body FROM events ORDER BY seq DESC LIMIT 1"


class _Tail:
    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def last(self) -> tuple[int, str, str] | None:
        row = self._db.execute(LAST_ROW).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def count(self, kind: str) -> int:
        return self._db.execute("SELECT count(*) FROM events WHERE kind = ?", (kind,)).fetchone()[0]

    def server_time(self) -> None:
        return None

    def heard(self, keys: list[str]) -> set[str]:
        return _heard(self._db, keys)


def _heard(db: sqlite3.Connection, keys: list[str]) -> set[str]:
    found: set[str] = set()
    sql = HEARD_SQL.replace("FROM events", "FROM events INDEXED BY events_heard", 1)
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        found.update(row[0] for row in db.execute(sql.format(marks=", ".join("?" * len(chunk))), chunk))
    return found



class _GroupTail:
    """The tail as each row of a group sees it: the database's last row, then the rows
    made before it in the same group (inserted together at the end, so a row refused
    while being made leaves nothing behind, and the writer makes one query per group)."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db
        self._last = _Tail(db).last()
        self.made: list[Row] = []

    def last(self) -> tuple[int, str, str] | None:
        return self._last

    def count(self, kind: str) -> int:
        return _Tail(self._db).count(kind) + sum(json.loads(row[1]).get("kind") == kind for row in self.made)

    def server_time(self) -> None:
        return None

    def heard(self, keys: list[str]) -> set[str]:
        made = {json.loads(row[1]).get("data", {}).get("key") for row in self.made
                if json.loads(row[1]).get("kind") == "item.heard"}
        return _heard(self._db, keys) | (made & set(keys))

    def add(self, row: Row) -> None:
        self.made.append(row)
        self._last = (row[0], row[3], row[1])


class _Waiting:
    """One append queued for the next group commit."""
    __slots__ = ("make", "row", "error", "done")

    def __init__(self, make: Callable[[Any], Row]):
        self.make = make
        self.row: Row | None = None
        self.error: BaseException | None = None
        self.done = False


class SQLiteBackend:
    name = "sqlite"
    shared = False

    def __init__(self, path: Path):
        self.path = path
        self.location = str(path)
        self._lock = threading.RLock()
        self._read_lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._queue_lock = threading.Lock()
        self._locks_folder: Path | None = None
        try:
            self._db = _open(path)
            self._reader = _open_reader(path)
        except sqlite3.DatabaseError as error:
            raise StoreUnavailable(_("{name} cannot be opened as a log ({problem}).").format(
                name=path.name, problem=error)) from None

    def close(self) -> None:
        self._db.close()
        self._reader.close()

    def _read(self, sql: str, params: Any = ()) -> list[Any]:
        with self._read_lock:
            return self._reader.execute(sql, params).fetchall()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a full disk or a failing write is one `StoreUnavailable`
        naming the file (SQLite may already have rolled the transaction back itself)."""
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as error:
                raise _unwritable(self.path, error) or error from None

    def append(self, make: Callable[[Any], Row]) -> Row:
        """Queue the row, then commit it with whatever else is queued (or find it
        committed by the thread that held the writer before); returns once durable."""
        waiting = _Waiting(make)
        with self._queue_lock:
            self._queue.append(waiting)
        with self._lock:
            if not waiting.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._commit_group(group)
        if waiting.error is not None:
            raise waiting.error
        assert waiting.row is not None
        return waiting.row

    def append_many(self, make: Callable[[Any], list[Row]]) -> list[Row]:
        """Make and insert several rows in one transaction (one sync), under the writer."""
        with self._transaction() as db:
            rows = make(_Tail(db))
            db.executemany("INSERT INTO events (seq, body, prev, hash) VALUES (?, ?, ?, ?)", rows)
        return rows

    def _commit_group(self, group: list[_Waiting]) -> None:
        try:
            with self._transaction() as db:
                tail = _GroupTail(db)
                for waiting in group:
                    try:
                        waiting.row = waiting.make(tail)
                    except Exception as error:
                        waiting.error = error
                        continue
                    tail.add(waiting.row)
                db.executemany("INSERT INTO events (seq, body, prev, hash) VALUES (?, ?, ?, ?)", tail.made)
        except BaseException as error:
            for waiting in group:
                waiting.row, waiting.error = None, waiting.error or error
            raise
        finally:
            for waiting in group:
                waiting.done = True

    def select(self, query: Query) -> list[tuple[int, str, str]]:
        """Reads by item key name their index: without statistics SQLite's planner walks
        every event of the kind (`events_kind`) instead, 100x slower at 20,000 items."""
        sql, params = select_sql(query, "?", kind_unindexed=True)
        if query.items is not None:
            sql = sql.replace("FROM events", "FROM events INDEXED BY events_item", 1)
        return self._read(sql, params)

    def rows_at(self, seqs: list[int]) -> dict[int, tuple[str, str, str]]:
        found: dict[int, tuple[str, str, str]] = {}
        for start in range(0, len(seqs), 500):
            chunk = seqs[start:start + 500]
            sql = f"SELECT seq, body, prev, hash FROM events WHERE seq IN ({', '.join('?' * len(chunk))})"
            for seq, body, prev, digest in self._read(sql, chunk):
                found[seq] = (body, prev, digest)
        return found

    def chain(self) -> Iterator[Row]:
        """Every row in storage order, through a read-only connection of its own."""
        reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            yield from reader.execute("SELECT seq, body, prev, hash FROM events ORDER BY rowid")
        finally:
            reader.close()

    def last(self) -> tuple[int, str] | None:
        rows = self._read("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        return (rows[0][0], rows[0][1]) if rows else None

    def claim_mode(self, wanted: str) -> str:
        """The chain's mode; recorded as `wanted` when none is yet, or the log is empty.
        Reads first, so an already recorded mode costs no write lock."""
        with self._lock:
            current = self._mode(self._db)
            if current is not None and (current == wanted or self._has_rows(self._db)):
                return current
        with self._transaction() as db:
            current = self._mode(db)
            if current is None or (current != wanted and not self._has_rows(db)):
                db.execute("INSERT OR REPLACE INTO meta VALUES ('chain', ?)", (wanted,))
                return wanted
            return current

    @staticmethod
    def _mode(db: sqlite3.Connection) -> str | None:
        row = db.execute("SELECT value FROM meta WHERE name = 'chain'").fetchone()
        return row[0] if row else None

    @staticmethod
    def _has_rows(db: sqlite3.Connection) -> bool:
        return db.execute("SELECT 1 FROM events LIMIT 1").fetchone() is not None

    @contextmanager
    def delivery_lock(self, draft: str, channel: str) -> Iterator[Callable[[], bool]]:
        """Yields a function that tries to take the lock (without blocking) and says
        whether it is held. On Linux the lock is one byte of the draft's lock file,
        locked as an open-file-description lock (one file per draft, not per channel:
        creating a file per channel would cost a journal write each); elsewhere it is a
        `flock` on a file per (draft, channel)."""
        if OFD_SETLK is None:
            path, offset = self._locks() / f"{draft}--{channel}.lock", None
        else:
            path, offset = self._locks() / f"{draft}.lock", channel_offset(channel)
        handle = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        taken = False

        def take() -> bool:
            nonlocal taken
            if not taken:
                taken = _try_lock(handle, offset)
            return taken

        try:
            yield take
        finally:
            os.close(handle)

    def attempt(self, key: str, limit: int, window: float, now: float) -> bool:
        """Record one attempt under `key` at `now` (this machine's clock, the one every
        process of the file shares) unless `limit` were made in the `window` seconds
        before it; say whether it was recorded. Under the writer lock, so processes
        counting at once never both take the last place."""
        with self._transaction() as db:
            db.execute("DELETE FROM attempts WHERE at <= ?", (now - window,))
            made = db.execute("SELECT count(*) FROM attempts WHERE key = ?", (key,)).fetchone()[0]
            if made >= limit:
                return False
            db.execute("INSERT INTO attempts VALUES (?, ?)", (key, now))
            return True

    def beat(self, name: str, host: str, pid: int, state: str, now: float) -> float | None:
        """Record that worker `name` is alive (its `state`) at `now`; forget workers
        silent for a week. None: there is no clock here but this machine's."""
        with self._transaction() as db:
            db.execute("DELETE FROM workers WHERE beat < ?", (now - WORKERS_KEPT,))
            db.execute("INSERT INTO workers VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                       "beat = excluded.beat, state = excluded.state", (name, host, pid, now, now, state))
        return None

    def read_views(self, name: str, keys: list[str] | None) -> list[ViewRow]:
        sql, params = views_sql(name, keys, "?")
        return [tuple(row) for row in self._read(sql, params)]

    def keep_views(self, name: str, rows: list[ViewRow]) -> None:
        with self._transaction() as db:
            db.executemany(KEEP_VIEW.replace("%s", "?"), [(name, *row) for row in rows])

    def workers(self, now: float) -> list[tuple[str, str, int, float, float, str, float]]:
        """Each worker known: name, host, pid, seconds since it started, seconds since
        its last heartbeat (both by `now`), its state, its last heartbeat's time."""
        rows = self._read("SELECT name, host, pid, started, beat, state FROM workers ORDER BY name")
        return [(name, host, pid, now - started, now - beat, state, beat)
                for name, host, pid, started, beat, state in rows]

    @contextmanager
    def worker_slot(self) -> Iterator[bool]:
        """The workspace's one worker place: yields whether this process holds it."""
        handle = os.open(self._locks() / "worker.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            yield _try_lock(handle, None)
        finally:
            os.close(handle)

    def _locks(self) -> Path:
        if self._locks_folder is None:
            folder = self.path.parent / "locks"
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._locks_folder = folder
        return self._locks_folder

    def import_rows(self, rows: Iterator[Row], mode: str) -> int:
        count = 0
        with self._transaction() as db:
            if self._has_rows(db):
                raise StoreUnavailable(_("{name} already holds events; copy into an empty log.").format(
                    name=self.path.name))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('chain', ?)", (mode,))
            for row in rows:
                db.execute("INSERT INTO events (seq, body, prev, hash) VALUES (?, ?, ?, ?)", row)
                count += 1
        return count

    def info(self) -> dict[str, Any]:
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        applied = [row[0] for row in self._read("SELECT name FROM migrations ORDER BY name")]
        return {"backend": self.name, "location": self.location, "size_bytes": size, "migrations": applied}


WORKERS_KEPT = 7 * 24 * 3600.0
OFD_SETLK: int | None = getattr(fcntl, "F_OFD_SETLK", None)
_FLOCK_STRUCT = struct.Struct("hhqqi4x")


def channel_offset(channel: str) -> int:
    """The byte of a draft's lock file that stands for `channel` (the same in every process)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(channel.encode()).digest()[:7], "big")


def _try_lock(handle: int, offset: int | None) -> bool:
    """Take the exclusive lock without waiting: the byte at `offset` as an
    open-file-description lock (released when this descriptor is closed, whichever
    thread or process holds it), or the whole file with `flock` when `offset` is None."""
    try:
        if offset is None or OFD_SETLK is None:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            fcntl.fcntl(handle, OFD_SETLK, _FLOCK_STRUCT.pack(fcntl.F_WRLCK, os.SEEK_SET, offset, 1, 0))
    except OSError as error:
        if error.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _open(path: Path) -> sqlite3.Connection:
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    if _pending(db):
        _migrate(db)
    return db


def _open_reader(path: Path) -> sqlite3.Connection:
    """The read connection: autocommit, so each query sees every committed row."""
    reader = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    reader.execute("PRAGMA query_only=1")
    return reader


def _unwritable(path: Path, error: sqlite3.Error) -> StoreUnavailable | None:
    """A full disk (`SQLITE_FULL`) or a failing write (`SQLITE_IOERR*`) said in one sentence."""
    code = getattr(error, "sqlite_errorname", "")
    if code == "SQLITE_FULL":
        return StoreUnavailable(_("the disk that holds {path} is full, so the log can record nothing until space "
                                  "is freed.").format(path=path))
    if code.startswith("SQLITE_IOERR"):
        return StoreUnavailable(_("writing {path} failed ({problem}), so the log can record nothing until the disk "
                                  "is repaired.").format(path=path, problem=error))
    return None


def _pending(db: sqlite3.Connection) -> list[Callable[[sqlite3.Connection], None]]:
    try:
        applied = {row[0] for row in db.execute("SELECT name FROM migrations")}
    except sqlite3.OperationalError:
        applied = set()
    return [migration for migration in MIGRATIONS if migration.__name__ not in applied]


def _migrate(db: sqlite3.Connection) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        for migration in _pending(db):
            migration(db)
            db.execute("INSERT INTO migrations VALUES (?, ?)", (migration.__name__, iso(utc_now())))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
