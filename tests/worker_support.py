"""Running `publish worker` for real in the tests: a subprocess per worker, on one
workspace folder (a machine), stopped with SIGTERM or killed with SIGKILL."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes.server import FakeServer, Reply, Request

ROOT = Path(__file__).resolve().parents[1]


class WorkerProcess:
    def __init__(self, folder: Path, env: dict[str, str] | None = None, *args: str):
        full = {**os.environ, "PUBLISH_WORKSPACE": str(folder), "PUBLISH_USER": "marta", **(env or {})}
        full.pop("PUBLISH_DEBUG", None)
        self.process = subprocess.Popen([sys.executable, "-m", "publisher", "worker", *args], cwd=ROOT, env=full,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.first_line = self._first_line()

    def _first_line(self) -> str:
        """Its first line, after a practice workspace's PRACTICE paragraph when there is one."""
        line = self.process.stdout.readline() if self.process.stdout else ""
        said = line
        while self.process.stdout and line and not line.strip().endswith("evidence.") and said.startswith("PRACTICE"):
            line = self.process.stdout.readline()
            said += line
        if said.startswith("PRACTICE") and self.process.stdout:
            return said + self.process.stdout.readline()
        return said

    def stop(self, timeout: float = 60) -> tuple[int, str]:
        """SIGTERM, then the exit code and what it printed after its first line."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, self.first_line + output

    def ended(self, timeout: float = 60) -> tuple[int, str]:
        """The exit code and all it printed, once it has ended by itself."""
        output, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, self.first_line + output

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)


def run_once(folder: Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full = {**os.environ, "PUBLISH_WORKSPACE": str(folder), "PUBLISH_USER": "marta", **(env or {})}
    full.pop("PUBLISH_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "publisher", "worker", "--once"], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=timeout)


def slow_posts(fake: FakeServer, seconds: float) -> None:
    """The platform acts on each POST at once and answers `seconds` later."""
    normal = fake.handler

    def answer(request: Request) -> Reply:
        reply = normal(request)
        if request.method != "POST":
            return reply
        return Reply(reply.status, reply.body, reply.headers, delay=seconds)

    fake.handler = answer
    if hasattr(fake, "answers"):
        fake.answers = answer


def channel_states(workspace, draft: str) -> dict[str, str]:
    return json.loads(workspace.run("drafts", "show", draft, "--json").output)["channels"]


def until(predicate, timeout: float = 30.0, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
