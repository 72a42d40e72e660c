"""The Telegram source (getUpdates in the channel's discussion group) against the fake Bot API."""
from __future__ import annotations

import pytest

import channels
from channels.base import Permanent, Retryable, SettingError
from channels.telegram_source import TelegramSource
from tests.channels.case_table import fake_fixtures
from tests.fakes.server import Reply
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.servers

CANARY = "CANARY-tgsource-41c2aa"
TOKEN = f"7012345678:{CANARY}"
WHEN = "2026-01-01T00:00:00+00:00"

server, fake = fake_fixtures(lambda: FakeTelegram(token=TOKEN))


def build(fake: FakeTelegram, **overrides) -> TelegramSource:
    raw = {"type": "telegram", "token": TOKEN, "chat": "@citywater_chat", "api_url": fake.url, "timeout": 2,
           **overrides}
    return TelegramSource.build("telegram-comments", raw, secrets=frozenset({TOKEN}))


def calls(fake: FakeTelegram) -> list[dict]:
    return [FakeTelegram.params(r) for r in fake.requests if r.path.endswith("/getUpdates")]


def test_registered_as_a_source():
    assert channels.source_class("telegram") is TelegramSource


def test_comments_on_a_post_and_replies_between_members(fake):
    post = fake.forward_post(501, "Boil water before drinking.")
    first = fake.comment("¡Llevamos <b>3 días</b> sin agua!\x1b", reply_to=post)
    fake.comment("Same here", sender={"id": 42, "is_bot": False, "first_name": "Sam"}, reply_to=first)
    fake.comment("Off topic", chat="-1009876543210")
    fake.comment(None, photo=[{"file_id": "x", "file_unique_id": "y", "width": 1, "height": 1}])
    items, cursor = build(fake).read(None)
    assert cursor == "900000006"
    complaint, reply = items
    assert complaint.key == f"telegram:-1001122334455/{first}"
    assert complaint.url == f"https://t.me/citywater_chat/{first}"
    assert complaint.author == "Lucía Gómez (@luciag)"
    assert complaint.text == "¡Llevamos <b>3 días</b> sin agua!"
    assert complaint.platform_time == WHEN
    assert complaint.answers == "501" and complaint.extra["answers_chat"] == "@citywater"
    assert complaint.extra["thread"] == f"-1001122334455/{post}"
    assert reply.author == "Sam" and reply.answers == f"-1001122334455/{first}"
    assert calls(fake)[0].get("offset") in (None, "") and calls(fake)[0]["allowed_updates"] == ["message"]


def test_the_cursor_confirms_only_what_was_returned_so_a_restart_loses_and_repeats_nothing(fake):
    ids = [fake.comment(f"queja {n}") for n in range(5)]
    source = build(fake)
    page, cursor = source.read(None, limit=2)
    assert [item.text for item in page] == ["queja 0", "queja 1"]
    fake.comment("queja 5")
    again = build(fake)  # a restarted worker, from the stored cursor
    rest, end = again.read(cursor, limit=200)
    assert [item.text for item in rest] == ["queja 2", "queja 3", "queja 4", "queja 5"]
    assert int(calls(fake)[-1]["limit"]) == 100
    assert again.read(end) == ([], end)
    assert len({item.id for item in page + rest}) == len(ids) + 1


def test_a_group_by_numeric_id_and_a_private_link(fake):
    fake.comment("private", chat="-1009876543210")
    items, _ = build(fake, chat=-1009876543210).read(None)
    assert items[0].url == f"https://t.me/c/9876543210/{items[0].extra['message_id']}"


def test_a_member_posting_as_a_chat_is_named_by_it(fake):
    fake.comment("as the channel", sender_chat={"id": -1001, "title": "Rival <Corp>", "username": "rival",
                                                "type": "channel"})
    assert build(fake).read(None)[0][0].author == "Rival <Corp> (@rival)"


def test_rate_limit_is_retryable_with_telegrams_delay(fake):
    fake.queue(FakeTelegram.error(429, "Too Many Requests: retry after 7", retry_after=7))
    with pytest.raises(Retryable) as limited:
        build(fake).read("900000001")
    assert limited.value.retry_after == 7


def test_a_rejected_token_is_permanent_and_never_shown(fake):
    fake.token = "7012345678:another"
    with pytest.raises(Permanent) as refused:
        build(fake).read(None)
    assert CANARY not in str(refused.value) and "token" in str(refused.value)


def test_a_webhook_on_the_bot_is_permanent(fake):
    fake.webhook = True
    with pytest.raises(Permanent, match="webhook"):
        build(fake).read(None)


def test_a_server_error_is_retryable(fake):
    fake.queue(Reply(502, "<html>502 Bad Gateway</html>", {"Content-Type": "text/html"}))
    with pytest.raises(Retryable):
        build(fake).read(None)


def test_an_empty_read_keeps_the_cursor(fake):
    assert build(fake).read("900000042") == ([], "900000042")
    assert build(fake).read(None) == ([], None)


def test_a_stored_cursor_that_is_not_an_offset_is_permanent(fake):
    with pytest.raises(Permanent, match="offset"):
        build(fake).read("abc")


def test_check_asks_telegram_for_the_bot(fake):
    assert build(fake).check() == "bot @water_alerts_bot (id 7012345678) is accepted by Telegram"


def test_an_api_url_that_is_not_one_is_refused(fake):
    with pytest.raises(SettingError, match="api_url"):
        build(fake, api_url="ftp://api.telegram.org")
