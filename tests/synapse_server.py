"""A real Matrix homeserver for the tests: Synapse (`matrix-synapse` from PyPI, a test
extra), started by the tests themselves.

`Homeserver.start()` writes a config into a fresh temporary folder (SQLite, one client
listener on 127.0.0.1 at a free port, no federation, no key servers, no metrics, rate
limits raised far above what the tests do, registration by shared secret only), makes
the signing key (signedjson, Synapse's own) and runs `python -m synapse.app.homeserver` until `/health` answers.
`register(name)` makes a user through the shared-secret admin API
(`/_synapse/admin/v1/register`) and returns its access token; `client(token)` calls the
client-server API as that user, for the tests to set up rooms and read them back.

When Synapse cannot be started, `start()` raises `Unavailable` with the reason: the
tests that need it skip saying why, except under CI (env CI=true), where they fail.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

SERVER_NAME = "acme.test"
SHARED_SECRET = "synapse-test-registration-secret-5e1a"
START_SECONDS = 60
RAISED = {"per_second": 10000, "burst_count": 100000}
CONFIG = """\
server_name: "{server_name}"
pid_file: "{folder}/homeserver.pid"
public_baseurl: "http://127.0.0.1:{port}/"
listeners:
  - port: {port}
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "{folder}/homeserver.db"
log_config: "{folder}/log.yaml"
media_store_path: "{folder}/media"
signing_key_path: "{folder}/signing.key"
registration_shared_secret: "{secret}"
macaroon_secret_key: "macaroon-{secret}"
form_secret: "form-{secret}"
report_stats: false
enable_metrics: false
enable_registration: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
presence:
  enabled: false
url_preview_enabled: false
rc_message: {raised}
rc_registration: {raised}
rc_joins:
  local: {raised}
  remote: {raised}
rc_invites:
  per_room: {raised}
  per_user: {raised}
  per_issuer: {raised}
rc_login:
  address: {raised}
  account: {raised}
  failed_attempts: {raised}
rc_admin_redaction: {raised}
rc_3pid_validation: {raised}
rc_room_creation: {raised}
"""
LOG_CONFIG = """\
version: 1
formatters:
  plain:
    format: "%(asctime)s %(name)s %(levelname)s %(message)s"
handlers:
  file:
    class: logging.FileHandler
    filename: "{folder}/homeserver.log"
    formatter: plain
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"""


class Unavailable(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Homeserver:
    folder: Path
    port: int
    process: subprocess.Popen
    started_in: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls) -> "Homeserver":
        try:
            import synapse  # noqa: F401
            from signedjson.key import generate_signing_key, write_signing_keys
        except ImportError:
            raise Unavailable("matrix-synapse is not installed; `make install` installs it with the test extras") \
                from None
        began = time.monotonic()
        folder = Path(tempfile.mkdtemp(prefix="publish-synapse-"))
        port = _free_port()
        raised = json.dumps(RAISED)
        (folder / "homeserver.yaml").write_text(CONFIG.format(server_name=SERVER_NAME, folder=folder, port=port,
                                                              secret=SHARED_SECRET, raised=raised))
        (folder / "log.yaml").write_text(LOG_CONFIG.format(folder=folder))
        command = [sys.executable, "-m", "synapse.app.homeserver", "--config-path", str(folder / "homeserver.yaml")]
        with open(folder / "signing.key", "w") as keys:
            write_signing_keys(keys, [generate_signing_key("a_test")])
        process = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL,
                                   stderr=open(folder / "stderr.log", "wb"))
        server = cls(folder, port, process, 0.0)
        while time.monotonic() - began < START_SECONDS:
            if process.poll() is not None:
                said = (folder / "stderr.log").read_text(errors="replace").strip()[-600:]
                server.destroy()
                raise Unavailable(f"Synapse stopped while starting (exit {process.returncode}): {said}")
            try:
                with urllib.request.urlopen(f"{server.url}/health", timeout=1) as answer:
                    if answer.status == 200:
                        server.started_in = time.monotonic() - began
                        return server
            except OSError:
                time.sleep(0.1)
        server.destroy()
        raise Unavailable(f"Synapse did not answer /health within {START_SECONDS} s")

    def destroy(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def register(self, name: str, admin: bool = False) -> str:
        """A new user `name` made with the shared secret; its access token."""
        nonce = self.call("GET", "/_synapse/admin/v1/register")["nonce"]
        password = f"pw-{name}-{SHARED_SECRET}"
        made = self.call("POST", "/_synapse/admin/v1/register",
                         {"nonce": nonce, "username": name, "password": password, "admin": admin,
                          "mac": _mac(nonce, name, password, admin)})
        return str(made["access_token"])

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """One client-server API call; the answer's JSON (an error's too, with `_status`)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            found = json.loads(error.read() or b"{}")
            found["_status"] = error.code
            return found

    def create_room(self, token: str) -> str:
        return str(self.call("POST", "/_matrix/client/v3/createRoom", {"preset": "private_chat"}, token)["room_id"])

    def room_events(self, token: str, room: str) -> list[dict[str, Any]]:
        """Every event of the room in the order the server has them, oldest first."""
        found = self.call("GET", f"/_matrix/client/v3/rooms/{quote(room, safe='')}/messages?dir=f&limit=1000",
                          token=token)
        return list(found["chunk"])

    def event(self, token: str, room: str, event_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/_matrix/client/v3/rooms/{quote(room, safe='')}/event/"
                                     f"{quote(event_id, safe='')}", token=token))


def _mac(nonce: str, name: str, password: str, admin: bool) -> str:
    """The HMAC-SHA1 the shared-secret registration asks for (Synapse's admin API docs,
    "Shared-Secret Registration"): nonce, user, password, admin, each NUL-separated."""
    mac = hmac.new(SHARED_SECRET.encode(), digestmod=hashlib.sha1)
    mac.update(b"\x00".join([nonce.encode(), name.encode(), password.encode(),
                             b"admin" if admin else b"notadmin"]))
    return mac.hexdigest()


if __name__ == "__main__":
    server = Homeserver.start()
    print(f"started in {server.started_in:.2f} s at {server.url}")
    token = server.register("probe")
    room = server.create_room(token)
    print(room, server.call("GET", "/_matrix/client/v3/account/whoami", token=token))
    server.destroy()
