"""A PostgreSQL server that may lose an acknowledged commit (the test server runs with
`fsync` and `synchronous_commit` off): no delivery starts on it unless
`[store] allow_unsafe_commit = true`, and then every report says so."""
from __future__ import annotations

import json

import pytest

from tests.worker_support import run_once

pytestmark = pytest.mark.servers

SAID = "does not keep every commit durable (fsync off, synchronous_commit off)"


def _unsafe_refused(workspace) -> None:
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace("allow_unsafe_commit = true\n", ""))


def test_delivery_and_the_worker_refuse_a_server_that_may_lose_a_commit(workspace, pg_url):
    workspace.store_url = pg_url
    workspace.write_config()
    _unsafe_refused(workspace)
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    result = workspace.run("approve", draft, "--as", "ana")
    assert result.exit_code == 2, result.output
    assert "Approved draft" in result.output
    assert SAID in result.output and "allow_unsafe_commit = true" in result.output
    assert "Traceback" not in result.output and "Operational" not in result.output
    assert not list((workspace.path / "var").rglob("*.txt"))
    kinds = [kind for _seq, kind in workspace.events()]
    assert "delivery.started" not in kinds and "draft.approved" in kinds
    assert workspace.run("send", draft).exit_code == 2
    done = run_once(workspace.path)
    assert done.returncode == 2 and SAID in done.stdout + done.stderr, done.stdout + done.stderr
    info = workspace.run("store", "info")
    assert "Durability: fsync off, synchronous_commit off" in info.output


def test_allowed_it_delivers_and_every_report_says_so(workspace, pg_url):
    workspace.store_url = pg_url
    workspace.write_config()
    incident = workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
    for fmt in ("md", "html"):
        report = workspace.run("report", incident, "--format", fmt)
        assert report.exit_code == 0, report.output
        shown = report.output.replace("\\", "")
        assert "[store] allow_unsafe_commit = true" in shown and SAID in shown and "sent twice" in shown, shown
    data = json.loads(workspace.run("report", incident, "--format", "json").output)
    assert data["unsafe_commit"] == {"fsync": "off", "synchronous_commit": "off"}


def test_sqlite_never_carries_the_notice(workspace):
    incident = workspace.open_incident(case=2)
    data = json.loads(workspace.run("report", incident, "--format", "json").output)
    assert "unsafe_commit" not in data
