"""Tamper-evidence: every single-row edit, deletion, swap and truncation of a log is
detected by `publish log verify`, and with [store] hmac_key even a rewrite of the
whole chain by someone without the key."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from publisher.log.store import GENESIS, Store, canonical, chain_hash, open_store
from tests.pg_cluster import direct_url

pytestmark = pytest.mark.both_stores

N = 12
KEY_CONFIG = '\n[store]\npath = "var/publisher.db"\nhmac_key = "${PUBLISH_LOG_KEY}"\n'
KEY = "CANARY-log-key-5d1e"


def _fill(workspace, key: bytes | None = None) -> None:
    store = _store(workspace, key)
    for number in range(N):
        store.append("incident.opened" if number == 0 else "draft.approved", actor="ana", incident="1",
                     data={"number": number, "text": f"event {number} é ✓"})
    store.close()


def _store(workspace, key: bytes | None = None) -> Store:
    url = direct_url(workspace.store_url) if workspace.store_url else None
    return open_store(path=workspace.path / "var" / "publisher.db", url=url, key=key)


def _head_file(workspace) -> Path:
    return workspace.path / "var" / ("postgresql.head" if workspace.store_url else "publisher.db.head")


def _db(workspace):
    return workspace.db()


def _verify(workspace, **env):
    return workspace.run("log", "verify", "--json", env=env or None)


def _bad_row(result) -> int:
    return json.loads(result.stdout)["bad_row"]


def test_an_untouched_log_verifies(workspace):
    _fill(workspace)
    result = _verify(workspace)
    assert result.exit_code == 0 and json.loads(result.output)["rows"] == N


@pytest.mark.parametrize("row", range(1, N + 1))
def test_every_single_row_edit_is_detected(workspace, row):
    _fill(workspace)
    with _db(workspace) as db:
        body = db.execute("SELECT body FROM events WHERE seq = ?", (row,)).fetchone()[0]
        db.execute("UPDATE events SET body = ? WHERE seq = ?", (body.replace("event", "EVENT"), row))
    result = _verify(workspace)
    assert result.exit_code == 1 and _bad_row(result) == row
    assert f"row {row}: its content does not match its hash (edited?)" in result.output


@pytest.mark.parametrize("row", range(1, N + 1))
def test_every_single_row_deletion_is_detected(workspace, row):
    _fill(workspace)
    with _db(workspace) as db:
        db.execute("DELETE FROM events WHERE seq = ?", (row,))
    result = _verify(workspace)
    assert result.exit_code == 1
    assert ("missing" in result.output) and ("deleted?" in result.output or "truncated?" in result.output)


@pytest.mark.parametrize("row", range(1, N))
def test_every_swap_of_neighbours_is_detected(workspace, row):
    _fill(workspace)
    with _db(workspace) as db:
        rows = {seq: rest for seq, *rest in db.execute(
            "SELECT seq, body, prev, hash FROM events WHERE seq IN (?, ?)", (row, row + 1))}
        for seq, other in ((row, row + 1), (row + 1, row)):
            db.execute("UPDATE events SET body = ?, prev = ?, hash = ? WHERE seq = ?", (*rows[other], seq))
    result = _verify(workspace)
    assert result.exit_code == 1 and _bad_row(result) == row


@pytest.mark.parametrize("keep", range(0, N))
def test_every_truncation_is_detected(workspace, keep):
    _fill(workspace)
    with _db(workspace) as db:
        db.execute("DELETE FROM events WHERE seq > ?", (keep,))
    result = _verify(workspace)
    assert result.exit_code == 1
    assert f"rows {keep + 1}..{N} are missing at the end (truncated?)" in result.output


def test_a_deleted_head_file_is_detected(workspace):
    _fill(workspace)
    _head_file(workspace).unlink()
    result = _verify(workspace)
    assert result.exit_code == 1 and f"head file {_head_file(workspace).name} is missing" in result.output


def _rewrite_chain(workspace, upto: int, key: bytes | None = None) -> None:
    """What an attacker does: change row 2 (its approval given to the other approver: a
    name outside the cabinet would be caught as not an approver), then recompute every
    hash after it and the head."""
    with _db(workspace) as db:
        prev = GENESIS
        for seq, body in db.execute("SELECT seq, body FROM events ORDER BY seq").fetchall():
            if seq > upto:
                db.execute("DELETE FROM events WHERE seq = ?", (seq,))
                continue
            if seq == 2:
                body = body.replace('"ana"', '"luis"')
            digest = chain_hash(prev, body, key)
            db.execute("UPDATE events SET body = ?, prev = ?, hash = ? WHERE seq = ?", (body, prev, digest, seq))
            prev = digest
    head = {"seq": upto, "hash": prev, "mac": chain_hash("head", f"{upto}:{prev}", key)}
    _head_file(workspace).write_text(canonical(head))


def test_without_a_key_a_whole_chain_rewrite_is_not_detectable(workspace):
    _fill(workspace)
    _rewrite_chain(workspace, N)
    assert _verify(workspace).exit_code == 0


@pytest.mark.parametrize("upto", [N, N - 3])
def test_with_a_key_a_whole_chain_rewrite_or_truncation_is_detected(workspace, upto):
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace('[store]\npath = "var/publisher.db"\n', KEY_CONFIG))
    _fill(workspace, key=KEY.encode())
    assert _verify(workspace, PUBLISH_LOG_KEY=KEY).exit_code == 0
    _rewrite_chain(workspace, upto)
    result = _verify(workspace, PUBLISH_LOG_KEY=KEY)
    assert result.exit_code == 1 and _bad_row(result) == 1
    assert KEY not in result.output


def test_a_keyed_log_needs_its_key(workspace):
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace('[store]\npath = "var/publisher.db"\n', KEY_CONFIG))
    _fill(workspace, key=KEY.encode())
    result = workspace.run("log", "verify", env={"PUBLISH_LOG_KEY": None})
    assert result.exit_code == 2 and "${PUBLISH_LOG_KEY}" in result.output
    wrong = workspace.run("log", "verify", env={"PUBLISH_LOG_KEY": "not-the-key"})
    assert wrong.exit_code == 1 and "row 1" in wrong.output


def test_a_key_cannot_be_added_to_an_existing_unkeyed_log(workspace):
    _fill(workspace)
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace('[store]\npath = "var/publisher.db"\n', KEY_CONFIG))
    result = workspace.run("log", "verify", env={"PUBLISH_LOG_KEY": KEY})
    assert result.exit_code == 2 and "started without [store] hmac_key" in result.output


def test_a_literal_key_in_the_config_is_refused(workspace):
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace('[store]\npath = "var/publisher.db"\n',
                                                 '[store]\npath = "var/publisher.db"\nhmac_key = "plain"\n'))
    result = workspace.run("log", "verify")
    assert result.exit_code == 2 and "[store] hmac_key: is a secret" in result.output


TAMPERS = {
    "edit": lambda db, row: db.execute("UPDATE events SET body = replace(body, 'ana', 'eve') WHERE seq = ?",
                                       (row,)),
    "delete": lambda db, row: db.execute("DELETE FROM events WHERE seq = ?", (row,)),
    "truncate": lambda db, row: db.execute("DELETE FROM events WHERE seq >= ?", (row,)),
}


def _incident_history(workspace) -> int:
    """A real incident through the CLI: opened, rendered, approved, delivered twice."""
    workspace.open_incident(case=2, author="ana")
    draft = workspace.render("--case", "2", "--template", "apology", user="ana")
    assert workspace.run("approve", draft, "--as", "luis").exit_code == 0
    assert workspace.run("report", "1", "--format", "json").exit_code == 0
    return len(workspace.events())


@pytest.mark.parametrize("how", TAMPERS)
@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_the_incident_report_detects_tampering_with_its_own_rows(workspace, how, position):
    rows = _incident_history(workspace)
    row = {"first": 1, "middle": rows // 2, "last": rows}[position]
    with _db(workspace) as db:
        if how == "edit":
            db.execute("UPDATE events SET body = replace(body, '\"case\":2', '\"case\":1') WHERE seq = ?", (row,))
            db.execute("UPDATE events SET body = replace(body, 'luis', 'eve') WHERE seq = ?", (row,))
            db.execute("UPDATE events SET body = replace(body, 'attempt\":1', 'attempt\":9') WHERE seq = ?", (row,))
        else:
            TAMPERS[how](db, row)
    result = workspace.run("report", "1", "--format", "json")
    assert result.exit_code == 1 and "the log does not verify" in result.output, result.output
    assert "unexpected" not in result.output


def test_the_incident_report_detects_a_swap_of_its_rows(workspace):
    _incident_history(workspace)
    with _db(workspace) as db:
        rows = {seq: rest for seq, *rest in db.execute("SELECT seq, body, prev, hash FROM events WHERE seq IN (4, 5)")}
        for seq, other in ((4, 5), (5, 4)):
            db.execute("UPDATE events SET body = ?, prev = ?, hash = ? WHERE seq = ?", (*rows[other], seq))
    result = workspace.run("report", "1", "--format", "json")
    assert result.exit_code == 1 and "row 4" in result.output
