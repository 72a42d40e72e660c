"""The log: private file, append-only rows, and `publish log verify` naming the first bad row."""
from __future__ import annotations

import json
import stat

import pytest

pytestmark = pytest.mark.both_stores


def _history(workspace) -> str:
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
    return draft


@pytest.mark.sqlite_only
def test_store_is_private(workspace):
    workspace.open_incident()
    db = workspace.path / "var" / "publisher.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_log_lists_every_event_with_filters(workspace):
    draft = _history(workspace)
    workspace.open_incident(case=1)
    events = json.loads(workspace.run("log", "--json").output)
    kinds = [event["kind"] for event in events]
    assert kinds[:4] == ["incident.opened", "draft.rendered", "people.bootstrap", "draft.approved"]
    assert kinds[-1] == "incident.opened"
    assert sorted(kinds[4:-1]) == ["delivery.delivered"] * 2 + ["delivery.started"] * 2
    delivered = [event for event in events if event["kind"] == "delivery.delivered"]
    assert {event["channel"] for event in delivered} == {"web", "outbox"}
    assert all(event["data"]["id"] and event["data"]["url"] for event in delivered)
    assert all(event["draft"] == draft for event in delivered)
    assert [event["kind"] for event in json.loads(workspace.run("log", "--incident", "2", "--json").output)] == \
        ["incident.opened"]
    last_two = json.loads(workspace.run("log", "-n", "2", "--json").output)
    assert [event["seq"] for event in last_two] == [events[-2]["seq"], events[-1]["seq"]]
    text = workspace.run("log").output
    assert "draft.approved" in text and "by ana" in text


def test_verify_passes_on_an_untouched_log(workspace):
    _history(workspace)
    result = workspace.run("log", "verify")
    assert result.exit_code == 0 and "Log intact: 8 events" in result.output


def test_verify_detects_an_edited_row(workspace):
    _history(workspace)
    db = workspace.db()
    body = db.execute("SELECT body FROM events WHERE seq = 3").fetchone()[0]
    db.execute("UPDATE events SET body = ? WHERE seq = 3", (body.replace('"ana"', '"eve"'),))
    db.close()
    result = workspace.run("log", "verify")
    assert result.exit_code == 1
    assert "row 3: its content does not match its hash (edited?)" in result.output


def test_verify_detects_a_deleted_row(workspace):
    _history(workspace)
    db = workspace.db()
    db.execute("DELETE FROM events WHERE seq = 4")
    db.close()
    result = workspace.run("log", "verify")
    assert result.exit_code == 1
    assert "row 5: rows 4..4 are missing (deleted?)" in result.output


def test_verify_detects_reordered_rows(workspace):
    _history(workspace)
    db = workspace.db()
    rows = {seq: (body, prev, digest) for seq, body, prev, digest in
            db.execute("SELECT seq, body, prev, hash FROM events WHERE seq IN (2, 3)")}
    for seq, other in ((2, 3), (3, 2)):
        db.execute("UPDATE events SET body = ?, prev = ?, hash = ? WHERE seq = ?", (*rows[other], seq))
    db.close()
    result = workspace.run("log", "verify", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["bad_row"] == 2


def test_verify_detects_a_rewritten_hash(workspace):
    _history(workspace)
    db = workspace.db()
    db.execute("UPDATE events SET hash = ? WHERE seq = 2", ("f" * 64,))
    db.close()
    result = workspace.run("log", "verify")
    assert result.exit_code == 1 and "row 2" in result.output


def test_refused_commands_leave_the_log_untouched(workspace):
    draft = _history(workspace)
    before = workspace.events()
    for args in (["approve", draft, "--as", "mallory"], ["incident", "open", "--case", "9", "--first-seen", "x"],
                 ["--case", "2", "--template", "nope"], ["reject", draft, "--reason", "late"]):
        result = workspace.run(*args)
        assert result.exit_code == 2, (args, result.output)
    assert workspace.events() == before
