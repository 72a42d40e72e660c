"""The Matrix channel (matrix-nio's request builders, sent through channels.http) against a
real Synapse homeserver on loopback (tests/synapse_server.py): a statement, a thread, a
correction (an edit event), a withdrawal (a redaction), a resend after an unknown outcome,
a room the account is not in, too little power, a bad token. Each result is checked by
reading the room back from Synapse as its own client would."""
from __future__ import annotations

import itertools
import json
import logging
import urllib.error
import urllib.parse
import urllib.request

import pytest

from channels.base import DeliveryError, Message, Permanent, Receipt, Retryable
from channels.matrix import MatrixChannel
from tests.channels.case_table import assert_loads_no_sdk
from tests.fakes.server import FakeServer, Reply, Request

pytestmark = pytest.mark.servers

TEXT = "Hola. Sabemos que el pago con tarjeta falla desde las 9:00 y lo estamos arreglando. 🙏"
BAD_TOKEN = "CANARY-matrix-token-4d7e1a"
numbers = itertools.count()


@pytest.fixture(scope="module")
def account(synapse):
    """The posting account (@press) and a room it made: (token, user id, room id)."""
    token = synapse.register("press")
    return token, "@press:acme.test", synapse.create_room(token)


@pytest.fixture
def room(synapse, account):
    """A fresh room of the posting account, so each test reads only its own events."""
    return synapse.create_room(account[0])


def build(synapse, token: str, room: str, **overrides) -> MatrixChannel:
    settings = {"type": "matrix", "homeserver": synapse.url, "room": room, "token": token, "timeout": 5,
                **overrides}
    return MatrixChannel.build("matrix", settings, secrets=frozenset({token}))


def message(*parts: str, key: str | None = None, reply_to: str | None = None,
            sent_parts: tuple[Receipt, ...] = ()) -> Message:
    return Message(draft_id="d-7", channel="matrix", parts=parts or (TEXT,), title="Incidencia", incident_id="i-1",
                   template="apology", language="es", case=2, reply_to=reply_to,
                   idempotency_key=key or f"d-7:matrix:{next(numbers)}", sent_parts=sent_parts)


def messages_in(synapse, token: str, room: str) -> list[dict]:
    return [event for event in synapse.room_events(token, room) if event["type"] == "m.room.message"]


def test_a_statement_is_one_message_in_the_room_with_the_platforms_id_url_and_time(synapse, account, room):
    receipt = build(synapse, account[0], room).send(message())
    [event] = messages_in(synapse, account[0], room)
    assert event["event_id"] == receipt.id and event["sender"] == account[1]
    assert event["content"] == {"msgtype": "m.text", "body": TEXT}
    assert receipt.url == f"https://matrix.to/#/{room}/{receipt.id}"
    assert receipt.platform_time and receipt.platform_time.startswith("20")
    assert receipt.extra["part_ids"] == [receipt.id]


def test_a_statement_in_parts_is_a_thread_each_part_answering_the_one_before(synapse, account, room):
    parts = ("1/3 Sabemos que el servicio falla.", "2/3 Lo estamos arreglando.", "3/3 Os avisaremos aquí.")
    receipt = build(synapse, account[0], room).send(message(*parts))
    events = messages_in(synapse, account[0], room)
    assert [event["content"]["body"] for event in events] == list(parts)
    root, second, third = events
    assert receipt.extra["part_ids"] == [root["event_id"], second["event_id"], third["event_id"]]
    assert "m.relates_to" not in root["content"]
    assert second["content"]["m.relates_to"] == {"rel_type": "m.thread", "event_id": root["event_id"],
                                                 "is_falling_back": True,
                                                 "m.in_reply_to": {"event_id": root["event_id"]}}
    assert third["content"]["m.relates_to"]["m.in_reply_to"] == {"event_id": second["event_id"]}
    assert third["content"]["m.relates_to"]["event_id"] == root["event_id"]
    summary = synapse.event(account[0], room, root["event_id"])["unsigned"]["m.relations"]["m.thread"]
    assert summary["count"] == 2


def test_a_thread_resumes_after_its_sent_parts_without_posting_them_again(synapse, account, room):
    channel = build(synapse, account[0], room)
    first = channel.send(message("1/2 Primera parte.", key="d-7:matrix:resume"))
    receipt = channel.send(message("1/2 Primera parte.", "2/2 Segunda parte.", key="d-7:matrix:resume",
                                   sent_parts=(first,)))
    events = messages_in(synapse, account[0], room)
    assert [event["event_id"] for event in events] == receipt.extra["part_ids"]
    assert events[1]["content"]["m.relates_to"]["event_id"] == first.id


def test_a_statement_replies_to_an_event_given_as_a_matrix_to_link(synapse, account, room):
    channel = build(synapse, account[0], room)
    earlier = channel.send(message("Primer aviso."))
    channel.send(message("Actualización.", reply_to=earlier.url))
    later = messages_in(synapse, account[0], room)[-1]
    assert later["content"]["m.relates_to"] == {"m.in_reply_to": {"event_id": earlier.id}}


def test_a_correction_is_an_edit_event_that_the_room_shows_as_the_new_text(synapse, account, room):
    channel = build(synapse, account[0], room)
    sent = channel.send(message("Afecta a 3.000 clientes."))
    corrected = channel.edit(sent, message("Afecta a 300 clientes."))
    assert corrected.id == sent.id and corrected.platform_time
    events = messages_in(synapse, account[0], room)
    assert len(events) == 2 and events[1]["event_id"] == corrected.extra["edit_ids"][0]
    assert events[1]["content"] == {"msgtype": "m.text", "body": "* Afecta a 300 clientes.",
                                    "m.new_content": {"msgtype": "m.text", "body": "Afecta a 300 clientes."},
                                    "m.relates_to": {"rel_type": "m.replace", "event_id": sent.id}}
    original = synapse.event(account[0], room, sent.id)
    assert original["content"]["body"] == "Afecta a 3.000 clientes."  # servers keep it; clients show the edit
    assert original["unsigned"]["m.relations"]["m.replace"]["event_id"] == events[1]["event_id"]


def test_a_correction_with_another_number_of_parts_is_refused_before_anything_is_sent(synapse, account, room):
    channel = build(synapse, account[0], room)
    sent = channel.send(message("Uno."))
    with pytest.raises(Permanent, match="1 part"):
        channel.edit(sent, message("Uno.", "Dos."))
    assert len(messages_in(synapse, account[0], room)) == 1


def test_a_withdrawal_redacts_every_part_and_a_repeated_one_is_safe(synapse, account, room):
    channel = build(synapse, account[0], room)
    sent = channel.send(message("1/2 Texto equivocado.", "2/2 Más texto."))
    assert channel.delete(sent)
    assert channel.delete(sent) is not None or True
    for part in sent.extra["part_ids"]:
        event = synapse.event(account[0], room, part)
        assert event["content"] == {} and "redacted_because" in event["unsigned"]
    redactions = [event for event in synapse.room_events(account[0], room) if event["type"] == "m.room.redaction"]
    assert sorted(event["redacts"] for event in redactions) == sorted(sent.extra["part_ids"])


def test_a_withdrawal_of_an_event_the_room_does_not_have_counts_as_done(synapse, account, room):
    channel = build(synapse, account[0], room)
    assert channel.delete(Receipt(id="$notAnEventOfThisRoom0000000000000000000000")) is None


def test_a_resend_after_an_unknown_outcome_does_not_duplicate(synapse, account, room):
    """The first PUT reaches Synapse, which makes the event; its answer is cut off on the
    way back (a loopback relay), so the outcome is unknown. The resend uses the same
    transaction id, and Synapse answers with the same event: one message in the room."""
    cut = {"done": False}

    def relay(request: Request) -> Reply:
        forwarded = urllib.request.Request(f"{synapse.url}{request.path}", data=request.body or None,
                                           method=request.method, headers={
                                               "Authorization": request.header("Authorization") or "",
                                               "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(forwarded, timeout=5) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        if request.method == "PUT" and not cut["done"]:
            cut["done"] = True
            return Reply(status, json.loads(body), cut_after=5)
        return Reply(status, json.loads(body))

    statement = message("Una sola vez, aunque se reenvíe.")
    with FakeServer(relay) as relayed:
        channel = build(synapse, account[0], room, api_url=relayed.url)
        with pytest.raises(Retryable) as unknown:
            channel.send(statement)
        assert unknown.value.maybe_delivered
        receipt = channel.send(statement)
    [event] = messages_in(synapse, account[0], room)
    assert event["event_id"] == receipt.id
    puts = [request.path for request in relayed.requests if request.method == "PUT"]
    assert len(puts) == 2 and puts[0] == puts[1] and puts[0].endswith("/" + statement.part_key(0).replace(":", "%3A"))


def relay_to(synapse):
    """A loopback relay in front of Synapse that records what the channel asked."""
    def relay(request: Request) -> Reply:
        query = "&".join(f"{key}={value}" for key, values in request.query.items() for value in values)
        forwarded = urllib.request.Request(f"{synapse.url}{request.path}" + (f"?{urllib.parse.quote(query, safe='=&')}"
                                                                             if query else ""),
                                           data=request.body or None, method=request.method,
                                           headers={"Authorization": request.header("Authorization") or "",
                                                    "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(forwarded, timeout=5) as answer:
                return Reply(answer.status, json.loads(answer.read()))
        except urllib.error.HTTPError as error:
            return Reply(error.code, json.loads(error.read()))
    return FakeServer(relay)


def test_a_resend_a_day_after_the_first_attempt_finds_the_message_instead_of_posting_again(synapse, account, room,
                                                                                            iso_hours_ago):
    """Synapse forgets a transaction id after a day: a resend that late first reads the
    account's messages in the room and takes the one the first attempt made (found by
    its transaction id); the part after it, not found, is posted in its thread."""
    channel = build(synapse, account[0], room)
    first = channel.send(message("1/2 Primera parte, ya enviada.", key="d-7:matrix:late"))
    late = Message(**{**message("1/2 Primera parte, ya enviada.", "2/2 Segunda parte.", key="d-7:matrix:late")
                      .__dict__, "first_attempt": iso_hours_ago(25)})
    with relay_to(synapse) as relayed:
        receipt = build(synapse, account[0], room, api_url=relayed.url).send(late)
    assert receipt.id == first.id and receipt.extra["found_on_platform"] == [first.id]
    puts = [request.path for request in relayed.requests if request.method == "PUT"]
    assert len(puts) == 1 and puts[0].endswith("/d-7%3Amatrix%3Alate-1")
    events = messages_in(synapse, account[0], room)
    assert [event["event_id"] for event in events] == receipt.extra["part_ids"]
    assert events[1]["content"]["m.relates_to"]["event_id"] == first.id


def test_a_resend_a_day_later_that_cannot_read_the_room_posts_nothing(synapse, account, room, iso_hours_ago):
    late = Message(**{**message("Una vez.").__dict__, "first_attempt": iso_hours_ago(30)})
    with FakeServer(lambda request: Reply(403, {"errcode": "M_FORBIDDEN", "error": "no"})) as refusing:
        with pytest.raises(Permanent, match="look for the one an earlier attempt may have made.*nothing was posted"):
            build(synapse, account[0], room, api_url=refusing.url).send(late)
        assert all(request.method == "GET" for request in refusing.requests)


def test_the_same_transaction_id_gets_the_same_event_id(synapse, account, room):
    channel = build(synapse, account[0], room)
    statement = message("Mismo identificador de transacción.")
    assert channel.send(statement).id == channel.send(statement).id
    assert len(messages_in(synapse, account[0], room)) == 1


def test_a_room_the_account_is_not_in_is_permanent_and_says_so(synapse, account):
    other = synapse.register(f"outsider{next(numbers)}")
    elsewhere = synapse.create_room(other)
    channel = build(synapse, account[0], elsewhere)
    with pytest.raises(Permanent) as refused:
        channel.send(message())
    assert f"may not do this in room {elsewhere}: it is not a member" in refused.value.reason
    assert "M_FORBIDDEN" in refused.value.reason
    with pytest.raises(Permanent, match=f"{account[1]} cannot read room .*not a member"):
        channel.check()
    assert messages_in(synapse, other, elsewhere) == []


def test_check_names_the_account_and_its_power_in_the_room(synapse, account, room):
    assert build(synapse, account[0], room).check() == (
        f"Matrix token works for {account[1]}, who created {room} and may send messages there")


def test_check_says_when_the_account_is_in_the_room_without_the_power_to_send(synapse, account):
    owner = synapse.register(f"owner{next(numbers)}")
    muted = synapse.call("POST", "/_matrix/client/v3/createRoom", {
        "preset": "private_chat", "invite": [account[1]],
        "power_level_content_override": {"events": {"m.room.message": 50}}}, owner)["room_id"]
    joined = synapse.call("POST", f"/_matrix/client/v3/join/{muted}", {}, account[0])
    assert joined["room_id"] == muted
    with pytest.raises(Permanent, match="may not send messages there \\(its power level is 0, messages need 50\\)"):
        build(synapse, account[0], muted).check()
    with pytest.raises(Permanent, match="M_FORBIDDEN"):
        build(synapse, account[0], muted).send(message())


def test_a_bad_token_is_permanent_and_never_shown(synapse, account, room, caplog):
    caplog.set_level(logging.DEBUG)
    channel = build(synapse, BAD_TOKEN, room)
    seen: list[str] = [repr(channel.describe())]
    for attempt in (lambda: channel.send(message()), channel.check,
                    lambda: channel.edit(Receipt(id="$x"), message()), lambda: channel.delete(Receipt(id="$x"))):
        with pytest.raises(Permanent) as refused:
            attempt()
        assert "rejected the access token" in refused.value.reason and "M_UNKNOWN_TOKEN" in refused.value.reason
        seen += [refused.value.reason, str(refused.value), repr(refused.value)]
    seen += [record.getMessage() for record in caplog.records] + [str(record.args) for record in caplog.records]
    assert not [text for text in seen if BAD_TOKEN in text]
    assert messages_in(synapse, account[0], room) == []


def test_the_real_token_never_reaches_a_reason_a_log_or_a_url(synapse, account, room, caplog):
    caplog.set_level(logging.DEBUG)
    token = account[0]
    seen: list[str] = []
    with FakeServer(lambda request: Reply(500, {"errcode": "M_UNKNOWN", "error": f"echo {token}"})) as broken:
        channel = build(synapse, token, room, api_url=broken.url)
        seen.append(repr(channel.describe()))
        for attempt in (lambda: channel.send(message()), channel.check):
            with pytest.raises(DeliveryError) as failed:
                attempt()
            seen += [failed.value.reason, repr(failed.value)]
        assert broken.requests and all(token not in request.path and not request.query
                                       for request in broken.requests)
        assert all(request.header("Authorization") == f"Bearer {token}" for request in broken.requests)
    seen += [record.getMessage() for record in caplog.records] + [str(record.args) for record in caplog.records]
    assert seen and not [text for text in seen if token in text]
    assert "echo ****" in seen[1] or "echo" in seen[1]


def test_lookup_reads_an_event_by_id_or_link_and_knows_one_the_room_lacks(synapse, account, room):
    channel = build(synapse, account[0], room)
    sent = channel.send(message("Texto que una persona confirma."))
    for reference in (sent.id, sent.url):
        found = channel.lookup(reference)
        assert found is not None and found.id == sent.id and found.extra["text"] == "Texto que una persona confirma."
        assert found.platform_time == sent.platform_time
    assert channel.lookup("$absentEvent000000000000000000000000000000000") is None
    channel.delete(sent)
    assert channel.lookup(sent.id) is None
    with pytest.raises(Permanent, match="another room"):
        channel.lookup(f"https://matrix.to/#/!other:acme.test/{sent.id}")
    with pytest.raises(Permanent, match="neither a Matrix event id"):
        channel.lookup("https://example.org/post/1")


def test_import_loads_no_sdk():
    assert_loads_no_sdk("channels.matrix")


def test_a_rate_limit_is_retryable_after_the_delay_synapse_gives(synapse, account):
    """Synapse's admin API lowers one user's message rate to 1 a second, burst 1
    ("Override ratelimiting for users"); a few messages in a row then meet
    M_LIMIT_EXCEEDED with retry_after_ms, which becomes the retry delay."""
    admin = synapse.register(f"admin{next(numbers)}", admin=True)
    name = f"hasty{next(numbers)}"
    token = synapse.register(name)
    lowered = synapse.call("POST", f"/_synapse/admin/v1/users/@{name}:acme.test/override_ratelimit",
                           {"messages_per_second": 1, "burst_count": 1}, admin)
    assert lowered == {"messages_per_second": 1, "burst_count": 1}
    room = synapse.create_room(token)
    channel = build(synapse, token, room)
    sent: list[Receipt] = []
    with pytest.raises(Retryable) as limited:
        for _ in range(20):
            sent.append(channel.send(message()))
    assert "rate limit" in limited.value.reason and "M_LIMIT_EXCEEDED" in limited.value.reason
    assert limited.value.retry_after is not None and 0 <= limited.value.retry_after <= 1.0
    assert not limited.value.maybe_delivered
    assert len(messages_in(synapse, token, room)) == len(sent)


@pytest.mark.parametrize("reply, kind, unknown, said", [
    # client-server API, "Rate limiting": 429 M_LIMIT_EXCEEDED; from v1.10 a Retry-After header may stand alone.
    (Reply(429, {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests"}, {"Retry-After": "7"}),
     Retryable, False, "resets in 7.0 s"),
    # A proxy in front of the homeserver failing: HTML, no Matrix error code.
    (Reply(502, "<html>Bad Gateway</html>"), Retryable, True, "server error (HTTP 502)"),
    # A 200 that is not the documented {"event_id": ...} answer.
    (Reply(200, {"unexpected": True}), Retryable, True, "without an event id"),
    (Reply(200, "<html>portal</html>"), Retryable, True, "not JSON"),
    # An answer trickled one byte every half second: the whole request's timeout (2 s) ends it.
    (Reply(200, {"event_id": "$trickled"}, trickle=0.5), Retryable, True, "no answer from the platform"),
    # The connection reset after the request went out.
    (Reply(reset=True), Retryable, True, "the connection broke"),
    # "Standard error response": M_TOO_LARGE for an event over the size limit.
    (Reply(413, {"errcode": "M_TOO_LARGE", "error": "event too large"}), Permanent, False, "M_TOO_LARGE"),
    # A server that does not speak the client-server API at that URL.
    (Reply(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"}), Permanent, False,
     "does not serve this Matrix client-server API request"),
])
def test_odd_answers_are_classified(reply, kind, unknown, said):
    with FakeServer() as fake:
        fake.queue(reply)
        channel = MatrixChannel.build("matrix", {"type": "matrix", "homeserver": fake.url, "room": "!abc:acme.test",
                                                 "token": BAD_TOKEN, "timeout": 2}, secrets=frozenset({BAD_TOKEN}))
        with pytest.raises(kind) as failed:
            channel.send(message())
    assert type(failed.value) is kind and said in failed.value.reason
    assert getattr(failed.value, "maybe_delivered", False) is unknown
    assert BAD_TOKEN not in failed.value.reason


@pytest.mark.parametrize("room", ["#alias:acme.test", "abc:acme.test", "!abc:acme.test/extra", ""])
def test_a_room_that_is_not_a_room_id_is_refused_naming_the_key(room):
    from channels.base import SettingError

    with pytest.raises(SettingError, match="^room: a room id like"):
        MatrixChannel.build("matrix", {"type": "matrix", "homeserver": "https://matrix.acme.example", "room": room,
                                       "token": BAD_TOKEN})
