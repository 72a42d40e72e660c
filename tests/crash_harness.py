"""Crash injection: run `publish approve` / `publish send` in a subprocess against the
fake platforms, SIGKILL it at seeded random points, and resume until the draft is
delivered, the way an operator would.

Kill points come from two sources, so both the log writes and the network calls get
hit: a timer (anywhere in the run, including inside a log transaction) and the fake
platforms themselves (the moment a post arrives, before or after the platform acts on
it - a crash with the outcome unknown). When a run ends with a channel unconfirmed,
the harness plays the person: it looks at the platform and runs `publish confirm`
when the post is there, `publish send --resend` when it is not.

`run_trial` returns what happened; the test asserts on it.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from click.testing import CliRunner

from tests.conftest import Workspace
from tests.delivery_support import Fakes, delivery_events, machines
from tests.fakes.server import Reply, Request

ROOT = Path(__file__).resolve().parent.parent
NETWORK = ("mastodon", "x", "cabinet")


@dataclass
class Trial:
    seed: int
    marker: str
    workspace: Workspace
    draft: str = ""
    folders: list[Path] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    kills: list[str] = field(default_factory=list)
    mode: str = ""
    listed_unconfirmed: list[str] = field(default_factory=list)
    posts_when_listed: list[int] = field(default_factory=list)
    confirmed: int = 0
    resent: int = 0
    # set while a run is armed to die when the k-th POST of this trial arrives
    process: subprocess.Popen | None = None
    countdown: int = 0
    after_platform: bool = False


class CrashHarness:
    """One set of fake platforms shared by every trial; a trial's requests are told
    apart by the marker in its text."""

    def __init__(self, fakes: Fakes, root: Path, delay: float = 0.03, database: Callable[[], str] | None = None):
        """`database`: a new PostgreSQL `[store] url` per trial, whose runs then
        alternate between two workspace folders (two machines on one database)."""
        self.fakes = fakes
        self.root = root
        self.delay = delay
        self.database = database
        self.trials: dict[str, Trial] = {}
        self._lock = threading.Lock()
        for fake in (fakes.mastodon, fakes.x, fakes.slack):
            self._wrap(fake)

    def _wrap(self, fake) -> None:
        normal = fake.handler

        def answer(request: Request) -> Reply:
            trial = self._trial_of(request)
            kill_first = kill_after = False
            if trial is not None and request.method == "POST":
                with self._lock:
                    if trial.process is not None and trial.countdown > 0:
                        trial.countdown -= 1
                        if trial.countdown == 0:
                            kill_after, kill_first = trial.after_platform, not trial.after_platform
            if kill_first:
                self._kill(trial)
                return Reply(reset=True)
            reply = normal(request)
            if kill_after:
                self._kill(trial)
                return Reply(reset=True)
            if request.method == "POST" and self.delay:
                return Reply(reply.status, reply.body, reply.headers, delay=self.delay)
            return reply

        fake.handler = answer
        if hasattr(fake, "answers"):
            fake.answers = answer

    def _trial_of(self, request: Request) -> Trial | None:
        body = request.body.decode("utf-8", "replace")
        for marker, trial in list(self.trials.items()):
            if marker in body:
                return trial
        return None

    def _kill(self, trial: Trial) -> None:
        process = trial.process
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            trial.kills.append(trial.mode)

    def requests(self, marker: str) -> dict[str, list[Request]]:
        slack_path = self.fakes.env()["SLACK_URL"].split(self.fakes.slack.url, 1)[1]
        found = {"mastodon": [r for r in list(self.fakes.mastodon.requests) if r.path == "/api/v1/statuses"],
                 "x": [r for r in list(self.fakes.x.requests) if r.path == "/2/tweets"],
                 "cabinet": [r for r in list(self.fakes.slack.requests) if r.path == slack_path]}
        return {name: [r for r in reqs if r.method == "POST" and marker in r.body.decode("utf-8", "replace")]
                for name, reqs in found.items()}

    def run_trial(self, seed: int) -> Trial:
        rng = random.Random(seed)
        marker = f"crash trial {seed} marker {rng.randrange(10**6):06d}"
        folder = self.root / f"trial-{seed}"
        (folder / "config").mkdir(parents=True)
        workspace = Workspace(folder, CliRunner(), [], self.database() if self.database else None)
        workspace.write_config(extra=self.fakes.config(timeout=5, slack_timeout=5))
        trial = Trial(seed, marker, workspace, folders=machines(workspace, 2))
        workspace.open_incident(case=2, what=f"the payment outage ({marker})")
        trial.draft = workspace.render("--case", "2", "--template", "apology", env=self.fakes.env())
        with self._lock:
            self.trials[marker] = trial
        command = ["approve", trial.draft, "--as", "ana"]
        for run in range(12):
            armed = run < 3 and rng.random() < 0.9
            code, output = self._run(trial, command, rng if armed else None)
            trial.runs.append(f"{' '.join(command[:1])}:{code}")
            if code == 0:
                return trial
            if code == 2 and "required approval" in output:
                command = ["approve", trial.draft, "--as", "ana"]
                continue
            command = ["send", trial.draft]
            if code == 1:
                command = self._play_the_person(trial, output)
        raise AssertionError(f"trial {seed} never finished: {trial.runs}")

    def _run(self, trial: Trial, command: list[str], rng: random.Random | None) -> tuple[int, str]:
        folder = trial.folders[len(trial.runs) % len(trial.folders)]
        env = {**os.environ, **self.fakes.env(), "PUBLISH_WORKSPACE": str(folder), "PUBLISH_USER": "marta"}
        env.pop("PUBLISH_DEBUG", None)
        process = subprocess.Popen([sys.executable, "-m", "publisher", *command], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        timer = None
        if rng is not None:
            with self._lock:
                if rng.random() < 0.5:
                    trial.countdown, trial.after_platform = rng.randint(1, 3), rng.random() < 0.5
                    trial.mode = "after the platform acted" if trial.after_platform else "as the post arrived"
                else:
                    trial.countdown, trial.mode = 0, "timer"
                    timer = threading.Timer(rng.uniform(0.05, 0.7), self._kill, (trial,))
                trial.process = process
            if timer:
                timer.start()
        try:
            output, _ = process.communicate(timeout=120)
        finally:
            if timer:
                timer.cancel()
            with self._lock:
                trial.process, trial.countdown = None, 0
        return process.returncode, output

    def _play_the_person(self, trial: Trial, output: str) -> list[str]:
        status = json.loads(trial.workspace.run("status", "--json", env=self.fakes.env()).output)
        listed = [item["channel"] for report in status for item in report["unconfirmed"]
                  if item["draft"] == trial.draft]
        if "UNCONFIRMED" not in output:
            return ["send", trial.draft]
        trial.listed_unconfirmed += listed
        posted = sum(1 for body in self.fakes.slack_posts if trial.marker in body)
        trial.posts_when_listed.append(posted)
        if "cabinet" not in listed:
            return ["send", trial.draft]
        if posted:
            trial.workspace.run("confirm", trial.draft, "cabinet", "--url", "https://acme.slack.com/archives/C1/p1",
                                "--as", "ana", env=self.fakes.env())
            trial.confirmed += 1
            return ["send", trial.draft]
        trial.resent += 1
        return ["send", trial.draft, "--resend", "cabinet"]

    def check(self, trial: Trial) -> list[str]:
        """Every broken promise of the trial, as sentences (empty when all hold)."""
        problems = []
        marker, draft, path = trial.marker, trial.draft, trial.workspace.path
        posts = self.fakes.posts(marker)
        if posts != {"mastodon": 1, "x": 1, "cabinet": 1}:
            problems.append(f"posts on the platforms: {posts}")
        if any(count > 1 for count in trial.posts_when_listed):
            problems.append(f"Slack had {trial.posts_when_listed} posts when the outcome was listed as unknown")
        outbox = path / "var" / "outbox" / f"{draft}--outbox.txt"
        if not outbox.exists() or marker not in outbox.read_text(encoding="utf-8"):
            problems.append("the outbox file is missing or wrong")
        manifest = json.loads((path / "var" / "site" / "statements.json").read_text(encoding="utf-8"))
        entries = manifest if isinstance(manifest, list) else manifest.get("statements", [])
        if sum(1 for entry in entries if entry.get("draft") == draft) != 1:
            problems.append("the site does not list the statement exactly once")
        events = delivery_events(trial.workspace)
        requests = self.requests(marker)
        for channel in ("web", "outbox", *NETWORK):
            mine = [e for e in events if e["channel"] == channel]
            started = sum(e["kind"] == "delivery.started" for e in mine)
            done = [e for e in mine if e["kind"] in ("delivery.delivered", "delivery.confirmed")]
            if len(done) != 1:
                problems.append(f"{channel}: {len(done)} delivered/confirmed events")
            if done and any(e["kind"] == "delivery.started" and e["seq"] > done[0]["seq"] for e in mine):
                problems.append(f"{channel}: sent again after it was delivered")
            if channel in requests and len(requests[channel]) > started:
                problems.append(f"{channel}: {len(requests[channel])} requests but {started} recorded attempts")
        keys = {r.header("Idempotency-Key") for r in requests["mastodon"]}
        if len(keys) > 1:
            problems.append(f"Mastodon saw {len(keys)} idempotency keys")
        verify = trial.workspace.run("log", "verify")
        if verify.exit_code != 0:
            problems.append(f"log verify failed: {verify.output.strip()}")
        return problems


def main(trials: int = 30, first_seed: int = 1) -> int:
    """Run the harness by hand: `python -m tests.crash_harness [TRIALS]`."""
    import tempfile

    fakes = Fakes().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            harness = CrashHarness(fakes, Path(folder))
            started = time.monotonic()
            bad = 0
            for seed in range(first_seed, first_seed + trials):
                trial = harness.run_trial(seed)
                problems = harness.check(trial)
                bad += bool(problems)
                print(f"trial {seed}: runs {trial.runs}, kills {trial.kills}, unconfirmed {trial.listed_unconfirmed}"
                      f"{' PROBLEMS ' + '; '.join(problems) if problems else ''}")
            print(f"{trials} trials, {bad} with problems, {time.monotonic() - started:.1f} s")
            return 1 if bad else 0
    finally:
        fakes.stop()


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
