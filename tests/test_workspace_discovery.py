"""The workspace is found from any folder inside it, the way git finds its repository,
and `publish init` never creates a workspace inside another one."""
from __future__ import annotations

import json

NO_ENV = {"PUBLISH_WORKSPACE": None}


def test_a_subfolder_finds_its_workspace(workspace, monkeypatch, iso_hours_ago):
    incident = workspace.open_incident()
    deep = workspace.path / "notes" / "2026" / "night"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    listed = workspace.run("incident", "list", "--json", env=NO_ENV)
    assert listed.exit_code == 0, listed.output
    assert [item["id"] for item in json.loads(listed.output)] == [incident]
    assert not (deep / "var").exists() and not (deep / "config").exists()


def test_the_flag_still_wins_over_the_folder(workspace, tmp_path, monkeypatch):
    workspace.open_incident()
    other = tmp_path / "other"
    assert workspace.run("init", str(other)).exit_code == 0
    monkeypatch.chdir(workspace.path / "config")
    listed = workspace.run("--workspace", str(other), "incident", "list", "--json", env=NO_ENV)
    assert listed.exit_code == 0 and json.loads(listed.output) == []


def test_outside_any_workspace_the_error_says_how_to_make_one(tmp_path, workspace, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    result = workspace.run("incident", "list", env=NO_ENV)
    assert result.exit_code == 2 and "publish init" in result.output


def test_init_refuses_inside_another_workspace(workspace, monkeypatch):
    inner = workspace.path / "templates" / "nested"
    result = workspace.run("init", str(inner))
    assert result.exit_code == 2, result.output
    assert f"is inside the workspace {workspace.path}" in result.output
    assert not inner.exists()
    monkeypatch.chdir(workspace.path / "config")
    here = workspace.run("init", env=NO_ENV)
    assert here.exit_code == 2 and "inside the workspace" in here.output
    assert not (workspace.path / "config" / "config").exists()
