"""The one case table every channel test runs its sends through (STYLE.md item 9).

A channel's test file lists `Case`s (success, its own 429 signal, 5xx, timeout,
reset, bad token, too long, duplicate, ...); `run_case` sends each one against the
channel's fake server and checks what every channel must get right: how many
requests went out, the receipt's or error's listed fields, and on failure the error
type, the reason, and for a `Retryable` its retry_after (a number, None, or a
pytest.approx for a clock-derived wait) and maybe_delivered. A case's `check` and
the file's test body then check only what is the channel's own (request body,
receipt shape). `replay` sends every case again for the no-secret-leaks tests;
`fake_fixtures` gives the module-scoped server and the per-test `fake` reset before
each test; `assert_loads_no_sdk` is the import check every channel file makes
(importing a channel module loads no SDK); `refused_url` is an address where nothing
listens, for the connection-refused case.
"""
from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

from channels.base import Message, Receipt, Retryable
from tests.fakes.server import Reply
from tests.fakes.webhooks import attempt, make_message, visible_texts

ROOT = Path(__file__).resolve().parents[2]
SDKS = frozenset({"requests", "urllib3", "httpx", "httpcore", "tweepy", "oauthlib", "requests_oauthlib", "telegram",
                  "facebook", "atproto", "atproto_client", "atproto_core", "atproto_server", "pydantic", "PIL",
                  "nio", "aiohttp"})


@dataclass
class Case:
    """One send and what it must come to; channel files subclass it for their own fields.

    `prepare(fake)` sets the fake up before the replies are queued; if it returns a
    dict, those are message fields naming what it set up. `check(outcome, fake)`
    holds the case's own assertions."""

    replies: tuple[Reply | None, ...] = ()
    error: type | None = None
    reason: str = ""
    retry_after: float | None = None
    maybe_delivered: bool = False
    settings: dict = field(default_factory=dict)
    message: dict | Message = field(default_factory=dict)
    prepare: Callable[[Any], dict | None] | None = None
    requests: int = 1
    receipt_fields: dict = field(default_factory=dict)
    error_fields: dict = field(default_factory=dict)
    check: Callable[[Any, Any], None] | None = None

    def load(self, fake: Any) -> None:
        """Put the replies before the fake's normal answers."""
        fake.queue(*self.replies)

    def outgoing(self, prepared: dict) -> Message:
        """The message to send: `message` itself, or make_message with its fields and
        those `prepare` returned (a reference to something it set up on the fake)."""
        if isinstance(self.message, Message):
            return self.message
        return make_message(**{**self.message, **prepared})


def fake_fixtures(start: Callable[[], Any], after_reset: Callable[[Any], None] | None = None):
    """`server` (one fake per module, started by `start()`) and `fake` (that server,
    reset before each test); bind both at module level under exactly these names, since
    pytest registers a fixture by the name it is bound to: `server, fake = fake_fixtures(...)`."""

    @pytest.fixture(scope="module")
    def server():
        with start() as running:
            yield running

    @pytest.fixture
    def fake(server):
        server.reset()
        if after_reset:
            after_reset(server)
        return server

    return server, fake


def send(fake: Any, case: Case, build: Callable[..., Any], secrets: frozenset[str] | None = None):
    """Prepare the fake, load the case's replies, build the channel and send once;
    return (channel, outcome) where outcome is the receipt or the error raised."""
    prepared = case.prepare(fake) if case.prepare else None
    prepared = prepared if isinstance(prepared, dict) else {}
    case.load(fake)
    channel = build(fake, **case.settings) if secrets is None else build(fake, secrets, **case.settings)
    return channel, attempt(lambda: channel.send(case.outgoing(prepared)))


def run_case(fake: Any, case: Case, build: Callable[..., Any]):
    """Send `case` and assert what every channel shares, then `case.check(outcome, fake)`;
    return the outcome for the file's own checks (a receipt when case.error is None,
    else the error)."""
    _, outcome = send(fake, case, build)
    assert len(fake.requests) == case.requests
    if case.error is None:
        assert isinstance(outcome, Receipt), outcome
        assert {key: getattr(outcome, key) for key in case.receipt_fields} == case.receipt_fields
    else:
        assert type(outcome) is case.error, outcome
        assert case.reason in outcome.reason
        assert {key: getattr(outcome, key) for key in case.error_fields} == case.error_fields
        if isinstance(outcome, Retryable):
            assert outcome.retry_after == case.retry_after
            assert outcome.maybe_delivered is case.maybe_delivered
    if case.check:
        case.check(outcome, fake)
    return outcome


def replay(fake: Any, cases: Iterable[Any], build: Callable[..., Any], secrets: frozenset[str],
           caplog: pytest.LogCaptureFixture) -> tuple[Any, list[str]]:
    """Send every case (pytest.param or Case) with `secrets` declared, the fake reset
    before each, then build an idle channel on a reset fake; return that channel and
    everything a person or a log could see: the outcomes, and the channel's repr,
    description and check answer."""
    seen: list[str] = []
    for case in cases:
        fake.reset()
        _, outcome = send(fake, getattr(case, "values", (case,))[0], build, secrets)
        seen += visible_texts(outcome, caplog.records)
    fake.reset()
    channel = build(fake, secrets)
    seen += [repr(channel), str(channel.describe()), str(attempt(channel.check))]
    return channel, seen


def assert_loads_no_sdk(module: str) -> None:
    """Import `module` in a fresh interpreter at the repository root: it must load and
    bring in none of the platform SDKs or HTTP stacks (they load when a send needs them)."""
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert module in loaded
    assert not {name.split(".")[0] for name in loaded} & SDKS


_HELD_PORTS: list[socket.socket] = []


def refused_url(path: str = "") -> str:
    """http://127.0.0.1:<port> for a port this process keeps bound without listening: a
    connection there is refused, and no other process (a server another test starts) can
    take the port meanwhile."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    _HELD_PORTS.append(holder)
    return f"http://127.0.0.1:{holder.getsockname()[1]}{path}"
