"""The console under a cabinet's load, over a 100,000-event log, on SQLite and on
PostgreSQL: `publish serve` as a process of its own, 20 cabinet members each with a
session of their own (a real passkey login each, ana, luis and marta in turn) polling one incident's page, one of its drafts' page and that draft's
progress fragment at the console's own interval (the fragment's `every 1s`; the pages
at the same pace), keep-alive HTTP/1.1 on loopback. Reported: p95 per page (goal
<= 100 ms) and errors; then "Awaiting me" (`/`) timed alone (goal <= 50 ms).

Then the stress test: the same 20 clients asking without pause, which measures the
ceiling in requests per second (the load generator shares the machine's cores with the
server, as it did when first measured), with p95 and the slowest request per page, and
the server's CPU per request (its /proc CPU time over the requests it answered).
Run: `python bench/console_load.py [EVENTS]`.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Postgres, moved_to_postgres  # noqa: E402
from bench.fanout import publish_command  # noqa: E402

MEMBERS = int(os.environ.get("MEMBERS", "20"))
INTERVAL = 1.0
POLL_S = float(os.environ.get("POLL_S", "30"))
STRESS_S = float(os.environ.get("STRESS_S", "20"))
PAGE_GOAL, AWAITING_GOAL = 0.1, 0.05
PEOPLE = ("ana", "luis", "marta")
"""The cabinet members; 20 sessions among them (each its own login)."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Console:
    """`publish serve --no-worker` on a free loopback port."""

    def __init__(self, folder: Path):
        self.port = _free_port()
        env = {**os.environ, "PUBLISH_WORKSPACE": str(folder), "PUBLISH_USER": "marta"}
        self.process = subprocess.Popen(publish_command() + ["serve", "--port", str(self.port), "--no-worker"],
                                        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.process.poll() is not None:
                raise RuntimeError(f"publish serve exited: {self.process.stderr.read()[-1500:]!r}")
            time.sleep(0.1)
        raise RuntimeError("publish serve did not listen within 60 s")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Member(threading.Thread):
    """One cabinet member's browser: one keep-alive connection, its session cookie."""

    def __init__(self, port: int, token: str, pages: dict[str, str], until: float, pause: float):
        super().__init__(daemon=True)
        self.port, self.token, self.pages, self.until, self.pause = port, token, pages, until, pause
        self.times: dict[str, list[float]] = {name: [] for name in pages}
        self.errors: list[str] = []

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": f"publish_session={self.token}", "Host": f"127.0.0.1:{self.port}"}
        while True:  # one round at least (a warm-up asks for 0 s)
            started_round = time.perf_counter()
            for name, path in self.pages.items():
                started = time.perf_counter()
                try:
                    connection.request("GET", path, headers=headers)
                    answer = connection.getresponse()
                    answer.read()
                    if answer.status != 200:
                        self.errors.append(f"{name}: HTTP {answer.status}")
                except (OSError, http.client.HTTPException) as error:
                    self.errors.append(f"{name}: {type(error).__name__}")
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.times[name].append(time.perf_counter() - started)
            if time.time() >= self.until:
                break
            if self.pause:
                time.sleep(max(0.0, self.pause - (time.perf_counter() - started_round)))
        connection.close()


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else (values[0] if values else 0.0)


def load(console: Console, tokens: list[str], pages: dict[str, str], seconds: float, pause: float) -> dict:
    until = time.time() + seconds
    members = [Member(console.port, token, pages, until, pause) for token in tokens]
    cpu_before, started = console.cpu_s(), time.perf_counter()
    for member in members:
        member.start()
    for member in members:
        member.join()
    wall, cpu = time.perf_counter() - started, console.cpu_s() - cpu_before
    result: dict = {"errors": sum(len(member.errors) for member in members),
                    "error_examples": sorted({e for member in members for e in member.errors})[:3]}
    total = 0
    for name in pages:
        times = [t for member in members for t in member.times[name]]
        total += len(times)
        result[name] = {"requests": len(times), "per_s": len(times) / wall, "p95_ms": _p95(times) * 1000,
                        "max_ms": max(times) * 1000}
    result["requests_per_s"] = total / wall
    result["server_cpu_ms_per_request"] = cpu * 1000 / total if total else 0.0
    return result


def awaiting_alone(console: Console, token: str, rounds: int = 5) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", console.port, timeout=60)
    headers = {"Cookie": f"publish_session={token}"}
    times = []
    for _ in range(rounds + 1):
        started = time.perf_counter()
        connection.request("GET", "/", headers=headers)
        answer = connection.getresponse()
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"Awaiting me answered HTTP {answer.status}")
        times.append(time.perf_counter() - started)
    connection.close()
    return statistics.median(times[1:])


def logins(folder: Path) -> list[str]:
    """`MEMBERS` session tokens, each from a real passkey login: ana, luis and marta are
    invited, enrol a software passkey and are confirmed, then log in, through the
    console app in this process (the tests' own helpers, tests/console/support.py); the
    sessions are in the log, so the separate `publish serve` knows them."""
    from click.testing import CliRunner

    from tests.conftest import Workspace
    from tests.console.support import HttpConsole

    from starlette.testclient import TestClient

    from tests.console.support import ORIGIN

    console = HttpConsole(Workspace(folder, CliRunner(), []))
    keys = {name: console.enrol(name) for name in PEOPLE}
    tokens = []
    for index in range(MEMBERS):
        client = TestClient(console.web, base_url=ORIGIN, follow_redirects=False, client=(f"10.0.0.{index + 1}", 50000))
        headers = {"X-CSRF-Token": console.csrf(client)}
        options = client.post("/login/options", headers=headers).json()
        answer = client.post("/login", json=keys[PEOPLE[index % len(PEOPLE)]].get(options), headers=headers)
        if answer.status_code != 200:
            raise RuntimeError(f"login failed: {answer.text[:300]}")
        tokens.append(client.cookies.get("publish_session"))
    console.app.store.close()
    return tokens


def one_store(folder: Path) -> dict:
    from bench.console import pages as console_pages
    from publisher.workspace.app import App

    app = App(folder)
    try:
        known = console_pages(app)
        pages = {name: known[name] for name in ("incident", "draft", "progress")}
    finally:
        app.store.close()
    tokens = logins(folder)
    console = Console(folder)
    try:
        result = {"awaiting_s": awaiting_alone(console, tokens[0])}
        load(console, tokens[:1], pages, 0.0, 0.0)
        result["polling"] = load(console, tokens, pages, POLL_S, INTERVAL)
        result["stress"] = load(console, tokens, pages, STRESS_S, 0.0)
    finally:
        console.stop()
    return result


def measure(scratch: Path, events: int = 100_000) -> dict:
    from bench.run import cached_big_log

    big = scratch / "big"
    built = cached_big_log(big, events)
    config = big / "config" / "publisher.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[console]\nbase_url = "https://console.test"\n',
                      encoding="utf-8")
    result: dict = {"events": built["events"], "incidents": built["incidents"], "sqlite": one_store(big)}
    server = Postgres()
    try:
        moved = moved_to_postgres(big, scratch / "big-pg", server.database())
        result["postgresql"] = one_store(moved)
    finally:
        server.stop()
    return result


def summary(result: dict) -> list[str]:
    lines = [f"The console, {MEMBERS} members, over {result['events']:,} events ({result['incidents']:,} open "
             f"incidents):"]
    for backend in ("sqlite", "postgresql"):
        row = result[backend]
        polling, stress = row["polling"], row["stress"]
        pages = ", ".join(f"{name} p95 {polling[name]['p95_ms']:.0f} ms" for name in ("incident", "draft", "progress"))
        lines.append(f"  {backend}, polling every {INTERVAL:g} s: {pages}; {polling['errors']} errors "
                     f"(goal p95 <= {PAGE_GOAL * 1000:.0f} ms, no error); Awaiting me alone "
                     f"{row['awaiting_s'] * 1000:.0f} ms (goal <= {AWAITING_GOAL * 1000:.0f} ms)")
        pages = ", ".join(f"{name} {stress[name]['per_s']:.0f}/s p95 {stress[name]['p95_ms']:.0f} ms "
                          f"max {stress[name]['max_ms']:.0f} ms" for name in ("incident", "draft", "progress"))
        lines.append(f"  {backend}, stress (no pause): ceiling {stress['requests_per_s']:.0f} requests/s; {pages}; "
                     f"{stress['errors']} errors; server CPU {stress['server_cpu_ms_per_request']:.1f} ms/request")
    return lines


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="publish-console-") as scratch:
        measured_result = measure(Path(scratch), int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
    print("\n".join(summary(measured_result)))
    print(json.dumps(measured_result))
