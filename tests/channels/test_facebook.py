"""FacebookChannel through facebook-sdk against a fake Graph API on loopback."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from channels.base import DeliveryError, Duplicate, Message, Permanent, Receipt, Retryable, SettingError
from channels.facebook import FacebookChannel
from tests.channels import case_table
from tests.channels.case_table import assert_loads_no_sdk, fake_fixtures, refused_url, run_case
from tests.fakes.graph_api import FakeGraph
from tests.fakes.server import Reply

pytestmark = pytest.mark.servers

CANARY = "CANARY-facebook-9f8e7d"
PAGE = "104857600123456"
FIRST = f"{PAGE}_987654321000001"
TEXT = "Tap water is safe to drink again in all districts."
POST_URL = f"https://www.facebook.com/{PAGE}/posts/987654321000001"


server, fake = fake_fixtures(lambda: FakeGraph(page_id=PAGE, token=CANARY))


def build(fake: FakeGraph, **overrides) -> FacebookChannel:
    raw = {"type": "facebook", "page_id": PAGE, "token": CANARY, "api_url": fake.url, "timeout": 2, **overrides}
    return FacebookChannel.build("facebook-main", raw, secrets=frozenset({CANARY}))


def message(*parts: str, reply_to: str | None = None, sent_parts: tuple[Receipt, ...] = ()) -> Message:
    return Message(draft_id="d-1", channel="facebook-main", parts=parts or (TEXT,), title="All clear",
                   incident_id="inc-1", template="all-clear", language="en", case=1, reply_to=reply_to,
                   idempotency_key="key-1", sent_parts=sent_parts)


def existing_post(fake):
    fake.add_post("Boil water before drinking.", created=1767225600)


def same_post_exists(fake):
    fake.add_post(TEXT, created=1767225600)


FEED = ("POST", f"/v25.0/{PAGE}/feed", {"message": TEXT, "access_token": CANARY})
COMMENT = ("POST", f"/v25.0/{FIRST}/comments", {"message": TEXT, "access_token": CANARY})
LOOKUP = ("GET", f"/v25.0/{PAGE}/posts", {"fields": "id,message,created_time", "access_token": CANARY})
GATEWAY = Reply(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", {"Content-Type": "text/html"})



@dataclass
class Case(case_table.Case):
    """`calls`: the (method, path, fields) the fake must see, in order."""

    message: Message = field(default_factory=message)
    calls: list = field(default_factory=lambda: [FEED])

    def __post_init__(self) -> None:
        self.requests = len(self.calls)


CASES = [
    pytest.param(Case(receipt_fields={"id": FIRST, "url": POST_URL, "platform_time": None,
                                      "extra": {"part_ids": [FIRST]}}), id="post"),
    pytest.param(Case(settings={"graph_version": "24.0"}, receipt_fields={"id": FIRST},
                      calls=[("POST", f"/v24.0/{PAGE}/feed", {"message": TEXT})]), id="graph-version-setting"),
    pytest.param(Case(prepare=existing_post, message=message(reply_to=FIRST),
                      receipt_fields={"id": "987654321000001_987654321000002",
                                      "url": POST_URL + "?comment_id=987654321000002"},
                      calls=[COMMENT]), id="reply-by-id"),
    pytest.param(Case(prepare=existing_post, message=message(reply_to=POST_URL),
                      receipt_fields={"id": "987654321000001_987654321000002"}, calls=[COMMENT]),
                 id="reply-by-post-url"),
    pytest.param(Case(prepare=existing_post,
                      message=message(reply_to="https://www.facebook.com/citywater/posts/987654321000001"),
                      receipt_fields={"id": "987654321000001_987654321000002"}, calls=[COMMENT]),
                 id="reply-by-vanity-url"),
    pytest.param(Case(prepare=existing_post,
                      message=message(reply_to=f"https://m.facebook.com/permalink.php?story_fbid=987654321000001"
                                               f"&id={PAGE}"),
                      receipt_fields={"id": "987654321000001_987654321000002"}, calls=[COMMENT]),
                 id="reply-by-permalink"),
    pytest.param(Case(error=Permanent, reason="does not exist", message=message(reply_to=FIRST), calls=[COMMENT]),
                 id="reply-to-missing-post"),
    pytest.param(Case(error=Permanent, reason="cannot tell which Facebook post",
                      message=message(reply_to="https://www.facebook.com/citywater/posts/pfbid02Xyz"), calls=[]),
                 id="reply-to-unmappable-link"),
    pytest.param(Case((FakeGraph.error(400, 32, "(#32) Page request limit reached", headers=FakeGraph.usage(5)),),
                      Retryable, "rate limiting", retry_after=300.0), id="rate-limit-page-with-usage-header"),
    pytest.param(Case((FakeGraph.error(403, 4, "(#4) Application request limit reached", is_transient=True),),
                      Retryable, "(#4)"), id="rate-limit-app-without-hint"),
    pytest.param(Case((FakeGraph.error(400, 368, "It looks like you were misusing this feature by going too fast. "
                                                 "You've been temporarily blocked from using it.", subcode=1390008,
                                       is_transient=True),),
                      Retryable, "subcode 1390008"), id="posting-too-fast"),
    pytest.param(Case((FakeGraph.error(500, 2, "An unexpected error has occurred. Please retry your request later.",
                                       is_transient=True),),
                      Retryable, "temporary failure", maybe_delivered=True), id="transient-code-2"),
    pytest.param(Case((GATEWAY,), Retryable, "HTTP 502", maybe_delivered=True), id="5xx-html"),
    pytest.param(Case(error=Permanent, reason="rejected the Page token",
                      prepare=lambda fake: setattr(fake, "token", "another-token")), id="bad-token"),
    pytest.param(Case((FakeGraph.error(400, 190, "Error validating access token: Session has expired on "
                                                 "Thursday, 01-Jan-26 00:00:00 PST.", subcode=463),),
                      Permanent, "subcode 463"), id="expired-token"),
    pytest.param(Case((FakeGraph.error(403, 200, "(#200) The user hasn't authorized the application to perform "
                                                 "this action"),),
                      Permanent, "lacks a permission"), id="missing-permission"),
    pytest.param(Case((FakeGraph.error(400, 100, "(#100) Invalid parameter"),), Permanent, "Invalid parameter"),
                 id="invalid-parameter"),
    pytest.param(Case(error=Duplicate, reason="(#506) Duplicate status message", prepare=same_post_exists,
                      error_fields={"receipt": Receipt(FIRST, POST_URL, "2026-01-01T00:00:00+00:00",
                                                       {"part_ids": [FIRST]})},
                      calls=[FEED, LOOKUP]), id="duplicate-found"),
    pytest.param(Case((FakeGraph.error(400, 506, "(#506) Duplicate status message"),
                       FakeGraph.error(400, 10, "(#10) This endpoint requires the 'pages_read_engagement' "
                                                "permission")),
                      Duplicate, "already has this post", error_fields={"receipt": None}, calls=[FEED, LOOKUP]),
                 id="duplicate-lookup-refused"),
    pytest.param(Case((FakeGraph.error(400, 368, "You've already posted this. Posting the same content repeatedly "
                                                 "on Facebook isn't allowed."),),
                      Duplicate, "already posted", calls=[FEED, LOOKUP]), id="duplicate-368"),
    pytest.param(Case((Reply(200, {"id": FIRST}, delay=1.0),), Retryable, "timeout", settings={"timeout": 0.3},
                      maybe_delivered=True), id="timeout"),
    pytest.param(Case((Reply(reset=True),), Retryable, "connection", maybe_delivered=True), id="connection-reset"),
    pytest.param(Case((Reply(200, b"{\"id\": ", {"Content-Type": "application/json"}),), Retryable,
                      "not a Graph API answer", maybe_delivered=True), id="malformed-json"),
    pytest.param(Case((Reply(200, b"<html>Welcome to the hotel wifi</html>"),), Retryable, "not a Graph API answer",
                      maybe_delivered=True), id="no-content-type"),
    pytest.param(Case((Reply(200, {"success": True}),), Retryable, "carries no id", maybe_delivered=True),
                 id="wrong-shape"),
    pytest.param(Case(message=message(sent_parts=(Receipt(FIRST, POST_URL),)),
                      receipt_fields={"id": FIRST, "url": POST_URL}, calls=[]), id="already-sent"),
    pytest.param(Case(error=Permanent, reason="one part", message=message("part one", "part two"), calls=[]),
                 id="two-parts"),
]


@pytest.mark.parametrize("case", CASES)
def test_send(fake, case):
    run_case(fake, case, build)
    assert [(r.method, r.path) for r in fake.requests] == [(method, path) for method, path, _ in case.calls]
    for request, (_, _, fields) in zip(fake.requests, case.calls):
        got = {k: v[-1] for k, v in request.query.items()}
        if request.method == "POST":
            assert request.header("Content-Type") == "application/x-www-form-urlencoded"
            got.update(request.form())
        assert {key: got.get(key) for key in fields} == fields


def test_connection_refused_is_not_delivered():
    channel = FacebookChannel.build("fb", {"type": "facebook", "page_id": PAGE, "token": CANARY,
                                           "api_url": refused_url(), "timeout": 1},
                                    secrets=frozenset({CANARY}))
    with pytest.raises(Retryable) as caught:
        channel.send(message())
    assert caught.value.maybe_delivered is False


def test_check_reads_the_page(fake):
    assert build(fake).check() == f"Page City Water Board ({PAGE}) is readable with this token"
    request = fake.requests[-1]
    assert (request.method, request.path) == ("GET", f"/v25.0/{PAGE}")
    assert request.query == {"fields": ["id,name"], "access_token": [CANARY]}
    fake.token = "revoked"
    with pytest.raises(Permanent, match="rejected the Page token"):
        build(fake).check()
    fake.queue(GATEWAY)
    with pytest.raises(Retryable):
        build(fake).check()


def test_two_channels_with_different_api_urls_stay_apart():
    with FakeGraph(page_id=PAGE, token=CANARY) as one, FakeGraph(page_id=PAGE, token=CANARY) as two:
        build(one).send(message("to one"))
        build(two).send(message("to two"))
        build(one).send(message("to one again"))
    assert [p["message"] for p in one.posts] == ["to one", "to one again"]
    assert [p["message"] for p in two.posts] == ["to two"]
    import facebook
    assert facebook.FACEBOOK_GRAPH_URL == "https://graph.facebook.com/"


@pytest.mark.parametrize("key, value", [("page_id", "citywater"), ("graph_version", "latest"),
                                        ("api_url", "graph.facebook.com")])
def test_bad_settings(key, value):
    raw = {"type": "facebook", "page_id": PAGE, "token": CANARY, key: value}
    with pytest.raises(SettingError) as caught:
        FacebookChannel.build("fb", raw)
    assert caught.value.key == key


def test_declared_shape():
    shape = {name: getattr(FacebookChannel, name) for name in
             ("type", "variant", "max_length", "counting", "overflow", "supports_reply", "idempotent")}
    assert shape == {"type": "facebook", "variant": "long", "max_length": 63206, "counting": "chars",
                     "overflow": "reject", "supports_reply": True, "idempotent": True}
    assert FacebookChannel.options["token"].secret
    assert FacebookChannel.options["api_url"].default == "https://graph.facebook.com"


def test_importing_the_module_loads_no_sdk():
    assert_loads_no_sdk("channels.facebook")


def test_canary_never_leaks(fake, caplog):
    caplog.set_level(logging.DEBUG)
    channel = build(fake, timeout=0.6)
    outcomes: list[object] = [channel.describe(), repr(channel.describe()), channel.check()]
    failures = [FakeGraph.error(400, 190, f"Invalid OAuth access token {CANARY}"),
                FakeGraph.error(400, 32, "(#32) Page request limit reached", headers=FakeGraph.usage(1)),
                FakeGraph.error(500, 2, "An unexpected error has occurred."), GATEWAY,
                Reply(200, b"{oops", {"Content-Type": "application/json"}), Reply(200, b"plain"),
                Reply(200, {"id": FIRST}, delay=1.0), Reply(reset=True), FakeGraph.error(403, 200, "(#200) no")]
    for index, failure in enumerate(failures):
        fake.queue(failure)
        with pytest.raises(DeliveryError) as caught:
            channel.send(message(f"statement {index}"))
        outcomes += [caught.value.reason, str(caught.value), repr(caught.value)]
    receipt = channel.send(message("statement sent"))
    fake.queue(FakeGraph.error(400, 190, f"Invalid OAuth access token {CANARY}"))
    with pytest.raises(Permanent) as caught:
        channel.check()
    with pytest.raises(Permanent) as unparsable:
        channel.send(message(reply_to=f"https://example.org/{CANARY}"))
    with pytest.raises(Duplicate) as duplicate:
        channel.send(message("statement sent"))
    outcomes += [repr(receipt), str(caught.value), unparsable.value.reason, repr(duplicate.value),
                 repr(duplicate.value.receipt)]
    outcomes += [record.getMessage() for record in caplog.records]
    outcomes += [str(record.args) for record in caplog.records]
    assert channel.describe()["token"] == "****"
    assert any(CANARY in (r.body.decode() + r.path) for r in fake.requests), "the token must reach the fake"
    assert [text for text in map(str, outcomes) if CANARY in text] == []
