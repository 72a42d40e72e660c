"""The Bluesky channel driven through the real atproto SDK against a fake PDS on loopback
(tests/fakes/bluesky_pds.py, each answer naming the documentation it follows)."""
from __future__ import annotations

import logging
import re
import time
from datetime import datetime
from dataclasses import dataclass

import pytest

from channels.base import DeliveryError, Message, Permanent, Receipt, Retryable, SettingError
from channels.bluesky import BlueskyChannel
from channels.bluesky_records import POST, post_reference, record_key, tid_time
from tests.channels import case_table
from tests.channels.case_table import assert_loads_no_sdk, run_case, send
from tests.fakes.bluesky_pds import (OTHERS, FakePDS, account_takedown, bad_gateway, expired_token, internal_error,
                                     missing_scope, rate_limited)
from tests.fakes.server import Reply

pytestmark = pytest.mark.servers

APP_PASSWORD = "CANARY-bsky-7q2x-k9fw"
SECRETS = frozenset({APP_PASSWORD})
DID = "did:plc:acme4kq7w2mzv3xf6tbl5nrc"
TEXT = "Sabemos que los pagos con tarjeta fallan desde las 9:00 y lo estamos arreglando. Os pedimos disculpas."
KEY = "d-7:bsky"
CREATE = "com.atproto.repo.createRecord"


@pytest.fixture
def fake():
    with FakePDS(APP_PASSWORD) as server:
        yield server


def build(fake: FakePDS, **overrides) -> BlueskyChannel:
    settings = {"type": "bluesky", "handle": "acme.bsky.social", "app_password": APP_PASSWORD, "api_url": fake.url,
                "timeout": 0.6, **overrides}
    return BlueskyChannel.build("bsky", settings, secrets=SECRETS)


def message(*parts: str, reply_to: str | None = None, sent_parts: tuple[Receipt, ...] = ()) -> Message:
    return Message(draft_id="d-7", channel="bsky", parts=parts or (TEXT,), title="Incidencia", incident_id="i-1",
                   template="apology", language="es", case=2, reply_to=reply_to, idempotency_key=KEY,
                   sent_parts=sent_parts)


def calls(fake: FakePDS, nsid: str = CREATE) -> list:
    return [request for request in fake.requests if request.path == f"/xrpc/{nsid}"]


def rkey_of(uri: str) -> str:
    return uri.rsplit("/", 1)[1]


def check_success(result, fake):
    [login] = calls(fake, "com.atproto.server.createSession")
    assert login.json() == {"identifier": "acme.bsky.social", "password": APP_PASSWORD}
    [create] = calls(fake)
    body = create.json()
    assert (body["repo"], body["collection"], body["rkey"]) == (DID, POST, record_key(KEY))
    assert body["record"]["text"] == TEXT and body["record"]["langs"] == ["es"]
    assert body["record"]["$type"] == POST and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", body["record"]["createdAt"])
    assert "reply" not in body["record"] and "facets" not in body["record"]
    assert create.header("Authorization").startswith("Bearer ey")
    stored = fake.records[result.id]
    assert result.id == f"at://{DID}/{POST}/{record_key(KEY)}"
    assert result.url == f"https://bsky.app/profile/{DID}/post/{record_key(KEY)}"
    assert result.platform_time == tid_time(stored["rev"])
    assert abs(datetime.fromisoformat(result.platform_time.replace("Z", "+00:00")).timestamp() - time.time()) < 10
    assert result.extra == {"part_ids": [result.id]}


FACETED = ("Atención 🚨 clientes de Acme: leed https://acme.es/estado?pagos=1. Más en acme.es/ayuda "
           "y preguntad a @prensa.acme.es (no a @nadie.example.com) #AcmePay")


def check_facets(result, fake):
    record = fake.records[result.id]["value"]
    raw = FACETED.encode("utf-8")
    found = {raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode("utf-8"): f["features"][0]
             for f in record["facets"]}
    assert found == {
        "https://acme.es/estado?pagos=1": {"$type": "app.bsky.richtext.facet#link",
                                           "uri": "https://acme.es/estado?pagos=1"},
        "acme.es/ayuda": {"$type": "app.bsky.richtext.facet#link", "uri": "https://acme.es/ayuda"},
        "@prensa.acme.es": {"$type": "app.bsky.richtext.facet#mention", "did": OTHERS["prensa.acme.es"]},
        "#AcmePay": {"$type": "app.bsky.richtext.facet#tag", "tag": "AcmePay"},
    }
    starts = [f["index"]["byteStart"] for f in record["facets"]]
    assert starts == sorted(starts) and starts[0] > FACETED.index("https")
    resolved = [request.query["handle"] for request in calls(fake, "com.atproto.identity.resolveHandle")]
    assert resolved == [["prensa.acme.es"], ["nadie.example.com"]]


def seeded_reply(form: str, nested: bool = False):
    """Seed another account's post (a reply itself when `nested`) and answer it by `form`."""
    def setup(fake: FakePDS) -> dict:
        root = fake.seed("la publicación original")
        root_ref = {"uri": root, "cid": fake.records[root]["cid"]}
        parent = fake.seed("una respuesta", reply={"root": root_ref, "parent": root_ref}) if nested else root
        fake.reset()
        return {"reply_to": form.format(rkey=rkey_of(parent), did=OTHERS["ana.bsky.social"])}
    return setup


def check_reply(nested: bool):
    def check(result, fake):
        reply = fake.records[result.id]["value"]["reply"]
        others = sorted(fake.posts(OTHERS["ana.bsky.social"]), key=lambda entry: entry["value"]["text"] != "una "
                        "respuesta")
        parent = others[0] if nested else others[-1]
        root = [entry for entry in others if "reply" not in entry["value"]][0]
        assert reply["parent"] == {"$type": "com.atproto.repo.strongRef", "uri": parent["uri"], "cid": parent["cid"]}
        assert reply["root"] == {"$type": "com.atproto.repo.strongRef", "uri": root["uri"], "cid": root["cid"]}
        [lookup] = calls(fake, "com.atproto.repo.getRecord")
        assert lookup.query["rkey"] == [rkey_of(parent["uri"])]
    return check


THREAD = ("1/3 Los pagos fallan.", "2/3 Trabajamos en ello.", "3/3 Os avisaremos 🙏")


def check_thread(result, fake):
    ids = result.extra["part_ids"]
    assert [rkey_of(uri) for uri in ids] == [record_key(KEY), record_key(f"{KEY}-1"), record_key(f"{KEY}-2")]
    records = [fake.records[uri]["value"] for uri in ids]
    assert [record["text"] for record in records] == list(THREAD)
    first = {"$type": "com.atproto.repo.strongRef", "uri": ids[0], "cid": fake.records[ids[0]]["cid"]}
    assert "reply" not in records[0]
    assert [record["reply"]["root"] for record in records[1:]] == [first, first]
    assert [record["reply"]["parent"]["uri"] for record in records[1:]] == ids[:2]


def posted_first_part(fake: FakePDS) -> dict:
    channel = build(fake)
    first = channel.send(Message(**{**message(THREAD[0]).__dict__}))
    fake.reset()
    return {"sent_parts": (Receipt(first.id, first.url, first.platform_time),)}


def check_resume(result, fake):
    ids = result.extra["part_ids"]
    assert [fake.records[uri]["value"]["text"] for uri in ids] == list(THREAD)
    assert [request.json()["record"]["text"] for request in calls(fake)] == list(THREAD[1:])
    assert fake.records[ids[1]]["value"]["reply"]["root"]["uri"] == ids[0]
    assert [request.query["rkey"] for request in calls(fake, "com.atproto.repo.getRecord")] == [[rkey_of(ids[0])]]


def fail_second_create(fake: FakePDS) -> None:
    answer = fake.handler

    def second_fails(request):
        if request.path == f"/xrpc/{CREATE}" and len(calls(fake)) == 2:
            return internal_error()
        return answer(request)

    fake.handler = second_fails


def check_midway(error, fake):
    [first] = error.sent_parts
    assert first.id in fake.records and len(fake.posts()) == 1
    assert "holds no post" in error.reason and not error.maybe_delivered


def seed_own(text: str):
    """Put a post with `text` at the record key this message's first part uses."""
    def setup(fake: FakePDS) -> None:
        fake.records[f"at://{DID}/{POST}/{record_key(KEY)}"] = {
            "uri": f"at://{DID}/{POST}/{record_key(KEY)}", "cid": "bafyreiseeded", "rev": "3jzfcijpj2z2a",
            "indexedAt": "2026-01-01T00:00:00.000Z",
            "value": {"$type": POST, "text": text, "createdAt": "2026-01-01T10:00:00.000Z"}}
    return setup


def check_found(result, fake):
    assert result.id == f"at://{DID}/{POST}/{record_key(KEY)}" and len(fake.posts()) == 1
    assert result.platform_time == fake.records[result.id]["value"]["createdAt"]
    assert [request.query["rkey"] for request in calls(fake, "com.atproto.repo.getRecord")] == [[record_key(KEY)]]


def found_after(setup):
    def check(result, fake):
        assert len(calls(fake)) == 1 and len(fake.posts()) == 1
        assert result.id == fake.posts()[0]["uri"]
        assert result.platform_time == fake.posts()[0]["value"]["createdAt"]
    return check


def says(*texts, sent=0):
    def check(error, fake):
        assert all(text in error.reason for text in texts), error.reason
        assert len(error.sent_parts) == sent
        assert not fake.posts()
    return check


def relogged(result, fake):
    assert [request.path.rsplit(".", 1)[1] for request in fake.requests] == [
        "createSession", "createRecord", "createSession", "createRecord"]
    first, second = calls(fake)
    assert first.header("Authorization") != second.header("Authorization")
    assert len(fake.posts()) == 1


@dataclass
class Case(case_table.Case):
    """`message` holds the fields for this file's message(); `fail` queues replies for
    one XRPC method: {nsid: (reply, ...)}; `check(outcome, fake)` does the rest."""

    fail: dict | None = None

    def load(self, fake: FakePDS) -> None:
        for nsid, replies in (self.fail or {}).items():
            fake.fail(nsid, *replies)

    def outgoing(self, prepared: dict) -> Message:
        fields = {**self.message, **prepared}
        return message(*fields.pop("parts", ()), **fields)


CASES = [
    pytest.param(Case(requests=2, check=check_success), id="success"),
    pytest.param(Case(message={"parts": (FACETED,)}, requests=4, check=check_facets), id="links-mentions-tags"),
    pytest.param(Case(prepare=seeded_reply("https://bsky.app/profile/ana.bsky.social/post/{rkey}"), requests=3,
                      check=check_reply(False)), id="reply-to-app-url"),
    pytest.param(Case(prepare=seeded_reply("at://{did}/app.bsky.feed.post/{rkey}", nested=True), requests=3,
                      check=check_reply(True)), id="reply-to-a-reply-keeps-its-root"),
    pytest.param(Case(error=Permanent, message={"reply_to": "https://x.com/acme/status/1"}, requests=0,
                      check=says("reply_to", "bsky.app")), id="reply-to-unparseable"),
    pytest.param(Case(error=Permanent, message={"reply_to": f"at://{OTHERS['ana.bsky.social']}/{POST}/3jzfcijpj2z2a"},
                      requests=2, check=says("no post")), id="reply-to-missing-post"),
    pytest.param(Case(message={"parts": THREAD}, requests=4, check=check_thread), id="thread"),
    pytest.param(Case(prepare=posted_first_part, message={"parts": THREAD}, requests=4, check=check_resume),
                 id="thread-resumes-after-sent-parts"),
    pytest.param(Case(error=Retryable, prepare=fail_second_create, message={"parts": THREAD}, requests=4,
                      check=check_midway), id="thread-fails-midway-and-nothing-was-written"),
    pytest.param(Case(error=Retryable, prepare=lambda fake: fake.fail(CREATE, rate_limited(reset_in=90)),
                      reason="RateLimitExceeded", requests=2, retry_after=pytest.approx(89.5, abs=1.5),
                      check=says("Rate Limit Exceeded", "resets in")), id="rate-limit-on-post"),
    pytest.param(Case(error=Retryable, requests=1, retry_after=pytest.approx(299.5, abs=1.5),
                      prepare=lambda fake: fake.fail("com.atproto.server.createSession", rate_limited(reset_in=300))),
                 id="rate-limit-on-login"),
    pytest.param(Case(fail={CREATE: (expired_token(),)}, requests=4, check=relogged), id="expired-token-logs-in-again"),
    pytest.param(Case(error=Permanent, fail={CREATE: (expired_token(), expired_token())}, requests=4,
                      check=says("ExpiredToken", "Token has expired")), id="expired-token-twice"),
    pytest.param(Case(error=Permanent, settings={"app_password": "CANARY-wrong-password"}, requests=1,
                      check=says("HTTP 401 AuthenticationRequired: Invalid identifier or password", "app password")),
                 id="wrong-app-password"),
    pytest.param(Case(error=Permanent, fail={"com.atproto.server.createSession": (account_takedown(),)}, requests=1,
                      check=says("AccountTakedown")), id="account-taken-down"),
    pytest.param(Case(error=Permanent, fail={CREATE: (missing_scope(),)}, requests=2,
                      check=says("HTTP 403 Forbidden", "does not allow")), id="permission-missing"),
    pytest.param(Case(error=Permanent, message={"parts": ("á" * 301,)}, requests=3,
                      check=says("Record/text must not be longer than 300 graphemes")), id="too-long-graphemes"),
    pytest.param(Case(error=Permanent, message={"parts": ("👨‍👩‍👧‍👦" * 121,)}, requests=3,
                      check=says("Record/text must not be longer than 3000 characters")), id="too-long-bytes"),
    pytest.param(Case(prepare=seed_own(TEXT), requests=3, check=check_found), id="resend-finds-the-post-at-its-key"),
    pytest.param(Case(error=Permanent, prepare=seed_own("otro texto"), requests=3,
                      check=lambda error, fake: "already holds another post" in error.reason),
                 id="record-key-holds-another-post"),
    pytest.param(Case(prepare=lambda fake: fake.answer_next_create(cut_after=25), requests=3,
                      check=found_after("cut")), id="answer-cut-mid-body-finds-the-post"),
    pytest.param(Case(prepare=lambda fake: fake.answer_next_create(delay=1.0), requests=3,
                      check=found_after("timeout")), id="timeout-finds-the-post"),
    pytest.param(Case(error=Retryable, prepare=lambda fake: fake.answer_next_create(delay=1.0),
                      fail={"com.atproto.repo.getRecord": (bad_gateway(),)}, requests=3, maybe_delivered=True,
                      check=lambda error, fake: "no answer" in error.reason and len(fake.posts()) == 1),
                 id="timeout-and-lookup-fails-stays-unknown"),
    pytest.param(Case(error=Retryable, fail={CREATE: (internal_error(),)}, requests=3,
                      check=says("HTTP 500 InternalServerError", "holds no post")), id="server-error-nothing-written"),
    pytest.param(Case(error=Retryable, fail={CREATE: (bad_gateway(),)}, requests=3,
                      check=says("HTTP 502: 502 Bad Gateway", "holds no post")), id="bad-gateway-html"),
    pytest.param(Case(error=Retryable, fail={CREATE: (Reply(reset=True),)}, requests=3,
                      check=says("connection broke", "holds no post")), id="connection-reset"),
    pytest.param(Case(error=Retryable, fail={CREATE: (Reply(200, "<html>maintenance</html>",
                                                            {"Content-Type": "text/html"}),)}, requests=3,
                      check=says("could not be read", "holds no post")), id="malformed-not-json"),
    pytest.param(Case(error=Retryable, fail={CREATE: (Reply(200, {"cid": "bafyrei"}),)}, requests=3,
                      check=says("could not be read", "holds no post")), id="malformed-no-uri"),
    pytest.param(Case(error=Permanent, fail={"com.atproto.server.createSession": (
        Reply(501, {"error": "MethodNotImplemented", "message": "Method Not Implemented"}),)}, requests=1,
                      check=says("does not serve", "api_url")), id="not-a-pds"),
]


@pytest.mark.parametrize("case", CASES)
def test_send(fake, case):
    run_case(fake, case, build)


def test_a_resend_after_an_unknown_outcome_posts_once(fake):
    channel = build(fake)
    fake.answer_next_create(delay=1.0)
    fake.fail("com.atproto.repo.getRecord", bad_gateway())
    with pytest.raises(Retryable) as first:
        channel.send(message(*THREAD))
    assert first.value.maybe_delivered and first.value.sent_parts == ()
    receipt = build(fake).send(message(*THREAD))
    assert len(fake.posts()) == 3 and receipt.extra["part_ids"] == [post["uri"] for post in sorted(
        fake.posts(), key=lambda post: THREAD.index(post["value"]["text"]))]
    assert [request.json()["rkey"] for request in calls(fake)] == [record_key(KEY), record_key(KEY),
                                                                   record_key(f"{KEY}-1"), record_key(f"{KEY}-2")]


@pytest.mark.parametrize("shape", [{"trickle": 1.0}, {"padding": 2 << 20}], ids=["trickle", "over-1-MiB"])
def test_an_answer_cut_at_the_timeout_or_too_long_is_looked_up(fake, shape):
    fake.answer_next_create(**shape)
    started = time.monotonic()
    receipt = build(fake, timeout=2).send(message())
    assert time.monotonic() - started < 10
    [post] = fake.posts()
    assert receipt.id == post["uri"] and len(calls(fake)) == 1
    assert len(calls(fake, "com.atproto.repo.getRecord")) == 1


def test_a_freeze_stops_the_request_in_flight_and_the_outcome_stays_unknown(fake):
    import threading

    from channels.deadline import abort_on

    channel = build(fake, timeout=60)
    channel.check()
    fake.answer_next_create(trickle=1.0)
    frozen = threading.Event()
    threading.Timer(0.5, frozen.set).start()
    started = time.monotonic()
    with abort_on(frozen), pytest.raises(Retryable) as stopped:
        channel.send(message())
    assert time.monotonic() - started < 10
    assert stopped.value.maybe_delivered and "freeze" in stopped.value.reason
    assert not calls(fake, "com.atproto.repo.getRecord")


def test_every_request_stays_on_api_url_also_after_a_session_refresh():
    with FakePDS(APP_PASSWORD, access_lifetime=600) as fake:
        channel = build(fake)
        channel.send(message("uno"))
        channel.send(Message(**{**message("dos").__dict__, "idempotency_key": "other"}))
        paths = [request.path for request in fake.requests]
    assert "/xrpc/com.atproto.server.refreshSession" in paths
    assert paths.count(f"/xrpc/{CREATE}") == 2 and len(fake.posts()) == 2


def test_check_names_the_account_and_posts_nothing(fake):
    assert build(fake).check() == f"Bluesky app password works for @acme.bsky.social ({DID}) on 127.0.0.1"
    assert [request.path for request in fake.requests] == ["/xrpc/com.atproto.server.createSession",
                                                           "/xrpc/com.atproto.server.getSession"]
    with pytest.raises(Permanent, match="Invalid identifier or password"):
        build(fake, app_password="CANARY-revoked").check()
    assert fake.records == {}


def test_lookup_reads_a_post_by_url_or_uri(fake):
    uri = fake.seed("Pedimos disculpas por la caída", did=DID)
    rkey = rkey_of(uri)
    channel = build(fake)
    for reference in (f"https://bsky.app/profile/acme.bsky.social/post/{rkey}", uri,
                      f"https://bsky.app/profile/{DID}/post/{rkey}?ref=x"):
        found = channel.lookup(reference)
        assert (found.id, found.extra["text"]) == (uri, "Pedimos disculpas por la caída")
        assert found.url == f"https://bsky.app/profile/{DID}/post/{rkey}"
    assert channel.lookup(f"at://{DID}/{POST}/3jzfcijpj2z2a") is None
    with pytest.raises(Permanent, match="neither"):
        channel.lookup("https://x.com/acme/status/1")
    assert not calls(fake, "com.atproto.server.createSession")


def test_record_keys_are_tids_stable_per_part_and_never_in_the_future():
    keys = [record_key(f"draft-{n}:bsky") for n in range(200)]
    assert len(set(keys)) == 200 and keys[0] == record_key("draft-0:bsky")
    assert all(re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", key) for key in keys)
    assert all(tid_time(key).startswith("2023-") for key in keys)
    assert tid_time("2222222222222") == "1970-01-01T00:00:00.000Z"
    assert tid_time("not-a-tid") is None


def test_post_references():
    assert post_reference("https://bsky.app/profile/acme.bsky.social/post/3k4duaz5vfs2b") == (
        "acme.bsky.social", "3k4duaz5vfs2b")
    assert post_reference(f"at://{DID}/app.bsky.feed.post/3k4duaz5vfs2b") == (DID, "3k4duaz5vfs2b")
    assert post_reference("https://bsky.app/profile/acme.bsky.social") is None
    assert post_reference(f"at://{DID}/app.bsky.feed.like/3k4duaz5vfs2b") is None


def test_declared_shape_settings_and_masked_description(fake):
    assert (BlueskyChannel.type, BlueskyChannel.variant, BlueskyChannel.max_length, BlueskyChannel.counting,
            BlueskyChannel.overflow) == ("bluesky", "short", 300, "bluesky", "thread")
    assert BlueskyChannel.supports_reply and BlueskyChannel.idempotent and BlueskyChannel.can_look_up
    assert [key for key, option in BlueskyChannel.options.items() if option.secret] == ["app_password"]
    shown = build(fake).describe()
    assert shown["app_password"] == "****" and shown["handle"] == "acme.bsky.social"
    assert BlueskyChannel.build("b", {"type": "bluesky", "handle": "@Acme.bsky.social",
                                      "app_password": "x"}).describe()["api_url"] == "https://bsky.social"
    with pytest.raises(SettingError, match="handle"):
        build(fake, handle="acme")
    with pytest.raises(SettingError, match="api_url"):
        build(fake, api_url="bsky.social")


def test_import_loads_no_sdk():
    assert_loads_no_sdk("channels.bluesky")


def test_no_secret_escapes(caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    issued: set[str] = set()
    for case in CASES:
        with FakePDS(APP_PASSWORD) as server:
            channel, result = send(server, case.values[0], build)
            seen += [repr(result), str(result), repr(getattr(result, "sent_parts", None)), repr(channel),
                     repr(channel.describe()), str(channel.describe())]
            try:
                channel.check()
                build(server, app_password="CANARY-wrong").check()
            except DeliveryError as error:
                seen += [repr(error), str(error), error.reason]
            issued |= set(server.tokens)
    seen += [record.getMessage() for record in caplog.records]
    seen += [str(record.args) for record in caplog.records]
    secrets = {APP_PASSWORD, *issued}
    assert seen and issued and not [text for text in seen if any(secret in text for secret in secrets)]
