"""TeamsChannel against a retired Office 365 connector, which answers HTTP 200 whatever
Teams did with the message: only its "1" is a delivery.

The answers are Microsoft's own (the sources are listed above `ConnectorFake` in
tests/fakes/webhooks.py): "Sending messages to connectors and webhooks"
(learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using)
for the "1" on success, the rate windows and the 429 inside a 200 body; Microsoft's answers
in MicrosoftDocs/msteams-docs issues #400, #4145 (400 inside a 200), #1810 (413 inside a
200) and #1736 ("Error contacting Microsoft Teams endpoint"). The 5xx inside a 200 is the
same envelope with another status."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

import pytest

from channels.base import Permanent, Receipt, Retryable
from channels.teams import TeamsChannel, card
from tests.channels import case_table
from tests.channels.case_table import fake_fixtures, replay, run_case
from tests.delivery_support import delivery_events
from tests.fakes.server import Reply
from tests.fakes.webhooks import HTML, ConnectorFake, attempt, connector_failure, make_message

pytestmark = pytest.mark.servers

HOOK = "CANARYhook3e8b1f0d7c2a4e6b9d5f"
PATH = (f"/webhookb2/9f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f@72f988bf-86f1-41af-91ab-2d7cd011db47"
        f"/IncomingWebhook/{HOOK}/3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f")
URL = f"https://acme.webhook.office.com{PATH}"
RECENT = 4

server, fake = fake_fixtures(lambda: ConnectorFake(PATH))


def build(fake: ConnectorFake, secrets: frozenset[str] = frozenset(), **settings) -> TeamsChannel:
    raw = {"type": "teams", "webhook_url": URL, "api_url": fake.url, "timeout": 2, **settings}
    return TeamsChannel.build("ops-teams", raw, secrets=secrets)


def busy(fake: ConnectorFake) -> None:
    """Four messages went out in the last second: the connector's first window is full."""
    import time

    fake.times = [time.monotonic()] * RECENT


def removed(fake: ConnectorFake) -> None:
    fake.removed = True


@dataclass
class Case(case_table.Case):
    posted: int = 0


CASES = [
    pytest.param(Case(posted=1), id="posted-1"),
    pytest.param(Case(prepare=busy, error=Retryable,
                      reason="says the delivery failed (Microsoft Teams endpoint returned HTTP error 429)"),
                 id="rate-limited-inside-200"),
    pytest.param(Case(prepare=removed, error=Permanent, reason="returned HTTP error 400) — Teams refused the card"),
                 id="refused-inside-200"),
    pytest.param(Case((connector_failure(413),), Permanent, "HTTP error 413) — the card is larger than Teams"),
                 id="too-large-inside-200"),
    pytest.param(Case((connector_failure(500),), Retryable, "HTTP error 500"), id="server-error-inside-200"),
    pytest.param(Case((connector_failure(504),), Retryable, "HTTP error 504", maybe_delivered=True),
                 id="gateway-timeout-inside-200"),
    pytest.param(Case((connector_failure(None),), Retryable, "(Error contacting Microsoft Teams endpoint)"),
                 id="error-contacting-teams"),
    pytest.param(Case((Reply(200, "<html>OK</html>", HTML),), Retryable, "without the \"1\" it returns",
                      maybe_delivered=True), id="no-1-in-200"),
    pytest.param(Case((Reply(200, "", {}),), Retryable, "without the \"1\" it returns", maybe_delivered=True),
                 id="empty-200"),
]


@pytest.mark.parametrize("case", CASES)
def test_send(fake: ConnectorFake, case: Case) -> None:
    outcome = run_case(fake, case, build)
    assert len(fake.posted) == case.posted
    request = fake.requests[0]
    assert (request.method, request.path) == ("POST", PATH)
    message = make_message(**case.message)
    assert request.json() == card(message.title, message.text)
    if case.error is None:
        assert isinstance(outcome, Receipt) and outcome.id.startswith("teams-")
    else:
        assert "the Teams connector answered HTTP 200" in outcome.reason and "ContextId" not in outcome.reason


def test_a_burst_past_the_connectors_rate_is_not_recorded_as_delivered(fake: ConnectorFake) -> None:
    channel = build(fake)
    messages = [make_message(f"Update {n}") for n in range(RECENT + 1)]
    outcomes = [attempt(partial(channel.send, sent)) for sent in messages]
    assert [type(outcome).__name__ for outcome in outcomes] == ["Receipt"] * RECENT + ["Retryable"]
    assert len(fake.posted) == RECENT and "HTTP error 429" in outcomes[-1].reason


def test_a_workflow_answer_keeps_its_meaning(fake: ConnectorFake) -> None:
    """A body saying the delivery failed is a failure on a Workflows URL too; a 2xx without
    it is a delivery there (the trigger's 202 has no body)."""
    workflow = ("https://prod-12.westeurope.logic.azure.com:443/workflows/6f1c/triggers/manual/paths/invoke"
                "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=abc")
    channel = TeamsChannel.build("ops-teams", {"type": "teams", "webhook_url": workflow, "api_url": fake.url})
    fake.handler = lambda request: connector_failure(429)
    assert isinstance(attempt(lambda: channel.send(make_message())), Retryable)
    fake.handler = lambda request: Reply(202, b"", {})
    assert isinstance(channel.send(make_message()), Receipt)


def test_canary_never_leaks(fake: ConnectorFake, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    channel, seen = replay(fake, CASES, build, frozenset({URL}), caplog)
    assert channel.describe()["webhook_url"] == "https://acme.webhook.office.com/****"
    assert not [text for text in seen + [caplog.text] if HOOK in text]


def test_a_refused_message_is_never_recorded_as_delivered(workspace, server: ConnectorFake) -> None:
    server.reset()
    server.removed = True
    workspace.write_config(extra=f'\n[channels.teams]\ntype = "teams"\napi_url = "{server.url}"\n'
                                 'webhook_url = "${TEAMS_WEBHOOK_URL}"\n')
    env = {"TEAMS_WEBHOOK_URL": URL}
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", env=env)
    approved = workspace.run("approve", draft, "--as", "ana", env=env)
    assert approved.exit_code == 1
    assert "Teams refused the card" in approved.output and HOOK not in approved.output
    events = delivery_events(workspace, "teams")
    assert [event["kind"] for event in events] == ["delivery.started", "delivery.failed"]
    assert events[-1]["data"]["error"] == "permanent"
    assert server.posted == []
