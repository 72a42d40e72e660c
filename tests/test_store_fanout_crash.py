"""Group commit under SIGKILL: `publish send` to many webhooks with many delivery threads,
killed by the receiver the moment a post arrives mid-run. Every post that reached a
platform had its `delivery.started` row durable before the network call (a row is only
acknowledged once its group's COMMIT returned), rows stay consecutive and the log verifies."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from publisher.workspace.app import App
from tests.fakes.server import FakeServer, Reply

pytestmark = [pytest.mark.servers, pytest.mark.both_stores]
ROOT = Path(__file__).resolve().parent.parent
HOOKS = 40
KILL_AT = 25


class KillingReceiver(FakeServer):
    """Answers every hook with 201; on the KILL_AT-th post, SIGKILLs the sender first."""

    def __init__(self) -> None:
        super().__init__(self.answer)
        self.arrived: list[str] = []
        self.sender: subprocess.Popen | None = None
        self._count = threading.Lock()

    def answer(self, request) -> Reply:
        with self._count:
            self.arrived.append(request.path.rsplit("/", 1)[-1])
            if len(self.arrived) == KILL_AT and self.sender is not None:
                os.kill(self.sender.pid, signal.SIGKILL)
        return Reply(201, {"id": f"evt_{len(self.arrived)}", "url": "https://example.org/e"})


def _config(count: int) -> str:
    hooks = "".join(f'[channels.hook{i:02d}]\ntype = "webhook"\nurl = "${{HOOK{i:02d}}}"\n' for i in range(count))
    return "[delivery]\nworkers = 16\n" + hooks


def test_a_fan_out_killed_mid_send_recorded_every_post_that_arrived(workspace, monkeypatch):
    receiver = KillingReceiver().start()
    try:
        hooks = {f"HOOK{i:02d}": f"{receiver.url}/hooks/hook{i:02d}" for i in range(HOOKS)}
        for name, url in hooks.items():
            monkeypatch.setenv(name, url)
        workspace.write_config(required=1, extra=_config(HOOKS))
        workspace.open_incident(case=2)
        draft = workspace.render("--case", "2", "--template", "apology")
        assert workspace.run("freeze", "--reason", "hold it", "--as", "ana").exit_code == 0
        assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
        assert workspace.run("unfreeze", "--reason", "send it by hand", "--as", "ana").exit_code == 0
        env = {**os.environ, **hooks, "PUBLISH_WORKSPACE": str(workspace.path), "PUBLISH_USER": "luis"}
        receiver.sender = subprocess.Popen([sys.executable, "-m", "publisher", "send", draft], cwd=ROOT, env=env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert receiver.sender.wait(60) == -signal.SIGKILL
        arrived = set(receiver.arrived)
    finally:
        receiver.stop()

    store = App(workspace.path).store
    started = {e.channel for e in store.events(kind="delivery.started", draft=draft)}
    assert len(arrived) >= KILL_AT - 1 and arrived <= started
    assert [e.seq for e in store.events()] == list(range(1, len(store.events()) + 1))
    assert workspace.run("log", "verify").exit_code == 0
