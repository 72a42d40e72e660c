"""The IMAP source against a real dovecot on loopback (tests/dovecot_server.py)."""
from __future__ import annotations

import imaplib
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

import pytest

import channels
from channels.base import Permanent, Retryable
from channels.heard_text import CUT_MARK
from channels.imap import ImapSource
from channels.options import SettingError
from tests.channels.case_table import refused_url
from tests.dovecot_server import PASSWORD

pytestmark = pytest.mark.servers

CANARY = "CANARY-imap-5b7e1c"


def mail(number: int, subject: str = "", body: str = "", **headers: str) -> bytes:
    lines = {"From": f"Cliente {number} <cliente{number}@example.net>", "To": "prensa@acme.test",
             "Subject": subject or f"Queja {number}", "Date": f"Sat, 05 Dec 2026 1{number % 10}:00:00 +0100",
             "Message-ID": f"<queja-{number}@example.net>", "MIME-Version": "1.0",
             "Content-Type": "text/plain; charset=utf-8", **headers}
    head = "".join(f"{key}: {value}\r\n" for key, value in lines.items() if value)
    return head.encode() + b"\r\n" + (body or f"No funciona el pago {number}.").encode() + b"\r\n"


def source(dovecot, user: str, **overrides) -> ImapSource:
    raw = {"type": "imap", "host": "127.0.0.1", "port": dovecot.port, "user": user, "password": PASSWORD,
           "ca_file": str(dovecot.cert), "timeout": 5, **overrides}
    return ImapSource.build("soporte", raw, secrets=frozenset({raw["password"]}))


@pytest.fixture
def mailbox(dovecot) -> str:
    return dovecot.new_mailbox()


def test_registered_as_a_source():
    assert channels.source_class("imap") is ImapSource


def test_reads_mails_oldest_first_and_resumes_without_repeats(dovecot, mailbox):
    for number in (1, 2, 3):
        dovecot.deliver(mailbox, mail(number))
    reader = source(dovecot, mailbox)
    first, cursor = reader.read(None, limit=2)
    assert [item.id for item in first] == ["<queja-2@example.net>", "<queja-3@example.net>"]
    item = first[0]
    assert item.platform == "email" and item.key == "email:<queja-2@example.net>"
    assert item.author == "Cliente 2 <cliente2@example.net>"
    assert item.text == "Queja 2\n\nNo funciona el pago 2."
    assert item.platform_time == "2026-12-05T11:00:00+00:00"
    assert item.extra["subject"] == "Queja 2" and item.extra["from"] == "cliente2@example.net"

    assert reader.read(cursor) == ([], cursor)
    dovecot.deliver(mailbox, mail(4))
    dovecot.deliver(mailbox, mail(5))
    page, middle = reader.read(cursor, limit=1)
    assert [item.id for item in page] == ["<queja-4@example.net>"]
    rest, end = reader.read(middle, limit=10)
    assert [item.id for item in rest] == ["<queja-5@example.net>"]
    assert reader.read(end) == ([], end)


def test_reading_marks_nothing_as_seen(dovecot, mailbox):
    dovecot.deliver(mailbox, mail(1))
    source(dovecot, mailbox).read(None)
    client = imaplib.IMAP4_SSL("127.0.0.1", dovecot.port, ssl_context=ssl.create_default_context(
        cafile=str(dovecot.cert)))
    try:
        client.login(mailbox, PASSWORD)
        client.select("INBOX", readonly=True)
        assert b"\\Seen" not in client.uid("FETCH", "1:*", "(FLAGS)")[1][0]
    finally:
        client.logout()


def test_a_new_uidvalidity_starts_over_with_the_same_keys(dovecot, mailbox):
    dovecot.deliver(mailbox, mail(1))
    dovecot.deliver(mailbox, mail(2))
    reader = source(dovecot, mailbox)
    before, cursor = reader.read(None)
    dovecot.reset_uidvalidity(mailbox)
    dovecot.deliver(mailbox, mail(3))
    after, again = reader.read(cursor)
    assert again.split(":")[0] != cursor.split(":")[0]
    assert [item.key for item in after] == [item.key for item in before] + ["email:<queja-3@example.net>"]
    assert reader.read(again) == ([], again)


def test_a_mail_without_message_id_is_keyed_by_its_uid(dovecot, mailbox):
    dovecot.deliver(mailbox, mail(1, **{"Message-ID": ""}))
    items, cursor = source(dovecot, mailbox).read(None)
    validity = cursor.split(":")[0]
    assert items[0].id == f"<uid-{validity}-1@{mailbox}/INBOX>"


def test_encoded_headers_charsets_html_and_replies(dovecot, mailbox):
    latin = ("From: =?ISO-8859-1?Q?Jos=E9_P=E9rez?= <jose@example.net>\r\n"
             "Subject: =?UTF-8?B?wqFFc3RhZmEh?= =?ISO-8859-1?Q?_me_cobr=F3?=\r\n"
             "Date: Sat, 05 Dec 2026 10:00:00 -0500\r\nMessage-ID: <latin@example.net>\r\n"
             "In-Reply-To: <comunicado-1@acme.test>\r\nReferences: <a@x> <comunicado-1@acme.test>\r\n"
             "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
             "Content-Transfer-Encoding: quoted-printable\r\n\r\nNo me devolvi=F3 el dinero.\r\n").encode()
    html = ("From: \"<script>alert(1)</script>\" <evil@example.net>\r\nSubject: html\r\n"
            "Date: not a date at all\r\nMessage-ID: <html@example.net>\r\nReferences: <a@x> <b@x>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\n"
            "--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            "<p>Hola<br>equipo</p><script>steal()</script>\x1b[31m\r\n--XX--\r\n").encode()
    odd = mail(3, body="caf\u00e9", **{"Content-Type": "text/plain; charset=x-unknown-9"})
    for raw in (latin, html, odd):
        dovecot.deliver(mailbox, raw)
    first, second, third = source(dovecot, mailbox).read(None)[0]
    assert first.author == "José Pérez <jose@example.net>"
    assert first.text == "¡Estafa! me cobró\n\nNo me devolvió el dinero."
    assert first.platform_time == "2026-12-05T15:00:00+00:00"
    assert first.answers == "<comunicado-1@acme.test>"
    assert second.author == "<script>alert(1)</script> <evil@example.net>"
    assert second.text == "html\n\nHola\nequipo\n[31m"  # the escape character dropped, the script's content too
    assert second.platform_time is None and second.answers == "<b@x>"
    assert third.text == "Queja 3\n\ncafé"


def test_a_huge_mail_is_read_cut(dovecot, mailbox):
    dovecot.deliver(mailbox, mail(1, body="queja larga " * 20_000))
    dovecot.deliver(mailbox, mail(2))
    items, _ = source(dovecot, mailbox, max_bytes=8192).read(None)
    huge, small = items
    assert huge.extra["cut"] is True and huge.extra["size"] > 200_000
    assert huge.text.endswith(CUT_MARK) and len(huge.text) < 8192
    assert "cut" not in small.extra and small.text.endswith("pago 2.")


def test_starttls_reads_the_same(dovecot, mailbox):
    dovecot.deliver(mailbox, mail(1))
    items, _ = source(dovecot, mailbox, tls="starttls", port=dovecot.starttls_port).read(None)
    assert [item.id for item in items] == ["<queja-1@example.net>"]


def test_a_refused_login_is_permanent_and_never_shows_the_password(dovecot, mailbox):
    with pytest.raises(Permanent) as refused:
        source(dovecot, mailbox, password=CANARY).read(None)
    assert CANARY not in str(refused.value) and CANARY not in repr(refused.value.__dict__)
    assert refused.value.__cause__ is None and refused.value.__context__ is None or \
        CANARY not in str(refused.value.__context__)
    assert mailbox in refused.value.reason and "refused the login" in refused.value.reason


def test_an_untrusted_certificate_is_permanent(dovecot, mailbox, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    raw = {"type": "imap", "host": "127.0.0.1", "port": dovecot.port, "user": mailbox, "password": PASSWORD}
    with pytest.raises(Permanent, match="not trusted"):
        ImapSource.build("soporte", raw).read(None)


def test_a_missing_folder_is_permanent(dovecot, mailbox):
    with pytest.raises(Permanent, match="no folder 'Quejas'"):
        source(dovecot, mailbox, folder="Quejas").read(None)


def test_another_folder_is_read(dovecot, mailbox):
    dovecot.deliver(mailbox, mail(7), folder="Quejas")
    items, _ = source(dovecot, mailbox, folder="Quejas").read(None)
    assert [item.id for item in items] == ["<queja-7@example.net>"]


def test_a_folder_named_in_spanish_is_read(dovecot, mailbox):
    dovecot.deliver(mailbox, mail(8), folder="Atenci&APM-n")  # maildir++ keeps names in modified UTF-7
    items, _ = source(dovecot, mailbox, folder="Atención").read(None)
    assert [item.id for item in items] == ["<queja-8@example.net>"]


@pytest.mark.parametrize("key", ["user", "password", "folder"])
def test_a_line_break_cannot_smuggle_a_command(dovecot, key):
    with pytest.raises(SettingError, match=key) as refused:
        ImapSource.build("soporte", {"type": "imap", "host": "127.0.0.1", "user": "x@acme.test",
                                     "password": PASSWORD, key: f"{CANARY}\r\nA1 DELETE INBOX"})
    assert key != "password" or CANARY not in str(refused.value)


def test_an_unreachable_server_is_retryable(dovecot):
    port = urlsplit(refused_url()).port  # held bound, never listening: refused
    with pytest.raises(Retryable, match="could not connect"):
        source(dovecot, "x@acme.test", port=port).read(None)


def test_a_silent_server_is_cut_at_the_timeout(dovecot):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(Retryable, match="within 0.5 s"):
            source(dovecot, "x@acme.test", port=listener.getsockname()[1], timeout=0.5).read(None)
    finally:
        for connection in held:
            connection.close()
        listener.close()
    assert time.monotonic() - started < 10


def test_a_stored_cursor_that_is_not_one_is_permanent(dovecot, mailbox):
    with pytest.raises(Permanent, match="UIDVALIDITY:UID"):
        source(dovecot, mailbox).read("garbage")


def test_settings_never_allow_plain_imap(dovecot):
    with pytest.raises(SettingError, match="tls"):
        source(dovecot, "x@acme.test", tls="none")


def test_check_names_the_mailbox_and_folder(dovecot, mailbox):
    dovecot.deliver(mailbox, mail(1))
    assert source(dovecot, mailbox).check() == f"{mailbox} reads INBOX on 127.0.0.1 (1 messages)"


def _hostile_server(dovecot, announced: int = 0, hang_on: int | None = None) -> tuple[socket.socket, list[bytes]]:
    """An IMAP server over TLS holding messages 1 and 2 of 100 bytes each: it answers a body
    fetch with a literal of `announced` bytes (never sending them), or, when `announced` is
    0, with the message itself, except that it never answers the fetch of UID `hang_on`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(dovecot.cert, dovecot.folder / "key.pem")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    seen: list[bytes] = []

    def serve() -> None:
        raw, _ = listener.accept()
        with context.wrap_socket(raw, server_side=True) as tls:
            reader = tls.makefile("rb")
            tls.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n")
            for line in reader:
                seen.append(line)
                tag, _, command = line.decode().strip().partition(" ")
                verb = command.upper()
                if verb.startswith("CAPABILITY"):
                    tls.sendall(b"* CAPABILITY IMAP4rev1\r\n" + f"{tag} OK done\r\n".encode())
                elif verb.startswith("SELECT") or verb.startswith("EXAMINE"):
                    tls.sendall(b"* 1 EXISTS\r\n* OK [UIDVALIDITY 77] ok\r\n" + f"{tag} OK [READ-ONLY] done\r\n".encode())
                elif verb.startswith("UID SEARCH"):
                    tls.sendall(b"* SEARCH 1 2\r\n" + f"{tag} OK done\r\n".encode())
                elif "RFC822.SIZE" in verb:
                    tls.sendall(b"* 1 FETCH (UID 1 RFC822.SIZE 100)\r\n* 2 FETCH (UID 2 RFC822.SIZE 100)\r\n"
                                + f"{tag} OK done\r\n".encode())
                elif "BODY.PEEK" in verb and announced:
                    tls.sendall(f"* 1 FETCH (UID 1 BODY[] {{{announced}}}\r\n".encode() + b"x" * 1000)
                elif "BODY.PEEK" in verb:
                    uid = int(verb.split()[2])
                    if uid == hang_on:
                        continue
                    body = mail(uid)
                    tls.sendall(f"* {uid} FETCH (UID {uid} BODY[] {{{len(body)}}}\r\n".encode() + body
                                + f")\r\n{tag} OK done\r\n".encode())
                elif verb.startswith("LOGOUT"):
                    tls.sendall(b"* BYE\r\n" + f"{tag} OK bye\r\n".encode())
                    return
                else:
                    tls.sendall(f"{tag} OK done\r\n".encode())

    threading.Thread(target=serve, daemon=True).start()
    return listener, seen


def test_a_literal_longer_than_asked_is_refused_before_it_is_read(dovecot):
    listener, seen = _hostile_server(dovecot, announced=500_000_000)
    try:
        with pytest.raises(Retryable, match="more than was asked for"):
            source(dovecot, "x@acme.test", port=listener.getsockname()[1]).read(None)
    finally:
        listener.close()
    assert any(b"BODY.PEEK[]" in line for line in seen)


def test_a_read_cut_by_its_deadline_keeps_the_mails_already_read(dovecot):
    listener, _ = _hostile_server(dovecot, hang_on=2)
    try:
        items, cursor = source(dovecot, "x@acme.test", port=listener.getsockname()[1], timeout=1).read(None)
    finally:
        listener.close()
    assert [item.id for item in items] == ["<queja-1@example.net>"] and cursor == "77:1"
