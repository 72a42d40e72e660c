"""A real IMAP server for the tests: Debian's dovecot (package `dovecot-imapd`, installed by
`make dovecot`), started by the tests themselves.

`Dovecot.start()` writes a config into a fresh temporary folder: one IMAPS listener
(implicit TLS) and one IMAP listener that requires STARTTLS, both on 127.0.0.1 at free
ports, a self-signed certificate made with `openssl req` for 127.0.0.1 and localhost
(`cert` is also the CA file a client trusts), a passwd-file with plain passwords, and
maildir mail under the folder. Every process runs as one user (no chroot, no privileged
port): the current one, or under root (whose login processes dovecot refuses to run) the
`dovecot` system user the package creates, through `runuser`, owning the folder. `deliver(user, raw)` writes a
message into a mailbox's maildir as a delivery agent would (dovecot assigns its UID when
a client next looks); `new_mailbox()` gives a user with an empty mailbox of its own (one per test; the users are
all written at start, since dovecot may not notice a passwd-file changed within a second);
`reset_uidvalidity(user)` makes the mailbox start over with a new
UIDVALIDITY, as a restored or recreated mailbox does.

When dovecot cannot be started, `start()` raises `Unavailable` with the reason: the tests
that need it skip saying why, except under CI (env CI=true), where they fail.
"""
from __future__ import annotations

import getpass
import grp
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

START_SECONDS = 20
PASSWORD = "imap-test-Secret-3d9b"
MAILBOXES = 200
USERS = {"prensa@acme.test": PASSWORD, **{f"t{number}@acme.test": PASSWORD for number in range(1, MAILBOXES + 1)}}
CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
info_log_path = {folder}/dovecot.log
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 0
first_valid_gid = 0
ssl = required
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/home/%u
}}
service imap-login {{
  chroot =
  user = {user}
  inet_listener imap {{
    address = 127.0.0.1
    port = {starttls_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap {{
  user = {user}
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
service log {{
  user = {user}
}}
service config {{
  user = {user}
}}
service stats {{
  user = {user}
}}
service dict {{
  user = {user}
}}
"""


class Unavailable(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _binary() -> str:
    found = shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)
    if not found or not os.path.exists("/usr/lib/dovecot/imap"):
        raise Unavailable("no dovecot IMAP server found; `make dovecot` installs Debian's dovecot-imapd package")
    return found


@dataclass
class Dovecot:
    folder: Path
    port: int
    starttls_port: int
    binary: str
    account: str
    process: subprocess.Popen | None = None
    counter: int = 0

    host = "127.0.0.1"

    @property
    def cert(self) -> Path:
        return self.folder / "cert.pem"

    @classmethod
    def start(cls) -> "Dovecot":
        binary = _binary()
        if not shutil.which("openssl"):
            raise Unavailable("openssl is missing (the test certificate is made with `openssl req`)")
        account = getpass.getuser()
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("dovecot")
            except KeyError:
                raise Unavailable("running as root and there is no `dovecot` system user to run the server "
                                  "(Debian's dovecot-core package creates it)") from None
            account = "dovecot"
        folder = Path(tempfile.mkdtemp(prefix="publish-dovecot-"))
        server = cls(folder, _free_port(), _free_port(), binary, account)
        try:
            server._configure()
            server._run()
        except Unavailable:
            server.destroy()
            raise
        return server

    def _configure(self) -> None:
        made = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(self.folder / "key.pem"), "-out", str(self.cert)],
            capture_output=True, text=True, timeout=60)
        if made.returncode != 0:
            raise Unavailable(f"openssl could not make the test certificate: {made.stderr.strip()[-300:]}")
        (self.folder / "passwd").write_text("".join(f"{name}:{password}\n" for name, password in USERS.items()))
        for name in USERS:
            for part in ("cur", "new", "tmp"):
                (self.maildir(name) / part).mkdir(parents=True, exist_ok=True)
        account = pwd.getpwnam(self.account)
        (self.folder / "dovecot.conf").write_text(CONFIG.format(
            folder=self.folder, user=self.account, group=grp.getgrgid(account.pw_gid).gr_name, uid=account.pw_uid,
            gid=account.pw_gid, port=self.port, starttls_port=self.starttls_port))
        self._own(self.folder)

    def _own(self, top: Path) -> None:
        if self.account == getpass.getuser():
            return
        account = pwd.getpwnam(self.account)
        for root, folders, files in os.walk(top):
            for name in [root, *(os.path.join(root, f) for f in folders + files)]:
                os.chown(name, account.pw_uid, account.pw_gid)

    def _run(self) -> None:
        runas = ["runuser", "-u", self.account, "--"] if self.account != getpass.getuser() else []
        self.process = subprocess.Popen([*runas, self.binary, "-F", "-c", str(self.folder / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        ends = time.monotonic() + START_SECONDS
        while time.monotonic() < ends:
            if self.process.poll() is not None:
                said = (self.process.stderr.read().decode(errors="replace") if self.process.stderr else "")
                raise Unavailable(f"dovecot stopped at start: {(said or self.log())[-400:].strip()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as raw:
                    context = ssl.create_default_context(cafile=str(self.cert))
                    with context.wrap_socket(raw, server_hostname=self.host) as tls:
                        if tls.recv(200).startswith(b"* OK"):
                            return
            except OSError:
                time.sleep(0.1)
        raise Unavailable(f"dovecot did not answer within {START_SECONDS} s: {self.log()[-400:]}")

    def log(self) -> str:
        try:
            return (self.folder / "dovecot.log").read_text(errors="replace")
        except OSError:
            return ""

    def new_mailbox(self) -> str:
        """A fresh, empty mailbox of its own (a new user with `PASSWORD`); returns the login."""
        self.counter += 1
        if self.counter > MAILBOXES:
            raise RuntimeError(f"only {MAILBOXES} test mailboxes were made")
        return f"t{self.counter}@acme.test"

    def maildir(self, user: str) -> Path:
        return self.folder / "home" / user / "Maildir"

    def deliver(self, user: str, raw: bytes, folder: str | None = None) -> None:
        """Put `raw` (a whole RFC 5322 message) in `user`'s INBOX (or a subfolder, maildir++ `.name`)."""
        box = self.maildir(user) if folder is None else self.maildir(user) / f".{folder}"
        for part in ("cur", "new", "tmp"):
            (box / part).mkdir(parents=True, exist_ok=True)
        name = f"{time.time():.6f}.{uuid.uuid4().hex}.acme.test"
        (box / "tmp" / name).write_bytes(raw)
        self._own(box)
        os.rename(box / "tmp" / name, box / "new" / name)

    def reset_uidvalidity(self, user: str) -> None:
        """Forget the mailbox's UID list and index: the next session sees a new UIDVALIDITY
        and numbers every message again from 1."""
        box = self.maildir(user)
        time.sleep(1.1)  # dovecot takes UIDVALIDITY from the clock, in seconds
        for name in os.listdir(box):
            if name.startswith("dovecot"):
                path = box / name
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        for message in os.listdir(box / "cur"):
            base = message.split(":", 1)[0]
            os.rename(box / "cur" / message, box / "new" / base)

    def destroy(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
        shutil.rmtree(self.folder, ignore_errors=True)
