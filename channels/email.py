"""Email: one message to a fixed list of recipients over SMTP (stdlib `smtplib`).

Guarantees:
- The message is multipart/alternative: a text/plain part carrying the long text as
  approved (MIME turns its line breaks into CRLF and ends it with one), and a text/html
  part built from the same text with every character HTML-escaped, blank-line
  paragraphs as <p> and single line breaks as <br>. Nothing in the text becomes markup.
- Both parts say the statement's language: `lang` on the HTML part's <html> (screen
  readers pick the right voice) and a Content-Language header on each part. A line that
  starts with "From " travels quoted-printable with its F encoded (=46), so it reaches
  every mailbox as written, never as ">From ".
- The Message-ID is derived from the draft and the channel only, so a resend of the
  same draft carries the same Message-ID and mail systems can recognise it. SMTP has no
  server-side deduplication, so the channel is not idempotent.
- `security = "starttls"` (default) refuses to continue when the server does not offer
  STARTTLS, and both TLS modes verify the server's certificate (`tls_ca_file` adds a CA
  bundle to trust, e.g. for a self-signed relay). `"none"` is plain SMTP, meant for a
  relay on loopback and for tests; a password is refused over it to any other host.
- 4xx replies and broken connections are `Retryable`; `maybe_delivered` is True only
  once the DATA command has gone out. 5xx replies, a refused login and an untrusted
  certificate are `Permanent`, with the server's own reply in the reason.
- `timeout` bounds the whole SMTP session, not each read: a server trickling its replies
  is cut when it runs out, and so is a session in flight when publishing is frozen
  (`channels.deadline`); both are `Retryable`, unknown once DATA has gone out.
- The password never reaches a reason, a log line, the receipt or `describe()`;
  smtplib's debug output stays off.
"""
from __future__ import annotations

import html
import logging
import re
from base64 import b64encode
from datetime import datetime, timezone
from typing import Any

from channels.base import (Channel, DeliveryError, Message, Permanent,
                           Receipt, Retryable, SettingError)
from channels.deadline import Deadline
from channels.schemas import OPTIONS

log = logging.getLogger("channels.email")

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_MSGID_SAFE = re.compile(r"[A-Za-z0-9!#$%&'*+/?^_`{|}~-]")


class EmailChannel(Channel):
    type = "email"
    variant = "long"
    max_length = None
    counting = "chars"
    overflow = "reject"
    supports_reply = False
    idempotent = False
    options = OPTIONS["email"]

    def __init__(self, name, settings, secrets=frozenset()):
        super().__init__(name, settings, secrets)
        self.host = self.settings["host"]
        self.security = self.settings.get("security", "starttls")
        self.port = self.settings.get("port") or (465 if self.security == "ssl" else 587)
        self.username = self.settings.get("username")
        password = self.settings.get("password")
        self._password = password
        self.sender = _address(self.settings["sender"], "sender")
        recipients = self.settings["recipients"]
        if not recipients:
            raise SettingError("recipients", "at least one address")
        self.recipients = [_address(value, "recipients") for value in recipients]
        if password and not self.username:
            raise SettingError("username", "missing; a password is set, so a login name is needed")
        if self.username and not password:
            raise SettingError("password", "missing; a username is set, so its password is needed")
        if password and self.security == "none" and self.host not in LOOPBACK_HOSTS:
            raise SettingError("security", "\"none\" would send the password in clear; use starttls or ssl")
        if password:
            extra = {password, _b64(password), _b64(f"\0{self.username}\0{password}")}
            self.add_secrets(extra)

    def __repr__(self) -> str:
        return f"<EmailChannel {self.name!r} {self.host}:{self.port} {self.security}>"

    def send(self, message: Message) -> Receipt:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        utf8 = _needs_utf8(self.sender, self.recipients)
        try:
            mail = self.compose(message, now)
            payload = mail.as_bytes(policy=_wire_policy(utf8))
        except (ValueError, TypeError, UnicodeError) as error:
            raise Permanent(self.redact(f"cannot build the email: {error}")) from None
        envelope_from = _bare(self.sender)
        data_sent = False
        smtp = None
        with Deadline(self.timeout) as deadline:
            try:
                smtp = self._open(deadline)
                options = ["SMTPUTF8"] if utf8 else []
                if options and not smtp.has_extn("smtputf8"):
                    raise Permanent("an address is not ASCII and the mail server does not offer SMTPUTF8")
                if smtp.has_extn("size"):
                    options.append(f"SIZE={len(payload)}")
                code, reply = smtp.mail(envelope_from, options)
                if code != 250:
                    raise self._refusal(code, reply, "refused the sender")
                accepted, refused = [], {}
                for recipient in self.recipients:
                    code, reply = smtp.rcpt(_bare(recipient))
                    if code in (250, 251):
                        accepted.append(_bare(recipient))
                    else:
                        refused[_bare(recipient)] = (code, self._text(reply))
                if not accepted:
                    raise self._all_refused(refused)
                data_sent = True
                code, reply = smtp.data(payload)
                if code != 250:
                    raise self._refusal(code, reply, "refused the message")
                self._quit(smtp)
            except DeliveryError:
                self._close(smtp)
                raise
            except Exception as error:  # noqa: BLE001 - every failure is classified below
                self._close(smtp)
                deadline.check()
                if deadline.fired:
                    raise self._ended(deadline, data_sent) from None
                raise self._failure(error, data_sent) from None
        if refused:
            log.warning("%s: the mail server refused %d of %d recipients: %s", self.name, len(refused),
                        len(self.recipients), self.redact(_describe_refused(refused)))
        return Receipt(
            id=mail["Message-ID"],
            url=None,
            platform_time=now.isoformat(),
            extra={"accepted": accepted,
                   "refused": {address: f"{code} {text}" for address, (code, text) in refused.items()},
                   "server_reply": self._text(reply)},
        )

    def check(self) -> str:
        smtp = None
        with Deadline(self.timeout) as deadline:
            try:
                smtp = self._open(deadline)
                code, reply = smtp.noop()
                if code != 250:
                    raise self._refusal(code, reply, "answered NOOP")
                self._quit(smtp)
            except DeliveryError:
                self._close(smtp)
                raise
            except Exception as error:  # noqa: BLE001
                self._close(smtp)
                deadline.check()
                raise (self._ended(deadline, False) if deadline.fired else self._failure(error, False)) from None
        how = {"starttls": "STARTTLS", "ssl": "TLS", "none": "plain SMTP"}[self.security]
        who = f"logged in as {self.username}" if self._password else "no login configured"
        return f"{self.host}:{self.port} answered over {how}, {who}"

    def compose(self, message: Message, now: datetime):
        """The EmailMessage for `message`, dated `now`."""
        from email.message import EmailMessage
        from email.utils import format_datetime

        title = " ".join(message.title.split())
        mail = EmailMessage()
        mail["Subject"] = title
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients) if self.settings.get("show_recipients") else "undisclosed-recipients:;"
        mail["Date"] = format_datetime(now)
        mail["Message-ID"] = self.message_id(message)
        mail["X-Publish-Draft"] = _header_safe(message.draft_id)
        language = _language_tag(message.language)
        mail.set_content(message.text, cte=_transfer_encoding(message.text))
        mail.add_alternative(_html(title, message.text, language), subtype="html",
                             cte=_transfer_encoding(message.text))
        for part in mail.iter_parts():
            _shield_from_lines(part)
            part["Content-Language"] = language
        return mail

    def message_id(self, message: Message) -> str:
        """`<draft.channel@domain>`: the same for every send of one draft to one channel."""
        domain = _bare(self.sender).rpartition("@")[2] or "publish.local"
        domain = "".join(c for c in domain if (c.isascii() and c.isalnum()) or c in ".-").strip(".")
        domain = domain or "publish.local"
        return f"<{_msgid_atom(message.draft_id)}.{_msgid_atom(message.channel)}@{domain}>"

    def _open(self, deadline: Deadline):
        import smtplib

        context = self._tls_context() if self.security != "none" else None
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(timeout=self.timeout)
        smtp.set_debuglevel(0)
        # what the constructor would set (a private attribute smtplib's stubs do not declare):
        # TLS checks the certificate against it
        smtp._host = self.host  # type: ignore[attr-defined]
        deadline.watch(smtp)
        try:
            code, greeting = smtp.connect(self.host, self.port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, greeting)
            smtp.ehlo_or_helo_if_needed()
            if self.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise Permanent(f"{self.host} does not offer STARTTLS; refusing to send in clear "
                                    "(set security = \"ssl\" or fix the server)")
                smtp.starttls(context=context)
                smtp.ehlo_or_helo_if_needed()
            if self._password and self.username:
                smtp.login(self.username, self._password)
        except BaseException:
            self._close(smtp)
            raise
        return smtp

    def _tls_context(self):
        import ssl

        try:
            return ssl.create_default_context(cafile=self.settings.get("tls_ca_file"))
        except (OSError, ssl.SSLError) as error:
            raise Permanent(self.redact(f"cannot load tls_ca_file {self.settings.get('tls_ca_file')}: "
                                        f"{getattr(error, 'strerror', None) or error}")) from None

    def _ended(self, deadline: Deadline, data_sent: bool) -> Retryable:
        where = f"{self.host}:{self.port}"
        if deadline.fired == "abort":
            return Retryable(f"stopped in flight by a freeze while talking to {where}", maybe_delivered=data_sent)
        return Retryable(f"no whole answer from the mail server {where} before the timeout ({self.timeout:g} s "
                         "for the whole session)", maybe_delivered=data_sent)

    def _failure(self, error: BaseException, data_sent: bool) -> DeliveryError:
        import smtplib
        import socket
        import ssl

        where = f"{self.host}:{self.port}"
        if isinstance(error, smtplib.SMTPAuthenticationError):
            reply = self._text(error.smtp_error)
            if 400 <= error.smtp_code < 500:
                return Retryable(self.redact(f"the mail server could not check the login for now: "
                                             f"{error.smtp_code} {reply}"))
            return Permanent(self.redact(f"authentication failed: {error.smtp_code} {reply}"))
        if isinstance(error, smtplib.SMTPResponseException):
            return self._refusal(error.smtp_code, error.smtp_error, "answered", data_sent)
        if isinstance(error, smtplib.SMTPNotSupportedError):
            return Permanent(self.redact(f"the mail server {where} cannot do what the settings ask: {error}"))
        if isinstance(error, smtplib.SMTPServerDisconnected):
            if "timed out" in str(error):
                return Retryable(f"no answer from the mail server {where} before the timeout",
                                 maybe_delivered=data_sent)
            return Retryable(f"the mail server {where} closed the connection", maybe_delivered=data_sent)
        if isinstance(error, smtplib.SMTPException):
            return Permanent(self.redact(f"{where}: {error}"))
        if isinstance(error, ssl.SSLCertVerificationError):
            return Permanent(self.redact(f"the TLS certificate of {where} is not trusted: {error.verify_message} "
                                         "(set tls_ca_file for a private CA)"))
        if isinstance(error, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
            return Retryable(f"the TLS connection to {where} broke", maybe_delivered=data_sent)
        if isinstance(error, ssl.SSLError):
            return Permanent(self.redact(f"TLS with {where} failed: {error.reason or error} "
                                         "(check that port and security match the server)"))
        if isinstance(error, ConnectionRefusedError):
            return Retryable(f"the mail server {where} refused the connection", maybe_delivered=False)
        if isinstance(error, (socket.timeout, TimeoutError)):
            return Retryable(f"no answer from the mail server {where} before the timeout",
                             maybe_delivered=data_sent)
        if isinstance(error, socket.gaierror):
            return Retryable(f"cannot resolve the mail server's name {self.host}", maybe_delivered=False)
        if isinstance(error, OSError):
            return Retryable(self.redact(f"the connection to {where} broke: {error.strerror or type(error).__name__}"),
                             maybe_delivered=data_sent)
        return Permanent(self.redact(f"sending to {where} failed: {type(error).__name__}"))

    def _refusal(self, code: int, reply: Any, what: str, data_sent: bool = False) -> DeliveryError:
        detail = self.redact(f"the mail server {what}: {code} {self._text(reply)}".rstrip())
        if 400 <= code < 500:
            return Retryable(detail + " (temporary)", maybe_delivered=False)
        if 500 <= code < 600:
            return Permanent(detail)
        return Retryable(detail + " (unexpected answer)", maybe_delivered=data_sent)

    def _all_refused(self, refused: dict[str, tuple[int, str]]) -> DeliveryError:
        detail = self.redact("the mail server refused every recipient: " + _describe_refused(refused))
        if any(400 <= code < 500 for code, _ in refused.values()):
            return Retryable(detail, maybe_delivered=False)
        return Permanent(detail)

    @staticmethod
    def _text(reply: Any) -> str:
        if isinstance(reply, bytes):
            reply = reply.decode("utf-8", "replace")
        return " ".join(str(reply).split())[:300]

    @staticmethod
    def _quit(smtp) -> None:
        import smtplib

        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    @staticmethod
    def _close(smtp) -> None:
        if smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass


def _address(value: Any, key: str) -> str:
    from email.utils import parseaddr

    if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
        raise SettingError(key, f"expected an email address, got {value!r}")
    _, address = parseaddr(value)
    if "@" not in address or address.startswith("@") or address.endswith("@") or " " in address:
        raise SettingError(key, f"expected an email address, got {value!r}")
    return value.strip()


def _bare(value: str) -> str:
    from email.utils import parseaddr

    return parseaddr(value)[1]


def _needs_utf8(sender: str, recipients: list[str]) -> bool:
    return any(not _bare(a).isascii() for a in [sender, *recipients])


def _wire_policy(utf8: bool):
    from email import policy

    return policy.SMTPUTF8 if utf8 else policy.SMTP


def _b64(text: str) -> str:
    return b64encode(text.encode("utf-8")).decode("ascii")


def _msgid_atom(text: str) -> str:
    """`text` with every character outside dot-atom text written as =XX (UTF-8 bytes),
    so distinct inputs stay distinct."""
    out = []
    for char in text:
        if _MSGID_SAFE.fullmatch(char):
            out.append(char)
        else:
            out.extend(f"={byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out) or "=00"


def _header_safe(text: str) -> str:
    return " ".join(text.split())


def _describe_refused(refused: dict[str, tuple[int, str]]) -> str:
    return "; ".join(f"{address}: {code} {text}" for address, (code, text) in refused.items())


def _language_tag(language: str) -> str:
    """A BCP 47 tag made of letters, digits and hyphens; `und` (undetermined) otherwise."""
    return language if re.fullmatch(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*", language or "") else "und"


def _transfer_encoding(text: str) -> str:
    """7bit keeps plain ASCII readable; anything else, or a line an mbox would rewrite to
    ">From ", goes quoted-printable so `_shield_from_lines` can encode that line's F."""
    plain = text.isascii() and not re.search(r"^From ", text, re.M) and \
        all(len(line) <= 900 for line in text.splitlines())
    return "7bit" if plain else "quoted-printable"


def _shield_from_lines(part: Any) -> None:
    """In a quoted-printable part, a body line starting "From " becomes "=46rom ": it decodes
    to the same text, and no mailbox (mbox "From_" escaping) turns it into ">From "."""
    if part["Content-Transfer-Encoding"] != "quoted-printable":
        return
    body = part.get_payload()
    shielded = re.sub(r"^From ", "=46rom ", body, flags=re.M)
    if shielded != body:
        part.set_payload(shielded)


def _html(title: str, text: str, language: str = "und") -> str:
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", normalised) if p.strip()]
    body = "\n".join("<p>" + "<br>\n".join(html.escape(line) for line in p.split("\n")) + "</p>"
                     for p in paragraphs)
    return (f"<!DOCTYPE html>\n<html lang=\"{language}\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
