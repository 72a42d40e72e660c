"""A console running on a loopback port for the browser and HTTP tests."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CONSOLE_CONFIG = """
[console]
base_url = "http://localhost:{port}"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configure(workspace, port: int, extra: str = "") -> None:
    """Approvers ana and luis, operator marta, viewer vera; the console on `port`."""
    workspace.write_config(extra=extra + CONSOLE_CONFIG.format(port=port))
    path = workspace.path / "config" / "publisher.toml"
    text = path.read_text(encoding="utf-8").replace(
        'approvers = ["ana", "luis"]', 'approvers = ["ana", "luis"]\nviewers = ["vera"]')
    path.write_text(text, encoding="utf-8")


def https_console(workspace, required: int = 1, extra: str = "") -> HttpConsole:
    """`configure`d for https://console.test, with `required` approvals, in-process."""
    configure(workspace, free_port(), extra)
    path = workspace.path / "config" / "publisher.toml"
    text = path.read_text(encoding="utf-8").replace('base_url = "http://localhost', 'base_url = "https://console.test')
    text = text.replace("required = 1", f"required = {required}")
    text = text.rsplit(":", 1)[0] + '"\n' if "console.test:" in text else text
    path.write_text(text, encoding="utf-8")
    return HttpConsole(workspace)


@contextmanager
def running_console(workspace_path: Path, port: int, clock=None) -> Iterator[object]:
    """The console on 127.0.0.1:`port` (with `clock`: an injected `Clock`, shared with
    the test's commands)."""
    import uvicorn

    from publisher.web.server import create_app
    from publisher.workspace.app import App

    app = App(workspace_path, clock=clock) if clock is not None else App(workspace_path)
    server = uvicorn.Server(uvicorn.Config(create_app(app), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the console did not start")
        time.sleep(0.05)
    try:
        yield app
    finally:
        server.should_exit = True
        thread.join(10)


ORIGIN = "https://console.test"


class Clock:
    """An injected clock: real time moved on by hand (never back, as the log requires)."""

    def __init__(self) -> None:
        from datetime import timedelta

        self.offset = timedelta(0)

    @property
    def now(self):
        from datetime import datetime, timezone

        return datetime.now(timezone.utc) + self.offset

    def __call__(self):
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.offset += timedelta(**delta)


class HttpConsole:
    """The console app in-process (Starlette's TestClient over https://console.test),
    with an injected clock and software passkeys."""

    def __init__(self, workspace, clock: Clock | None = None):
        from publisher.web.server import create_app
        from publisher.workspace.app import App

        self.workspace = workspace
        self.clock = clock or Clock()
        self.app = App(workspace.path, clock=self.clock)
        self.web = create_app(self.app)
        self.keys: dict[str, object] = {}
        self.ssh_keys: dict[str, Path] = {}
        """With signing on: each approver's SSH private key, for the invitations and confirmations."""

    def client(self):
        from starlette.testclient import TestClient

        return TestClient(self.web, base_url=ORIGIN, follow_redirects=False)

    @staticmethod
    def csrf(client, path: str = "/login") -> str:
        import re

        page = client.get(path, follow_redirects=True)
        return re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text).group(1)

    def invite(self, name: str) -> str:
        result = self.workspace.run("users", "invite", name, *self._signed("ana"), user="ana", clock=self.clock)
        assert result.exit_code == 0, result.output
        return result.output.strip().splitlines()[-1].rsplit("/", 1)[1]

    def enrol(self, name: str, confirm: bool = True):
        """Invite `name` (by ana), enrol a software passkey named "test device", and have
        another approver confirm it (luis, or ana for luis: the cabinet has no third)."""
        from tests.console.authenticator import SoftPasskey

        token = self.invite(name)
        client = self.client()
        headers = {"X-CSRF-Token": self.csrf(client, f"/enrol/{token}")}
        options = client.post(f"/enrol/{token}/options", headers=headers).json()
        key = SoftPasskey(ORIGIN, "console.test")
        answer = client.post(f"/enrol/{token}", json={"credential": key.create(options), "device": "test device"},
                             headers=headers)
        assert answer.status_code == 200, answer.text
        key.fingerprint = answer.json()["fingerprint"]
        if confirm:
            confirmer = "ana" if name == "luis" else "luis"
            done = self.workspace.run("users", "confirm", name, "--fingerprint", key.fingerprint,
                                      *self._signed(confirmer), user=confirmer, clock=self.clock)
            assert done.exit_code == 0, done.output
        self.keys[name] = key
        return key

    def _signed(self, name: str) -> tuple[str, ...]:
        return ("--key", str(self.ssh_keys[name])) if name in self.ssh_keys else ()

    def login(self, name: str):
        """A client logged in as `name` (enrolled first if needed)."""
        key = self.keys.get(name) or self.enrol(name)
        client = self.client()
        headers = {"X-CSRF-Token": self.csrf(client)}
        options = client.post("/login/options", headers=headers).json()
        answer = client.post("/login", json=key.get(options), headers=headers)
        assert answer.status_code == 200, answer.text
        return client

    def sign(self, client, name: str, path: str, **fields):
        """Ask for the action's options, sign them with `name`'s passkey: (body, headers)."""
        headers = {"X-CSRF-Token": self.csrf(client, "/")}
        options = client.post(f"{path}/options", json=fields, headers=headers)
        assert options.status_code == 200, options.text
        return {"credential": self.keys[name].get(options.json()), **fields}, headers


def second_server(workspace) -> "HttpConsole":
    """A second console server on the same log: on PostgreSQL, another machine's folder
    (its own var/, the same config, so the same database); on SQLite, the same folder."""
    from click.testing import CliRunner

    from tests.conftest import Workspace

    if not workspace.store_url:
        return HttpConsole(workspace)
    folder = workspace.path.parent / "machine-2"
    (folder / "var").mkdir(parents=True, mode=0o700)
    (folder / "config").symlink_to(workspace.path / "config")
    return HttpConsole(Workspace(folder, CliRunner(), [], workspace.store_url))
