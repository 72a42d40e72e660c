"""A machine joining a PostgreSQL cabinet: with no head file yet, `publish log verify`
says so, checks the chain up to the server's head and writes its head file; a head
file this machine held and lost is still reported as deleted (whichever of its lock
file and the `var/postgresql.joined` marker is left). Two workspace folders on one
database stand for two machines."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import Workspace

NEW = "No head file yet on this machine"


def _cabinet(workspace, pg_url: str) -> Workspace:
    """The first machine (the workspace, on `pg_url`, with an incident) and a second
    machine: a folder of its own with the same config, that has written nothing."""
    workspace.store_url = pg_url
    workspace.write_config()
    workspace.open_incident(case=2)
    folder = workspace.path.parent / "machine-2"
    (folder / "var").mkdir(parents=True, mode=0o700)
    (folder / "config").symlink_to(workspace.path / "config")
    return Workspace(folder, CliRunner(), [], pg_url)


def _head(workspace) -> dict:
    return json.loads(workspace.run("store", "info", "--json").output)["head"]


def _files(machine: Workspace) -> dict[str, Path]:
    var = machine.path / "var"
    return {"head": var / "postgresql.head", "lock": var / "postgresql.head.lock",
            "marker": var / "postgresql.joined"}


@pytest.mark.servers
def test_a_new_machine_says_it_has_no_head_file_yet_checks_the_server_and_writes_it(workspace, pg_cluster, pg_url):
    second = _cabinet(workspace, pg_url)
    head = _head(workspace)
    assert not _files(second)["head"].exists()
    first = second.run("log", "verify")
    assert first.exit_code == 0, first.output
    assert f"{NEW}; the log's head is row {head['seq']} ({head['hash'][:12]}), checked against the server" \
        in first.output
    assert "missing" not in first.output and "Log intact" in first.output
    written = json.loads(_files(second)["head"].read_text())
    assert (written["seq"], written["hash"]) == (head["seq"], head["hash"])
    assert "postgresql.head" in json.loads(_files(second)["marker"].read_text())["heads"]
    again = second.run("log", "verify", "--json")
    assert again.exit_code == 0 and json.loads(again.output)["note"] is None


@pytest.mark.servers
def test_a_new_machine_says_it_in_spanish_too(workspace, pg_cluster, pg_url):
    second = _cabinet(workspace, pg_url)
    result = second.run("log", "verify", env={"PUBLISH_LANG": "es"})
    assert result.exit_code == 0 and "Todavía no hay archivo de cabeza en esta máquina" in result.output


@pytest.mark.servers
def test_a_new_machine_whose_first_command_writes_keeps_its_head_from_then_on(workspace, pg_cluster, pg_url):
    second = _cabinet(workspace, pg_url)
    second.open_incident(case=1)
    assert _files(second)["head"].exists() and _files(second)["marker"].exists()
    result = second.run("log", "verify")
    assert result.exit_code == 0 and NEW not in result.output


@pytest.mark.servers
@pytest.mark.parametrize("deleted", [("head",), ("head", "lock"), ("head", "marker")])
def test_a_head_file_that_existed_and_was_deleted_is_still_refused(workspace, pg_cluster, pg_url, deleted):
    second = _cabinet(workspace, pg_url)
    assert second.run("log", "verify").exit_code == 0
    for machine in (workspace, second):
        for name in deleted:
            _files(machine)[name].unlink()
        result = machine.run("log", "verify")
        assert result.exit_code == 1, result.output
        assert "head file postgresql.head is missing (deleted?)" in result.output and NEW not in result.output


@pytest.mark.servers
def test_deleting_every_trace_on_one_machine_buys_silence_there_only(workspace, pg_cluster, pg_url):
    """The docstring's attacker: rows cut off the shared log, and the head file, its lock
    file and the marker deleted on the second machine. The second machine adopts the cut
    log and says so; the first machine's head file still names the cut rows."""
    second = _cabinet(workspace, pg_url)
    workspace.open_incident(case=1)
    assert second.run("log", "verify").exit_code == 0
    rows = _head(workspace)["seq"]
    db = workspace.db()
    try:
        db.execute("DELETE FROM events WHERE seq = %s", (rows,))
    finally:
        db.close()
    for path in _files(second).values():
        path.unlink()
    adopted = second.run("log", "verify")
    assert adopted.exit_code == 0 and f"{NEW}; the log's head is row {rows - 1}" in adopted.output
    caught = workspace.run("log", "verify")
    assert caught.exit_code == 1 and f"rows {rows}..{rows} are missing at the end (truncated?)" in caught.output


def test_a_sqlite_log_never_takes_a_missing_head_file_for_a_new_machine(workspace):
    workspace.open_incident(case=2)
    var = workspace.path / "var"
    for name in ("publisher.db.head", "publisher.db.head.lock"):
        (var / name).unlink()
    result = workspace.run("log", "verify")
    assert result.exit_code == 1 and "head file publisher.db.head is missing (deleted?)" in result.output
    assert not (var / "publisher.db.joined").exists()
