"""The LinkedIn channel through the one transport against a fake LinkedIn REST API on
loopback (tests/fakes/linkedin_api.py names the documentation page of every answer)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from channels.base import Duplicate, Message, Permanent, Receipt, Retryable, SettingError
from channels.linkedin import LinkedInChannel
from tests.channels import case_table
from tests.channels.case_table import assert_loads_no_sdk, replay, run_case
from tests.fakes.linkedin_api import (ORGANIZATION, FakeLinkedIn, error, expired_token, not_permitted,
                                      quota_used_up)
from tests.fakes.server import Reply

pytestmark = pytest.mark.servers

TOKEN = "CANARY-linkedin-token-5a1c"
CLIENT_SECRET = "CANARY-linkedin-secret-77e2"
SECRETS = frozenset({TOKEN, CLIENT_SECRET})
TEXT = "Pedimos disculpas (de verdad): los pagos con tarjeta fallan desde las 9:00. #AcmePay"

def fresh(fake: FakeLinkedIn) -> None:
    fake.posts.clear()
    fake.deleted.clear()
    fake.lose_next_answer = False
    fake.token_expires_at = time.time() + 45 * 86400 + 3600


server, fake = case_table.fake_fixtures(lambda: FakeLinkedIn(TOKEN, "app-123", CLIENT_SECRET), fresh)


def build(fake: FakeLinkedIn, secrets: frozenset[str] = SECRETS, **overrides) -> LinkedInChannel:
    settings = {"type": "linkedin", "organization": ORGANIZATION, "token": TOKEN, "api_url": fake.url,
                "oauth_url": fake.url, "timeout": 0.5, **overrides}
    return LinkedInChannel.build("page", settings, secrets=secrets)


def message(*parts: str, **fields) -> Message:
    values = dict(draft_id="d-9", channel="page", parts=parts or (TEXT,), title="Incidencia", incident_id="i-1",
                  template="apology", language="es", case=2, idempotency_key="d-9:page")
    values.update(fields)
    return Message(**values)


def posts(fake: FakeLinkedIn) -> list:
    return [request for request in fake.requests if request.path == "/rest/posts" and request.method == "POST"]


@dataclass
class Case(case_table.Case):
    def outgoing(self, prepared: dict) -> Message:
        fields = {**self.message, **prepared}
        return message(*fields.pop("parts", ()), **fields)


def check_success(receipt, fake):
    [request] = posts(fake)
    assert request.header("LinkedIn-Version") == "202611"
    assert request.header("X-Restli-Protocol-Version") == "2.0.0"
    assert request.header("Authorization") == f"Bearer {TOKEN}"
    body = request.json()
    assert body["author"] == ORGANIZATION and body["lifecycleState"] == "PUBLISHED"
    assert body["commentary"] == ("Pedimos disculpas \\(de verdad\\): los pagos con tarjeta fallan desde las 9:00. "
                                  "\\#AcmePay")
    assert receipt.id.startswith("urn:li:share:") and receipt.id in fake.posts
    assert receipt.url == f"https://www.linkedin.com/feed/update/{receipt.id}/"
    created = fake.posts[receipt.id]["createdAt"]
    assert receipt.platform_time == datetime.fromtimestamp(created / 1000, timezone.utc).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")


def seed_same_text(fake: FakeLinkedIn) -> dict:
    fake.seed(TEXT, created_ms=int((time.time() - 86400) * 1000))
    return {}


def check_duplicate(error, fake):
    [existing] = fake.posts
    assert error.receipt is not None and error.receipt.id == existing
    assert len(fake.posts) == 1


def lose_answer(fake: FakeLinkedIn) -> dict:
    fake.lose_next_answer = True
    return {}


def check_unknown(error, fake):
    assert len(fake.posts) == 1 and "no answer" in error.reason


def says(*texts):
    def check(error, fake):
        assert all(text in error.reason for text in texts), error.reason
        assert fake.posts == {} or all(post["author"] == ORGANIZATION for post in fake.posts.values())
    return check


def expire(fake: FakeLinkedIn) -> dict:
    fake.queue(expired_token())
    return {}


CASES = [
    pytest.param(Case(requests=2, check=check_success), id="success"),
    pytest.param(Case(error=Retryable, prepare=lambda fake: fake.queue(quota_used_up()), reason="rate limit",
                      check=says("TOO_MANY_REQUESTS", "midnight UTC")), id="rate-limit-no-header"),
    pytest.param(Case((Reply(429, {"message": "Too many requests", "serviceErrorCode": 101, "status": 429},
                             {"Retry-After": "120"}),), Retryable, "rate limit", retry_after=120.0),
                 id="rate-limit-retry-after"),
    pytest.param(Case(error=Permanent, prepare=expire, reason="expired or was revoked",
                      check=says("EXPIRED_ACCESS_TOKEN: The token used in the request has expired")),
                 id="expired-token"),
    pytest.param(Case((not_permitted(),), Permanent, "does not allow this token",
                      check=says("ACCESS_DENIED", "w_organization_social")), id="permission-missing"),
    pytest.param(Case(error=Duplicate, prepare=seed_same_text, reason="already has this post",
                      check=check_duplicate), id="duplicate"),
    pytest.param(Case(error=Permanent, message={"parts": ("a" * 2990 + "(((((((",)}, reason="refused the post",
                      check=says("length of commentary exceeds")), id="too-long"),
    pytest.param(Case((Reply(422, {"message": "Content is a duplicate of urn:li:share:7140000000000000001",
                                   "code": "DUPLICATE_POST", "status": 422}, cut_after=30),), Retryable,
                      maybe_delivered=True, check=says("cut off")), id="duplicate-answer-cut-mid-body"),
    pytest.param(Case((Reply(500, {"message": "Internal Server Error", "status": 500}, cut_after=12),), Retryable,
                      maybe_delivered=True, check=says("cut off")), id="answer-cut-mid-body"),
    pytest.param(Case((Reply(201, b""),), Retryable, maybe_delivered=True, check=says("x-restli-id")),
                 id="no-restli-id"),
    pytest.param(Case(error=Retryable, prepare=lose_answer, maybe_delivered=True, check=check_unknown),
                 id="timeout-after-sending"),
    pytest.param(Case((error(503, "Service Unavailable", service=503),), Retryable, maybe_delivered=True,
                      check=says("server error", "may exist")), id="server-error"),
    pytest.param(Case(error=Permanent, message={"parts": ("uno", "dos")}, requests=0), id="two-parts-refused"),
]


@pytest.mark.parametrize("case", CASES)
def test_send(fake, case):
    run_case(fake, case, build)


def test_a_resend_finds_the_post_the_lost_answer_made_and_does_not_post_again(fake):
    fake.lose_next_answer = True
    channel = build(fake)
    began = datetime.now(timezone.utc).isoformat()
    with pytest.raises(Retryable) as lost:
        channel.send(message(first_attempt=began))
    assert lost.value.maybe_delivered
    [made] = fake.posts
    receipt = channel.send(message(first_attempt=began))
    assert receipt.id == made and receipt.extra["found_on_platform"] == [made]
    assert len(posts(fake)) == 1 and len(fake.posts) == 1


def test_a_post_from_before_the_first_attempt_is_not_taken_for_this_one(fake):
    old = fake.seed(TEXT, created_ms=int((time.time() - 7200) * 1000))
    fake.posts[old]["author"] = ORGANIZATION
    fake.deleted.add(old)
    receipt = build(fake).send(message(first_attempt=datetime.now(timezone.utc).isoformat()))
    assert receipt.id != old and "found_on_platform" not in receipt.extra and len(posts(fake)) == 1


def test_a_lookup_that_cannot_list_posts_posts_nothing(fake):
    fake.queue(not_permitted())
    with pytest.raises(Permanent, match="r_organization_social"):
        build(fake).send(message(first_attempt=(datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()))
    assert posts(fake) == []


def test_delete_then_delete_again(fake):
    channel = build(fake)
    receipt = channel.send(message())
    assert channel.delete(receipt) is None
    [delete] = [request for request in fake.requests if request.method == "DELETE"]
    assert delete.path == "/rest/posts/" + receipt.id.replace(":", "%3A")
    assert receipt.id in fake.deleted
    assert channel.delete(receipt) is None
    assert channel.lookup(receipt.url) is None


def test_delete_of_a_post_that_never_existed_counts_as_deleted(fake):
    assert build(fake).delete(Receipt("urn:li:share:7000000000000000001")) is None


def test_delete_without_permission_is_permanent(fake):
    fake.queue(not_permitted())
    with pytest.raises(Permanent, match="ACCESS_DENIED"):
        build(fake).delete(Receipt("urn:li:share:7000000000000000001"))


def test_lookup_reads_the_text_back_as_shown(fake):
    urn = fake.seed("Ya funciona (por fin) 👍🏽 #gracias")
    found = build(fake).lookup(f"https://www.linkedin.com/feed/update/{urn}/")
    assert found.id == urn and found.extra["text"] == "Ya funciona (por fin) 👍🏽 #gracias"
    with pytest.raises(Permanent, match="neither a LinkedIn post URN"):
        build(fake).lookup("https://x.com/acme/status/1")


def test_check_reads_the_expiry_and_the_page_role(fake):
    said = build(fake, client_id="app-123", client_secret=CLIENT_SECRET).check()
    assert "expires in 45 days" in said and "ADMINISTRATOR" in said
    assert "expiry was not read" in build(fake).check()


def test_check_refuses_an_expired_token(fake):
    fake.token_expires_at = time.time() - 60
    with pytest.raises(Permanent, match="token is expired"):
        build(fake, client_id="app-123", client_secret=CLIENT_SECRET).check()


def test_check_refuses_a_member_who_cannot_post(fake):
    fake.roles = [{**fake.roles[0], "role": "ANALYST"}]
    try:
        with pytest.raises(Permanent, match="cannot post for urn:li:organization:2414183 .page roles: ANALYST"):
            build(fake).check()
    finally:
        fake.roles = [{**fake.roles[0], "role": "ADMINISTRATOR"}]


@pytest.mark.parametrize("settings, key", [
    ({"organization": "acme"}, "organization"),
    ({"version": "2026-11"}, "version"),
    ({"client_id": "app-123"}, "client_secret"),
    ({"api_url": "ftp://x"}, "api_url"),
])
def test_bad_settings_name_the_key(fake, settings, key):
    with pytest.raises(SettingError) as refused:
        build(fake, **settings)
    assert refused.value.key == key


def test_the_token_and_client_secret_never_appear(fake, caplog):
    caplog.set_level("DEBUG")
    cases = CASES + [pytest.param(Case(settings={"client_id": "app-123", "client_secret": CLIENT_SECRET}))]
    channel, seen = replay(fake, cases, lambda fake, secrets, **over: build(fake, secrets, **{
        "client_id": "app-123", "client_secret": CLIENT_SECRET, **over}), SECRETS, caplog)
    fake.queue(Reply(401, {"message": f"token {TOKEN} refused", "status": 401}))
    with pytest.raises(Permanent) as refused:
        channel.send(message())
    seen.append(refused.value.reason)
    assert TOKEN not in refused.value.reason and "***" in refused.value.reason
    assert not [text for text in seen if TOKEN in text or CLIENT_SECRET in text]


def test_loading_the_module_loads_no_http_stack():
    assert_loads_no_sdk("channels.linkedin")


def test_linkedin_markup_in_a_statement_is_sent_as_plain_text(fake):
    text = "Gracias a @[Acme](urn:li:organization:1) y a #todos (de verdad) *hoy*"
    receipt = build(fake).send(message(text))
    [request] = posts(fake)
    assert request.json()["commentary"] == ("Gracias a \\@\\[Acme\\]\\(urn:li:organization:1\\) y a \\#todos "
                                            "\\(de verdad\\) \\*hoy\\*")
    assert build(fake).lookup(receipt.id).extra["text"] == text


def test_check_says_when_the_page_roles_cannot_be_read(fake):
    fake.queue(not_permitted())
    said = build(fake).check()
    assert "page roles could not be read" in said and "ACCESS_DENIED" in said
