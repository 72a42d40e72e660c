"""`publish freeze` / `unfreeze` (case 3): every outgoing channel stops at once, retries in
flight included, until an approver lifts it with a reason."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from tests.fakes.server import Reply
from tests.fakes.webhooks import ReceiverFake
from tests.test_cases_flow import T0, Cabinet

pytestmark = [pytest.mark.servers, pytest.mark.both_stores]

HOOK = """
[channels.hook]
type = "webhook"
url = "${HOOK_URL}"
"""


@pytest.fixture
def receiver(workspace):
    fake = ReceiverFake().start()
    workspace.write_config(extra=HOOK)
    try:
        yield fake
    finally:
        fake.stop()


def test_a_freeze_stops_a_run_in_the_middle_of_its_retries(workspace, receiver):
    """The receiver answers 503 + Retry-After; while the engine waits to retry, another
    person freezes from another terminal. The retry never goes out."""
    cabinet = Cabinet(workspace, {"HOOK_URL": f"{receiver.url}/hooks/incident"})
    cabinet.open(2)
    draft = cabinet.at(1).render("--case", "2", "--template", "apology")
    receiver.queue(Reply(503, {"error": "busy"}, {"Retry-After": "30"}))
    waits: list[float] = []

    def freeze_while_waiting(seconds: float) -> None:
        waits.append(seconds)
        env = {**os.environ, **cabinet.env, "PUBLISH_WORKSPACE": str(workspace.path), "PUBLISH_USER": "luis"}
        done = subprocess.run([sys.executable, "-m", "publisher", "freeze", "--reason", "leak suspected"],
                              env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    result = workspace.run("approve", draft, "--as", "ana", env=cabinet.env, clock=cabinet.clock,
                           sleep=freeze_while_waiting)
    assert result.exit_code == 1, result.output
    assert waits == [30.0] and len(receiver.requests) == 1
    assert "hook: held - publishing is frozen" in result.output
    kinds = [(kind, channel) for kind, channel in _events(workspace) if channel in ("hook", None)]
    assert kinds[-2:] == [("delivery.failed", "hook"), ("freeze", None)]

    refused = cabinet.run("send", draft)
    assert refused.exit_code == 2 and "publishing is frozen since" in refused.output
    assert "leak suspected" in refused.output and len(receiver.requests) == 1

    cabinet.clock.now = datetime.now(timezone.utc)  # the freeze came from a process on the real clock
    cabinet.ok("unfreeze", "--reason", "false alarm", "--as", "ana")
    resumed = cabinet.ok("send", draft, "--json")
    states = {item["channel"]: item["state"] for item in json.loads(resumed.output)["deliveries"]}
    assert states == {"web": "delivered", "outbox": "delivered", "hook": "delivered"}
    assert len(receiver.requests) == 2


def _events(workspace) -> list[tuple[str, str | None]]:
    db = workspace.db()
    try:
        return db.execute("SELECT kind, channel FROM events ORDER BY seq").fetchall()
    finally:
        db.close()


def test_unfreeze_is_for_approvers_and_records_who_and_why(workspace):
    cabinet = Cabinet(workspace)
    frozen = cabinet.ok("freeze", "--reason", "confidential data leaked")
    assert "Publishing frozen" in frozen.output and "publish unfreeze --reason TEXT" in frozen.output
    twice = cabinet.run("freeze", "--reason", "again")
    assert twice.exit_code == 2 and "already frozen since" in twice.output and "by marta" in twice.output
    not_approver = cabinet.run("unfreeze", "--reason", "done")
    assert not_approver.exit_code == 2 and "only an approver can lift a freeze" in not_approver.output
    no_reason = cabinet.run("unfreeze", "--as", "ana")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    blank = cabinet.run("unfreeze", "--reason", "  ", "--as", "ana")
    assert blank.exit_code == 2 and "--reason must say why" in blank.output
    lifted = json.loads(cabinet.ok("unfreeze", "--reason", "origin found and closed", "--as", "ana", "--json").output)
    assert lifted["event"]["actor"] == "ana" and lifted["event"]["data"]["reason"] == "origin found and closed"
    nothing = cabinet.run("unfreeze", "--reason", "x", "--as", "ana")
    assert nothing.exit_code == 2 and "not frozen" in nothing.output


def test_a_frozen_workspace_renders_but_approved_drafts_wait(workspace):
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    cabinet.ok("freeze", "--reason", "cabinet meeting")
    draft = cabinet.render("--case", "2", "--template", "apology")
    held = cabinet.run("approve", draft, "--as", "ana")
    assert held.exit_code == 0 and f"Approved draft {draft} as ana" in held.output
    assert "Publishing is frozen since" in held.output and f"`publish send {draft}` sends it" in held.output
    assert "Sending draft" not in held.output
    status = cabinet.ok("status").output
    assert "WARNING: publishing is frozen since" in status and "cabinet meeting" in status
    lifted = cabinet.ok("unfreeze", "--reason", "statement agreed", "--as", "luis")
    assert f"Approved draft {draft} (apology, incident 1) is waiting: publish send {draft}" in lifted.output


def test_case_3_freeze_on_open_can_be_turned_off(workspace):
    workspace.write_config(extra="\n[cases.3]\nfreeze_on_open = false\n")
    cabinet = Cabinet(workspace)
    cabinet.open(3)
    assert cabinet.status()["frozen"] is None
    assert cabinet.steps()["freeze"] == "due"
    cabinet.ok("freeze", "--reason", "decided after all", "--incident", "1")
    assert cabinet.steps()["freeze"] == "done"


def test_freeze_on_open_applies_to_any_case_that_asks_for_it(workspace):
    workspace.write_config(extra="\n[cases.2]\nfreeze_on_open = true\n")
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    frozen = cabinet.status()["frozen"]
    assert frozen["by"] == "marta" and "incident 1 opened (case 2)" in frozen["reason"]
    assert T0.isoformat()[:10] in frozen["at"]


def test_a_case_4_brief_waits_while_publishing_is_frozen(workspace):
    workspace.write_config(extra='\n[channels.cabinet]\ntype = "outbox"\npath = "var/cabinet"\naudience = "internal"\n')
    cabinet = Cabinet(workspace)
    cabinet.ok("freeze", "--reason", "leak on another incident")
    opened = cabinet.ok("incident", "open", "--case", "4", "--first-seen", T0.isoformat())
    assert "WARNING: the PR advisor was not briefed: publishing is frozen since" in opened.output
    draft = json.loads(cabinet.ok("drafts", "list", "--json").output)[0]["id"]
    assert f"The brief is draft {draft}: publish send {draft}" in opened.output
    cabinet.ok("unfreeze", "--reason", "contained", "--as", "ana")
    cabinet.ok("send", draft)
    assert cabinet.steps()["advisor"] == "done"
