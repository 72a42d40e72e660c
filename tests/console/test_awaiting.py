"""The console opens on "Awaiting me" (the same `publisher.evidence.awaiting` list as
`publish awaiting`), a draft page shows its text before the button, and every action
the command line has for an approver exists on the console, signed by passkey: send
(after a freeze), retry a failed channel with a reason, unfreeze and send what waited,
void. Approvers ana and luis, operator marta."""
from __future__ import annotations

import json
import re
import time

import pytest

from tests.console.support import https_console
from tests.fakes.server import Reply
from tests.fakes.webhooks import ReceiverFake

pytestmark = pytest.mark.servers

HOOK = """
[channels.hook]
type = "webhook"
url = "${HOOK_URL}"
"""


def _kinds(workspace) -> list[str]:
    return [kind for _, kind in workspace.events()]


def _until(check) -> None:
    """Wait for a delivery run on the console's background thread to reach the log."""
    for _ in range(400):
        if check():
            return
        time.sleep(0.05)


def _signed(console, client, person: str, path: str, **fields):
    body, headers = console.sign(client, person, path, **fields)
    return client.post(path, json=body, headers=headers)


def test_the_console_opens_on_what_awaits_me_as_the_command_line_lists_it(workspace):
    console = https_console(workspace)
    older = workspace.open_incident(case=2, hours_ago=10)
    draft = workspace.render("--case", "2", "--template", "apology", "--incident", older, user="marta")
    client = console.login("ana")
    page = client.get("/").text
    assert page.index("Awaiting me") < page.index("Drafts you may approve") < page.index("Incidents</h2>")
    assert f"/drafts/{draft}" in page and "Others who may approve: luis" in page
    assert re.search(r"12 h \(prepare\): [12] h \d\d min left", page)
    listed = json.loads(workspace.run("awaiting", "--json", user="ana").output)
    assert [item["draft"] for item in listed["to_approve"]] == [draft]
    marta = console.login("marta").get("/").text
    assert "Drafts you may approve" not in marta and "Your drafts" in marta and f"/drafts/{draft}" in marta


def test_the_draft_page_shows_deadline_then_text_then_changes_then_the_buttons(workspace):
    console = https_console(workspace)
    workspace.open_incident(case=2)
    first = workspace.render("--case", "2", "--template", "apology", user="marta")
    draft = workspace.render("--case", "2", "--template", "apology", "--lang", "es",
                             "--var", "what=la caída de los pagos con tarjeta", user="marta")
    page = console.login("ana").get(f"/drafts/{draft}").text
    banner = page.index("12 h (prepare)")
    text = page.index('class="preview')
    changes = page.index(f"Changes from draft {first}")
    button = page.index("Approve with my passkey")
    assert banner < text < changes < button
    assert "Publishing is not frozen." in page and 'class="actionbar"' in page
    assert "<h4" not in page and " hx-" not in page and "data-hx-get" in page


def test_after_a_freeze_the_console_sends_what_waited(workspace):
    console = https_console(workspace)
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", user="marta")
    assert workspace.run("freeze", "--reason", "tracing a leak", user="luis").exit_code == 0
    assert workspace.run("approve", draft, user="ana").exit_code == 0
    client = console.login("luis")
    held = client.get(f"/drafts/{draft}").text
    assert "Reason, as typed: tracing a leak" in held and "Send with my passkey" not in held
    assert "publish unfreeze" not in client.get("/incidents/1").text
    lifted = _signed(console, client, "luis", "/unfreeze", reason="leak traced")
    assert lifted.status_code == 200, lifted.text
    page = client.get(f"/drafts/{draft}").text
    assert "Send with my passkey" in page
    assert f"/drafts/{draft}/send" in client.get("/").text
    sent = _signed(console, client, "luis", f"/drafts/{draft}/send")
    assert sent.status_code == 200 and sent.json()["redirect"] == f"/drafts/{draft}"
    _until(lambda: _kinds(workspace).count("delivery.delivered") == 2)
    assert _kinds(workspace).count("delivery.delivered") == 2
    assert workspace.run("log", "verify").exit_code == 0


def test_unfreezing_with_send_sends_every_draft_that_waited(workspace):
    console = https_console(workspace)
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", user="marta")
    assert workspace.run("freeze", "--reason", "legal review", user="luis").exit_code == 0
    assert workspace.run("approve", draft, user="ana").exit_code == 0
    client = console.login("luis")
    lifted = _signed(console, client, "luis", "/incidents/1/unfreeze", reason="cleared", send="1")
    assert lifted.status_code == 200, lifted.text
    _until(lambda: _kinds(workspace).count("delivery.delivered") == 2)
    assert _kinds(workspace).count("delivery.delivered") == 2


def test_an_operator_cannot_send_from_the_console(workspace):
    console = https_console(workspace)
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", user="marta")
    client = console.login("marta")
    headers = {"X-CSRF-Token": console.csrf(client, "/")}
    assert client.post(f"/drafts/{draft}/send/options", json={}, headers=headers).status_code == 403


def test_a_failed_channel_is_retried_from_the_console_with_a_reason(workspace, monkeypatch):
    fake = ReceiverFake().start()
    try:
        monkeypatch.setenv("HOOK_URL", f"{fake.url}/hooks/incident")
        console = https_console(workspace, extra=HOOK)
        workspace.open_incident(case=2)
        draft = workspace.render("--case", "2", "--template", "apology", user="marta")
        fake.then(Reply(400, {"error": "unknown event schema"}))
        assert workspace.run("approve", draft, user="ana").exit_code == 1
        client = console.login("ana")
        page = client.get(f"/drafts/{draft}").text
        assert "hook failed: why is it safe to try again now?" in page
        headers = {"X-CSRF-Token": console.csrf(client, "/")}
        no_reason = client.post(f"/drafts/{draft}/retry/options", json={"channel": "hook"}, headers=headers)
        assert no_reason.status_code == 400 and "--reason must say why" in no_reason.json()["error"]
        retried = _signed(console, client, "ana", f"/drafts/{draft}/retry", channel="hook",
                          reason="schema fixed by the receiver team")
        assert retried.status_code == 200, retried.text
        _until(lambda: len(fake.requests) == 2 and "delivery.delivered" in _kinds(workspace)[-3:])
        log = json.loads(workspace.run("log", "--json").output)
        [authorised] = [event for event in log if event["kind"] == "delivery.retry"]
        assert authorised["actor"] == "ana" and authorised["data"]["signature"]["scheme"] == "webauthn"
        assert len(fake.requests) == 2
        assert workspace.run("log", "verify").exit_code == 0
    finally:
        fake.stop()


def test_an_incident_is_voided_from_the_console_signed_by_passkey(workspace):
    console = https_console(workspace)
    incident = workspace.open_incident(case=2)
    client = console.login("ana")
    assert "Void this incident" in client.get(f"/incidents/{incident}").text
    voided = _signed(console, client, "ana", f"/incidents/{incident}/void", reason="a drill typed as real")
    assert voided.status_code == 200, voided.text
    page = client.get(f"/incidents/{incident}").text
    assert "void: no verdict" in page and "a drill typed as real" in page
    assert workspace.run("log", "verify").exit_code == 0


def test_the_spanish_console_has_no_english_state_word(workspace):
    console = https_console(workspace)
    workspace.open_incident(case=2, hours_ago=13)
    draft = workspace.render("--case", "2", "--template", "apology", user="marta")
    client = console.login("ana")
    for path in ("/?lang=es", f"/drafts/{draft}?lang=es", "/incidents/1?lang=es"):
        page = client.get(path).text
        assert "Lo que me espera" in page or "Borrador" in page or "Incidente" in page
        for english in ("awaiting approval", ">pending<", ">open<", ">done<", ">due<", ">late<", " left", " late<", " public ",
                        "PASS", "FAIL"):
            assert english not in page, (path, english)


def test_a_send_while_frozen_or_for_an_unknown_channel_is_refused_in_one_sentence(workspace):
    console = https_console(workspace)
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", user="marta")
    assert workspace.run("freeze", "--reason", "legal review", user="luis").exit_code == 0
    assert workspace.run("approve", draft, user="ana").exit_code == 0
    client = console.login("ana")
    before = workspace.events()
    refused = _signed(console, client, "ana", f"/drafts/{draft}/send")
    assert refused.status_code == 409 and "frozen" in refused.json()["error"]
    headers = {"X-CSRF-Token": console.csrf(client, "/")}
    unknown = client.post(f"/drafts/{draft}/retry/options", json={"channel": "nowhere", "reason": "fixed"},
                          headers=headers)
    assert unknown.status_code == 400 and "has no such channel" in unknown.json()["error"]
    assert "Traceback" not in refused.text + unknown.text
    assert not [kind for _, kind in workspace.events()[len(before):] if kind.startswith("delivery.")]
