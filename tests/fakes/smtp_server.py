"""Real SMTP servers on loopback for the email channel's tests.

`SmtpServer` is aiosmtpd (a complete SMTP implementation) on 127.0.0.1 with a handler
that records every envelope and can be told to answer MAIL, RCPT or DATA with a given
reply, to stall before answering DATA, or to reset the connection during DATA. It
speaks plain SMTP, STARTTLS or implicit TLS, with optional AUTH PLAIN/LOGIN.

`ScriptedServer` is a bare socket for what aiosmtpd will not do: send a chosen greeting
(e.g. 421) or accept a connection and never say anything.
"""
from __future__ import annotations

import asyncio
import email
import socket
import ssl
import struct
import subprocess
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed_cert(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for `host` (IP and DNS name) and its key, made by openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=publish test mail server",
         "-addext", f"subjectAltName=IP:{host},DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    mail_options: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.content, policy=policy.default)


@dataclass
class Handler:
    """Records what the server received; `replies` maps MAIL/DATA to a reply line and
    RCPT to a reply line or to {address: reply line}."""

    replies: dict = field(default_factory=dict)
    data_delay: float = 0.0
    data_reset: bool = False
    received: list[Received] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.commands.append("EHLO")
        session.host_name = hostname
        return responses

    async def handle_NOOP(self, server, session, envelope, arg):
        self.commands.append("NOOP")
        return "250 OK"

    async def handle_MAIL(self, server, session, envelope, address, options):
        self.commands.append("MAIL")
        if "MAIL" in self.replies:
            return self.replies["MAIL"]
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        self.commands.append("RCPT")
        reply = self.replies.get("RCPT")
        if isinstance(reply, dict):
            reply = reply.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.commands.append("DATA")
        if self.data_reset:
            sock = server.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            server.transport.abort()
            return "250 OK"
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if "DATA" in self.replies:
            return self.replies["DATA"]
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      list(envelope.mail_options), envelope.original_content or b""))
        return f"250 2.0.0 Ok: queued as Q{len(self.received)}"


class SmtpServer:
    """aiosmtpd on 127.0.0.1. `security` is "none", "starttls" or "ssl"; `users` maps
    login to password and turns AUTH on (over TLS only, unless `auth_require_tls` is
    False)."""

    def __init__(self, security: str = "none", *, cert: tuple[Path, Path] | None = None,
                 users: dict[str, str] | None = None, auth_require_tls: bool = True, **handler_options):
        self.handler = Handler(**handler_options)
        self.users = users or {}
        self.auth_attempts: list[tuple[str, str, bool]] = []
        self.port = free_port()
        kwargs: dict = {"server_hostname": "mail.test", "auth_require_tls": auth_require_tls}
        if self.users:
            kwargs["authenticator"] = self._authenticate
        if security == "starttls":
            kwargs["tls_context"] = server_context(*cert)
        elif security == "ssl":
            kwargs["ssl_context"] = server_context(*cert)
            # aiosmtpd only counts STARTTLS as TLS for auth_require_tls; this whole
            # connection is TLS already.
            kwargs["auth_require_tls"] = False
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def commands(self) -> list[str]:
        return self.handler.commands

    def _authenticate(self, server, session, envelope, mechanism, data):
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        ok = self.users.get(login) == password
        self.auth_attempts.append((mechanism, login, ok))
        return AuthResult(success=ok, handled=False)

    def start(self) -> "SmtpServer":
        self.controller.start()
        self.handler.commands.clear()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> "SmtpServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ScriptedServer:
    """Accepts connections on 127.0.0.1, sends `greeting` (a reply line, or nothing when
    None) and then holds the connection open without answering."""

    def __init__(self, greeting: bytes | None = None):
        self.greeting = greeting
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self.port = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._held.append(conn)
            if self.greeting:
                conn.sendall(self.greeting)

    def __enter__(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        self._thread.join(timeout=2)
        for conn in self._held:
            conn.close()
