"""`publish` end to end with a Matrix channel on a real Synapse (tests/synapse_server.py):
`channels list` masks the token, `channels check` names the account, and an approved
statement reaches the room once, with the event's id in the log."""
from __future__ import annotations

import itertools
import json

import pytest

pytestmark = pytest.mark.servers
desks = itertools.count()


@pytest.fixture
def matrix_workspace(workspace, synapse):
    name = f"pressdesk{next(desks)}"
    token = synapse.register(name)
    room = synapse.create_room(token)
    workspace.write_config(extra=f"""
[channels.matrix]
type = "matrix"
homeserver = "{synapse.url}"
room = "{room}"
token = "${{MATRIX_TOKEN}}"
timeout = 5
""")
    return workspace, token, room, name


def test_channels_list_and_check_show_the_matrix_channel_without_its_token(matrix_workspace, synapse):
    workspace, token, room, name = matrix_workspace
    listed = workspace.run("channels", "list", "--json", env={"MATRIX_TOKEN": token})
    assert listed.exit_code == 0, listed.output
    [matrix] = [row for row in json.loads(listed.output) if row["name"] == "matrix"]
    assert matrix["type"] == "matrix" and matrix["settings"]["token"] == "****" and matrix["settings"]["room"] == room
    checked = workspace.run("channels", "check", "--json", env={"MATRIX_TOKEN": token})
    assert checked.exit_code == 0, checked.output
    [row] = [row for row in json.loads(checked.output) if row["name"] == "matrix"]
    assert row["ok"] and row["detail"] == f"Matrix token works for @{name}:acme.test, who created {room} and may " \
                                          "send messages there"
    assert token not in listed.output + checked.output


def test_a_revoked_token_fails_the_check_in_one_sentence_without_the_token(matrix_workspace, synapse):
    workspace, token, _, _ = matrix_workspace
    revoked = "CANARY-matrix-revoked-61b0"
    checked = workspace.run("channels", "check", env={"MATRIX_TOKEN": revoked})
    assert checked.exit_code == 1
    assert "rejected the access token" in checked.output and "M_UNKNOWN_TOKEN" in checked.output
    assert revoked not in checked.output and "Traceback" not in checked.output


def test_an_approved_statement_reaches_the_room_once(matrix_workspace, synapse):
    workspace, token, room, name = matrix_workspace
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", env={"MATRIX_TOKEN": token})
    sent = workspace.run("approve", draft, "--as", "ana", env={"MATRIX_TOKEN": token})
    assert sent.exit_code == 0, sent.output
    summary = json.loads(workspace.run("drafts", "show", draft, "--json", env={"MATRIX_TOKEN": token}).output)
    assert summary["channels"]["matrix"] == "delivered"
    messages = [event for event in synapse.room_events(token, room) if event["type"] == "m.room.message"]
    assert len(messages) == 1 and "Acme" in messages[0]["content"]["body"]
    db = workspace.db()
    try:
        bodies = [json.loads(body) for (body,) in db.execute(
            "SELECT body FROM events WHERE channel = 'matrix' AND kind LIKE 'delivery.%' ORDER BY seq")]
    finally:
        db.close()
    assert messages[0]["event_id"] in json.dumps(bodies) and token not in json.dumps(bodies)
