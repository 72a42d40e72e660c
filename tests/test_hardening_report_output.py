"""`publish report -o FILE` never writes over the evidence (issue 10, item 9): a path
inside the store's folder, the config folder or any file the workspace keeps is refused
with exit 2 and the log stays intact; a report is written atomically."""
from __future__ import annotations

import os

import pytest


@pytest.fixture
def opened(workspace):
    workspace.open_incident()
    return workspace


def _log_intact(workspace) -> None:
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 0, verified.output


@pytest.mark.parametrize("relative", [
    "var/publisher.db", "var/publisher.db.head", "var/new-report.md", "config/publisher.toml",
    "config/secrets.toml", "config/allowed_signers", "config/report.md", "var/site/index.html",
    "var/outbox/report.md",
])
def test_a_path_the_workspace_keeps_is_refused(opened, relative):
    target = opened.path / relative
    before = target.read_bytes() if target.exists() else None
    result = opened.run("report", "1", "-o", str(target))
    assert result.exit_code == 2, result.output
    assert "refused" in result.output and result.output.count("\n") == 1
    assert (target.read_bytes() if target.exists() else None) == before
    _log_intact(opened)


def test_a_relative_path_from_inside_the_workspace_is_refused(opened, monkeypatch):
    monkeypatch.chdir(opened.path)
    result = opened.run("report", "1", "-o", "var/publisher.db")
    assert result.exit_code == 2 and "publisher.db" in result.output
    _log_intact(opened)


def test_a_symlink_or_hard_link_to_the_store_is_refused(opened, tmp_path):
    store = opened.path / "var" / "publisher.db"
    link = tmp_path / "innocent.md"
    link.symlink_to(store)
    assert opened.run("report", "1", "-o", str(link)).exit_code == 2
    hard = tmp_path / "hard.md"
    os.link(store, hard)
    assert opened.run("report", "1", "-o", str(hard)).exit_code == 2
    _log_intact(opened)


def test_a_report_elsewhere_is_written_whole_and_replaces_atomically(opened, tmp_path):
    target = tmp_path / "out" / "report.md"
    target.parent.mkdir()
    target.write_text("old report")
    inode = target.stat().st_ino
    result = opened.run("report", "1", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert "\n\n# Incident 1" in target.read_text()[:300]
    assert target.stat().st_ino != inode
    assert [path.name for path in target.parent.iterdir()] == ["report.md"]


def test_a_report_in_the_workspace_root_is_allowed(opened):
    target = opened.path / "report.html"
    assert opened.run("report", "1", "--format", "html", "-o", str(target)).exit_code == 0
    assert target.read_text().startswith("<!doctype html>") or "<html" in target.read_text()
