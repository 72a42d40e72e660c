"""Issue 22, item 3: a freeze has a scope and an allow-list. A case 3 incident freezes
every incident (its seed: "No utilices mensajeros, redes sociales ni correo electrónico"
while the leak is traced) and nothing is posted on a held channel, internal or public,
notices and invitations included; the allowed channel still carries the notices. A
freeze of one incident holds only that incident.

The internal Slack webhook answers 200 "ok" as https://api.slack.com/messaging/webhooks
says; the e-mail goes to a real SMTP server on loopback (aiosmtpd)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.fakes.server import FakeServer, Reply
from tests.fakes.smtp_server import SmtpServer

pytestmark = pytest.mark.servers

ALLOWED = '\n[channels.cabinet-console]\ntype = "outbox"\npath = "var/cabinet-console"\naudience = "internal"\n'


@pytest.fixture
def channels(workspace, monkeypatch):
    """ana has an e-mail address; the cabinet's Slack room and its outbox are internal."""
    with SmtpServer("none") as smtp, \
            FakeServer(lambda request: Reply(200, "ok", {"Content-Type": "text/html"})) as slack:
        monkeypatch.setenv("CABINET_WEBHOOK", f"{slack.url}/services/T0/B0/secret")

        def configure(extra: str = "") -> None:
            workspace.write_config(extra=(
                f'\n[channels.mail]\ntype = "email"\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
                'sender = "Acme <crisis@acme.example>"\nrecipients = ["newsroom@example.org"]\n'
                '\n[channels.slack]\ntype = "slack"\naudience = "internal"\nwebhook_url = "${CABINET_WEBHOOK}"\n'
                + ALLOWED + extra))

        configure()
        assert workspace.run("people", "add", "ana", "--email", "ana@acme.example", "--as", "ana").exit_code == 0
        yield smtp, slack, configure


def open_case(workspace, case: int) -> str:
    first_seen = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="seconds")
    opened = workspace.run("incident", "open", "--case", str(case), "--first-seen", first_seen, "--summary",
                           "customer data was published by mistake", "--what", "the customer data leak", "--json")
    assert opened.exit_code == 0, opened.output
    return json.loads(opened.output)["id"]


def allowed_files(workspace) -> list[str]:
    folder = workspace.path / "var" / "cabinet-console"
    return [path.read_text(encoding="utf-8") for path in sorted(folder.iterdir())] if folder.exists() else []


def test_a_case_3_freeze_holds_everything_and_only_the_allowed_channel_hears(workspace, channels):
    smtp, slack, configure = channels
    configure('\n[freeze]\nallow = ["cabinet-console"]\n')
    assert workspace.run("people", "add", "vera", "--role", "viewer", "--email", "vera@acme.example",
                         "--as", "ana").exit_code == 0
    update = open_case(workspace, 2)
    leak = open_case(workspace, 3)
    frozen = json.loads(workspace.run("status", update, "--json").output)[0]["frozen"]
    assert frozen and f"incident {leak} opened (case 3)" in frozen["reason"]
    event = [e for e in json.loads(workspace.run("log", "--json").output) if e["kind"] == "freeze"][0]
    assert event["data"]["scope"] == "all" and event["data"]["automatic"] is True

    draft = workspace.render("--incident", update, "--case", "2", "--template", "apology", "--channel", "web")
    assert not smtp.received and not slack.requests, "nothing on a held channel, internal or public"
    assert any(draft in text for text in allowed_files(workspace))
    approved = workspace.run("approve", draft, "--as", "ana")
    assert approved.exit_code == 0 and "frozen" in approved.output, approved.output
    assert not (workspace.path / "var" / "site").exists() or not any((workspace.path / "var" / "site").rglob("*.html"))

    invited = workspace.run("users", "invite", "vera", user="ana")
    assert invited.exit_code == 2 and "holds mail" in invited.output and "--in-person" in invited.output
    assert not smtp.received and not slack.requests
    recorded = [e for e in json.loads(workspace.run("log", "--json").output) if e["kind"] == "notice.sent"]
    assert recorded[-1]["data"]["held"] == ["mail", "slack"] and recorded[-1]["data"]["channels"] == ["cabinet-console"]
    assert workspace.run("log", "verify").exit_code == 0


def test_a_freeze_of_one_incident_holds_only_that_incident(workspace, channels):
    smtp, slack, configure = channels
    leak = open_case(workspace, 2)
    other = open_case(workspace, 1)
    held = workspace.run("freeze", "--reason", "legal review of the apology", "--incident", leak)
    assert held.exit_code == 0, held.output
    assert f"It holds the drafts and notices of incident {leak}" in held.output
    assert "Notices go only through: the console." in held.output

    frozen_draft = workspace.render("--incident", leak, "--case", "2", "--template", "apology", "--channel", "web")
    assert not smtp.received and not slack.requests
    free_draft = workspace.render("--incident", other, "--case", "1", "--template", "external-causes",
                                  "--channel", "web")
    assert [mail.rcpt_tos for mail in smtp.received] == [["ana@acme.example"]]
    assert free_draft in smtp.received[0].message.get_body(("plain",)).get_content()

    waits = workspace.run("approve", frozen_draft, "--as", "ana")
    assert waits.exit_code == 0 and "frozen" in waits.output and "Sending draft" not in waits.output
    sent = workspace.run("approve", free_draft, "--as", "ana")
    assert sent.exit_code == 0 and "frozen" not in sent.output, sent.output
    drafts = {d["id"]: d for d in json.loads(workspace.run("drafts", "list", "--json").output)}
    assert drafts[free_draft]["channels"]["web"] == "delivered"
    assert drafts[frozen_draft]["channels"]["web"] != "delivered"

    everything = workspace.run("freeze", "--reason", "the leak spreads", "--all", "--allow", "cabinet-console")
    assert everything.exit_code == 0 and "every incident's drafts and notices" in everything.output
    assert "Notices go only through: cabinet-console." in everything.output
    twice = workspace.run("freeze", "--reason", "again", "--incident", other)
    assert twice.exit_code == 2 and "already frozen" in twice.output
    two = workspace.run("unfreeze", "--reason", "cleared", "--as", "luis")
    assert two.exit_code == 2 and "name the one to lift with --freeze" in two.output
    assert "Traceback" not in two.output


def test_a_freeze_refuses_an_unknown_allowed_channel_and_a_bad_config(workspace, channels):
    smtp, slack, configure = channels
    unknown = workspace.run("freeze", "--reason", "leak", "--allow", "signal")
    assert unknown.exit_code == 2 and "--allow signal: no such channel" in unknown.output
    assert not [e for e in json.loads(workspace.run("log", "--json").output) if e["kind"] == "freeze"]
    configure('\n[freeze]\nallow = ["nowhere"]\n')
    bad = workspace.run("status")
    assert bad.exit_code == 2 and "[freeze] allow" in bad.output and "channel names" in bad.output
    configure('\n[notices]\nescalate_after = 0\n')
    bad = workspace.run("status")
    assert bad.exit_code == 2 and "escalate_after" in bad.output


@pytest.mark.skipif(__import__("shutil").which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed")
def test_a_scoped_freeze_is_signed_and_an_automatic_freeze_counts_only_after_its_opening(workspace, tmp_path):
    from tests.trust_support import allowed_signers, make_keys, rewrite_log, turn_signing_on

    keys = make_keys(tmp_path / "keys", "ana", "luis")
    workspace.write_config(extra=ALLOWED)
    allowed_signers(workspace, keys, "ana", "luis")
    turn_signing_on(workspace)
    calm = open_case(workspace, 2)
    scoped = workspace.run("freeze", "--reason", "legal review", "--incident", calm, "--allow", "cabinet-console",
                           "--as", "ana", "--key", str(keys["ana"]))
    assert scoped.exit_code == 0, scoped.output
    leak = open_case(workspace, 3)
    events = json.loads(workspace.run("log", "--json").output)
    freezes = [e for e in events if e["kind"] == "freeze"]
    assert freezes[0]["data"]["scope"] == "incident" and freezes[0]["data"]["allow"] == ["cabinet-console"]
    assert freezes[0]["data"]["signature"]["scheme"] == "ssh"
    assert freezes[1]["incident"] == leak and freezes[1]["data"]["automatic"] is True
    assert "signature" not in freezes[1]["data"]
    assert workspace.run("log", "verify").exit_code == 0, "the case 3 freeze follows its own opening"

    rewrite_log(workspace, append=({"kind": "freeze", "actor": "marta", "incident": calm,
                                    "data": {"reason": "forged", "scope": "all", "automatic": True}},))
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 1 and "freeze" in verified.output, verified.output


def test_the_freeze_and_the_notices_speak_spanish(workspace, channels):
    smtp, slack, configure = channels
    leak = open_case(workspace, 2)
    spanish = {"PUBLISH_LANG": "es"}
    held = workspace.run("freeze", "--reason", "revisión legal", "--incident", leak, env=spanish)
    assert held.exit_code == 0, held.output
    assert f"Retiene los borradores y avisos de la incidencia {leak}" in held.output
    assert "Los avisos solo salen por: la consola." in held.output
    unknown = workspace.run("notices", "ack", "rendered:nada", "--as", "ana", env=spanish)
    assert unknown.exit_code == 2 and "no hay ningún aviso rendered:nada en el registro" in unknown.output
    assert "Todavía no hay ningún aviso." in workspace.run("notices", "list", env=spanish).output
