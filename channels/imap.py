"""IMAP source: the mails in one folder of a mailbox (complaints to the press or support
address), read over TLS with the stdlib `imaplib`.

Guarantees:
- TLS always: implicit TLS (IMAPS, port 993) or, with `tls = "starttls"`, STARTTLS before
  the login; the server's certificate is checked against the system's authorities, or
  `ca_file`'s. A certificate that does not verify is `Permanent`.
- The folder is opened read-only (`EXAMINE`) and bodies are fetched with `BODY.PEEK`:
  reading marks nothing as seen and changes nothing in the mailbox.
- The cursor is "UIDVALIDITY:UID" (the last message returned). A read returns the
  messages with a higher UID, oldest first, at most `limit`; with no cursor, the folder's
  last `limit` messages. When the folder's UIDVALIDITY changed (the mailbox was
  recreated or restored), the read starts over from its first message: each item is keyed
  by its Message-ID when it has one, so the log stores none of them twice.
- Bounded: each message's size (`RFC822.SIZE`) is asked first and at most `max_bytes` of
  it are fetched (a longer one is read cut, its text marked cut in `extra`); a literal the
  server announces longer than that is refused before it is read, and so is a line
  longer than imaplib's own limit. Every socket operation has `timeout` seconds, and the
  whole read `timeout` seconds too (`channels.deadline`, which also stops it when a freeze
  aborts it): when it runs out after some messages, those are returned with their cursor.
- Failures: a refused login, a missing folder or a command the server calls bad is `Permanent`, naming the user and never
  the password (every reason passes through `redact`); an unreachable or unavailable
  server, a broken connection and a timeout are `Retryable`.
"""
from __future__ import annotations

import base64
import imaplib
import re
import socket
import ssl
from typing import Any

from channels import http
from channels.base import Permanent, Retryable
from channels.deadline import Deadline
from channels.heard_text import CUT_MARK, clean_text
from channels.imap_message import read_message
from channels.options import Option, SettingError
from channels.sources import Heard, MAX_TEXT, Source

MAX_BYTES = 1 << 20
_CURSOR = re.compile(r"(\d+):(\d+)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FETCHED = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


def _bounded(base: type) -> type:
    class Bounded(base):
        """imaplib's client refusing to read a literal longer than `max_literal` bytes."""

        max_literal = MAX_BYTES + 4096
        too_long: str | None = None

        def read(self, size: int) -> bytes:
            if size > self.max_literal:
                self.too_long = f"it announced {size} bytes, more than the {self.max_literal} asked for"
                raise imaplib.IMAP4.abort(self.too_long)
            return super().read(size)

    return Bounded


_IMAPS = _bounded(imaplib.IMAP4_SSL)
_IMAP = _bounded(imaplib.IMAP4)


class ImapSource(Source):
    type = "imap"
    platform = "email"
    options = {
        "host": Option(str, required=True, help="the IMAP server's name, e.g. imap.acme.example"),
        "port": Option(int, bounds=(1, 65535), help="993 for implicit TLS (the default), 143 for STARTTLS"),
        "user": Option(str, required=True, help="the mailbox's login, e.g. prensa@acme.example"),
        "password": Option(str, required=True, secret=True, help="the mailbox's password, as \"${IMAP_PASSWORD}\""),
        "folder": Option(str, default="INBOX", help="the folder read (read-only)"),
        "tls": Option(str, default="implicit", choices=("implicit", "starttls"),
                      help="implicit TLS (IMAPS) or STARTTLS on the plain port; never without TLS"),
        "ca_file": Option(str, help="PEM file of the authorities trusted for the server's certificate "
                                    "(default: the system's)"),
        "max_bytes": Option(int, default=MAX_BYTES, bounds=(4096, 64 << 20),
                            help="bytes read of one message at most; a longer one is read cut"),
        "timeout": Option((int, float), default=20, bounds=(0.1, 600),
                          help="seconds one network operation may take, and the whole read"),
    }

    def __init__(self, name: str, settings: Any, secrets: frozenset[str] = frozenset()):
        password = settings.get("password") or ""
        super().__init__(name, settings, frozenset(secrets) | ({password} if password else set()))
        if "\n" in self.settings["host"] or not self.settings["host"].strip():
            raise SettingError("host", f"a host name, got {self.settings['host']!r}")
        self.host = self.settings["host"].strip()
        for key in ("user", "password", "folder"):
            if _CONTROL.search(self.settings[key]) or not self.settings[key]:
                shown = "" if key == "password" else f", got {self.settings[key]!r}"
                raise SettingError(key, f"a non-empty value without line breaks or control characters{shown}")
        self.port = int(self.settings.get("port") or (993 if self.settings["tls"] == "implicit" else 143))
        self.timeout = float(self.settings["timeout"])
        self.max_bytes = int(self.settings["max_bytes"])

    def read(self, cursor: str | None, limit: int = 200) -> tuple[list[Heard], str | None]:
        validity, last = _parse_cursor(cursor)
        with Deadline(self.timeout) as deadline:
            client = self._login(deadline)
            try:
                return self._read(client, deadline, validity, last, limit, cursor)
            except (imaplib.IMAP4.abort, OSError) as error:
                if client.too_long:
                    raise Retryable(f"the IMAP server {self.host} sent more than was asked for: "
                                    f"{client.too_long}") from None
                raise self._failure(error, deadline) from None
            except imaplib.IMAP4.error as error:
                raise self._refused(error) from None
            finally:
                _logout(client)

    def check(self) -> str:
        with Deadline(self.timeout) as deadline:
            client = self._login(deadline)
            try:
                validity, count = self._examine(client)
            except (imaplib.IMAP4.abort, OSError) as error:
                raise self._failure(error, deadline) from None
            except imaplib.IMAP4.error as error:
                raise self._refused(error) from None
            finally:
                _logout(client)
        return f"{self.settings['user']} reads {self.settings['folder']} on {self.host} ({count} messages)"

    def _context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.settings.get("ca_file"))
        except (OSError, ssl.SSLError) as error:
            raise Permanent(self.redact(f"cannot read ca_file {self.settings.get('ca_file')!r}: "
                                        f"{getattr(error, 'strerror', None) or error}")) from None

    def _login(self, deadline: Deadline) -> Any:
        context = self._context()
        client = None
        try:
            if self.settings["tls"] == "implicit":
                client = _IMAPS(self.host, self.port, ssl_context=context, timeout=self.timeout)
                deadline.watch(client.sock)
            else:
                client = _IMAP(self.host, self.port, timeout=self.timeout)
                deadline.watch(client.sock)
                try:
                    client.starttls(ssl_context=context)
                except imaplib.IMAP4.error as error:
                    if "TLS" not in _said(error):
                        raise
                    _logout(client)
                    raise Permanent(self.redact(f"the IMAP server {self.host} would not start TLS: "
                                                f"{_said(error)}")) from None
                deadline.watch(client.sock)
            client.max_literal = self.max_bytes + 4096
            client.login(self.settings["user"], self.settings["password"])
            return client
        except imaplib.IMAP4.error as error:
            if client is not None:
                _logout(client)
            if isinstance(error, imaplib.IMAP4.abort):
                raise self._failure(error, deadline) from None
            said = self.redact(_said(error))
            if "UNAVAILABLE" in said.upper():
                raise Retryable(f"the IMAP server {self.host} cannot log in now: {said}") from None
            raise Permanent(self.redact(f"the IMAP server {self.host} refused the login of "
                                        f"{self.settings['user']}: {said}")) from None
        except (OSError, EOFError) as error:
            if client is not None:
                _logout(client)
            raise self._failure(error, deadline) from None

    def _examine(self, client: Any) -> tuple[str, int]:
        folder = self.settings["folder"]
        status, data = client.select(_quoted(folder), readonly=True)
        if status != "OK" and "UNAVAILABLE" in _said(data).upper():
            raise Retryable(self.redact(f"the IMAP server {self.host} cannot open {folder!r} now: {_said(data)}"))
        if status != "OK":
            raise Permanent(self.redact(f"the IMAP server {self.host} has no folder {folder!r} for "
                                        f"{self.settings['user']}: {_said(data)}"))
        validity = (client.response("UIDVALIDITY")[1] or [b""])[0]
        if not isinstance(validity, bytes) or not validity.strip().isdigit():
            raise Retryable(f"the IMAP server {self.host} gave no UIDVALIDITY for {folder!r}")
        count = data[0] if data else b"0"
        return validity.decode().strip(), int(count) if isinstance(count, bytes) and count.isdigit() else 0

    def _read(self, client: Any, deadline: Deadline, validity: str | None, last: int, limit: int,
              cursor: str | None) -> tuple[list[Heard], str | None]:
        current, _ = self._examine(client)
        if validity is not None and validity != current:
            last = 0
        uids = self._uids(client, last)
        if cursor is None:
            uids = uids[-limit:]
        uids = uids[:limit]
        if not uids:
            return [], f"{current}:{last}"
        sizes = self._sizes(client, uids)
        items: list[Heard] = []
        done = last
        for uid in uids:
            try:
                raw, cut = self._fetch(client, uid, sizes.get(uid))
            except (imaplib.IMAP4.abort, OSError):
                deadline.check()
                if items and deadline.fired:
                    break
                raise
            if raw is not None:
                items.append(self._heard(raw, cut, current, uid, sizes.get(uid)))
            done = uid
            deadline.check()
            if deadline.fired:
                break
        return items, f"{current}:{done}"

    def _uids(self, client: Any, last: int) -> list[int]:
        status, data = client.uid("SEARCH", None, f"UID {last + 1}:*")
        if status != "OK":
            raise Retryable(self.redact(f"the IMAP server {self.host} refused to list messages: {_said(data)}"))
        found = sorted({int(value) for value in b" ".join(d for d in data if isinstance(d, bytes)).split()
                        if value.isdigit()})
        return [uid for uid in found if uid > last]

    def _sizes(self, client: Any, uids: list[int]) -> dict[int, int]:
        status, data = client.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)")
        if status != "OK":
            raise Retryable(self.redact(f"the IMAP server {self.host} refused to give sizes: {_said(data)}"))
        sizes: dict[int, int] = {}
        for line in data:
            found = _SIZE.search(line) if isinstance(line, bytes) else None
            if found:
                uid, size = (found.group(1), found.group(2)) if found.group(1) else (found.group(4), found.group(3))
                sizes[int(uid)] = int(size)
        return sizes

    def _fetch(self, client: Any, uid: int, size: int | None) -> tuple[bytes | None, bool]:
        """The message's bytes (at most `max_bytes`) and whether they were cut; None when
        the message went away between listing and fetching."""
        cut = size is None or size > self.max_bytes
        section = f"BODY.PEEK[]<0.{self.max_bytes}>" if cut else "BODY.PEEK[]"
        status, data = client.uid("FETCH", str(uid), f"({section})")
        if status != "OK":
            raise Retryable(self.redact(f"the IMAP server {self.host} refused to give message {uid}: {_said(data)}"))
        for part in data:
            if isinstance(part, tuple) and _FETCHED.search(part[0]):
                raw = part[1][: self.max_bytes]
                return raw, len(raw) >= self.max_bytes and (size is None or size > self.max_bytes)
        return None, False

    def _heard(self, raw: bytes, cut: bool, validity: str, uid: int, size: int | None) -> Heard:
        mail = read_message(raw)
        text = clean_text(f"{mail.subject}\n\n{mail.text}" if mail.subject else mail.text)
        if cut and not text.endswith(CUT_MARK):
            text = clean_text(text, MAX_TEXT - len(CUT_MARK)) + CUT_MARK
        extra: dict[str, Any] = {"subject": mail.subject, "from": mail.address, "folder": self.settings["folder"],
                                 "mailbox": self.settings["user"], "uid": f"{validity}:{uid}"}
        if size is not None:
            extra["size"] = size
        if cut:
            extra["cut"] = True
        return Heard(platform=self.platform, id=mail.message_id or f"<uid-{validity}-{uid}@{self._where()}>",
                     text=text, author=mail.author, platform_time=mail.platform_time, answers=mail.answers,
                     extra=extra)

    def _refused(self, error: imaplib.IMAP4.error) -> Permanent:
        return Permanent(self.redact(f"the IMAP server {self.host} refused a command of the reader: {_said(error)}"))

    def _where(self) -> str:
        return f"{self.settings['user']}/{self.settings['folder']}".replace(">", "").replace("<", "")

    def _failure(self, error: BaseException, deadline: Deadline) -> Exception:
        deadline.check()
        if deadline.fired == "abort":
            return http.frozen_in_flight()
        if deadline.fired or isinstance(error, (socket.timeout, TimeoutError)):
            return Retryable(f"no whole answer from the IMAP server {self.host} within {self.timeout:g} s")
        refused = http.certificate_problem(error, self.host)
        if refused:
            return Permanent(self.redact(refused))
        if isinstance(error, ssl.SSLError):
            return Retryable(self.redact(f"the TLS connection to the IMAP server {self.host} failed: "
                                         f"{error.reason or error}"))
        if isinstance(error, ConnectionRefusedError):
            return Retryable(f"could not connect to the IMAP server {self.host}:{self.port}")
        if isinstance(error, socket.gaierror):
            return Retryable(f"cannot find the IMAP server {self.host}")
        return Retryable(self.redact(f"the connection to the IMAP server {self.host} broke: "
                                     f"{_said(error) or type(error).__name__}"))


def _parse_cursor(cursor: str | None) -> tuple[str | None, int]:
    if cursor is None:
        return None, 0
    found = _CURSOR.fullmatch(cursor.strip())
    if not found:
        raise Permanent(f"the stored IMAP cursor {cursor[:60]!r} is not \"UIDVALIDITY:UID\"")
    return found.group(1), int(found.group(2))


def _quoted(folder: str) -> str:
    """The folder's name as an IMAP quoted string, in modified UTF-7 (RFC 3501 5.1.3)."""
    encoded = _modified_utf7(folder)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _modified_utf7(name: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _said(value: Any) -> str:
    if isinstance(value, BaseException):
        value = value.args[0] if value.args else ""
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return clean_text(str(value), 300)


def _logout(client: Any) -> None:
    try:
        client.shutdown()
    except (OSError, imaplib.IMAP4.error, AttributeError):
        pass
