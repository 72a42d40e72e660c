"""Shared by the delivery tests: a small set of fake platforms (Mastodon, X, Slack) with
their config section, fault injection on top of their normal answers, and readers of
the log's delivery events."""
from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable

from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.mastodon_api import too_many_requests as mastodon_429
from tests.fakes.server import FakeServer, Reply, Request
from tests.fakes.webhooks import SlackFake
from tests.fakes.x_api import FakeX
from tests.fakes.x_api import server_error as x_5xx
from tests.fakes.x_api import too_many_requests as x_429

SECRETS = {"X_API_KEY": "xkey-delivery-1", "X_API_SECRET": "xsecret-delivery-2",
           "X_ACCESS_TOKEN": "1580661436132757506-xtoken3", "X_ACCESS_SECRET": "xaccess-delivery-4",
           "MASTODON_TOKEN": "mastodon-delivery-5", "SLACK_PATH": "/services/T0001/B0001/slackdelivery6"}


class Fakes:
    """The platforms the delivery tests talk to, each a loopback server."""

    def __init__(self) -> None:
        s = SECRETS
        self.x = FakeX(s["X_API_KEY"], s["X_API_SECRET"], s["X_ACCESS_TOKEN"], s["X_ACCESS_SECRET"],
                       username="acme_es")
        self.mastodon = FakeMastodon(token=s["MASTODON_TOKEN"])
        self.slack = SlackFake(s["SLACK_PATH"])
        self.slack_posts: list[str] = []
        self.slack.answers = self.slack.handler = self._recording(self.slack.answers)
        self.all: list[FakeServer] = [self.x, self.mastodon, self.slack]

    def _recording(self, answer: Callable[[Request], Reply]) -> Callable[[Request], Reply]:
        def recorded(request: Request) -> Reply:
            reply = answer(request)
            if reply.status == 200:
                self.slack_posts.append(request.body.decode())
            return reply

        return recorded

    def start(self) -> "Fakes":
        for fake in self.all:
            fake.start()
        return self

    def stop(self) -> None:
        for fake in self.all:
            fake.stop()

    def env(self) -> dict[str, str]:
        return {**SECRETS, "SLACK_URL": self.slack.url + SECRETS["SLACK_PATH"]}

    def config(self, timeout: float = 5, slack_timeout: float = 10, channels: tuple[str, ...] = ("mastodon", "x", "cabinet")) -> str:
        sections = {
            "mastodon": f"""
[channels.mastodon]
type = "mastodon"
instance = "{self.mastodon.url}"
token = "${{MASTODON_TOKEN}}"
timeout = {timeout}
""",
            "x": f"""
[channels.x]
type = "x"
api_url = "{self.x.url}"
username = "acme_es"
api_key = "${{X_API_KEY}}"
api_secret = "${{X_API_SECRET}}"
access_token = "${{X_ACCESS_TOKEN}}"
access_token_secret = "${{X_ACCESS_SECRET}}"
timeout = {timeout}
""",
            "cabinet": f"""
[channels.cabinet]
type = "slack"
audience = "internal"
webhook_url = "${{SLACK_URL}}"
timeout = {slack_timeout}
"""}
        return "".join(sections[name] for name in channels)

    def posts(self, marker: str = "") -> dict[str, int]:
        """Posts each platform holds whose text contains `marker`."""
        return {"mastodon": sum(marker in s["content"] for s in list(self.mastodon.statuses.values())),
                "x": sum(marker in t["text"] for t in list(self.x.tweets.values())),
                "cabinet": sum(marker in body for body in list(self.slack_posts))}


def delivery_events(source, channel: str | None = None) -> list[dict]:
    """The delivery.* events in log order, as stored (`source`: a workspace, on either
    backend, or an SQLite file)."""
    db = source.db() if hasattr(source, "db") else sqlite3.connect(source)
    try:
        rows = db.execute("SELECT body FROM events ORDER BY seq").fetchall()
    finally:
        db.close()
    events = [json.loads(row[0]) for row in rows]
    return [e for e in events if e["kind"].startswith("delivery.") and (channel is None or e["channel"] == channel)]


def waits_after_failures(events: list[dict]) -> list[tuple[dict, float]]:
    """Each retry's wait, paired with the failure it followed (per channel)."""
    pairs, last_failure = [], {}
    for event in events:
        if event["kind"] == "delivery.failed":
            last_failure[event["channel"]] = event
        elif event["kind"] == "delivery.started" and "waited" in event["data"]:
            pairs.append((last_failure[event["channel"]], event["data"]["waited"]))
    return pairs


def wait_matches_signal(failure: dict, waited: float, attempt: int) -> bool:
    """A wait is right when it is exactly what the platform asked for, else within the
    exponential backoff window of its attempt (1-2 s, 2-3 s, 4-5 s, ...)."""
    asked = failure["data"].get("retry_after")
    if asked is not None:
        return abs(waited - round(asked, 3)) < 0.002
    low = min(60.0, 2.0 ** (attempt - 1))
    return low <= waited <= low + 1


class Faults:
    """Wraps a fake's normal answers: each POST fails with probability `rate`, as a rate
    limit, a server error, a timeout (the platform acts, the answer comes too late) or a
    connection reset (before or after the platform acts). Each platform draws from its
    own seeded generator, so a seed gives the same faults whatever the thread timing."""

    def __init__(self, seed: int, rate: float, late: float):
        self.seed = seed
        self.rate = rate
        self.late = late
        self.injected: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def wrap(self, name: str, fake: FakeServer, kinds: tuple[str, ...],
             limited: Callable[[random.Random], Reply], failed: Callable[[random.Random], Reply]) -> None:
        normal = fake.handler
        rng = random.Random(f"{self.seed}-{name}")

        def answer(request: Request) -> Reply:
            if request.method != "POST":
                return normal(request)
            with self._lock:
                kind = rng.choice(kinds) if rng.random() < self.rate else None
                if kind:
                    self.injected.append((name, kind))
                if kind == "limit":
                    return limited(rng)
                if kind == "error":
                    return failed(rng)
            if kind == "reset-before":
                return Reply(reset=True)
            reply = normal(request)
            if kind == "timeout":
                return Reply(reply.status, reply.body, reply.headers, delay=self.late)
            if kind == "reset-after":
                return Reply(reset=True)
            return reply

        fake.handler = answer
        if hasattr(fake, "answers"):
            fake.answers = answer


def inject_faults(fakes: Fakes, seed: int, rate: float = 0.3, late: float = 1.2) -> Faults:
    """30 % of the POSTs fail. Mastodon and X may also time out or reset (a resend is
    safe there); Slack only fails in ways that prove nothing was posted (429, 500/503),
    since it has no idempotency."""
    every = ("limit", "error", "timeout", "reset-before", "reset-after")
    faults = Faults(seed, rate, late)
    faults.wrap("mastodon", fakes.mastodon, every, lambda rng: mastodon_429(rng.choice((2, 5, 30))),
                lambda rng: Reply(503, {"error": "temporary"}, {"Content-Type": "application/json"}))
    faults.wrap("x", fakes.x, every, lambda rng: x_429(rng.choice((3, 7, 40))),
                lambda rng: x_5xx(rng.choice((500, 503))))
    faults.wrap("cabinet", fakes.slack, ("limit", "error"),
                lambda rng: Reply(429, "rate_limited", {"Content-Type": "text/html",
                                                        "Retry-After": str(rng.choice((1, 4)))}),
                lambda rng: Reply(rng.choice((500, 503)), "rollup_error", {"Content-Type": "text/html"}))
    return faults


def first_json(text: str):
    """The JSON document at the start of `text` (a failing run prints its error after it)."""
    return json.JSONDecoder().raw_decode(text)[0]


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def machines(workspace, count: int) -> list[Path]:
    """Workspace folders standing for `count` machines of one cabinet: on PostgreSQL,
    the first is the workspace and the others are folders of their own with the same
    config (so the same database), sharing only the site and outbox folders, as a web
    root would be shared; on SQLite, the one workspace."""
    if not workspace.store_url:
        return [workspace.path] * count
    folders = [workspace.path]
    var = workspace.path / "var"
    for shared in ("site", "outbox"):
        (var / shared).mkdir(parents=True, exist_ok=True)
    for number in range(2, count + 1):
        twin = workspace.path.parent / f"{workspace.path.name}-machine-{number}"
        if not twin.exists():
            (twin / "var").mkdir(parents=True, mode=0o700)
            (twin / "config").symlink_to(workspace.path / "config")
            for shared in ("site", "outbox"):
                (twin / "var" / shared).symlink_to(var / shared)
        folders.append(twin)
    return folders
