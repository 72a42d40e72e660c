"""TeamsChannel against a fake Workflows (Logic Apps) HTTP trigger."""
from __future__ import annotations

import json

import logging
from dataclasses import dataclass
from typing import Any, Callable

import pytest

from channels.base import Permanent, Retryable
from channels.teams import TeamsChannel, card
from tests.fakes.server import Reply
from tests.channels import case_table
from tests.channels.case_table import assert_loads_no_sdk, fake_fixtures, replay, run_case
from tests.fakes.webhooks import HTML, TeamsFake, attempt, logic_apps_error, make_message

pytestmark = pytest.mark.servers

CANARY = "CANARY-teams-9f8e7d6c5b4a"
WORKFLOW = "6f1c2d3e4a5b4c6d8e9f0a1b2c3d4e5f"
TRIGGER = f"/workflows/{WORKFLOW}/triggers/manual/paths/invoke"
QUERY = f"api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={CANARY}"
URL = f"https://prod-12.westeurope.logic.azure.com:443{TRIGGER}?{QUERY}"


server, fake = fake_fixtures(lambda: TeamsFake(WORKFLOW, CANARY))


def build(fake: TeamsFake, secrets: frozenset[str] = frozenset({CANARY}), **settings: Any) -> TeamsChannel:
    raw = {"type": "teams", "webhook_url": URL, "api_url": fake.url, "timeout": 2, **settings}
    return TeamsChannel.build("ops-teams", raw, secrets=secrets)


@dataclass
class Case(case_table.Case):
    receipt_id: Callable[[str], bool] = lambda receipt_id: receipt_id.startswith("08584")


CASES = [
    pytest.param(Case(), id="success"),
    pytest.param(Case(message={"title": ""}), id="success-without-title"),
    pytest.param(Case((Reply(200, "1", {"Content-Type": "text/plain"}),),
                      receipt_id=lambda receipt_id: receipt_id.startswith("teams-")), id="success-without-run-id"),
    pytest.param(Case((Reply(202, "<html>accepted</html>", HTML),),
                      receipt_id=lambda receipt_id: receipt_id.startswith("teams-")), id="unexpected-success-body"),
    pytest.param(Case((logic_apps_error(429, "WorkflowRequestsThrottled", "Rate limit is exceeded.",
                                        {"Retry-After": "17"}),), Retryable, "HTTP 429 (WorkflowRequestsThrottled",
                      retry_after=17), id="throttled"),
    pytest.param(Case((logic_apps_error(500, "ServiceProviderError", "An internal error occurred."),), Retryable,
                      "HTTP 500 (ServiceProviderError"), id="server-error"),
    pytest.param(Case((Reply(502, "<html>Bad Gateway</html>", HTML),), Retryable, "HTTP 502"), id="bad-gateway"),
    pytest.param(Case((Reply(504, "", {}),), Retryable, "HTTP 504", maybe_delivered=True), id="gateway-timeout"),
    pytest.param(Case((Reply(delay=1.0, status=202),), Retryable, "no answer", maybe_delivered=True,
                      settings={"timeout": 0.3}), id="timeout"),
    pytest.param(Case((Reply(reset=True),), Retryable, "connection broke", maybe_delivered=True), id="reset"),
    pytest.param(Case(error=Permanent, reason="HTTP 401 (DirectApiInvalidAuthorizationSignature",
                      settings={"webhook_url": URL.replace(CANARY, "CANARY-teams-000000000000")}), id="bad-signature"),
    pytest.param(Case(error=Permanent, reason="HTTP 401 (DirectApiAuthorizationRequired",
                      settings={"webhook_url": URL.replace(f"&sig={CANARY}", "")}), id="missing-signature"),
    pytest.param(Case((logic_apps_error(403, "AuthorizationFailed", "The caller is not allowed to run the flow."),),
                      Permanent, "check who may trigger the flow"), id="forbidden"),
    pytest.param(Case(error=Permanent, reason="HTTP 404 (WorkflowNotFound",
                      settings={"webhook_url": URL.replace(WORKFLOW, "0" * 32)}), id="flow-deleted"),
    pytest.param(Case((logic_apps_error(400, "InvalidRequestContent", "The request content is not valid."),),
                      Permanent, "the workflow refused the card"), id="card-refused"),
    pytest.param(Case((Reply(307, "", {"Location": f"https://elsewhere.example/?sig={CANARY}"}),), Permanent,
                      "redirected (HTTP 307)"), id="redirect"),
    pytest.param(Case(error=Permanent, reason="Teams refuses messages above 28672 bytes",
                      message={"parts": ("ж" * 20_000,)}, requests=0), id="card-too-large"),
]


@pytest.mark.parametrize("case", CASES)
def test_send(fake: TeamsFake, case: Case) -> None:
    outcome = run_case(fake, case, build)
    if case.error is None:
        request = fake.requests[0]
        assert (request.method, request.path) == ("POST", TRIGGER)
        assert request.query == {"api-version": ["2016-06-01"], "sp": ["/triggers/manual/run"], "sv": ["1.0"],
                                 "sig": [CANARY]}
        assert request.header("Content-Type").startswith("application/json")
        message = make_message(**case.message)
        assert request.json() == card(message.title, message.text)
        assert case.receipt_id(outcome.id) and outcome.url is None
        assert outcome.platform_time and outcome.extra == {"part_ids": [outcome.id]}


def test_card_shape_and_verbatim_text(fake: TeamsFake) -> None:
    text = "Störung behoben — **fett** <b>nicht html</b> 🚨\n\n  zwei Leerzeichen"
    build(fake).send(make_message(text, title="Incident 7"))
    sent = fake.requests[0].json()
    assert sent["type"] == "message"
    attachment = sent["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    content = attachment["content"]
    assert (content["type"], content["version"]) == ("AdaptiveCard", "1.4")
    assert content["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert content["body"] == [
        {"type": "TextBlock", "text": "Incident 7", "weight": "Bolder", "wrap": True},
        {"type": "TextBlock", "text": text, "wrap": True},
    ]


BASE = "https://prod-12.westeurope.logic.azure.com:443"
PLATFORM = "https://default1a2b.3c.environment.api.powerplatform.com:443/powerautomate/automations/direct"


@pytest.mark.parametrize("url, problem", [
    (URL, None),
    (f"{PLATFORM}{TRIGGER}?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=abc", None),
    (f"{BASE}{TRIGGER}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0", "no sig= signature"),
    (f"http://prod-12.westeurope.logic.azure.com{TRIGGER}?sig=abc", "must use https"),
    (f"https://evil.example.com{TRIGGER}?sig=abc", "which does not serve"),
    ("https://acme.webhook.office.com/webhookb2/1234/IncomingWebhook/abcd/efgh", "Microsoft retired connectors"),
    ("https://outlook.office.com/webhook/1234@5678/IncomingWebhook/abcd/efgh", "Microsoft retired connectors"),
    (f"{BASE}/workflows/{WORKFLOW}/runs?sig=abc", "does not look like"),
])
def test_check_inspects_the_url_only(fake: TeamsFake, url: str, problem: str | None) -> None:
    channel = TeamsChannel.build("ops-teams", {"type": "teams", "webhook_url": url}, secrets=frozenset({CANARY}))
    outcome = attempt(channel.check)
    if problem is None:
        assert isinstance(outcome, str) and "nothing was posted" in outcome
    else:
        assert isinstance(outcome, Permanent) and problem in outcome.reason
    assert fake.requests == []


def test_declares_its_shape() -> None:
    assert (TeamsChannel.type, TeamsChannel.variant, TeamsChannel.counting, TeamsChannel.overflow) == (
        "teams", "long", "chars", "reject")
    assert 20_000 < TeamsChannel.max_length <= 28_000
    assert TeamsChannel.idempotent is False and TeamsChannel.supports_reply is False
    assert TeamsChannel.options["webhook_url"].secret


def test_import_loads_no_sdk() -> None:
    assert_loads_no_sdk("channels.teams")


@pytest.mark.parametrize("secrets", [frozenset({CANARY}), frozenset({URL})], ids=["sig-secret", "url-secret"])
def test_canary_never_leaks(fake: TeamsFake, caplog: pytest.LogCaptureFixture, secrets: frozenset[str]) -> None:
    caplog.set_level(logging.DEBUG)
    channel, seen = replay(fake, CASES, build, secrets, caplog)
    assert channel.describe()["webhook_url"] == "https://prod-12.westeurope.logic.azure.com:443/****"
    assert not [text for text in seen + [caplog.text] if CANARY in text]


@pytest.mark.parametrize("url", ["https://outlook.office.com/webhook/a1b2c3@d4e5f6/IncomingWebhook/0a1b2c3d4e5f/9f8e",
                                 f"https://acme.webhook.office.com/webhookb2/a1b2c3@d4e5f6/IncomingWebhook/{CANARY}/9f8e"])
def test_channels_check_refuses_a_connector_url_in_one_sentence(workspace, url: str) -> None:
    workspace.write_config(extra='\n[channels.legacy]\ntype = "teams"\nwebhook_url = "${TEAMS_URL}"\n')
    result = workspace.run("channels", "check", "--json", env={"TEAMS_URL": url})
    assert result.exit_code == 1
    rows, end = json.JSONDecoder().raw_decode(result.output)
    [row] = [row for row in rows if row["name"] == "legacy"]
    assert json.loads(result.output[end:]) == {"error": "channel check failed for legacy.", "exit": 1}
    assert row["ok"] is False
    assert row["detail"].startswith("webhook_url is an Office 365 connector URL, and Microsoft retired connectors: "
                                    "create a Workflows webhook")
    assert row["detail"].count(". ") == 0 and CANARY not in result.output
