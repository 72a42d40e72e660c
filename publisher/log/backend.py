"""The narrow interface every log backend implements (SQLite, PostgreSQL).

A backend stores rows `(seq, body, prev, hash)` and knows nothing of what they mean:
the chain, the canonical form, the HMAC, the clock check and verification live once,
in `publisher.log.store`. A backend only:
- appends one row in one transaction, serialised against every other appender (its
  own module says how), calling `make(tail)` under that serialisation so the new row
  is built from the true last row; `append_many` does the same for several rows made
  together (a page of heard items) in one transaction;
- refuses a second `item.heard` row for one item key (a unique partial index on the
  `item` column, generated from the body: `data.key` of `item.*` events), so an item
  heard twice is stored once even if two processes race;
- reads rows by a `Query` (one SQL shape for both, built by `select_sql`), by sequence
  numbers, or the whole chain in storage order;
- holds the per-(draft, channel) delivery lock, which dies with its process;
- records which named migrations it applied, and the chain's mode (`meta`);
- counts attempts (the console's logins) in a small table outside the chain
  (`attempts`): never hashed, never shown in the log or a report, pruned as they age;
- keeps views (`views`): folds of the chain up to a row, kept by readers so the next
  reader folds only the rows after it. A view is derived, never evidence: it is not
  hashed, not copied by `store copy`, and `publisher.log.store` ignores one whose
  version or chain position does not match the log;
- keeps worker heartbeats (`workers`) the same way, outside the chain: a heartbeat is
  liveness, not evidence, and one every few seconds would bury the record the chain
  exists for; and says whether this process holds the workspace's worker place
  (`worker_slot`: one per SQLite file, any number on PostgreSQL).
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterator, Protocol

from publisher.errors import PublishError

Row = tuple[int, str, str, str]
"""seq, body (canonical JSON), prev (the previous row's hash), hash."""


class StoreUnavailable(PublishError):
    """The store cannot be reached or opened (wrong URL, refused login, missing
    database, a server gone mid-run). Its text is one sentence without secrets."""

    exit_code = 2


class Tail(Protocol):
    def last(self) -> tuple[int, str, str] | None:
        """The last row's seq, hash and body, or None for an empty log."""

    def count(self, kind: str) -> int:
        """How many events of this kind the log holds."""

    def server_time(self) -> datetime | None:
        """The database server's own clock now, inside the append's transaction (None
        for an embedded database, whose clock is this machine's)."""

    def heard(self, keys: list[str]) -> set[str]:
        """Which of these item keys the log already holds an `item.heard` row for."""


@dataclass(frozen=True)
class Query:
    """The filters of one read of the log (`Store.events`): every one given must hold."""

    kinds: tuple[str, ...] | None = None
    incident: str | None = None
    draft: str | None = None
    channel: str | None = None
    after_seq: int | None = None
    limit: int | None = None
    newest_first: bool = False
    items: tuple[str, ...] | None = None
    """Only the `item.*` events about these item keys (`platform:id`)."""
    before_seq: int | None = None
    incidents: tuple[str, ...] | None = None
    """Any of these incidents (beside `incident`, which names one)."""


HEARD_SQL = "SELECT item FROM events WHERE kind = 'item.heard' AND item IN ({marks})"
"""Which item keys are already heard (the unique partial index `events_heard` answers it)."""


ViewRow = tuple[str, int, int, str, str]
"""key, version, seq (the last row folded in), head (that row's hash), body."""

VIEWS_TABLE = ("CREATE TABLE views (name TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL, "
               "seq BIGINT NOT NULL, head TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (name, key))")

KEEP_VIEW = ("INSERT INTO views (name, key, version, seq, head, body) VALUES (%s, %s, %s, %s, %s, %s) "
             "ON CONFLICT (name, key) DO UPDATE SET version = excluded.version, seq = excluded.seq, "
             "head = excluded.head, body = excluded.body "
             "WHERE excluded.seq > views.seq OR excluded.version <> views.version")
"""Keep a view unless the one stored already folds as far (two readers racing keep the furthest)."""


def views_sql(name: str, keys: list[str] | None, mark: str) -> tuple[str, list[Any]]:
    sql = f"SELECT key, version, seq, head, body FROM views WHERE name = {mark}"
    if keys is None:
        return sql, [name]
    return sql + f" AND key IN ({', '.join([mark] * len(keys))})", [name, *keys]


def select_sql(query: Query, mark: str, kind_unindexed: bool = False) -> tuple[str, list[Any]]:
    """The one read query, with `mark` as the parameter placeholder (`?` or `%s`).
    `kind_unindexed` (SQLite): when the query also names an incident, a draft or a
    channel, the kind is written `+kind`, so the planner reads that narrower index;
    otherwise SQLite walks the kind index in `seq` order to honour ORDER BY ... LIMIT,
    computing the draft of every row of the kind (measured on 100,000 events: the first
    `draft.rendered` of one draft, 43 ms through the kind index, 0.2 ms through the
    draft's)."""
    where: list[str] = []
    params: list[Any] = []
    narrower = query.incident is not None or query.draft is not None or query.channel is not None \
        or query.incidents is not None
    if query.kinds is not None:
        column = "+kind" if kind_unindexed and narrower else "kind"
        where.append(f"{column} IN ({', '.join([mark] * len(query.kinds))})")
        params.extend(query.kinds)
    for column, value in (("incident", query.incident), ("draft", query.draft), ("channel", query.channel)):
        if value is not None:
            where.append(f"{column} = {mark}")
            params.append(value)
    if query.items is not None:
        where.append(f"item IN ({', '.join([mark] * len(query.items))})")
        params.extend(query.items)
    if query.incidents is not None:
        where.append(f"incident IN ({', '.join([mark] * len(query.incidents))})" if query.incidents else "0 = 1")
        params.extend(query.incidents)
    if query.after_seq is not None:
        where.append(f"seq > {mark}")
        params.append(query.after_seq)
    if query.before_seq is not None:
        where.append(f"seq < {mark}")
        params.append(query.before_seq)
    sql = "SELECT seq, body, hash FROM events" + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY seq DESC" if query.newest_first else " ORDER BY seq"
    if query.limit is not None:
        sql += f" LIMIT {mark}"
        params.append(query.limit)
    return sql, params


class Backend(Protocol):
    name: str
    location: str
    shared: bool
    """True when machines other than this one append to the same log (PostgreSQL)."""

    def append(self, make: Callable[[Tail], Row]) -> Row: ...

    def append_many(self, make: Callable[[Tail], list[Row]]) -> list[Row]: ...

    def select(self, query: Query) -> list[tuple[int, str, str]]: ...

    def rows_at(self, seqs: list[int]) -> dict[int, tuple[str, str, str]]: ...

    def chain(self) -> Iterator[Row]: ...

    def last(self) -> tuple[int, str] | None: ...

    def claim_mode(self, wanted: str) -> str: ...

    def delivery_lock(self, draft: str, channel: str) -> AbstractContextManager[Callable[[], bool]]: ...

    def attempt(self, key: str, limit: int, window: float, now: float) -> bool: ...

    def beat(self, name: str, host: str, pid: int, state: str, now: float) -> float | None: ...

    def read_views(self, name: str, keys: list[str] | None) -> list[ViewRow]: ...

    def keep_views(self, name: str, rows: list[ViewRow]) -> None: ...

    def workers(self, now: float) -> list[tuple[str, str, int, float, float, str, float]]: ...

    def worker_slot(self) -> AbstractContextManager[bool]: ...

    def import_rows(self, rows: Iterator[Row], mode: str) -> int: ...

    def info(self) -> dict[str, Any]: ...

    def close(self) -> None: ...
