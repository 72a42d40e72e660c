"""The two stores side by side, in one run: appends per second (one event per
transaction, with the head file written after each append and once per batch, as a
delivery run does) and `publish log verify` on the big log against a bare loop that
reads and hashes the same rows, on SQLite and on PostgreSQL.

PostgreSQL is a throwaway server started from Debian's `postgresql` package the way
the tests start theirs (tests/pg_cluster.py); the big log is moved into it with
`publish store copy`. Without a server the PostgreSQL column says why.
Run alone: `python bench/stores.py [EVENTS]`.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, ROOT, publish, timed  # noqa: E402

APPENDS = 2000
BARE_PG = """
import hashlib, sys, psycopg
expected, rows = "0" * 64, 0
with psycopg.connect(sys.argv[1]) as db, db.cursor(name="bare") as cursor:
    cursor.itersize = 10000
    cursor.execute("SELECT seq, body, prev, hash FROM events ORDER BY seq")
    while batch := cursor.fetchmany(10000):
        for _seq, body, prev, digest in batch:
            if prev != expected or hashlib.sha256(f"{prev}\\n{body}".encode()).hexdigest() != digest:
                raise SystemExit("broken")
            expected, rows = digest, rows + 1
print(rows, "ok")
"""


def appends_per_second(store, count: int = APPENDS, batched: bool = False) -> float:
    data = {"attempt": 1, "type": "webhook", "reason": "a typical delivery event of a few fields"}
    started = time.perf_counter()
    if batched:
        with store.batch():
            for _ in range(count):
                store.append("delivery.started", actor="bench", incident="1", draft="d" * 12, channel="hook",
                             data=data)
    else:
        for _ in range(count):
            store.append("delivery.started", actor="bench", incident="1", draft="d" * 12, channel="hook", data=data)
    return count / (time.perf_counter() - started)


def _appends(folder: Path, url: str | None) -> dict:
    from publisher.log.store import open_store

    store = open_store(path=folder / "appends.db", url=url)
    try:
        return {"appends_per_s": appends_per_second(store),
                "batched_appends_per_s": appends_per_second(store, batched=True)}
    finally:
        store.close()


def _in_process(folder: Path, url: str | None, bare: str) -> dict:
    """`Store.verify()` against the bare loop, both in this process: the store's own
    share of `publish log verify`, without start-up and the checks made above it."""
    from publisher.log.store import open_store

    store = open_store(path=folder / "var" / "publisher.db", url=url)
    try:
        pairs = []
        for _ in range(2):
            started = time.perf_counter()
            _bare_in_process(bare, url or str(folder / "var" / "publisher.db"))
            floor = time.perf_counter() - started
            started = time.perf_counter()
            if not store.verify().ok:
                raise RuntimeError("the big log does not verify")
            pairs.append((time.perf_counter() - started, floor))
        verify, floor = min(pairs, key=lambda pair: pair[0] / pair[1])
        return {"store_verify_s": verify, "store_bare_s": floor, "store_ratio": verify / floor}
    finally:
        store.close()


def _bare_in_process(kind: str, where: str) -> None:
    expected = "0" * 64
    if kind == "sqlite":
        import sqlite3

        db = sqlite3.connect(f"file:{where}?mode=ro", uri=True)
        rows = db.execute("SELECT seq, body, prev, hash FROM events ORDER BY rowid")
    else:
        import psycopg

        db = psycopg.connect(where)
        cursor = db.cursor(name="bare")
        cursor.itersize = 10000
        cursor.execute("SELECT seq, body, prev, hash FROM events ORDER BY seq")
        rows = cursor
    for _seq, body, prev, digest in rows:
        if prev != expected or hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest() != digest:
            raise RuntimeError("broken")
        expected = digest
    db.close()


def _verify(folder: Path, env: dict[str, str], bare: list[str]) -> dict:
    command = [PYTHON, "-m", "publisher", "log", "verify"]
    runs = [timed(command, env) for _ in range(3)]
    bares = [timed(bare, env) for _ in range(3)]
    if any("intact" not in output.lower() for _, _, output in runs):
        raise RuntimeError(f"log verify failed: {runs[0][2][-500:]}")
    verify, floor = statistics.median(r[0] for r in runs), statistics.median(r[0] for r in bares)
    return {"verify_s": verify, "bare_s": floor, "ratio": verify / floor}


def measure(big: Path, scratch: Path) -> dict:
    """`big`: a workspace whose SQLite log holds the big log (bench/bigstore.py)."""
    env = {"PUBLISH_WORKSPACE": str(big), "PUBLISH_USER": "marta"}
    events = _rows(big)
    result: dict = {"events": events, "sqlite": _appends(scratch / "sqlite-appends", None)}
    result["sqlite"].update(_verify(big, env, [PYTHON, str(ROOT / "bench" / "bare_verify.py"),
                                               str(big / "var" / "publisher.db")]))
    result["sqlite"].update(_in_process(big, None, "sqlite"))
    try:
        from tests.pg_cluster import PASSWORD, Cluster, Unavailable
    except ImportError as error:
        result["postgresql"] = {"skipped": str(error)}
        return result
    try:
        cluster = Cluster.start()
    except Unavailable as error:
        result["postgresql"] = {"skipped": str(error)}
        return result
    try:
        os.environ["PUBLISH_PG_PASSWORD"] = PASSWORD
        url = cluster.url(cluster.new_database())
        direct = url.replace("${PUBLISH_PG_PASSWORD}", PASSWORD)
        scratch_db = cluster.url(cluster.new_database()).replace("${PUBLISH_PG_PASSWORD}", PASSWORD)
        result["postgresql"] = _appends(scratch / "pg-appends", scratch_db)
        started = time.perf_counter()
        publish(big, "store", "copy", "--to", url)
        result["postgresql"]["copy_s"] = time.perf_counter() - started
        moved = scratch / "pg-workspace"
        shutil.copytree(big / "config", moved / "config")
        config = moved / "config" / "publisher.toml"
        config.write_text(config.read_text() + f'\n[store]\nurl = "{url}"\n', encoding="utf-8")
        (moved / "var").mkdir(mode=0o700)
        shutil.copy(big / "var" / "postgresql.head", moved / "var" / "postgresql.head")
        result["postgresql"].update(_verify(moved, {**env, "PUBLISH_WORKSPACE": str(moved)},
                                            [PYTHON, "-c", BARE_PG, direct]))
        result["postgresql"].update(_in_process(moved, direct, "postgresql"))
    finally:
        cluster.destroy()
    return result


def _rows(big: Path) -> int:
    import sqlite3

    db = sqlite3.connect(big / "var" / "publisher.db")
    try:
        return db.execute("SELECT max(seq) FROM events").fetchone()[0]
    finally:
        db.close()


def summary(result: dict) -> list[str]:
    lines = [f"Stores, {result['events']:,} events | appends/s (head each) | appends/s (batch) | log verify | "
             "bare loop | ratio | Store.verify() in process | bare loop in process | ratio"]
    for name in ("sqlite", "postgresql"):
        row = result.get(name, {})
        if "skipped" in row:
            lines.append(f"{name}: skipped ({row['skipped']})")
            continue
        lines.append(f"{name} | {row['appends_per_s']:.0f} | {row['batched_appends_per_s']:.0f} | "
                     f"{row['verify_s']:.2f} s | {row['bare_s']:.2f} s | {row['ratio']:.2f}x | "
                     f"{row['store_verify_s']:.2f} s | {row['store_bare_s']:.2f} s | {row['store_ratio']:.2f}x")
    return lines


def main(events: int) -> None:
    from bench.bigstore import build

    scratch = Path(tempfile.mkdtemp(prefix="publish-stores-"))
    try:
        build(scratch / "big", events)
        result = measure(scratch / "big", scratch)
        print("\n".join(summary(result)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
