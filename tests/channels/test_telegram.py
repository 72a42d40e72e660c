"""TelegramChannel through python-telegram-bot against a fake Bot API on loopback."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from channels.base import DeliveryError, Message, Permanent, Receipt, Retryable, SettingError
from channels.telegram import TelegramChannel
from tests.channels import case_table
from tests.channels.case_table import assert_loads_no_sdk, fake_fixtures, refused_url, run_case
from tests.fakes.server import Reply
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.servers

CANARY = "CANARY-telegram-9f8e7d"
TOKEN = f"7012345678:{CANARY}"
PATH = f"/bot{TOKEN}/sendMessage"
WHEN = "2026-01-01T00:00:00+00:00"
PARTS = ("1/3 Boil water before drinking 💧\n", "2/3 Distribution points: 📍 Town hall,  Station Rd  ",
         "3/3 Updates follow.\r\nCall 0800 000 000.")
TEXT = "Tap water is safe to drink again in all districts."
GATEWAY = Reply(502, "<html>\r\n<head><title>502 Bad Gateway</title></head></html>", {"Content-Type": "text/html"})
FLOOD = FakeTelegram.error(429, "Too Many Requests: retry after 5", retry_after=5)


server, fake = fake_fixtures(lambda: FakeTelegram(token=TOKEN))


def build(fake: FakeTelegram, **overrides) -> TelegramChannel:
    raw = {"type": "telegram", "token": TOKEN, "chat": "@citywater", "api_url": fake.url, "timeout": 2, **overrides}
    return TelegramChannel.build("telegram-main", raw, secrets=frozenset({TOKEN}))


def message(*parts: str, reply_to: str | None = None, sent_parts: tuple[Receipt, ...] = ()) -> Message:
    return Message(draft_id="d-1", channel="telegram-main", parts=parts or (TEXT,), title="All clear",
                   incident_id="inc-1", template="all-clear", language="en", case=1, reply_to=reply_to,
                   idempotency_key="key-1", sent_parts=sent_parts)


def receipt(number: int) -> Receipt:
    return Receipt(str(number), f"https://t.me/citywater/{number}", WHEN)


def earlier_post(fake):
    fake.post("@citywater", "Boil water before drinking.")


def fail(number, reply):
    return lambda fake: fake.fail_call(number, reply)


def sent(text: str, **fields) -> dict:
    return {"chat_id": "@citywater", "text": text, **fields}


@dataclass
class Case(case_table.Case):
    """`calls`: the sendMessage parameters the fake must see, in order."""

    message: Message = field(default_factory=message)
    calls: list = field(default_factory=lambda: [sent(TEXT)])

    def __post_init__(self) -> None:
        self.requests = len(self.calls)


CASES = [
    pytest.param(Case(receipt_fields={"id": "501", "url": "https://t.me/citywater/501", "platform_time": WHEN,
                                      "extra": {"part_ids": ["501"]}}), id="single"),
    pytest.param(Case(message=message(*PARTS),
                      receipt_fields={"id": "501", "extra": {"part_ids": ["501", "502", "503"]}},
                      calls=[sent(part) for part in PARTS]), id="split-verbatim-in-order"),
    pytest.param(Case(prepare=earlier_post, message=message(reply_to="501"), receipt_fields={"id": "502"},
                      calls=[sent(TEXT, reply_parameters={"message_id": 501})]), id="reply-by-id"),
    pytest.param(Case(prepare=earlier_post, message=message(*PARTS[:2], reply_to="https://t.me/CityWater/501"),
                      receipt_fields={"id": "502", "extra": {"part_ids": ["502", "503"]}},
                      calls=[sent(PARTS[0], reply_parameters={"message_id": 501}), sent(PARTS[1])]),
                 id="split-reply-by-link"),
    pytest.param(Case(error=Permanent, reason="another chat", prepare=earlier_post,
                      message=message(reply_to="https://t.me/othernews/501"), calls=[]), id="reply-link-other-chat"),
    pytest.param(Case(error=Permanent, reason="cannot tell which Telegram message",
                      message=message(reply_to="https://example.org/citywater/501"), calls=[]), id="reply-unparsable"),
    pytest.param(Case(error=Permanent, reason="Message to be replied not found", message=message(reply_to="777"),
                      calls=[sent(TEXT, reply_parameters={"message_id": 777})]), id="reply-target-missing"),
    pytest.param(Case(message=message(*PARTS, sent_parts=(receipt(91),)),
                      receipt_fields={"id": "91", "url": "https://t.me/citywater/91",
                                      "extra": {"part_ids": ["91", "501", "502"]}},
                      calls=[sent(PARTS[1]), sent(PARTS[2])]), id="continue-after-sent-parts"),
    pytest.param(Case(settings={"chat": -1009876543210, "parse_mode": "HTML"},
                      receipt_fields={"id": "501", "url": None, "platform_time": WHEN},
                      calls=[{"chat_id": "-1009876543210", "text": TEXT, "parse_mode": "HTML"}]),
                 id="numeric-chat-parse-mode"),
    pytest.param(Case(error=Retryable, reason="rate limiting", prepare=fail(1, FLOOD), retry_after=5.0),
                 id="rate-limit"),
    pytest.param(Case(error=Retryable, reason="rate limiting", prepare=fail(2, FLOOD), message=message(*PARTS),
                      retry_after=5.0, error_fields={"sent_parts": (receipt(501),)},
                      calls=[sent(PARTS[0]), sent(PARTS[1])]), id="rate-limit-mid-split"),
    pytest.param(Case(error=Retryable, reason="Bad Gateway", prepare=fail(1, GATEWAY)), id="5xx-html"),
    pytest.param(Case(error=Retryable, reason="server error",
                      prepare=fail(1, FakeTelegram.error(500, "Internal Server Error"))), id="5xx-json"),
    pytest.param(Case(error=Retryable, reason="timeout", prepare=fail(1, Reply(200, {"ok": True}, delay=1.0)),
                      settings={"timeout": 0.3}, maybe_delivered=True), id="timeout"),
    pytest.param(Case(error=Retryable, reason="broke", prepare=fail(1, Reply(reset=True)), maybe_delivered=True),
                 id="connection-reset"),
    pytest.param(Case(error=Permanent, reason="rejected the bot token (Unauthorized)",
                      prepare=lambda fake: setattr(fake, "token", "7012345678:rotated")), id="bad-token"),
    pytest.param(Case(error=Permanent, reason="not a member of the channel chat",
                      prepare=lambda fake: fake.removed.add(-1001234567890)), id="bot-not-member"),
    pytest.param(Case(error=Permanent, reason="blocked by the user",
                      prepare=fail(1, FakeTelegram.error(403, "Forbidden: bot was blocked by the user"))),
                 id="blocked"),
    pytest.param(Case(error=Permanent, reason="hat not found", settings={"chat": "@nosuchchat"},
                      calls=[{"chat_id": "@nosuchchat", "text": TEXT}]), id="chat-not-found"),
    pytest.param(Case(error=Permanent, reason="too long", message=message("x" * 4097), calls=[sent("x" * 4097)]),
                 id="too-long"),
    pytest.param(Case(prepare=fail(1, FakeTelegram.error(400, "Bad Request: group chat was upgraded to a supergroup "
                                                              "chat", migrate_to_chat_id=-1009876543210)),
                      error=Permanent, reason="set chat to -1009876543210"), id="chat-migrated"),
    pytest.param(Case(error=Retryable, reason="may have been sent",
                      prepare=fail(1, Reply(200, b"<html>captive portal</html>", {"Content-Type": "text/html"})),
                      maybe_delivered=True), id="malformed-body"),
    pytest.param(Case(error=Retryable, reason="not with a Bot API result", prepare=fail(1, FakeTelegram.ok(True)),
                      maybe_delivered=True), id="wrong-shape"),
]


@pytest.mark.parametrize("case", CASES)
def test_send(fake, case):
    run_case(fake, case, build)
    requests = fake.requests
    assert [FakeTelegram.params(r) for r in requests] == case.calls
    for request in requests:
        assert (request.method, request.path) == ("POST", PATH)
        assert request.header("Content-Type") == "application/x-www-form-urlencoded"
        assert request.header("User-Agent").startswith("python-telegram-bot v22")


def test_connection_refused_is_not_delivered():
    channel = TelegramChannel.build("tg", {"type": "telegram", "token": TOKEN, "chat": "@citywater",
                                           "api_url": refused_url(), "timeout": 1})
    with pytest.raises(Retryable) as caught:
        channel.send(message())
    assert caught.value.maybe_delivered is False


def test_check_calls_get_me(fake):
    assert build(fake).check() == "bot @water_alerts_bot (id 7012345678) is accepted by Telegram"
    assert [(r.method, r.path) for r in fake.requests] == [("POST", f"/bot{TOKEN}/getMe")]
    fake.token = "7012345678:rotated"
    with pytest.raises(Permanent, match="rejected the bot token"):
        build(fake).check()
    fake.queue(GATEWAY)
    with pytest.raises(Retryable):
        build(fake).check()


@pytest.mark.parametrize("reply_to, chat, expected", [
    ("42", "@citywater", 42),
    ("https://t.me/citywater/42", "@citywater", 42),
    ("https://t.me/s/citywater/42", "@citywater", 42),
    ("https://telegram.me/citywater/7/42", "@citywater", 42),
    ("https://t.me/c/9876543210/42", -1009876543210, 42),
    ("https://t.me/c/1111111111/42", -1009876543210, None),
    ("https://t.me/citywater", "@citywater", None),
    ("t.me/citywater/42", "@citywater", None),
])
def test_reply_forms(reply_to, chat, expected):
    channel = TelegramChannel.build("tg", {"type": "telegram", "token": TOKEN, "chat": chat})
    if expected is None:
        with pytest.raises(Permanent):
            channel.reply_id(reply_to)
    else:
        assert channel.reply_id(reply_to) == expected


@pytest.mark.parametrize("raw", [{"chat": "citywater"}, {"chat": "@ab"}, {"api_url": "api.telegram.org"},
                                 {"parse_mode": "markdown"}])
def test_bad_settings(raw):
    with pytest.raises(SettingError):
        TelegramChannel.build("tg", {"type": "telegram", "token": TOKEN, "chat": "@citywater", **raw})


def test_declared_shape():
    shape = {name: getattr(TelegramChannel, name) for name in
             ("type", "variant", "max_length", "counting", "overflow", "supports_reply", "idempotent")}
    assert shape == {"type": "telegram", "variant": "long", "max_length": 4096, "counting": "utf16",
                     "overflow": "split", "supports_reply": True, "idempotent": False}
    assert TelegramChannel.options["token"].secret


def test_importing_the_module_loads_no_sdk():
    assert_loads_no_sdk("channels.telegram")


def test_canary_never_leaks(fake, caplog):
    for name in ("httpx", "httpcore", "telegram"):
        logging.getLogger(name).setLevel(logging.NOTSET)
    caplog.set_level(logging.DEBUG)
    channel = build(fake, timeout=0.6)
    outcomes: list[object] = [channel.describe(), repr(channel), channel.check()]
    failures = [FLOOD, GATEWAY, FakeTelegram.error(401, "Unauthorized"), FakeTelegram.error(404, "Not Found"),
                FakeTelegram.error(403, "Forbidden: bot was blocked by the user"),
                FakeTelegram.error(400, f"Bad Request: chat not found {TOKEN}"),
                Reply(200, f"<html>{TOKEN}</html>".encode()), FakeTelegram.ok(True), Reply(200, {}, delay=1.0),
                Reply(reset=True)]
    for failure in failures:
        fake.queue(failure)
        with pytest.raises(DeliveryError) as caught:
            channel.send(message(*PARTS[:2]))
        outcomes += [caught.value.reason, str(caught.value), repr(caught.value), caught.value.sent_parts]
    fake.queue(FakeTelegram.error(401, "Unauthorized"))
    with pytest.raises(Permanent) as caught:
        channel.check()
    with pytest.raises(Permanent) as unparsable:
        channel.send(message(reply_to=f"https://example.org/{CANARY}"))
    outcomes += [channel.send(message(*PARTS)), str(caught.value), unparsable.value.reason]
    outcomes += [record.getMessage() for record in caplog.records]
    outcomes += [repr(record.args) for record in caplog.records]
    outcomes += [str(record.exc_info) for record in caplog.records]
    assert channel.describe()["token"] == "****"
    assert any(CANARY in r.path for r in fake.requests), "the token must reach the fake"
    assert [text for text in map(str, outcomes) if CANARY in text] == []


def test_send_from_inside_an_event_loop(fake):
    import asyncio

    async def caller():
        return build(fake).send(message())

    assert asyncio.run(caller()).id == "501"
