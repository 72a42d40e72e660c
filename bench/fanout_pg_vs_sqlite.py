"""PostgreSQL against SQLite in one run, whole processes: one approved draft to 50
loopback webhooks answering at once and after 250 ms (`publish send DRAFT`), and
`publish log verify` of a 100,000-event log (built by bench/bigstore.py, copied into
PostgreSQL with `publish store copy`). Goal: PostgreSQL within 1.3x of SQLite on each.

The PostgreSQL server is started the way the tests start theirs (tests/pg_cluster.py),
with password (SCRAM) logins over TCP. Beside it, the 0 ms fan-out is run once more
with each delivery lock on a connection of its own (the code before the lock-session
pool, patched into that process only), to show what the pool buys. Rounds are
interleaved (SQLite, PostgreSQL, ...) so a load on the machine weighs on both sides;
medians of `ROUNDS` (3).
Run: `python bench/fanout_pg_vs_sqlite.py [EVENTS]`.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Postgres, moved_to_postgres, webhook_workspace  # noqa: E402
from bench.fanout import LoopbackReceiver, measured, publish_command  # noqa: E402

CHANNELS = 50
DELAYS = (0.0, 0.25)
GOAL = 1.3
ROUNDS = int(os.environ.get("ROUNDS", "3"))
CONNECTION_PER_LOCK = """
import sys
from contextlib import contextmanager
import psycopg
from publisher.log import postgres_backend as pg

@contextmanager
def delivery_lock(self, draft, channel):
    key = pg._lock_key(f"publish:deliver:{draft}:{channel}")
    with self._errors():
        session = psycopg.connect(self.url, autocommit=True, **pg.CONNECT)
    taken = False
    def take():
        nonlocal taken
        if not taken:
            with self._errors():
                taken = bool(pg._scalar(session.execute("SELECT pg_try_advisory_lock(%s)", (key,))))
        return taken
    try:
        yield take
    finally:
        session.close()

pg.PostgresBackend.delivery_lock = delivery_lock
from publisher.cli import main
sys.argv[0] = "publish"
main()
"""


def _send(folder: Path, draft: str, command: list[str]) -> float:
    run = measured(command + ["send", draft], {"PUBLISH_WORKSPACE": str(folder), "PUBLISH_USER": "luis"})
    if run["code"] != 0 or f"{CHANNELS} of {CHANNELS} delivered" not in run["output"]:
        raise RuntimeError(f"publish send failed: {run['output'][-2000:]}")
    return run["wall"]


def fan_outs(scratch: Path, server: Postgres) -> list[dict]:
    rows = []
    for delay in DELAYS:
        receiver = LoopbackReceiver(delay)
        sides: dict[str, list[float]] = {"sqlite": [], "postgresql": [], "connection_per_lock": []}
        try:
            for number in range(ROUNDS):
                for side in sides:
                    if side == "connection_per_lock" and delay:
                        continue
                    folder = scratch / f"fan-{side}-{int(delay * 1000)}-{number}"
                    url = None if side == "sqlite" else server.database()
                    draft = webhook_workspace(folder, [receiver.url(i, prefix=f"/{side}{number}")
                                                       for i in range(CHANNELS)],
                                              workers=32, summary=f"a payment outage, round {number}", store_url=url)
                    command = publish_command()
                    if side == "connection_per_lock":
                        command = [sys.executable, "-c", CONNECTION_PER_LOCK]
                    sides[side].append(_send(folder, draft, command))
        finally:
            receiver.stop()
        row = {"case": f"{CHANNELS} webhooks at {int(delay * 1000)} ms",
               "sqlite_s": statistics.median(sides["sqlite"]),
               "postgresql_s": statistics.median(sides["postgresql"])}
        if sides["connection_per_lock"]:
            row["connection_per_lock_s"] = statistics.median(sides["connection_per_lock"])
        rows.append(row)
    return rows


def verify(scratch: Path, server: Postgres, events: int) -> dict:
    from bench.run import cached_big_log

    big = scratch / "big"
    cached_big_log(big, events)
    moved = moved_to_postgres(big, scratch / "big-pg", server.database())
    command = publish_command() + ["log", "verify"]
    sides: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    for _ in range(ROUNDS):
        for side, folder in (("sqlite", big), ("postgresql", moved)):
            run = measured(command, {"PUBLISH_WORKSPACE": str(folder), "PUBLISH_USER": "marta"})
            if run["code"] != 0 or "intact" not in run["output"].lower():
                raise RuntimeError(f"log verify failed on {side}: {run['output'][-1000:]}")
            sides[side].append(run["wall"])
    return {"case": f"log verify, {events:,} events", "sqlite_s": statistics.median(sides["sqlite"]),
            "postgresql_s": statistics.median(sides["postgresql"])}


def measure(scratch: Path, events: int = 100_000) -> list[dict]:
    server = Postgres()
    try:
        rows = fan_outs(scratch, server) + [verify(scratch, server, events)]
    finally:
        server.stop()
    for row in rows:
        row["ratio"] = row["postgresql_s"] / row["sqlite_s"]
        row["met"] = row["ratio"] <= GOAL
    return rows


def summary(rows: list[dict]) -> list[str]:
    lines = [f"PostgreSQL against SQLite (goal <= {GOAL}x), medians of {ROUNDS}:"]
    for row in rows:
        line = (f"  {row['case']}: SQLite {row['sqlite_s']:.2f} s, PostgreSQL {row['postgresql_s']:.2f} s, "
                f"{row['ratio']:.2f}x ({'met' if row['met'] else 'NOT met'})")
        if "connection_per_lock_s" in row:
            line += (f"; with a connection per lock {row['connection_per_lock_s']:.2f} s "
                     f"({row['connection_per_lock_s'] / row['sqlite_s']:.2f}x)")
        lines.append(line)
    return lines


if __name__ == "__main__":
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="publish-pgvs-") as scratch:
        result = measure(Path(scratch), int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
    print("\n".join(summary(result)))
    print(json.dumps({"rows": result, "seconds": round(time.time() - started)}))
