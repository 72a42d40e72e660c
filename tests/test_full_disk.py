"""A full disk during a fan-out: the log cannot grow, and each channel says so in one
sentence (not sent, nothing lost), exit 1, no traceback; once space is back, `publish
send` delivers. The disk is filled for SQLite by `PRAGMA max_page_count` (the file may
not grow by one page: SQLite answers SQLITE_FULL, as on a full file system), set on
every connection the command opens."""
from __future__ import annotations

import sqlite3

import pytest


@pytest.fixture
def full_disk(monkeypatch):
    """While on: every new SQLite connection may not grow its database by a single page."""
    real = sqlite3.connect
    state = {"on": False}

    def connect(*args, **kwargs):
        db = real(*args, **kwargs)
        if state["on"]:
            pages = db.execute("PRAGMA page_count").fetchone()[0]
            db.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
        return db

    monkeypatch.setattr(sqlite3, "connect", connect)
    return state


def _approved_and_held(workspace) -> str:
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("freeze", "--reason", "legal review").exit_code == 0
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
    assert workspace.run("unfreeze", "--reason", "reviewed", user="ana").exit_code == 0
    return draft


def test_a_full_disk_during_a_fan_out_is_one_sentence_per_channel(workspace, full_disk):
    draft = _approved_and_held(workspace)
    before = workspace.events()
    full_disk["on"] = True
    result = workspace.run("send", draft)
    assert result.exit_code == 1, result.output
    assert "OperationalError" not in result.output and "cannot rollback" not in result.output
    said = [line for line in result.output.splitlines() if ": failed - " in line]
    assert len(said) == 2, result.output
    for channel in ("web", "outbox"):
        assert any(f"{channel}: failed - not sent: the disk that holds" in line and "`publish send" in line
                   for line in said), result.output
    assert workspace.events() == before
    full_disk["on"] = False
    again = workspace.run("send", draft)
    assert again.exit_code == 0, again.output
    assert "2 of 2 delivered" in again.output
