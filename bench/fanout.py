"""Fan-out, whole process: one approved draft to N loopback webhooks with `publish send`
against `apprise -t ... -b ... json://...` to the same receiver, for each (N, answer
delay) case. Each side is one fresh process, measured from the outside: wall time, CPU time
(user + system, from the kernel's accounting of the child) and peak RSS. The receiver
runs in a third process (bench/receiver.py) so its work is billed to neither."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, ROOT, webhook_workspace  # noqa: E402

TITLE = "Service incident"
BODY = "We apologise: a payment outage blocked card purchases."


class LoopbackReceiver:
    """bench/receiver.py as a child process (`spec`: a delay in seconds, or its JSON
    spec); `url(i)` is the i-th webhook's address, under `prefix` when given."""

    def __init__(self, spec: float | dict):
        argument = json.dumps(spec) if isinstance(spec, dict) else str(spec)
        self.process = subprocess.Popen([PYTHON, str(ROOT / "bench" / "receiver.py"), argument],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())

    def url(self, index: int, scheme: str = "http", prefix: str = "") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{prefix}/hooks/{index:04d}"

    def accepted(self, prefix: str) -> int:
        """How many POSTs under `prefix` the receiver answered 200."""
        return self.counted(prefix)["accepted"]

    def counted(self, prefix: str) -> dict:
        """Under `prefix`: POSTs answered 200 (`accepted`), when the first arrived and the
        last 200 was answered (`first`, `last`: `time.time()`, None before any)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/count{prefix}", timeout=5) as answer:
            return json.loads(answer.read())

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


TIME = Path("/usr/bin/time")


def measured(command: list[str], env: dict[str, str] | None = None) -> dict:
    """Run `command` to completion: wall seconds, CPU seconds, peak RSS (MB), exit code.
    Byte-code is cached as in any installed copy (PYTHONDONTWRITEBYTECODE is dropped).
    The peak comes from /usr/bin/time when present: a child forked from this (larger)
    process starts with this process's resident pages counted in its own peak, so
    `ru_maxrss` from wait4 alone is never below this process's size."""
    environment = {**os.environ, **(env or {})}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as peak_file:
        wrapper = [str(TIME), "-f", "%M", "-o", peak_file.name] if TIME.exists() else []
        started = time.perf_counter()
        process = subprocess.Popen(wrapper + command, cwd=ROOT, env=environment, stdout=out,
                                   stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
        kept = peak_file.read().split()
    peak_mb = int(kept[-1]) / 1024 if wrapper and kept and kept[-1].isdigit() else usage.ru_maxrss / 1024
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": peak_mb,
            "code": process.returncode, "output": text}


def publish_command() -> list[str]:
    script = Path(PYTHON).parent / "publish"
    return [str(script)] if script.exists() else [PYTHON, "-m", "publisher"]


def one_size(scratch: Path, apprise_cli: Path, channels: int, delay: float, rounds: int) -> dict:
    receiver = LoopbackReceiver(delay)
    try:
        ours, theirs = [], []
        for number in range(rounds):
            folder = scratch / f"fan-{channels}-{int(delay * 1000)}-{number}"
            draft = webhook_workspace(folder, [receiver.url(i) for i in range(channels)], workers=32,
                                      summary=f"a payment outage, round {number}")
            env = {"PUBLISH_WORKSPACE": str(folder), "PUBLISH_USER": "luis"}
            run = measured(publish_command() + ["send", draft], env)
            if run["code"] != 0 or f"{channels} of {channels} delivered" not in run["output"]:
                raise RuntimeError(f"publish send failed at N={channels}: {run['output'][-2000:]}")
            ours.append(run)
            urls = [receiver.url(i, "json") for i in range(channels)]
            run = measured([str(apprise_cli), "-t", TITLE, "-b", BODY, *urls])
            if run["code"] != 0:
                raise RuntimeError(f"apprise failed at N={channels}: {run['output'][-2000:]}")
            theirs.append(run)
    finally:
        receiver.stop()
    return {"channels": channels, "delay_ms": int(delay * 1000), **summarise("publish", ours),
            **summarise("apprise", theirs)}


def summarise(side: str, runs: list[dict]) -> dict:
    return {f"{side}_wall_s": statistics.median(r["wall"] for r in runs),
            f"{side}_cpu_s": statistics.median(r["cpu"] for r in runs),
            f"{side}_peak_mb": max(r["peak_mb"] for r in runs)}


def fan_out(scratch: Path, apprise_cli: Path, cases: tuple[tuple[int, float], ...], rounds: int) -> list[dict]:
    """One row per (channels, answer delay) case."""
    return [one_size(scratch, apprise_cli, n, delay, rounds) for n, delay in cases]


if __name__ == "__main__":
    cases = tuple((int(n), float(d)) for n, d in (case.split("@") for case in
                  (sys.argv[1] if len(sys.argv) > 1 else "50@0.25,500@0").split(",")))
    cli = Path(PYTHON).parent / "apprise"
    with tempfile.TemporaryDirectory(prefix="publish-fan-") as scratch:
        for row in fan_out(Path(scratch), cli, cases, int(os.environ.get("ROUNDS", "3"))):
            row = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
            row["ratio"] = round(row["publish_wall_s"] / row["apprise_wall_s"], 2)
            print(json.dumps(row), flush=True)
