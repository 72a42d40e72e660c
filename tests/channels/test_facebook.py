"""FacebookChannel through facebook-sdk against a fake Graph API on loopback."""
from __future__ import annotations

import logging
import socket
import subprocess
import sys

import pytest

from channels.base import DeliveryError, Duplicate, Message, Permanent, Receipt, Retryable, SettingError
from channels.facebook import FacebookChannel
from tests.fakes.graph_api import FakeGraph
from tests.fakes.server import Reply

CANARY = "CANARY-facebook-9f8e7d"
PAGE = "104857600123456"
FIRST = f"{PAGE}_987654321000001"
TEXT = "Tap water is safe to drink again in all districts."
POST_URL = f"https://www.facebook.com/{PAGE}/posts/987654321000001"


@pytest.fixture(scope="module")
def graph():
    with FakeGraph(page_id=PAGE, token=CANARY) as server:
        yield server


@pytest.fixture
def fake(graph):
    graph.reset()
    return graph


def build(fake: FakeGraph, **overrides) -> FacebookChannel:
    raw = {"type": "facebook", "page_id": PAGE, "token": CANARY, "api_url": fake.url, "timeout": 2, **overrides}
    return FacebookChannel.build("facebook-main", raw, secrets=frozenset({CANARY}))


def message(*parts: str, reply_to: str | None = None, sent_parts: tuple[Receipt, ...] = ()) -> Message:
    return Message(draft_id="d-1", channel="facebook-main", parts=parts or (TEXT,), title="All clear",
                   incident_id="inc-1", template="all-clear", language="en", case=1, reply_to=reply_to,
                   idempotency_key="key-1", sent_parts=sent_parts)


def nothing(fake):
    pass


def queue(*replies):
    return lambda fake: fake.queue(*replies)


def existing_post(fake):
    fake.add_post("Boil water before drinking.", created=1767225600)


def same_post_exists(fake):
    fake.add_post(TEXT, created=1767225600)


FEED = ("POST", f"/v25.0/{PAGE}/feed", {"message": TEXT, "access_token": CANARY})
COMMENT = ("POST", f"/v25.0/{FIRST}/comments", {"message": TEXT, "access_token": CANARY})
LOOKUP = ("GET", f"/v25.0/{PAGE}/posts", {"fields": "id,message,created_time", "access_token": CANARY})
GATEWAY = Reply(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", {"Content-Type": "text/html"})

# (prepare the fake, message, settings, expected receipt fields or (error, attributes, words in reason), calls)
CASES = [
    pytest.param(nothing, message(), {}, {"id": FIRST, "url": POST_URL, "platform_time": None,
                                          "extra": {"part_ids": [FIRST]}}, [FEED], id="post"),
    pytest.param(nothing, message(), {"graph_version": "24.0"}, {"id": FIRST},
                 [("POST", f"/v24.0/{PAGE}/feed", {"message": TEXT})], id="graph-version-setting"),
    pytest.param(existing_post, message(reply_to=FIRST), {},
                 {"id": "987654321000001_987654321000002", "url": POST_URL + "?comment_id=987654321000002"},
                 [COMMENT], id="reply-by-id"),
    pytest.param(existing_post, message(reply_to=POST_URL), {}, {"id": "987654321000001_987654321000002"},
                 [COMMENT], id="reply-by-post-url"),
    pytest.param(existing_post, message(reply_to="https://www.facebook.com/citywater/posts/987654321000001"), {},
                 {"id": "987654321000001_987654321000002"}, [COMMENT], id="reply-by-vanity-url"),
    pytest.param(existing_post, message(reply_to=f"https://m.facebook.com/permalink.php?story_fbid=987654321000001"
                                                  f"&id={PAGE}"), {},
                 {"id": "987654321000001_987654321000002"}, [COMMENT], id="reply-by-permalink"),
    pytest.param(nothing, message(reply_to=FIRST), {}, (Permanent, {}, "does not exist"), [COMMENT],
                 id="reply-to-missing-post"),
    pytest.param(nothing, message(reply_to="https://www.facebook.com/citywater/posts/pfbid02Xyz"), {},
                 (Permanent, {}, "cannot tell which Facebook post"), [], id="reply-to-unmappable-link"),
    pytest.param(queue(FakeGraph.error(400, 32, "(#32) Page request limit reached", headers=FakeGraph.usage(5))),
                 message(), {}, (Retryable, {"retry_after": 300.0, "maybe_delivered": False}, "rate limiting"),
                 [FEED], id="rate-limit-page-with-usage-header"),
    pytest.param(queue(FakeGraph.error(403, 4, "(#4) Application request limit reached", is_transient=True)),
                 message(), {}, (Retryable, {"retry_after": None, "maybe_delivered": False}, "(#4)"),
                 [FEED], id="rate-limit-app-without-hint"),
    pytest.param(queue(FakeGraph.error(400, 368, "It looks like you were misusing this feature by going too fast. "
                                                 "You've been temporarily blocked from using it.", subcode=1390008,
                                       is_transient=True)),
                 message(), {}, (Retryable, {"retry_after": None, "maybe_delivered": False}, "subcode 1390008"),
                 [FEED], id="posting-too-fast"),
    pytest.param(queue(FakeGraph.error(500, 2, "An unexpected error has occurred. Please retry your request later.",
                                       is_transient=True)),
                 message(), {}, (Retryable, {"maybe_delivered": True}, "temporary failure"), [FEED],
                 id="transient-code-2"),
    pytest.param(queue(GATEWAY), message(), {}, (Retryable, {"maybe_delivered": True}, "HTTP 502"), [FEED],
                 id="5xx-html"),
    pytest.param(lambda fake: setattr(fake, "token", "another-token"), message(), {},
                 (Permanent, {}, "rejected the Page token"), [FEED], id="bad-token"),
    pytest.param(queue(FakeGraph.error(400, 190, "Error validating access token: Session has expired on "
                                                 "Thursday, 01-Jan-26 00:00:00 PST.", subcode=463)),
                 message(), {}, (Permanent, {}, "subcode 463"), [FEED], id="expired-token"),
    pytest.param(queue(FakeGraph.error(403, 200, "(#200) The user hasn't authorized the application to perform "
                                                 "this action")),
                 message(), {}, (Permanent, {}, "lacks a permission"), [FEED], id="missing-permission"),
    pytest.param(queue(FakeGraph.error(400, 100, "(#100) Invalid parameter")), message(), {},
                 (Permanent, {}, "Invalid parameter"), [FEED], id="invalid-parameter"),
    pytest.param(same_post_exists, message(), {},
                 (Duplicate, {"receipt": Receipt(FIRST, POST_URL, "2026-01-01T00:00:00+00:00",
                                                 {"part_ids": [FIRST]})}, "(#506) Duplicate status message"),
                 [FEED, LOOKUP], id="duplicate-found"),
    pytest.param(queue(FakeGraph.error(400, 506, "(#506) Duplicate status message"),
                       FakeGraph.error(400, 10, "(#10) This endpoint requires the 'pages_read_engagement' "
                                                "permission")),
                 message(), {}, (Duplicate, {"receipt": None}, "already has this post"), [FEED, LOOKUP],
                 id="duplicate-lookup-refused"),
    pytest.param(queue(FakeGraph.error(400, 368, "You've already posted this. Posting the same content repeatedly "
                                                 "on Facebook isn't allowed.")),
                 message(), {}, (Duplicate, {}, "already posted"), [FEED, LOOKUP], id="duplicate-368"),
    pytest.param(queue(Reply(200, {"id": FIRST}, delay=1.0)), message(), {"timeout": 0.3},
                 (Retryable, {"maybe_delivered": True}, "timeout"), [FEED], id="timeout"),
    pytest.param(queue(Reply(reset=True)), message(), {}, (Retryable, {"maybe_delivered": True}, "connection"),
                 [FEED], id="connection-reset"),
    pytest.param(queue(Reply(200, b"{\"id\": ", {"Content-Type": "application/json"})), message(), {},
                 (Retryable, {"maybe_delivered": True}, "not a Graph API answer"), [FEED], id="malformed-json"),
    pytest.param(queue(Reply(200, b"<html>Welcome to the hotel wifi</html>")), message(), {},
                 (Retryable, {"maybe_delivered": True}, "not a Graph API answer"), [FEED], id="no-content-type"),
    pytest.param(queue(Reply(200, {"success": True})), message(), {},
                 (Retryable, {"maybe_delivered": True}, "carries no id"), [FEED], id="wrong-shape"),
    pytest.param(nothing, message(sent_parts=(Receipt(FIRST, POST_URL),)), {},
                 {"id": FIRST, "url": POST_URL}, [], id="already-sent"),
    pytest.param(nothing, message("part one", "part two"), {}, (Permanent, {}, "one part"), [], id="two-parts"),
]


@pytest.mark.parametrize("prepare, sending, settings, expected, calls", CASES)
def test_send(fake, prepare, sending, settings, expected, calls):
    prepare(fake)
    channel = build(fake, **settings)
    if isinstance(expected, dict):
        receipt = channel.send(sending)
        assert {key: getattr(receipt, key) for key in expected} == expected
    else:
        kind, attributes, words = expected
        with pytest.raises(DeliveryError) as caught:
            channel.send(sending)
        assert type(caught.value) is kind
        assert {key: getattr(caught.value, key) for key in attributes} == attributes
        assert words in caught.value.reason
    assert [(r.method, r.path) for r in fake.requests] == [(method, path) for method, path, _ in calls]
    for request, (_, _, fields) in zip(fake.requests, calls):
        got = {k: v[-1] for k, v in request.query.items()}
        if request.method == "POST":
            assert request.header("Content-Type") == "application/x-www-form-urlencoded"
            got.update(request.form())
        assert {key: got.get(key) for key in fields} == fields


def test_connection_refused_is_not_delivered():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = FacebookChannel.build("fb", {"type": "facebook", "page_id": PAGE, "token": CANARY,
                                           "api_url": f"http://127.0.0.1:{port}", "timeout": 1},
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
    code = ("import sys, channels.facebook; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'facebook', 'requests', 'urllib3', 'httpx'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_canary_never_leaks(fake, caplog):
    caplog.set_level(logging.DEBUG)
    channel = build(fake, timeout=0.3)
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
