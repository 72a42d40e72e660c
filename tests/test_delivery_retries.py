"""Retries: the waits the platforms ask for, backoff without a signal, no retry of a
permanent error, the run's budget and the publish deadline, faults on 30 % of requests.

Time is never measured here: the injected sleep records every wait, and the log
records each retry's wait next to the failure it followed."""
from __future__ import annotations

import json

import pytest

from tests.delivery_support import (
    Fakes,
    delivery_events,
    first_json,
    inject_faults,
    wait_matches_signal,
    waits_after_failures,
)
from tests.fakes.server import Reply
from tests.fakes.webhooks import slack_rate_limited

pytestmark = [pytest.mark.servers, pytest.mark.both_stores]


@pytest.fixture
def fakes(workspace):
    running = Fakes().start()
    workspace.write_config(extra=running.config())
    try:
        yield running
    finally:
        running.stop()


def _send(workspace, fakes, hours_ago: float = 3, *extra: str):
    workspace.open_incident(case=2, hours_ago=hours_ago)
    draft = workspace.render("--case", "2", "--template", "apology", env=fakes.env())
    return draft, workspace.run("approve", draft, "--as", "ana", *extra, env=fakes.env())


def _db(workspace):
    return workspace


def test_a_rate_limit_is_waited_out_exactly_as_asked(workspace, fakes):
    fakes.slack.then(slack_rate_limited(7), slack_rate_limited(3))
    draft, result = _send(workspace, fakes)
    assert result.exit_code == 0, result.output
    assert workspace.sleeps == [7.0, 3.0]
    assert fakes.posts() == {"mastodon": 1, "x": 1, "cabinet": 1}
    pairs = waits_after_failures(delivery_events(_db(workspace), "cabinet"))
    assert [(failure["data"]["retry_after"], waited) for failure, waited in pairs] == [(7.0, 7.0), (3.0, 3.0)]
    assert "retry in 7.0 s" in result.output and "retry in 3.0 s" in result.output


def test_mastodon_and_x_reset_times_are_the_waits(workspace, fakes):
    from tests.fakes.mastodon_api import too_many_requests as mastodon_429
    from tests.fakes.x_api import too_many_requests as x_429

    fakes.mastodon.queue(mastodon_429(30))
    fakes.x.queue(x_429(40))
    draft, result = _send(workspace, fakes)
    assert result.exit_code == 0, result.output
    pairs = waits_after_failures(delivery_events(_db(workspace)))
    assert sorted(failure["channel"] for failure, _ in pairs) == ["mastodon", "x"]
    for failure, waited in pairs:
        assert wait_matches_signal(failure, waited, 1)
        assert 25 < waited <= 41
    assert sorted(round(w, 3) for w in workspace.sleeps) == sorted(waited for _, waited in pairs)


def test_without_a_signal_the_backoff_grows_with_jitter(workspace, fakes):
    from tests.fakes.mastodon_api import temporary_problem

    fakes.mastodon.queue(temporary_problem(), temporary_problem(), temporary_problem())
    draft, result = _send(workspace, fakes)
    assert result.exit_code == 0, result.output
    waits = [waited for _, waited in waits_after_failures(delivery_events(_db(workspace), "mastodon"))]
    assert len(waits) == 3
    assert 1 <= waits[0] <= 2 and 2 <= waits[1] <= 3 and 4 <= waits[2] <= 5
    assert fakes.posts()["mastodon"] == 1


def test_a_permanent_error_is_never_retried(workspace, fakes):
    fakes.slack.then(Reply(403, "invalid_token", {"Content-Type": "text/html"}))
    draft, result = _send(workspace, fakes)
    assert result.exit_code == 1
    assert workspace.sleeps == []
    cabinet = delivery_events(_db(workspace), "cabinet")
    assert [event["kind"] for event in cabinet] == ["delivery.started", "delivery.failed"]
    summary = first_json(workspace.run("send", draft, "--json", env=fakes.env()).output)
    states = {item["channel"]: item["state"] for item in summary["deliveries"]}
    assert states["cabinet"] == "failed-permanent" and states["mastodon"] == "delivered"
    assert len(delivery_events(_db(workspace), "cabinet")) == 2


def test_the_budget_stops_retrying_and_send_resumes(workspace, fakes):
    workspace.write_config(extra=fakes.config() + "\n[delivery]\nbudget = 1\n")
    fakes.slack.then(slack_rate_limited(10), slack_rate_limited(120))
    draft, result = _send(workspace, fakes)
    assert result.exit_code == 1
    assert workspace.sleeps == [10.0]
    assert "the next wait (120.0 s) would pass the run's budget ([delivery] budget = 1 min)" in result.output
    assert f"`publish send {draft}` resumes" in result.output
    state = json.loads(workspace.run("drafts", "show", draft, "--json").output)["channels"]
    assert state == {"web": "delivered", "outbox": "delivered", "mastodon": "delivered", "x": "delivered",
                     "cabinet": "failed-retryable"}
    resumed = workspace.run("send", draft, env=fakes.env())
    assert resumed.exit_code == 0, resumed.output
    assert fakes.posts() == {"mastodon": 1, "x": 1, "cabinet": 1}
    assert [e["kind"] for e in delivery_events(_db(workspace), "mastodon")] == ["delivery.started",
                                                                                 "delivery.delivered"]


def test_no_wait_may_pass_the_publish_deadline(workspace, fakes):
    fakes.slack.then(slack_rate_limited(120))
    draft, result = _send(workspace, fakes, 47.99)
    assert result.exit_code == 1
    assert workspace.sleeps == []
    assert "would pass the publish deadline" in result.output


def test_after_the_deadline_only_the_budget_bounds_retries(workspace, fakes):
    fakes.slack.then(slack_rate_limited(120))
    draft, result = _send(workspace, fakes, 50)
    assert result.exit_code == 0, result.output
    assert workspace.sleeps == [120.0]


def test_waits_within_one_run_add_up_against_the_budget(workspace, fakes):
    workspace.write_config(extra=fakes.config() + "\n[delivery]\nbudget = 2\n")
    fakes.slack.then(*[slack_rate_limited(50) for _ in range(4)])
    draft, result = _send(workspace, fakes)
    assert result.exit_code == 1
    assert workspace.sleeps == [50.0, 50.0]


@pytest.mark.parametrize("seed", [11, 23, 37, 41])
def test_thirty_percent_faults_everything_delivered_within_the_budget(workspace, fakes, seed):
    workspace.write_config(extra=fakes.config(timeout=0.8))
    faults = inject_faults(fakes, seed)
    drafts = []
    markers = [f"outage number {number}" for number in range(1, 7)]
    for number, marker in enumerate(markers, start=1):
        if number > 1:
            workspace.run("incident", "resolve", str(number - 1))
        workspace.open_incident(case=2, what=f"the payment {marker} in run {seed}")
        drafts.append(workspace.render("--case", "2", "--template", "apology", env=fakes.env()))
        result = workspace.run("approve", drafts[-1], "--as", "ana", env=fakes.env())
        assert result.exit_code == 0, result.output
    assert len(faults.injected) >= 3 and len({kind for _, kind in faults.injected}) >= 2
    for draft in drafts:
        shown = json.loads(workspace.run("drafts", "show", draft, "--json").output)
        assert set(shown["channels"].values()) == {"delivered"}
    for marker in markers:
        assert fakes.posts(marker) == {"mastodon": 1, "x": 1, "cabinet": 1}
    events = delivery_events(_db(workspace))
    attempts: dict[tuple[str, str], int] = {}
    for event in events:
        if event["kind"] == "delivery.started":
            attempts[(event["draft"], event["channel"])] = event["data"]["attempt"]
            if "waited" in event["data"]:
                failure = next(e for e in reversed(events[:events.index(event)])
                               if e["kind"] == "delivery.failed" and e["channel"] == event["channel"]
                               and e["draft"] == event["draft"])
                assert wait_matches_signal(failure, event["data"]["waited"], event["data"]["attempt"] - 1), \
                    (failure, event)
    waited = [e["data"]["waited"] for e in events if "waited" in e["data"]]
    assert sorted(round(w, 3) for w in workspace.sleeps) == sorted(waited)
    per_delivery: dict[tuple[str, str], float] = {}
    for event in events:
        if "waited" in event["data"]:
            key = (event["draft"], event["channel"])
            per_delivery[key] = per_delivery.get(key, 0) + event["data"]["waited"]
    assert all(total <= 15 * 60 for total in per_delivery.values())
    assert workspace.run("log", "verify").exit_code == 0
