"""Corrections (edit in place) and withdrawals (delete) on Mastodon, Telegram and the
statements page, through each channel's real client against its loopback fake.

The fakes' answers come from the platforms' documentation: Mastodon's
docs.joinmastodon.org/methods/statuses/#edit (PUT, 200 Status with `edited_at`) and
#delete (DELETE, 200 Status; an unknown id 404 "Record not found"); Telegram's
core.telegram.org/bots/api#editmessagetext (the edited Message with `edit_date`, 400
"message is not modified", 400 "message to edit not found") and #deletemessage (`true`,
400 "message to delete not found", 400 "message can't be deleted")."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from channels.base import Message, Permanent, Receipt
from channels.mastodon import MastodonChannel
from channels.site import SiteChannel
from channels.telegram import TelegramChannel
from tests.channels.case_table import fake_fixtures
from tests.fakes.mastodon_api import FakeMastodon, not_allowed
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.servers

TOKEN = "7012345678:CANARY-telegram-edit-4c3b"
MASTODON_TOKEN = "CANARY-mastodon-edit-5d6e"
FIXED = "Corrección: el reembolso será de 20 €, no de 200 €."

server, fake = fake_fixtures(lambda: FakeTelegram(token=TOKEN))


def message(*parts: str, channel: str = "social", language: str = "es") -> Message:
    return Message(draft_id="c-1", channel=channel, parts=parts or (FIXED,), title="Corrección", incident_id="1",
                   template="apology", language=language, case=2, organisation="Acme")


@pytest.fixture
def mastodon():
    with FakeMastodon(MASTODON_TOKEN) as running:
        yield running


def mastodon_channel(server: FakeMastodon) -> MastodonChannel:
    return MastodonChannel.build("social", {"type": "mastodon", "instance": server.url, "token": MASTODON_TOKEN,
                                            "timeout": 2}, secrets=frozenset({MASTODON_TOKEN}))


def telegram_channel(server: FakeTelegram) -> TelegramChannel:
    return TelegramChannel.build("telegram", {"type": "telegram", "token": TOKEN, "chat": "@citywater",
                                              "api_url": server.url, "timeout": 2}, secrets=frozenset({TOKEN}))


def test_mastodon_edits_each_part_in_place(mastodon):
    first, second = mastodon.seed("1/2 El reembolso será de 200 €."), mastodon.seed("2/2 Gracias.")
    edited = mastodon_channel(mastodon).edit(Receipt(first, extra={"part_ids": [first, second]}),
                                             message("1/2 " + FIXED, "2/2 Gracias, de verdad."))
    puts = [request for request in mastodon.requests if request.method == "PUT"]
    assert [request.path for request in puts] == [f"/api/v1/statuses/{first}", f"/api/v1/statuses/{second}"]
    assert puts[0].json() == {"status": "1/2 " + FIXED}
    assert edited.id == first and edited.extra["part_ids"] == [first, second]
    assert edited.platform_time == mastodon.statuses[first]["edited_at"]
    assert "20 €" in mastodon.statuses[first]["content"]


def test_mastodon_edit_refuses_another_number_of_parts(mastodon):
    status = mastodon.seed("Texto")
    with pytest.raises(Permanent, match="keeps the number of parts"):
        mastodon_channel(mastodon).edit(Receipt(status), message("1/2 a", "2/2 b"))
    assert not [request for request in mastodon.requests if request.method == "PUT"]


def test_mastodon_deletes_last_part_first_and_again_safely(mastodon):
    first, second = mastodon.seed("1/2"), mastodon.seed("2/2")
    channel = mastodon_channel(mastodon)
    channel.delete(Receipt(first, extra={"part_ids": [first, second]}))
    assert mastodon.deleted == [second, first] and not mastodon.statuses
    channel.delete(Receipt(first, extra={"part_ids": [first, second]}))
    assert [request.method for request in mastodon.requests].count("DELETE") == 4


def test_mastodon_delete_of_someone_elses_post_is_permanent(mastodon):
    status = mastodon.seed("x")
    mastodon.queue(not_allowed())
    with pytest.raises(Permanent, match="does not allow") as refused:
        mastodon_channel(mastodon).delete(Receipt(status))
    assert MASTODON_TOKEN not in refused.value.reason


def test_telegram_edits_in_place_and_same_text_counts_as_edited(fake):
    number = fake.post("@citywater", "El reembolso será de 200 €.")
    channel = telegram_channel(fake)
    edited = channel.edit(Receipt(str(number)), message())
    assert fake.sent[-1]["text"] == FIXED and edited.id == str(number)
    assert edited.platform_time == datetime.fromtimestamp(fake.date + 60, timezone.utc).isoformat(timespec="seconds")
    again = channel.edit(Receipt(str(number)), message())
    assert again.id == str(number)
    assert [request.path.rsplit("/", 1)[-1] for request in fake.requests].count("editMessageText") == 2


def test_telegram_edit_of_a_missing_message_is_permanent(fake):
    with pytest.raises(Permanent, match="(?i)message to edit not found") as refused:
        telegram_channel(fake).edit(Receipt("999"), message())
    assert "CANARY" not in refused.value.reason


def test_telegram_deletes_and_a_repeat_is_safe(fake):
    first, second = fake.post("@citywater", "1/2"), fake.post("@citywater", "2/2")
    channel = telegram_channel(fake)
    receipt = Receipt(str(first), extra={"part_ids": [str(first), str(second)]})
    channel.delete(receipt)
    assert fake.deleted == [second, first]
    channel.delete(receipt)
    assert fake.deleted == [second, first]


def test_telegram_message_too_old_to_delete_is_permanent(fake):
    number = fake.post("@citywater", "viejo")
    fake.undeletable.add(number)
    with pytest.raises(Permanent, match="can't be deleted"):
        telegram_channel(fake).delete(Receipt(str(number)))


def test_site_edit_and_withdrawal_keep_a_notice(tmp_path: Path):
    channel = SiteChannel.build("web", {"type": "site", "path": str(tmp_path)})
    channel.clock = lambda: datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)
    sent = channel.send(message("El reembolso será de 200 €.", channel="web"))
    channel.clock = lambda: datetime(2026, 3, 1, 11, 0, tzinfo=timezone.utc)
    edited = channel.edit(sent, message(channel="web"))
    page = (tmp_path / "statements" / f"{sent.id}.html").read_text(encoding="utf-8")
    assert "20 €, no de 200 €" in page and "Corregido el 2026-03-01 11:00 UTC" in page
    assert edited.platform_time == "2026-03-01T11:00:00+00:00"
    channel.clock = lambda: datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    withdrawn = Receipt(sent.id, extra={"reason": "Cifra <equivocada>", "organisation": "Acme"})
    assert channel.delete(withdrawn) == "2026-03-01T12:00:00+00:00"
    channel.clock = lambda: datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
    assert channel.delete(withdrawn) == "2026-03-01T12:00:00+00:00"
    for name in ("index.html", f"statements/{sent.id}.html", "feed.xml"):
        shown = (tmp_path / name).read_text(encoding="utf-8")
        assert "Retirado el 2026-03-01 12:00 UTC. Motivo: Cifra &lt;equivocada&gt;" in shown \
            or "Retirado el 2026-03-01 12:00 UTC. Motivo: Cifra &amp;lt;equivocada&amp;gt;" in shown, name
        assert "20 €, no de 200 €" not in shown, name
    assert "Acme — Comunicados" in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<updated>2026-03-01T12:00:00+00:00</updated>" in (tmp_path / "feed.xml").read_text(encoding="utf-8")


def test_telegram_edit_escapes_for_its_parse_mode(fake):
    number = fake.post("@citywater", "Tarjetas")
    shown = "«Acme Pay» & <tarjetas>: corregido"
    channel = TelegramChannel.build("telegram", {"type": "telegram", "token": TOKEN, "chat": "@citywater",
                                                 "api_url": fake.url, "timeout": 2, "parse_mode": "HTML"},
                                    secrets=frozenset({TOKEN}))
    channel.edit(Receipt(str(number)), message(shown))
    assert fake.sent[-1]["text"] == shown
