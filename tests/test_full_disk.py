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
    """While on: every new SQLite connection may not grow its database by a single page;
    `fill()` does the same to the connections already open."""
    real = sqlite3.connect
    opened: list[sqlite3.Connection] = []

    def limit(db: sqlite3.Connection) -> None:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {max(pages, 1)}")

    class State(dict):
        def fill(self) -> None:
            for db in opened:
                try:
                    limit(db)
                except sqlite3.ProgrammingError:  # closed by the command that opened it
                    continue

    state = State(on=False)

    def connect(*args, **kwargs):
        db = real(*args, **kwargs)
        opened.append(db)
        if state["on"]:
            limit(db)
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


def test_a_disk_full_while_the_post_is_on_the_wire_says_it_went_out_unrecorded(workspace, full_disk):
    """The platform takes the post, then the log cannot record the receipt (a long one:
    it needs new pages): the channel is named as sent but unrecorded, never as failed."""
    from tests.fakes.server import Reply
    from tests.fakes.webhooks import ReceiverFake

    long_url = "https://status.example.org/events/" + "a" * 9000
    with ReceiverFake() as receiver:
        normal = receiver.handler

        def answer(request):
            reply = normal(request)
            if reply.status == 201:
                full_disk.fill()
                return Reply(201, {"id": "evt_0001", "url": long_url})
            return reply

        receiver.handler = answer
        workspace.write_config(extra='[channels.hook]\ntype = "webhook"\nurl = "${HOOK_URL}"\n')
        env = {"HOOK_URL": f"{receiver.url}/hooks/incident"}
        workspace.open_incident(case=2)
        draft = workspace.render("--case", "2", "--template", "apology", "--channel", "hook", env=env)
        result = workspace.run("approve", draft, "--as", "ana", env=env)
        assert result.exit_code == 1, result.output
        assert "hook: unknown - sent, but the log does not hold its receipt: the disk that holds" in result.output
        assert "OperationalError" not in result.output
        kinds = [kind for _seq, kind in workspace.events()]
        assert kinds[-1] == "delivery.started"
        assert len([r for r in receiver.requests if r.method == "POST"]) == 1
