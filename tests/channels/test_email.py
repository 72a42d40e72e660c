"""The email channel against real SMTP servers on loopback (aiosmtpd, raw sockets)."""
from __future__ import annotations

import logging
import re
import subprocess
import sys
from base64 import b64encode
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from channels.base import Message, Permanent, Receipt, Retryable, SettingError
from channels.email import EmailChannel
from tests.fakes.smtp_server import ScriptedServer, SmtpServer, free_port, self_signed_cert

pytestmark = pytest.mark.servers

USER = "press@acme.example"
GOOD = "right-horse-battery"
CANARY = "CANARY-email-9f8e7d"
TITLE = 'Outage update <script>alert(1)</script> & "quotes"'
TEXT = ('We are aware of the outage affecting payments.\n'
        'Engineers are on it <script>alert(1)</script> & "quotes".\n\n'
        'Next update at 14:00 UTC. Café ünïcode.')
RECIPIENTS = ["desk@news.example", "Ops Team <ops@acme.example>"]


def message(draft_id: str = "INC-7-d3", **changes) -> Message:
    fields = dict(draft_id=draft_id, channel="press-mail", parts=(TEXT,), title=TITLE, incident_id="INC-7",
                  template="holding", language="en", case=1)
    return Message(**{**fields, **changes})


@pytest.fixture(scope="session")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def servers():
    started: list = []

    def make(kind="none", **options):
        server = ScriptedServer(**options) if kind == "scripted" else SmtpServer(kind, **options)
        server.__enter__()
        started.append(server)
        return server

    yield make
    for server in reversed(started):
        server.__exit__(None, None, None)


def channel(port: int, password: str | None = None, secrets=frozenset(), **settings) -> EmailChannel:
    raw = {"type": "email", "host": "127.0.0.1", "port": port, "security": "none",
           "sender": f"Acme Press <{USER}>", "recipients": list(RECIPIENTS), "timeout": 5, **settings}
    if password is not None:
        raw.update(username=USER, password=password)
    return EmailChannel.build("press-mail", raw, secrets=secrets)


# Each case: (server kind, server options, channel settings, expected outcome).
# "PW" in a users table or as the password stands for the password under test.
TLS = {"security": "starttls", "tls_ca_file": "CA", "password": "PW"}
CASES = {
    "starttls-login-ok": ("starttls", {"users": {USER: "PW"}}, TLS, (Receipt, 2)),
    "ssl-login-ok": ("ssl", {"users": {USER: "PW"}}, {**TLS, "security": "ssl"}, (Receipt, 2)),
    "plain-loopback-login-ok": ("none", {"users": {USER: "PW"}, "auth_require_tls": False},
                                {"password": "PW"}, (Receipt, 2)),
    "one-recipient-refused": ("starttls", {"users": {USER: "PW"},
                                           "replies": {"RCPT": {"desk@news.example": "550 5.1.1 No such user"}}},
                              TLS, (Receipt, 1)),
    "mail-from-452": ("starttls", {"users": {USER: "PW"}, "replies": {"MAIL": "452 4.3.1 Insufficient storage"}},
                      TLS, (Retryable, False, "452 4.3.1 Insufficient storage")),
    "rcpt-451": ("starttls", {"users": {USER: "PW"}, "replies": {"RCPT": "451 4.7.1 Greylisted, try later"}},
                 TLS, (Retryable, False, "451 4.7.1 Greylisted, try later")),
    "rcpt-550": ("starttls", {"users": {USER: "PW"}, "replies": {"RCPT": "550 5.1.1 Mailbox unavailable"}},
                 TLS, (Permanent, None, "550 5.1.1 Mailbox unavailable")),
    "data-451": ("starttls", {"users": {USER: "PW"}, "replies": {"DATA": "451 4.3.0 Queue unavailable"}},
                 TLS, (Retryable, False, "451 4.3.0 Queue unavailable")),
    "data-554": ("starttls", {"users": {USER: "PW"}, "replies": {"DATA": "554 5.7.1 Rejected as spam"}},
                 TLS, (Permanent, None, "554 5.7.1 Rejected as spam")),
    "bad-password": ("starttls", {"users": {USER: "not-this-one"}}, TLS, (Permanent, None, "authentication failed")),
    "auth-only-after-tls": ("none", {"users": {USER: "PW"}}, {"password": "PW"},
                            (Permanent, None, "AUTH extension not supported")),
    "data-timeout": ("starttls", {"users": {USER: "PW"}, "data_delay": 1.0}, {**TLS, "timeout": 0.3},
                     (Retryable, True, "before the timeout")),
    "data-reset": ("starttls", {"users": {USER: "PW"}, "data_reset": True}, TLS,
                   (Retryable, True, "closed the connection")),
    "greeting-421": ("scripted", {"greeting": b"421 4.3.2 mail.test busy, try later\r\n"}, {"password": "PW"},
                     (Retryable, False, "421 4.3.2 mail.test busy, try later")),
    "greeting-stall": ("scripted", {}, {"password": "PW", "timeout": 0.3}, (Retryable, False, "before the timeout")),
    "connection-refused": ("closed", {}, {**TLS}, (Retryable, False, "refused the connection")),
    "untrusted-certificate": ("starttls", {"users": {USER: "PW"}}, {**TLS, "tls_ca_file": None},
                              (Permanent, None, "is not trusted: self-signed certificate")),
    "starttls-not-offered": ("none", {}, {**TLS}, (Permanent, None, "does not offer STARTTLS")),
    "ssl-to-plain-server": ("none", {}, {**TLS, "security": "ssl"}, (Permanent, None, "TLS with 127.0.0.1")),
}


def run_case(name: str, password: str, servers, cert, secrets=frozenset()):
    kind, server_options, settings, expected = CASES[name]
    options = dict(server_options)
    if "users" in options:
        options["users"] = {u: password if p == "PW" else p for u, p in options["users"].items()}
    if kind in ("starttls", "ssl"):
        options["cert"] = cert
    server = servers(kind, **options) if kind != "closed" else None
    port = server.port if server else free_port()
    settings = {k: v for k, v in settings.items() if v is not None}
    if settings.get("tls_ca_file") == "CA":
        settings["tls_ca_file"] = str(cert[0])
    pw = password if settings.pop("password", None) == "PW" else None
    made = channel(port, pw, secrets=secrets, **settings)
    try:
        return server, made, made.send(message()), expected
    except (Retryable, Permanent) as error:
        return server, made, error, expected


@pytest.mark.parametrize("name", list(CASES))
def test_case_table(name, servers, cert):
    server, made, outcome, expected = run_case(name, GOOD, servers, cert)
    if expected[0] is Receipt:
        assert isinstance(outcome, Receipt), outcome
        assert len(server.received) == 1
        got = server.received[0]
        assert got.mail_from == USER
        assert len(got.rcpt_tos) == len(outcome.extra["accepted"]) == expected[1]
        assert outcome.id == got.message["Message-ID"] == made.message_id(message())
        assert outcome.extra["server_reply"].startswith("2.0.0 Ok: queued as Q1")
        if getattr(server, "auth_attempts", None):
            assert server.auth_attempts == [("PLAIN", USER, True)]
        if expected[1] == 1:
            assert outcome.extra["refused"] == {"desk@news.example": "550 5.1.1 No such user"}
        return
    kind, maybe_delivered, text = expected
    assert type(outcome) is kind, outcome
    assert text in outcome.reason
    if kind is Retryable:
        assert outcome.retry_after is None
        assert outcome.maybe_delivered is maybe_delivered
    if isinstance(server, SmtpServer):
        assert server.received == []


def test_message_content(servers, cert):
    server = servers("starttls", cert=cert, users={USER: GOOD})
    made = channel(server.port, GOOD, security="starttls", tls_ca_file=str(cert[0]))
    before = datetime.now().astimezone().replace(microsecond=0)
    receipt = made.send(message())
    got = server.received[0]
    assert got.rcpt_tos == ["desk@news.example", "ops@acme.example"]
    mail = got.message
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail["Subject"] == TITLE
    assert mail["From"] == f"Acme Press <{USER}>"
    assert mail["To"] == "undisclosed-recipients:;"
    assert mail["X-Publish-Draft"] == "INC-7-d3"
    assert mail["Message-ID"] == receipt.id == "<INC-7-d3.press-mail@acme.example>"
    sent_at = parsedate_to_datetime(mail["Date"])
    assert datetime.fromisoformat(receipt.platform_time) == sent_at >= before
    assert receipt.url is None

    plain = mail.get_body(("plain",)).get_content()
    assert plain.replace("\r\n", "\n") == TEXT + "\n"
    page = mail.get_body(("html",)).get_content()
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;" in page
    assert "<title>Outage update &lt;script&gt;" in page
    assert page.count("<p>") == 2
    assert "affecting payments.<br>" in page
    assert "Café ünïcode." in page


def test_message_id_is_stable_and_distinct(servers):
    server = servers("none")
    made = channel(server.port)
    first, second = made.send(message()), made.send(message())
    other = made.send(message(draft_id="INC-7-d4"))
    ids = [r.message["Message-ID"] for r in server.received]
    assert ids[0] == ids[1] == first.id == second.id
    assert ids[2] == other.id != first.id
    assert first.platform_time and first.extra["accepted"] == ["desk@news.example", "ops@acme.example"]


@pytest.mark.parametrize("draft_id, expected", [
    ("a b<c>@d", "<a=20b=3Cc=3E=40d.press-mail@acme.example>"),
    ("x.y", "<x=2Ey.press-mail@acme.example>"),
    ("é=", "<=C3=A9=3D.press-mail@acme.example>"),
])
def test_message_id_is_a_valid_id(draft_id, expected):
    made = channel(25)
    assert made.message_id(message(draft_id=draft_id)) == expected


def test_check_logs_in_without_sending(servers, cert):
    server = servers("starttls", cert=cert, users={USER: GOOD})
    made = channel(server.port, GOOD, security="starttls", tls_ca_file=str(cert[0]))
    assert made.check() == f"127.0.0.1:{server.port} answered over STARTTLS, logged in as {USER}"
    assert server.auth_attempts == [("PLAIN", USER, True)]
    assert "NOOP" in server.commands and "MAIL" not in server.commands and "DATA" not in server.commands
    assert server.received == []


def test_check_failures(servers, cert):
    server = servers("starttls", cert=cert, users={USER: GOOD})
    with pytest.raises(Permanent, match="authentication failed"):
        channel(server.port, "wrong", security="starttls", tls_ca_file=str(cert[0])).check()
    with pytest.raises(Permanent, match="is not trusted"):
        channel(server.port, GOOD, security="starttls").check()
    with pytest.raises(Retryable, match="refused the connection") as refused:
        channel(free_port(), GOOD, security="starttls").check()
    assert refused.value.maybe_delivered is False
    with pytest.raises(Permanent, match="cannot load tls_ca_file"):
        channel(server.port, GOOD, security="starttls", tls_ca_file="/nonexistent/ca.pem").check()


def test_canary_password_never_leaks(servers, cert, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("mail.log", "asyncio", "channels.email"):
        caplog.set_level(logging.DEBUG, logger=name)
    forms = [CANARY, b64encode(CANARY.encode()).decode(), b64encode(f"\0{USER}\0{CANARY}".encode()).decode()]
    outputs = []
    for name in CASES:
        server, made, outcome, _ = run_case(name, CANARY, servers, cert, secrets=frozenset({CANARY}))
        outputs += [repr(made), str(made.describe()), repr(outcome), str(outcome)]
        if isinstance(outcome, Exception):
            outputs += [outcome.reason, repr(outcome.args), repr(outcome.__context__), repr(outcome.__cause__)]
        try:
            made.check()
            outputs.append("checked")
        except (Retryable, Permanent) as error:
            outputs += [error.reason, repr(error)]
    outputs += [record.getMessage() for record in caplog.records]
    outputs.append(caplog.text)
    assert any(record.name.startswith("mail.log") for record in caplog.records)
    assert any("authentication failed" in text for text in outputs)
    for text in outputs:
        for form in forms:
            assert form not in text


def test_settings_are_validated():
    base = {"type": "email", "host": "smtp.acme.example", "sender": USER, "recipients": ["a@b.example"]}
    made = EmailChannel.build("m", {**base, "username": USER, "password": CANARY})
    assert made.port == 587 and made.security == "starttls"
    assert made.describe()["password"] == "****"
    assert EmailChannel.build("m", {**base, "security": "ssl"}).port == 465
    bad = [
        ({k: v for k, v in base.items() if k != "host"}, "host"),
        ({**base, "recipients": []}, "recipients"),
        ({**base, "recipients": ["not an address"]}, "recipients"),
        ({**base, "recipients": "a@b.example"}, "recipients"),
        ({**base, "sender": "press@acme.example\r\nBcc: x@evil.example"}, "sender"),
        ({**base, "security": "tls"}, "security"),
        ({**base, "password": "x"}, "username"),
        ({**base, "username": USER}, "password"),
        ({**base, "security": "none", "username": USER, "password": "x"}, "security"),
        ({**base, "api_url": "http://x"}, "api_url"),
    ]
    for raw, key in bad:
        with pytest.raises(SettingError) as error:
            EmailChannel.build("m", raw)
        assert error.value.key == key


def test_title_cannot_inject_headers(servers):
    server = servers("none")
    channel(server.port).send(message(title="Update\r\nBcc: spy@evil.example"))
    mail = server.received[0].message
    assert mail["Subject"] == "Update Bcc: spy@evil.example"
    assert mail["Bcc"] is None and server.received[0].rcpt_tos == ["desk@news.example", "ops@acme.example"]


def test_import_loads_no_mail_stack():
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import channels.email"],
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], check=True)
    loaded = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()}
    assert "channels.email" in loaded
    assert not loaded & {"smtplib", "ssl", "requests", "tweepy", "telegram", "facebook", "httpx"}
    assert not any(re.fullmatch(r"aiosmtpd.*", name) for name in loaded)


def test_recipients_are_listed_in_to_only_when_asked():
    with SmtpServer("none") as server:
        channel(server.port, show_recipients=True).send(message())
        channel(server.port).send(message("INC-7-d4"))
    shown, hidden = (received.message for received in server.received)
    assert shown["To"] == ", ".join(RECIPIENTS)
    assert hidden["To"] == "undisclosed-recipients:;"
    assert server.received[1].rcpt_tos == server.received[0].rcpt_tos == ["desk@news.example", "ops@acme.example"]


@pytest.mark.parametrize("language", ["es", "en"])
def test_both_parts_say_the_language_and_a_from_line_survives_a_mailbox(servers, language):
    text = ("Hola a todos:\n\nFrom Monday the payment page is back.\nFrom now on we test every release.\n\n"
            "El equipo de Acme")
    server = servers("none")
    channel(server.port).send(message(parts=(text,), language=language))
    mail = server.received[0].message
    wire = server.received[0].content.decode("ascii").replace("\r\n", "\n")
    assert not re.search(r"^>?From ", wire.split("\n\n", 1)[1], re.M)
    assert "=46rom Monday" in wire
    page = mail.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert page.startswith(f'<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">')
    assert [part["Content-Language"] for part in mail.iter_parts()] == [language, language]
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n") == text + "\n"
    assert "From Monday the payment page is back.<br>" in page
    mbox = subprocess.run([sys.executable, "-c", MBOX_ROUND_TRIP], input=wire, capture_output=True, text=True)
    assert mbox.returncode == 0, mbox.stderr
    assert ">From" not in mbox.stdout and "From Monday the payment page is back." in mbox.stdout


MBOX_ROUND_TRIP = """
import mailbox, sys, tempfile, os, email
path = os.path.join(tempfile.mkdtemp(), "box")
box = mailbox.mbox(path)
box.add(email.message_from_string(sys.stdin.read()))
box.flush()
for mail in mailbox.mbox(path):
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            print(part.get_payload(decode=True).decode())
"""


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_html_part_is_valid_html(servers, language, tmp_path):
    """The HTML part of a real statement, as it reaches the mailbox, passes vnu with 0 errors."""
    from tests.html_validator import vnu_errors, vnu_missing

    if vnu_missing():
        pytest.skip(vnu_missing())
    server = servers("none")
    channel(server.port).send(message(parts=(TEXT, "Parte 2: <b>más</b> & enlaces https://acme.example/x?a=1&b=2"),
                                      language=language))
    page = server.received[0].message.get_body(("html",)).get_content()
    assert vnu_errors({f"mail-{language}": page}, tmp_path) == []
