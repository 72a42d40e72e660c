"""Unknown outcomes, safe resends, confirmation, the freeze, and what a run shows while
it sends: all through the real CLI against loopback fakes of the platforms."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from publisher.delivery.engine import idempotency_key
from tests.delivery_support import Fakes, delivery_events, first_json
from tests.fakes.server import Reply
from tests.fakes.webhooks import slack_rate_limited

pytestmark = [pytest.mark.servers, pytest.mark.both_stores]

SLOW_OK = Reply(200, "ok", {"Content-Type": "text/html"}, delay=1.6)


@pytest.fixture
def fakes(workspace):
    running = Fakes().start()
    workspace.write_config(extra=running.config(timeout=0.8, slack_timeout=0.8))
    try:
        yield running
    finally:
        running.stop()


def _approved(workspace, fakes, *extra: str):
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", env=fakes.env())
    return draft, workspace.run("approve", draft, "--as", "ana", *extra, env=fakes.env())


def _slack_posts(fakes) -> int:
    return sum(1 for request in fakes.slack.requests if request.method == "POST")


def _status(workspace, fakes) -> dict:
    return json.loads(workspace.run("status", "1", "--json", env=fakes.env()).output)[0]


def _db(workspace):
    return workspace


def test_a_timeout_after_sending_is_unconfirmed_until_a_person_confirms(workspace, fakes):
    fakes.slack.then(SLOW_OK)
    draft, result = _approved(workspace, fakes)
    assert result.exit_code == 1
    assert f"UNCONFIRMED cabinet: check it on the platform, then `publish confirm {draft} cabinet --url URL`" \
        in result.output
    assert "unconfirmed on cabinet" in result.output
    assert _slack_posts(fakes) == 1

    status = _status(workspace, fakes)
    assert [(item["draft"], item["channel"]) for item in status["unconfirmed"]] == [(draft, "cabinet")]
    assert any(w.startswith(f"UNCONFIRMED draft {draft} on cabinet") for w in status["warnings"])
    text = workspace.run("status", "1", env=fakes.env()).output
    assert f"publish confirm {draft} cabinet --url URL" in text

    again = workspace.run("send", draft, env=fakes.env())
    assert again.exit_code == 1 and "UNCONFIRMED cabinet" in again.output
    assert _slack_posts(fakes) == 1

    confirmed = workspace.run("confirm", draft, "cabinet", "--url", "https://acme.slack.com/archives/C1/p1",
                              "--as", "ana")
    assert confirmed.exit_code == 0, confirmed.output
    assert _status(workspace, fakes)["unconfirmed"] == []
    done = workspace.run("send", draft, "--json", env=fakes.env())
    assert done.exit_code == 0
    assert {item["state"] for item in json.loads(done.output)["deliveries"]} == {"delivered"}
    assert _slack_posts(fakes) == 1


def test_resend_is_the_persons_choice_for_an_unknown_outcome(workspace, fakes):
    fakes.slack.then(SLOW_OK)
    draft, result = _approved(workspace, fakes)
    assert result.exit_code == 1
    resent = workspace.run("send", draft, "--resend", "cabinet", env=fakes.env())
    assert resent.exit_code == 0, resent.output
    assert _slack_posts(fakes) == 2
    assert _status(workspace, fakes)["unconfirmed"] == []


def test_resend_of_a_channel_the_draft_has_not_is_bad_input(workspace, fakes):
    draft, result = _approved(workspace, fakes)
    refused = workspace.run("send", draft, "--resend", "nowhere", env=fakes.env())
    assert refused.exit_code == 2
    assert "--resend nowhere: draft" in refused.output and "has no such channel" in refused.output


def test_mastodon_resends_with_the_same_idempotency_key_and_posts_once(workspace, fakes):
    fakes.mastodon.slow_once(1.6)
    draft, result = _approved(workspace, fakes)
    assert result.exit_code == 0, result.output
    posts = [r for r in fakes.mastodon.requests if r.method == "POST"]
    assert len(posts) == 2 and len(fakes.mastodon.statuses) == 1
    record = json.loads(workspace.run("drafts", "show", draft, "--json").output)["draft"]
    expected = idempotency_key(record["hash"], "mastodon")
    assert {request.header("Idempotency-Key") for request in posts} == {expected}
    kinds = [e["kind"] for e in delivery_events(_db(workspace), "mastodon")]
    assert kinds == ["delivery.started", "delivery.failed", "delivery.started", "delivery.delivered"]


def test_x_duplicate_rejection_proves_the_first_attempt_went_out(workspace, fakes):
    fakes.x.slow_once(1.6)
    draft, result = _approved(workspace, fakes)
    assert result.exit_code == 0, result.output
    assert len(fakes.x.tweets) == 1
    delivered = [e for e in delivery_events(_db(workspace), "x") if e["kind"] == "delivery.delivered"]
    assert len(delivered) == 1 and delivered[0]["data"]["duplicate"] is True


def test_a_freeze_stops_retries_in_flight(workspace, fakes):
    fakes.slack.then(slack_rate_limited(5))
    env = {**os.environ, "PUBLISH_WORKSPACE": str(workspace.path), "PUBLISH_USER": "ana"}

    def sleep_then_freeze(seconds: float) -> None:
        workspace.sleeps.append(seconds)
        frozen = subprocess.run([sys.executable, "-m", "publisher", "freeze", "--reason", "legal review"],
                                env=env, capture_output=True, text=True)
        assert frozen.returncode == 0, frozen.stderr

    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", env=fakes.env())
    result = workspace.run("approve", draft, "--as", "ana", env=fakes.env(), sleep=sleep_then_freeze)
    assert result.exit_code == 1
    assert workspace.sleeps == [5.0]
    assert _slack_posts(fakes) == 1
    assert "held" in result.output and "publishing is frozen" in result.output
    kinds = [e["kind"] for e in delivery_events(_db(workspace), "cabinet")]
    assert kinds == ["delivery.started", "delivery.failed"]
    refused = workspace.run("send", draft, env=fakes.env())
    assert refused.exit_code == 2 and "frozen" in refused.output
    lifted = workspace.run("unfreeze", "--reason", "cleared", "--as", "ana")
    assert lifted.exit_code == 0, lifted.output
    assert workspace.run("send", draft, env=fakes.env()).exit_code == 0
    assert fakes.posts() == {"mastodon": 1, "x": 1, "cabinet": 1}


def test_progress_shows_each_channel_and_json_gives_the_summary(workspace, fakes):
    fakes.slack.then(slack_rate_limited(2))
    draft, result = _approved(workspace, fakes)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for channel in ("web", "outbox", "mastodon", "x", "cabinet"):
        mine = [line for line in lines if f" {channel}: " in line]
        states = [line.split(": ", 1)[1].split(" - ", 1)[0] for line in mine]
        assert states[0] == "waiting" and "sending" in states and states[-1] == "delivered", mine
        assert all(line.strip().split(" ", 1)[0].replace(".", "").isdigit() for line in mine)
    assert any("cabinet: retrying - retry in 2.0 s" in line for line in lines)
    tweet = next(iter(fakes.x.tweets))
    assert any(f"x: delivered - https://x.com/acme_es/status/{tweet}" in line for line in lines)
    assert "5 of 5 delivered in" in result.output

    summary = json.loads(workspace.run("send", draft, "--json", env=fakes.env()).output)
    assert set(summary) == {"practice", "draft", "elapsed_s", "delivered", "not_delivered", "unconfirmed", "deliveries"}
    assert summary["delivered"] == 5 and summary["not_delivered"] == [] and summary["unconfirmed"] == []


def test_a_failing_channel_does_not_hold_up_the_others(workspace, fakes):
    fakes.slack.then(Reply(403, "invalid_token", {"Content-Type": "text/html"}))
    fakes.x.queue(Reply(401, {"title": "Unauthorized", "status": 401, "detail": "Unauthorized"},
                        {"Content-Type": "application/json"}))
    draft, result = _approved(workspace, fakes, "--json")
    assert result.exit_code == 1
    summary = first_json(result.output)
    states = {item["channel"]: item["state"] for item in summary["deliveries"]}
    assert states == {"web": "delivered", "outbox": "delivered", "mastodon": "delivered",
                      "x": "failed-permanent", "cabinet": "failed-permanent"}
    assert sorted(summary["not_delivered"]) == ["cabinet", "x"]
