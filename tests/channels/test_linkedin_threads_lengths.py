"""LinkedIn's and Threads' length rules on Spanish texts with accents, emoji sequences,
reserved characters and URLs.

Threads: a text post holds 500 characters, "emojis are counted as the number of UTF-8
bytes" (developers.facebook.com/documentation/threads/posts, "Limitations"). LinkedIn: a
post's commentary holds 3,000 characters (Posts API); the commentary is sent in the little
format, every reserved character behind a backslash (little-text-format page), and is
counted here in UTF-16 units as sent, never below what LinkedIn shows. Each text below
states by hand what it adds over one per code point: for Threads, the UTF-8 bytes of its
emoji beyond one each (a skin tone, a flag's two regional indicators, a ZWJ, a variation
selector, a keycap, tag characters); for LinkedIn, its code points outside the BMP (two
UTF-16 units) and its reserved characters (a backslash each). So the expected count does
not come from the counter under test. Then each text, padded to exactly the limit, is
posted through the channel to its fake, which takes it, and one character more is refused;
a longer Threads text is split into parts the fake takes, never inside an emoji sequence.
"""
from __future__ import annotations

import pytest

from channels.base import Message, Permanent
from channels.linkedin import LinkedInChannel
from channels.threads import ThreadsChannel
from publisher.drafting.lengths import measure
from publisher.drafting.splitting import TooLong, fit
from tests.fakes.linkedin_api import ORGANIZATION, FakeLinkedIn
from tests.fakes.threads_api import USER_ID, FakeThreads, threads_count

TOKEN = "CANARY-lengths-5d0e"
FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"

# (text, Threads: bytes its emoji add, LinkedIn: astral code points + reserved characters)
TEXTS = [
    ("Pedimos disculpas: los pagos con tarjeta fallan desde las 9:00.", 0, 0),
    ("¿Qué ha pasado? Un certificado caducó en la pasarela de pago.", 0, 0),
    ("Ya funciona 👍🏽, gracias por vuestra paciencia.", 6, 2),
    ("España 🇪🇸 y Portugal 🇵🇹: servicio restablecido.", 12, 4),
    (f"Una familia {FAMILY} nos escribió; ya les hemos llamado.", 18, 4),
    ("Feliz an\u0303o nuevo: el servicio vuelve a funcionar.", 0, 0),
    ("1\ufe0f\u20e3 Reiniciad la aplicación y volved a intentarlo.", 4, 0),
    ("Más información en https://acme.es/estado/incidencia-2026?lang=es#pagos", 0, 1),
    ("Corazón \u2764\ufe0f roto, pero lo arreglamos hoy.", 4, 0),
    ("Nuestra científica \U0001F469\u200d\U0001F52C de guardia lo revisa.", 8, 2),
    ("Ñandú, pingüino, acción, árbol, ÉXITO, cigüeña.", 0, 0),
    ("Orgullo \U0001F3F3\ufe0f\u200d\U0001F308 en la oficina de Málaga.", 10, 2),
    ("Tres enlaces: https://acme.es https://acme.es/a?b=c https://estado.acme.es/#hoy", 0, 1),
    ("¡Gracias! 😀😃😄", 9, 3),
    ("Un cafe\u0301 para todo el equipo de soporte.", 0, 0),
    ("línea uno\r\nlínea dos", 0, 0),
    ("Horario: 9:00–18:00, coste 0 € para vosotros.", 0, 0),
    ("Escocia \U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F también.", 21, 7),
    ("Consultad @prensa.acme.es y #AcmePay 🚨 para novedades.", 3, 3),
    ("La técnica \U0001F469\U0001F3FD\u200d\U0001F4BB de guardia ya está en ello.", 11, 3),
    ("Atención: 🇪🇸🇪🇸🇪🇸 banderas seguidas.", 18, 6),
    ("Señal \u26A0\ufe0f: no compartáis vuestra contraseña.", 4, 0),
    ("Mañana, de 8 a 10 h, mantenimiento \U0001F6E0\ufe0f en https://acme.es/mantenimiento", 5, 1),
    ("Incidencia (pagos) [urgente] {tarjetas} <aviso> a_b *nota* ~tilde~ x|y \\ fin", 0, 15),
    ("á" * 500, 0, 0),
]


@pytest.mark.parametrize("text, emoji_bytes, units", TEXTS, ids=range(len(TEXTS)))
def test_threads_counts_emoji_bytes_and_linkedin_counts_what_it_is_sent(text, emoji_bytes, units):
    assert measure(text, "threads") == len(text) + emoji_bytes == threads_count(text)
    assert measure(text, "linkedin") == len(text) + units


def _padded(text: str, target: int, counting: str) -> str:
    missing = target - measure(text, counting)
    return text if missing <= 0 else text + (" " + "a" * (missing - 1) if missing > 1 else "a")


def _message(*parts: str, channel: str) -> Message:
    return Message(draft_id="d-9", channel=channel, parts=parts, title="t", incident_id="i-1", template="update",
                   language="es", case=2, idempotency_key=f"d-9:{channel}")


@pytest.mark.servers
def test_threads_takes_each_text_at_500_and_refuses_one_more():
    with FakeThreads(TOKEN) as fake:
        channel = ThreadsChannel.build("hilo", {"type": "threads", "user_id": USER_ID, "token": TOKEN,
                                                "api_url": fake.url})
        for text, _, _ in TEXTS:
            exact = _padded(text, 500, "threads")
            assert measure(exact, "threads") == 500
            receipt = channel.send(_message(exact, channel="hilo"))
            assert fake.media[receipt.id]["text"] == exact
            with pytest.raises(Permanent, match="at most 500 characters"):
                channel.send(_message(exact + "a", channel="hilo"))
        assert len(fake.media) == len(TEXTS)


@pytest.mark.servers
def test_linkedin_takes_each_text_at_3000_and_refuses_one_more():
    with FakeLinkedIn(TOKEN) as fake:
        channel = LinkedInChannel.build("page", {"type": "linkedin", "organization": ORGANIZATION, "token": TOKEN,
                                                 "api_url": fake.url})
        for text, _, _ in TEXTS:
            exact = _padded(text, 3000, "linkedin")
            assert measure(exact, "linkedin") == 3000
            receipt = channel.send(_message(exact, channel="page"))
            assert channel.lookup(receipt.id).extra["text"] == exact
            with pytest.raises(Permanent, match="length of commentary exceeds"):
                channel.send(_message(exact + "(", channel="page"))
        assert len(fake.posts) == len(TEXTS)


@pytest.mark.servers
def test_a_long_threads_text_is_split_into_parts_threads_takes():
    long_text = " ".join(text for text, _, _ in TEXTS[:24]) + " " + FAMILY * 30
    parts = fit(long_text, 500, lambda value: measure(value, "threads"), "thread", "threads")
    assert len(parts) > 1 and all(measure(part, "threads") <= 500 for part in parts)
    assert all(FAMILY not in part or part.count("\u200d") % 3 == 0 for part in parts)
    with FakeThreads(TOKEN) as fake:
        channel = ThreadsChannel.build("hilo", {"type": "threads", "user_id": USER_ID, "token": TOKEN,
                                                "api_url": fake.url})
        receipt = channel.send(_message(*parts, channel="hilo"))
        assert [fake.media[media]["text"] for media in receipt.extra["part_ids"]] == list(parts)


def test_a_linkedin_text_over_3000_is_refused_at_render_not_split():
    with pytest.raises(TooLong):
        fit("(" * 1501, 3000, lambda value: measure(value, "linkedin"), "reject", "linkedin")
    assert fit("(" * 1500, 3000, lambda value: measure(value, "linkedin"), "reject", "linkedin") == ("(" * 1500,)
