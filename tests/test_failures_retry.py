"""Failures are visible in `publish status` per draft and channel, with what to run,
and a permanent failure, once fixed, is tried again with `publish send --retry`
(approvers only, logged with the reason)."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.fakes.server import Reply
from tests.fakes.webhooks import ReceiverFake
from tests.trust_support import allowed_signers, make_keys, turn_signing_on

pytestmark = pytest.mark.servers

HOOK = """
[channels.hook]
type = "webhook"
url = "${HOOK_URL}"
"""


@pytest.fixture
def hook(workspace, monkeypatch):
    fake = ReceiverFake().start()
    monkeypatch.setenv("HOOK_URL", f"{fake.url}/hooks/incident")
    workspace.write_config(extra=HOOK)
    try:
        yield fake
    finally:
        fake.stop()


def _failed_update(workspace, hook) -> str:
    """An apology reaches every channel; the update then gets a 400 from the webhook."""
    workspace.open_incident()
    apology = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("approve", apology, "--as", "ana").exit_code == 0
    update = workspace.render("--case", "2", "--template", "update", "--var", "progress=cards work again")
    hook.then(Reply(400, {"error": "unknown event schema"}))
    failed = workspace.run("approve", update, "--as", "ana")
    assert failed.exit_code == 1
    assert f"publish send {update} --retry hook --reason TEXT" in failed.output
    assert "resumes" not in failed.output
    return update


def test_status_lists_an_approved_draft_that_failed_even_where_an_earlier_one_arrived(workspace, hook):
    update = _failed_update(workspace, hook)
    status = json.loads(workspace.run("status", "1", "--json").output)[0]
    assert {c["name"]: c["state"] for c in status["channels"]}["hook"] == "delivered"
    [item] = status["undelivered"]
    assert (item["draft"], item["template"], item["channel"], item["state"]) == (update, "update", "hook",
                                                                                 "failed-permanent")
    assert "unknown event schema" in item["reason"] and "--retry hook" in item["next"]
    text = workspace.run("status", "1", env={"COLUMNS": "400"}).output
    assert "Approved, not delivered everywhere:" in text
    line = next(line for line in text.splitlines() if line.startswith(update))
    assert "failed-permanent" in line and "unknown event schema" in line
    assert (f"  {update} on hook: fix the cause, then an approver runs `publish send {update} --retry hook "
            "--reason TEXT`") in text.splitlines()


def test_status_says_what_to_run_for_each_state(workspace, hook):
    update = _failed_update(workspace, hook)
    assert workspace.run("freeze", "--reason", "legal review").exit_code == 0
    other = workspace.render("--case", "2", "--template", "resolution", "--solution", "a second card processor")
    assert workspace.run("approve", other, "--as", "ana").exit_code == 0
    status = json.loads(workspace.run("status", "1", "--json").output)[0]
    waiting = {(item["draft"], item["channel"]): item for item in status["undelivered"]}
    assert {key for key in waiting if key[0] == other} == {(other, "web"), (other, "outbox"), (other, "hook")}
    assert all(item["held"] and item["state"] == "not sent" and "publish unfreeze --reason TEXT --send"
               in item["next"] for key, item in waiting.items() if key[0] == other)
    held_failure = waiting[(update, "hook")]
    assert held_failure["state"] == "failed-permanent" and held_failure["next"].startswith(
        f"once the freeze is lifted, fix the cause, then an approver runs `publish send {update} --retry hook")


def test_retry_after_a_fix_is_for_approvers_and_logged_with_the_reason(workspace, hook):
    update = _failed_update(workspace, hook)
    operator = workspace.run("send", update, "--retry", "hook", "--reason", "schema fixed", "--as", "marta")
    assert operator.exit_code == 2 and "only an approver can retry a channel that failed permanently" in operator.output
    no_reason = workspace.run("send", update, "--retry", "hook", "--as", "ana")
    assert no_reason.exit_code == 2 and "--reason must say why" in no_reason.output
    plain = workspace.run("send", update, "--as", "ana")
    assert plain.exit_code == 1 and len(hook.requests) == 2
    retried = workspace.run("send", update, "--retry", "hook", "--reason", "schema fixed by the receiver team",
                            "--as", "ana")
    assert retried.exit_code == 0, retried.output
    assert "Retry of hook authorised by ana: schema fixed by the receiver team" in retried.output
    assert len(hook.requests) == 3
    log = json.loads(workspace.run("log", "--json").output)
    [authorised] = [event for event in log if event["kind"] == "delivery.retry"]
    assert authorised["actor"] == "ana" and authorised["channel"] == "hook"
    assert authorised["data"]["reason"] == "schema fixed by the receiver team"
    assert "unknown event schema" in authorised["data"]["failure"]
    assert json.loads(workspace.run("status", "1", "--json").output)[0]["undelivered"] == []
    again = workspace.run("send", update, "--retry", "hook", "--reason", "once more", "--as", "ana")
    assert again.exit_code == 2 and "already delivered on hook" in again.output


def test_retry_is_refused_where_a_plain_send_resumes(workspace, hook):
    workspace.open_incident()
    draft = workspace.render("--case", "2", "--template", "apology")
    hook.then(*[Reply(503, {"error": "down"})] * 12)
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 1
    refused = workspace.run("send", draft, "--retry", "hook", "--reason", "it is back", "--as", "ana")
    assert refused.exit_code == 2 and f"`publish send {draft}` resumes it without --retry" in refused.output
    stray = workspace.run("send", draft, "--reason", "why not", "--as", "ana")
    assert stray.exit_code == 2 and "--reason goes with --retry CHANNEL" in stray.output


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed")
def test_with_signing_on_a_retry_is_signed_by_the_approver(workspace, hook, tmp_path):
    keys = make_keys(tmp_path / "keys", "ana", "mallory")
    allowed_signers(workspace, keys, "ana")
    turn_signing_on(workspace)
    workspace.open_incident()
    draft = workspace.render("--case", "2", "--template", "apology")
    hook.then(Reply(400, {"error": "unknown event schema"}))
    assert workspace.run("approve", draft, "--as", "ana", "--key", str(keys["ana"])).exit_code == 1
    forged = workspace.run("send", draft, "--retry", "hook", "--reason", "fixed", "--as", "ana",
                           "--key", str(keys["mallory"]))
    assert forged.exit_code == 2 and "nothing was recorded" in forged.output
    retried = workspace.run("send", draft, "--retry", "hook", "--reason", "fixed", "--as", "ana",
                            "--key", str(keys["ana"]))
    assert retried.exit_code == 0, retried.output
    [event] = [e for e in json.loads(workspace.run("log", "--json").output) if e["kind"] == "delivery.retry"]
    assert event["data"]["signature"]["scheme"] == "ssh"
    assert workspace.run("log", "verify").exit_code == 0
