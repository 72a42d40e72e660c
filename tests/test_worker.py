"""`publish worker`, run for real as a subprocess: with a worker live, `approve` and
`send` return at once ("queued") and the worker delivers; `--wait` and no worker keep
the foreground run; one worker per SQLite workspace; `--once`; SIGTERM stops it cleanly;
`publish status` shows the heartbeats. The same on PostgreSQL (Procrastinate)."""
from __future__ import annotations

import json
import time

import pytest

from tests.delivery_support import delivery_events
from tests.worker_support import WorkerProcess, channel_states, run_once, until

pytestmark = [pytest.mark.servers, pytest.mark.both_stores]


def _draft(workspace, summary: str = "a payment outage that blocked card purchases") -> str:
    workspace.open_incident(case=2, summary=summary)
    return workspace.render("--case", "2", "--template", "apology")


def _delivered(workspace, draft: str) -> bool:
    return set(channel_states(workspace, draft).values()) == {"delivered"}


def test_with_a_worker_running_approve_returns_at_once_and_the_worker_delivers(workspace):
    draft = _draft(workspace)
    worker = WorkerProcess(workspace.path)
    try:
        assert "running" in worker.first_line, worker.first_line
        started = time.monotonic()
        result = workspace.run("approve", draft, "--as", "ana")
        took = time.monotonic() - started
        assert result.exit_code == 0, result.output
        assert "Queued: the worker sends draft" in result.output and "publish status" in result.output
        assert "Sending draft" not in result.output
        assert took < 5
        assert until(lambda: _delivered(workspace, draft)), channel_states(workspace, draft)
        status = workspace.run("status")
        assert "worker" in status.output and "last heartbeat" in status.output
    finally:
        code, output = worker.stop()
    assert code == 0, output
    assert "stopped" in output
    started = [e for e in delivery_events(workspace) if e["kind"] == "delivery.started"]
    assert sorted(e["channel"] for e in started) == ["outbox", "web"]
    assert {e["actor"] for e in started} == {"worker"}
    assert "stopped" in workspace.run("status").output
    assert workspace.run("log", "verify").exit_code == 0


def test_with_no_worker_approve_sends_in_the_foreground_and_says_no_worker_runs(workspace):
    draft = _draft(workspace)
    result = workspace.run("approve", draft, "--as", "ana")
    assert result.exit_code == 0, result.output
    assert "No worker is running: sending it here" in result.output
    assert f"Sending draft {draft}:" in result.output and "2 of 2 delivered" in result.output


def test_wait_keeps_the_foreground_run_with_a_worker_live(workspace):
    draft = _draft(workspace)
    worker = WorkerProcess(workspace.path)
    try:
        result = workspace.run("approve", draft, "--as", "ana", "--wait")
        assert result.exit_code == 0, result.output
        assert "Queued" not in result.output and "2 of 2 delivered" in result.output
    finally:
        worker.stop()
    assert len([e for e in delivery_events(workspace) if e["kind"] == "delivery.delivered"]) == 2


def test_send_with_a_worker_live_is_queued(workspace):
    draft = _draft(workspace)
    workspace.run("freeze", "--reason", "legal is reading it", user="ana")
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
    workspace.run("unfreeze", "--reason", "legal agreed", user="ana")
    worker = WorkerProcess(workspace.path)
    try:
        result = workspace.run("send", draft, "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == {"practice": True, "draft": draft, "approved": True, "queued": True}
        assert until(lambda: _delivered(workspace, draft)), channel_states(workspace, draft)
    finally:
        worker.stop()


def test_a_refusal_is_said_to_the_person_not_left_to_the_worker(workspace):
    draft = _draft(workspace)
    workspace.run("freeze", "--reason", "legal is reading it", user="ana")
    worker = WorkerProcess(workspace.path)
    try:
        result = workspace.run("approve", draft, "--as", "ana")
        assert "frozen" in result.output and "Queued" not in result.output
        result = workspace.run("send", draft)
        assert result.exit_code == 2 and "frozen" in result.output
        time.sleep(1)
    finally:
        worker.stop()
    assert [e for e in delivery_events(workspace) if e["kind"] == "delivery.started"] == []


def test_once_does_what_is_due_and_exits(workspace):
    draft = _draft(workspace)
    workspace.run("freeze", "--reason", "legal is reading it", user="ana")
    workspace.run("approve", draft, "--as", "ana")
    workspace.run("unfreeze", "--reason", "legal agreed", user="ana")
    done = run_once(workspace.path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _delivered(workspace, draft)
    again = run_once(workspace.path)
    assert again.returncode == 0
    assert len([e for e in delivery_events(workspace) if e["kind"] == "delivery.started"]) == 2


@pytest.mark.sqlite_only
def test_a_second_worker_on_one_sqlite_workspace_is_refused(workspace):
    first = WorkerProcess(workspace.path)
    try:
        code, output = WorkerProcess(workspace.path).ended()
        assert code == 2, output
        assert "a worker already runs for this workspace" in output
        assert "Traceback" not in output
    finally:
        first.stop()


def test_serve_runs_a_worker_inside_unless_told_not_to(workspace):
    import os
    import signal
    import socket
    import subprocess
    import sys

    from tests.worker_support import ROOT

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PUBLISH_WORKSPACE": str(workspace.path), "PUBLISH_USER": "marta"}
    draft = _draft(workspace)
    serve = subprocess.Popen([sys.executable, "-m", "publisher", "serve", "--port", str(port)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert until(lambda: any(w["state"] != "stopped" for w in _workers(workspace)), timeout=30)
        result = workspace.run("approve", draft, "--as", "ana")
        assert "Queued" in result.output, result.output
        assert until(lambda: _delivered(workspace, draft))
    finally:
        serve.send_signal(signal.SIGTERM)
        output, _ = serve.communicate(timeout=60)
    assert "runs inside the console" in output, output
    assert all(w["state"] == "stopped" for w in _workers(workspace))


def _workers(workspace) -> list[dict]:
    db = workspace.db()
    try:
        rows = db.execute("SELECT name, state FROM workers").fetchall()
    finally:
        db.close()
    return [{"name": name, "state": state} for name, state in rows]
