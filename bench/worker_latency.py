"""The worker's latency, whole processes, on SQLite and on PostgreSQL: with `publish
worker` running, how long `publish approve DRAFT` takes to return (goal <= 0.5 s), how
long after it returned the first webhook POST arrives (goal <= 1 s), and one statement
to 12 webhooks answering after 80 to 800 ms, one of them first 429 `Retry-After: 2`
(bench/statement.py's platforms), from the approval's return to the last channel's 200,
against that slowest channel's own total (goal <= 1.3x).

Each round is a fresh workspace (and on PostgreSQL a fresh database of a server started
as the tests start theirs) whose worker is started and waited for ("Worker ... running")
before the approval, and stopped with SIGTERM after. Medians of `ROUNDS` (3).
Run: `python bench/worker_latency.py`.
"""
from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Postgres, webhook_workspace  # noqa: E402
from bench.fanout import LoopbackReceiver, measured, publish_command  # noqa: E402
from bench.statement import CHANNELS, DELAYS, RETRY_AFTER, THROTTLED, limit_s  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "3"))
APPROVE_GOAL, FIRST_GOAL, STATEMENT_GOAL = 0.5, 1.0, 1.3
QUICK_CHANNELS = 3


class RunningWorker:
    def __init__(self, folder: Path):
        env = {**os.environ, "PUBLISH_WORKSPACE": str(folder), "PUBLISH_USER": "marta"}
        self.process = subprocess.Popen(publish_command() + ["worker"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        assert self.process.stdout is not None
        said: list[str] = []
        while not said or "running" not in said[-1]:
            line = self.process.stdout.readline()
            if not line:
                self.process.kill()
                raise RuntimeError(f"publish worker did not start: {''.join(said)[-1500:]}")
            said.append(line)
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def one_round(folder: Path, receiver: LoopbackReceiver, prefix: str, channels: int, url: str | None) -> dict:
    draft = webhook_workspace(folder, [receiver.url(i, prefix=prefix) for i in range(channels)], workers=32,
                              summary="a payment outage", store_url=url, approved=False)
    worker = RunningWorker(folder)
    try:
        approve = measured(publish_command() + ["approve", draft, "--as", "ana"],
                           {"PUBLISH_WORKSPACE": str(folder), "PUBLISH_USER": "ana"})
        returned = time.time()
        if approve["code"] != 0:
            raise RuntimeError(f"publish approve failed: {approve['output'][-1500:]}")
        deadline = returned + 120
        while True:
            counted = receiver.counted(prefix + "/")
            if counted["accepted"] >= channels:
                break
            if time.time() > deadline:
                raise RuntimeError(f"the worker delivered {counted['accepted']} of {channels} in 120 s")
            time.sleep(0.02)
    finally:
        worker.stop()
    return {"approve_s": approve["wall"], "first_after_s": counted["first"] - returned,
            "all_after_s": counted["last"] - returned, "queued": "queued" in approve["output"].lower()}


def measure(scratch: Path) -> dict:
    server = Postgres()
    quick = LoopbackReceiver(0.0)
    crisis = LoopbackReceiver({"delays": DELAYS, "throttled": [f"{THROTTLED:04d}"],
                               "retry_after": str(int(RETRY_AFTER))})
    result: dict = {"limit_s": limit_s()}
    try:
        for backend in ("sqlite", "postgresql"):
            quick_runs, crisis_runs = [], []
            for number in range(ROUNDS):
                url = server.database() if backend == "postgresql" else None
                quick_runs.append(one_round(scratch / f"quick-{backend}-{number}", quick, f"/q{backend}{number}",
                                            QUICK_CHANNELS, url))
                url = server.database() if backend == "postgresql" else None
                crisis_runs.append(one_round(scratch / f"crisis-{backend}-{number}", crisis, f"/c{backend}{number}",
                                             CHANNELS, url))
            result[backend] = {
                "approve_s": statistics.median(run["approve_s"] for run in quick_runs + crisis_runs),
                "approve_max_s": max(run["approve_s"] for run in quick_runs + crisis_runs),
                "first_after_s": statistics.median(run["first_after_s"] for run in quick_runs),
                "first_after_max_s": max(run["first_after_s"] for run in quick_runs),
                "queued": all(run["queued"] for run in quick_runs + crisis_runs),
                "statement_s": statistics.median(run["all_after_s"] for run in crisis_runs)}
            result[backend]["statement_ratio"] = result[backend]["statement_s"] / result["limit_s"]
    finally:
        quick.stop()
        crisis.stop()
        server.stop()
    return result


def summary(result: dict) -> list[str]:
    lines = [f"The worker (medians of {ROUNDS}; a statement's limit is {result['limit_s']:.2f} s):"]
    for backend in ("sqlite", "postgresql"):
        row = result[backend]
        lines.append(
            f"  {backend}: approve returns in {row['approve_s']:.2f} s (max {row['approve_max_s']:.2f}, goal "
            f"<= {APPROVE_GOAL}; queued: {row['queued']}); first delivery {row['first_after_s']:.2f} s after it "
            f"(max {row['first_after_max_s']:.2f}, goal <= {FIRST_GOAL}); 12 channels with a 429: "
            f"{row['statement_s']:.2f} s after the approval, {row['statement_ratio']:.2f}x the slowest channel's "
            f"own total (goal <= {STATEMENT_GOAL})")
    return lines


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="publish-worker-") as scratch:
        measured_result = measure(Path(scratch))
    print("\n".join(summary(measured_result)))
    print(json.dumps(measured_result))
