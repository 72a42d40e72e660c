"""`publish status --json` lists each worker's last heartbeat beside every incident; a
worker silent for more than 2 minutes is marked `silent` (and the text status says so)."""
from __future__ import annotations

import json
import time

from tests.worker_support import run_once


def test_status_json_lists_each_workers_last_heartbeat(workspace):
    workspace.open_incident(case=2)
    assert run_once(workspace.path).returncode == 0
    db = workspace.db()
    try:
        db.execute("INSERT INTO workers VALUES ('far-away:77', 'far-away', 77, ?, ?, 'idle')",
                   (time.time() - 900, time.time() - 300))
    finally:
        db.close()
    reports = json.loads(workspace.run("status", "--json").output)
    workers = {worker["name"]: worker for worker in reports[0]["workers"]}
    far = workers["far-away:77"]
    assert far["silent"] is True and far["live"] is False and far["silent_for_seconds"] >= 299
    assert far["host"] == "far-away" and far["pid"] == 77 and far["last_heartbeat"].endswith("+00:00")
    ours = [worker for name, worker in workers.items() if name != "far-away:77"]
    assert len(ours) == 1 and ours[0]["state"] == "stopped" and ours[0]["silent"] is False
    text = workspace.run("status").output
    assert "SILENT" in text and "WARNING: the worker far-away:77 has shown no heartbeat" in text
