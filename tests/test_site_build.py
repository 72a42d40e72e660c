"""One statements page for the cabinet: `publish site build` and `publish outbox build`
write the site and the outbox from the log; two workspace folders (two machines) on one
PostgreSQL log build byte-identical folders, and the worker keeps each machine's
configured `path` current whichever machine sent."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import Workspace
from tests.worker_support import run_once


def _files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and path.name != ".lock"}


def _delivered_draft(workspace, summary: str = "a payment outage that blocked card purchases") -> str:
    workspace.open_incident(case=2, summary=summary)
    draft = workspace.render("--case", "2", "--template", "apology")
    result = workspace.run("approve", draft, "--as", "ana")
    assert result.exit_code == 0, result.output
    return draft


def _second_machine(workspace) -> Workspace:
    folder = workspace.path.parent / "machine-2"
    (folder / "var").mkdir(parents=True, mode=0o700)
    (folder / "config").symlink_to(workspace.path / "config")
    return Workspace(folder, CliRunner(), [], workspace.store_url)


def test_site_build_writes_the_same_bytes_the_channel_wrote(workspace, tmp_path):
    draft = _delivered_draft(workspace)
    result = workspace.run("site", "build", str(tmp_path / "built"))
    assert result.exit_code == 0, result.output
    assert "Built the statements page of web in" in result.output and "1 statement(s)" in result.output
    sent = _files(workspace.path / "var" / "site")
    assert _files(tmp_path / "built") == sent
    manifest = json.loads(sent["statements.json"])
    assert [entry["draft"] for entry in manifest] == [draft]
    assert manifest[0]["log_seq"] > 0


def test_outbox_build_rebuilds_the_files_with_their_log_heads(workspace, tmp_path):
    _delivered_draft(workspace)
    result = workspace.run("outbox", "build", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["statements"] == 1
    assert _files(tmp_path / "out") == _files(workspace.path / "var" / "outbox")
    assert b"-- publish log head " in next(iter(_files(tmp_path / "out").values()))


def test_a_correction_and_a_withdrawal_are_rebuilt_from_the_log(workspace, tmp_path):
    draft = _delivered_draft(workspace)
    withdrawn = workspace.run("withdraw", draft, "--reason", "published too early", "--as", "ana")
    assert withdrawn.exit_code == 0, withdrawn.output
    assert workspace.run("site", "build", str(tmp_path / "built")).exit_code == 0
    assert _files(tmp_path / "built") == _files(workspace.path / "var" / "site")
    assert b"published too early" in _files(tmp_path / "built")["index.html"]


def test_build_with_no_site_channel_or_a_wrong_name_says_so(workspace):
    result = workspace.run("site", "build", "--channel", "outbox")
    assert result.exit_code == 2
    assert "no site channel named 'outbox'" in result.output and "Traceback" not in result.output
    assert workspace.run("outbox", "build", "--channel", "nope").exit_code == 2


@pytest.mark.servers
def test_two_machines_on_one_postgresql_log_build_byte_identical_pages(workspace, pg_url, tmp_path):
    workspace.store_url = pg_url
    workspace.write_config()
    first = _delivered_draft(workspace)
    second_machine = _second_machine(workspace)
    # the second statement is sent from the second machine: each folder has one of the two
    second = second_machine.render("--case", "2", "--template", "update")
    assert second_machine.run("approve", second, "--as", "luis").exit_code == 0
    mine = json.loads((workspace.path / "var" / "site" / "statements.json").read_text())
    assert [entry["draft"] for entry in mine] == [first]
    for machine, name in ((workspace, "one"), (second_machine, "two")):
        result = machine.run("site", "build", str(tmp_path / name))
        assert result.exit_code == 0, result.output
        assert machine.run("outbox", "build", str(tmp_path / f"{name}-outbox")).exit_code == 0
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    assert _files(tmp_path / "one-outbox") == _files(tmp_path / "two-outbox")
    assert len(_files(tmp_path / "one-outbox")) == 2
    built = json.loads((tmp_path / "one" / "statements.json").read_text())
    assert {entry["draft"] for entry in built} == {first, second}
    # each machine's worker keeps its own configured folder current
    for machine in (workspace, second_machine):
        done = run_once(machine.path)
        assert done.returncode == 0, done.stdout + done.stderr
    assert _files(workspace.path / "var" / "site") == _files(tmp_path / "one")
    assert _files(second_machine.path / "var" / "site") == _files(tmp_path / "one")
