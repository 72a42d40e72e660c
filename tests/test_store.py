"""The store itself, on both backends: event times never go back, the anchor head file,
readers never wait behind a writer, a head written once per batch loses nothing under
SIGKILL, and a log built by the previous release opens and verifies."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from publisher.log.store import canonical, chain_hash
from publisher.workspace.app import App

pytestmark = pytest.mark.both_stores
ROOT = Path(__file__).resolve().parent.parent


def _history(workspace) -> str:
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
    return draft


def test_an_append_with_the_clock_set_back_is_refused(workspace):
    _history(workspace)
    before = workspace.events()
    back = datetime.now(timezone.utc) - timedelta(hours=55)
    result = workspace.run("freeze", "--reason", "a leak", "--as", "ana", clock=lambda: back)
    assert result.exit_code == 2
    assert "clock went back by 55 h 00 min" in result.output or "clock went back by 54 h 59 min" in result.output
    assert workspace.events() == before
    assert workspace.run("log", "verify").exit_code == 0


def test_a_clock_a_moment_behind_another_machine_is_absorbed(workspace):
    workspace.open_incident(case=2)
    last = App(workspace.path).store.head()
    behind = datetime.now(timezone.utc) - timedelta(milliseconds=800)
    store = App(workspace.path, clock=lambda: behind).store
    event = store.append("note", actor="ana", data={"text": "from a laptop whose clock is a little behind"})
    assert event.seq == last[0] + 1
    assert workspace.run("log", "verify").exit_code == 0


def test_verify_names_a_row_whose_time_goes_back(workspace):
    workspace.open_incident(case=2)
    store = App(workspace.path).store
    seq, prev = store.head()
    last = datetime.fromisoformat(store.events()[-1].ts.replace("Z", "+00:00"))
    earlier = (last - timedelta(hours=3)).isoformat(timespec="milliseconds")
    body = canonical({"seq": seq + 1, "ts": earlier.replace("+00:00", "Z"), "kind": "draft.approved",
                      "actor": "ana", "incident": "1", "draft": None, "channel": None, "data": {}})
    db = workspace.db()
    db.execute("INSERT INTO events (seq, body, prev, hash) VALUES (?, ?, ?, ?)",
               (seq + 1, body, prev, chain_hash(prev, body)))
    db.close()
    result = workspace.run("log", "verify")
    assert result.exit_code == 1
    assert f"row {seq + 1}: its time" in result.output and "the clock went back by 3 h 00 min" in result.output


def _with_anchor(workspace, tmp_path) -> Path:
    anchor = tmp_path / "other-disk" / "publisher.head"
    workspace.write_config(extra="")
    config = workspace.path / "config" / "publisher.toml"
    text = config.read_text().replace('path = "var/publisher.db"\n', f'path = "var/publisher.db"\nanchor = "{anchor}"\n')
    config.write_text(text)
    return anchor


def test_the_anchor_holds_the_head_on_another_disk(workspace, tmp_path):
    anchor = _with_anchor(workspace, tmp_path)
    _history(workspace)
    head = json.loads(anchor.read_text())
    seq, digest = App(workspace.path).store.head()
    assert (head["seq"], head["hash"]) == (seq, digest)
    info = json.loads(workspace.run("store", "info", "--json").output)
    assert str(anchor) in info["head_files"]


def test_an_emptied_log_without_its_head_file_is_caught_by_the_anchor(workspace, tmp_path):
    anchor = _with_anchor(workspace, tmp_path)
    _history(workspace)
    store = App(workspace.path).store
    store.head_path.unlink()
    db = workspace.db()
    db.execute("DELETE FROM events")
    db.close()
    result = workspace.run("log", "verify")
    assert result.exit_code == 1
    assert "rows 1..8 are missing at the end (truncated?)" in result.output
    anchor.write_text(anchor.read_text().replace('"seq":8', '"seq":3'))
    assert "does not match its own check (edited?)" in workspace.run("log", "verify").output


def _hold_the_writer(workspace) -> tuple[threading.Event, threading.Event]:
    """Another process's writer, in a transaction, for as long as the test wants."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        if workspace.store_url:
            from publisher.log.postgres_backend import APPEND_LOCK
            from tests.pg_cluster import PgConnection, direct_url

            db = PgConnection(direct_url(workspace.store_url))
            db.execute("BEGIN")
            db.execute("SELECT pg_advisory_xact_lock(?)", (APPEND_LOCK,))
            db.execute("INSERT INTO meta VALUES ('writer', 'busy')")
        else:
            db = sqlite3.connect(workspace.path / "var" / "publisher.db", isolation_level=None)
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO meta VALUES ('writer', 'busy')")
        holding.set()
        release.wait(60)
        db.execute("ROLLBACK")
        db.close()

    threading.Thread(target=hold, daemon=True).start()
    assert holding.wait(10)
    return holding, release


def test_readers_never_wait_behind_a_writer(workspace):
    _history(workspace)
    _, release = _hold_the_writer(workspace)
    try:
        for args in (["status"], ["incident", "list"], ["log", "-n", "5"], ["log", "verify"], ["store", "info"]):
            result = workspace.run(*args)
            assert result.exit_code == 0, (args, result.output)
    finally:
        release.set()


BATCH_SCRIPT = """
import os, sys, time
from pathlib import Path
from publisher.workspace.app import App
store = App(Path(sys.argv[1])).store
with store.batch():
    for number in range(5):
        store.append("note", actor="ana", data={"number": number})
    print("appended", flush=True)
    time.sleep(60)
"""


def test_a_batch_killed_midway_loses_nothing_and_truncation_stays_detectable(workspace):
    workspace.open_incident(case=2)
    covered, _ = App(workspace.path).store.head()
    env = {**os.environ, "PUBLISH_WORKSPACE": str(workspace.path)}
    process = subprocess.Popen([sys.executable, "-c", BATCH_SCRIPT, str(workspace.path)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "appended"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)

    store = App(workspace.path).store
    assert [e.data["number"] for e in store.events(kind="note")] == [0, 1, 2, 3, 4]
    assert json.loads(store.head_path.read_text())["seq"] == covered
    assert workspace.run("log", "verify").exit_code == 0

    db = workspace.db()
    db.execute("DELETE FROM events WHERE seq >= ?", (covered,))
    db.close()
    result = workspace.run("log", "verify")
    assert result.exit_code == 1 and f"rows {covered}..{covered} are missing at the end (truncated?)" in result.output


def test_the_next_append_after_a_killed_batch_covers_its_rows(workspace):
    workspace.open_incident(case=2)
    env = {**os.environ, "PUBLISH_WORKSPACE": str(workspace.path)}
    process = subprocess.Popen([sys.executable, "-c", BATCH_SCRIPT, str(workspace.path)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "appended"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    workspace.open_incident(case=1)
    last, _ = App(workspace.path).store.head()
    db = workspace.db()
    db.execute("DELETE FROM events WHERE seq >= ?", (last - 2,))
    db.close()
    result = workspace.run("log", "verify")
    assert result.exit_code == 1 and "missing at the end (truncated?)" in result.output


@pytest.mark.sqlite_only
def test_a_log_from_the_previous_release_opens_verifies_and_grows(workspace):
    from tests.previous_release.store_a89b10c import Store as OldStore

    old = OldStore(workspace.path / "var" / "publisher.db")
    old.append("incident.opened", actor="ana", incident="1", data={"case": 2, "summary": "an old outage",
                                                                   "first_seen": "2026-11-20T08:00:00Z"})
    old.append("note", actor="ana", incident="1", data={"text": "written by the previous release"})
    old.close()
    assert workspace.run("log", "verify").exit_code == 0
    store = App(workspace.path).store
    store.append("note", actor="ana", incident="1", data={"text": "written by this one"})
    assert [e.kind for e in store.events()] == ["incident.opened", "note", "note"]
    info = json.loads(workspace.run("store", "info", "--json").output)
    assert info["migrations"] == ["_m001_events", "_m002_meta", "_m003_incident_kind", "_m004_attempts",
                                  "_m005_workers", "_m006_items", "_m007_views"]
    assert ": 3 events" in workspace.run("log", "verify").output


@pytest.mark.sqlite_only
def test_a_new_sqlite_log_records_its_migrations_by_name(workspace):
    workspace.open_incident(case=2)
    db = workspace.db()
    names = [row[0] for row in db.execute("SELECT name FROM migrations ORDER BY rowid")]
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    db.close()
    assert names == ["_m001_events", "_m002_meta", "_m003_incident_kind", "_m004_attempts", "_m005_workers", "_m006_items", "_m007_views"]
    assert mode == "wal"


def test_store_info_names_the_backend_and_head(workspace):
    _history(workspace)
    info = json.loads(workspace.run("store", "info", "--json").output)
    assert info["backend"] == ("postgresql" if workspace.store_url else "sqlite")
    assert info["events"] == 8 and info["head"]["seq"] == 8 and len(info["head"]["hash"]) == 64
    assert info["last_witness"] is None and info["size_bytes"] > 0
    assert info["migrations"] == ["_m001_events", "_m002_meta", "_m003_incident_kind", "_m004_attempts",
                                  "_m005_workers", "_m006_items", "_m007_views"]
    text = workspace.run("store", "info").output
    assert "Head: row 8" in text and "Last witness: none" in text
    if workspace.store_url:
        from tests.pg_cluster import PASSWORD

        assert PASSWORD not in text and PASSWORD not in json.dumps(info)
        # the suite's server runs with fsync and synchronous_commit off, for speed: it is said
        assert info["durable"] == {"fsync": "off", "synchronous_commit": "off"}
        assert "Durability: fsync off, synchronous_commit off" in text
        assert "WARNING: the PostgreSQL server does not keep every commit durable" in text
    else:
        assert "durable" not in info and "Durability" not in text



APPENDER = """
import sys
from pathlib import Path
from publisher.workspace.app import App
store = App(Path(sys.argv[1])).store
for number in range(40):
    store.append("note", actor=sys.argv[2], data={"number": number})
"""


def test_appends_from_three_processes_at_once_never_fork_the_chain(workspace):
    workspace.open_incident(case=2)
    env = {**os.environ, "PUBLISH_WORKSPACE": str(workspace.path)}
    running = [subprocess.Popen([sys.executable, "-c", APPENDER, str(workspace.path), name], cwd=ROOT, env=env)
               for name in ("ana", "luis", "marta")]
    assert [process.wait(60) for process in running] == [0, 0, 0]
    store = App(workspace.path).store
    notes = store.events(kind="note")
    assert len(notes) == 120 and [e.seq for e in store.events()] == list(range(1, 122))
    assert {e.actor for e in notes} == {"ana", "luis", "marta"}
    assert workspace.run("log", "verify").exit_code == 0


FAN_OUT_SCRIPT = """
import sys, threading
from pathlib import Path
from publisher.workspace.app import App
store = App(Path(sys.argv[1])).store
said = threading.Lock()

def worker(name):
    for number in range(10_000):
        store.append("delivery.attempt", actor="ana", channel=name, data={"number": number})
        with said:
            print(name, number, flush=True)

with store.batch():
    threads = [threading.Thread(target=worker, args=(f"hook{index:02d}",)) for index in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
"""


def test_a_many_thread_fan_out_killed_midway_loses_no_acknowledged_append(workspace):
    workspace.open_incident(case=2)
    env = {**os.environ, "PUBLISH_WORKSPACE": str(workspace.path)}
    process = subprocess.Popen([sys.executable, "-c", FAN_OUT_SCRIPT, str(workspace.path)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, text=True)
    acknowledged = set()
    while len(acknowledged) < 300:
        name, number = process.stdout.readline().split()
        acknowledged.add((name, int(number)))
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    acknowledged |= {tuple(line.split()[:1]) + (int(line.split()[1]),) for line in process.stdout if
                     len(line.split()) == 2}

    store = App(workspace.path).store
    stored = {(e.channel, e.data["number"]) for e in store.events(kind="delivery.attempt")}
    assert acknowledged <= stored
    assert len({name for name, _ in acknowledged}) > 1
    assert [e.seq for e in store.events()] == list(range(1, len(store.events()) + 1))
    assert workspace.run("log", "verify").exit_code == 0
