"""Telegram with `parse_mode`: every text that passes the length check is accepted, and
the message shows exactly the approved text.

The fake Bot API reads a text sent with `parse_mode` as Telegram does and refuses what
Telegram refuses, with its status, JSON shape and sentence (tests/fakes/telegram_entities.py,
from the Bot API's "Formatting options" and TDLib's parser); it counts the 4096 limit after
parsing ("1-4096 characters after entities parsing", Bot API, sendMessage)."""
from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.base import Message, Permanent
from channels.telegram import TelegramChannel, escaped
from publisher.drafting.lengths import measure
from tests.channels.case_table import fake_fixtures
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.servers

TOKEN = "7012345678:CANARY-telegram-html-5c1e"
MODES = ("HTML", "MarkdownV2", "Markdown")
SUMMARY = "«Acme Pay» & <tarjetas>"

server, fake = fake_fixtures(lambda: FakeTelegram(token=TOKEN))


def build(fake: FakeTelegram, mode: str | None) -> TelegramChannel:
    raw = {"type": "telegram", "token": TOKEN, "chat": "@citywater", "api_url": fake.url, "timeout": 5}
    if mode:
        raw["parse_mode"] = mode
    return TelegramChannel.build("tg", raw, secrets=frozenset({TOKEN}))


def message(*parts: str) -> Message:
    return Message(draft_id="d-1", channel="tg", parts=parts, title="Aviso", incident_id="1", template="apology",
                   language="es", case=2, idempotency_key="k-1")


def shown(fake: FakeTelegram) -> list[str]:
    return [sent["text"] for sent in fake.sent]


@pytest.mark.parametrize("text, description", [
    (SUMMARY, "Unsupported start tag \"tarjetas\" at byte offset 15"),
    ("Pagos con tarjeta: menos de <5 minutos", "Unsupported start tag \"5\" at byte offset 28"),
    ("Si a < b, avisad", "Unsupported start tag \"\" at byte offset 5"),
    ("El coste es <", "Unclosed start tag at byte offset 12"),
    ("Fin</b>", "Unexpected end tag at byte offset 3"),
    ("<b>Aviso", "Can't find end tag corresponding to start tag \"b\""),
    ("<b>Aviso</i>", "Unmatched end tag at byte offset 8, expected \"</b>\", found \"</i>\""),
])
def test_the_fake_refuses_unescaped_html_as_telegram_does(fake, text, description):
    answer = requests.post(f"{fake.url}/bot{TOKEN}/sendMessage", timeout=5,
                           data={"chat_id": "@citywater", "text": text, "parse_mode": "HTML"})
    assert answer.status_code == 400
    assert answer.json() == {"ok": False, "error_code": 400,
                             "description": f"Bad Request: can't parse entities: {description}"}
    assert fake.sent == []


def test_the_fake_counts_the_limit_after_parsing(fake):
    def post(text: str) -> int:
        return requests.post(f"{fake.url}/bot{TOKEN}/sendMessage", timeout=5,
                             data={"chat_id": "@citywater", "text": text, "parse_mode": "HTML"}).status_code

    assert post("&amp;" * 4096) == 200 and fake.sent[-1]["text"] == "&" * 4096
    assert post("&amp;" * 4097) == 400


@pytest.mark.parametrize("mode", MODES)
def test_the_summary_from_the_issue_is_delivered_and_shown_as_approved(fake, mode):
    text = f"Pedimos disculpas: {SUMMARY}. Lo estamos arreglando (ETA 2 h) — más en https://acme.example/estado!"
    receipt = build(fake, mode).send(message(text))
    assert receipt.id == "501" and shown(fake) == [text]
    sent = FakeTelegram.params(fake.requests[-1])
    assert sent["parse_mode"] == mode and sent["text"] == escaped(text, mode)


@pytest.mark.parametrize("mode", MODES)
def test_a_text_at_the_limit_is_accepted_whatever_its_escaping_adds(fake, mode):
    """The draft's check (`utf16`, 4096) counts what Telegram counts: a text of exactly
    4096 units whose escaped form is several times longer goes out; one more unit is what
    both refuse."""
    unit = {"HTML": "<&>", "MarkdownV2": "\\.!", "Markdown": "_*`"}[mode]
    text = (unit * 1366)[:4095] + "x"
    assert measure(text, "utf16") == 4096 == TelegramChannel.max_length
    assert len(escaped(text, mode)) > 4096
    build(fake, mode).send(message(text))
    assert shown(fake) == [text]
    with pytest.raises(Permanent, match="(?i)message is too long"):
        build(fake, mode).send(message(text + "x"))


@pytest.mark.parametrize("mode", MODES)
def test_a_split_message_shows_every_part_as_approved(fake, mode):
    parts = ("1/2 Los pagos con <tarjeta> fallan & lo sabemos.", "2/2 *Gracias* por vuestra paciencia_ [equipo].")
    build(fake, mode).send(message(*parts))
    assert shown(fake) == list(parts)


SPECIAL = list("<>&;#*_[]()~`+-=|{}.!\\'\"/ \n") + ["&amp;", "&lt;", "<b>", "</i>", "&#64;", "«", "ñ", "€", "😀",
                                                    "👩‍👩‍👧", "🇪🇸", "https://acme.example/a_b?c=d&e=f"]
TEXTS = st.lists(st.one_of(st.sampled_from(SPECIAL), st.characters(blacklist_categories=("Cs",))),
                 min_size=1, max_size=80).map("".join).filter(
    lambda text: text.strip() and 1 <= measure(text, "utf16") <= 4096)


@pytest.mark.parametrize("mode", MODES)
def test_every_text_that_passes_the_length_check_is_accepted(server, mode):
    channel = build(server, mode)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                     HealthCheck.function_scoped_fixture])
    @given(TEXTS)
    def accepted(text):
        server.reset()
        channel.send(message(text))
        assert shown(server) == [text]

    accepted()


def test_a_summary_that_telegram_could_not_parse_reaches_the_channel_through_publish(workspace, server):
    server.reset()
    workspace.write_config(extra=f'\n[channels.tg]\ntype = "telegram"\napi_url = "{server.url}"\n'
                                 'chat = "@citywater"\ntoken = "${TG_TOKEN}"\nparse_mode = "HTML"\n')
    env = {"TG_TOKEN": TOKEN}
    workspace.open_incident(case=2, summary=SUMMARY, what=SUMMARY)
    draft = workspace.render("--case", "2", "--template", "apology", "--channel", "tg", env=env)
    approved = workspace.run("approve", draft, "--as", "ana", env=env)
    assert approved.exit_code == 0, approved.output
    assert len(server.sent) == 1 and SUMMARY in server.sent[0]["text"]
    assert TOKEN not in approved.output
