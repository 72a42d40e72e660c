"""The PostgreSQL store's delivery locks on its pool of lock sessions: exclusive between
threads of one process (advisory locks are re-entrant within a session) and between
processes, released when the holder ends or dies, a few sessions for many deliveries,
and a session killed under the store retired and replaced, never reused."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import psycopg
import pytest

from publisher.log.postgres_backend import PostgresBackend
from tests.pg_cluster import PASSWORD

pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parent.parent


def _direct(url: str) -> str:
    return url.replace("${PUBLISH_PG_PASSWORD}", PASSWORD)


def _lock_sessions(url: str) -> list[int]:
    """The backend pids of the sessions holding advisory locks in this database."""
    with psycopg.connect(_direct(url), autocommit=True) as db:
        return sorted({row[0] for row in db.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())")})


def test_one_process_holding_many_locks_uses_few_sessions_and_excludes_itself(pg_url):
    backend = PostgresBackend(_direct(pg_url))
    try:
        with backend.delivery_lock("draft", "web") as first, backend.delivery_lock("draft", "web") as second, \
                backend.delivery_lock("draft", "x") as other:
            assert first() and not second() and other()
            assert first() and not second()
        with backend.delivery_lock("draft", "web") as again:
            assert again()
        holding = threading.Barrier(41)
        done = threading.Event()
        taken: list[bool] = []

        def deliver(index: int) -> None:
            with backend.delivery_lock("d1a2b3c4d5e6", f"hook{index:02d}") as take:
                taken.append(take())
                holding.wait(timeout=30)
                done.wait(timeout=30)

        threads = [threading.Thread(target=deliver, args=(index,)) for index in range(40)]
        for thread in threads:
            thread.start()
        holding.wait(timeout=30)
        assert taken == [True] * 40
        assert 1 <= len(_lock_sessions(pg_url)) <= 4
        done.set()
        for thread in threads:
            thread.join(timeout=30)
        assert _lock_sessions(pg_url) == []
    finally:
        backend.close()


def test_the_lock_is_exclusive_across_processes_and_dies_with_its_holder(pg_url):
    backend = PostgresBackend(_direct(pg_url))
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from publisher.log.postgres_backend import PostgresBackend
        backend = PostgresBackend({_direct(pg_url)!r})
        with backend.delivery_lock("draft", "web") as take:
            assert take()
            print("held", flush=True)
            sys.stdin.read()
        """)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "held"
        with backend.delivery_lock("draft", "web") as take, backend.delivery_lock("draft", "x") as other:
            assert not take() and other()
    finally:
        holder.kill()
        holder.wait()
    try:
        for _ in range(100):
            with backend.delivery_lock("draft", "web") as take:
                if take():
                    break
            threading.Event().wait(0.05)
        else:
            pytest.fail("the lock of a killed holder was never released")
    finally:
        backend.close()


def test_a_session_killed_under_the_store_is_replaced_and_its_locks_are_gone(pg_url):
    backend = PostgresBackend(_direct(pg_url))
    try:
        with backend.delivery_lock("draft", "web") as take:
            assert take()
            [pid] = _lock_sessions(pg_url)
        with psycopg.connect(_direct(pg_url), autocommit=True) as db:
            db.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with backend.delivery_lock("draft", "web") as take:
            assert take()
            [replacement] = _lock_sessions(pg_url)
            assert replacement != pid
            with psycopg.connect(_direct(pg_url), autocommit=True) as db:
                db.execute("SELECT pg_terminate_backend(%s)", (replacement,))
        assert _lock_sessions(pg_url) == []
        with backend.delivery_lock("draft", "web") as take:
            assert take()
            assert _lock_sessions(pg_url) not in ([], [pid], [replacement])
    finally:
        backend.close()
