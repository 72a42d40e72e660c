"""Bluesky's length rules on Spanish texts with accents, emoji sequences and URLs.

A post may hold 300 grapheme clusters and 3000 bytes of UTF-8 (the `app.bsky.feed.post`
lexicon, `maxGraphemes` and `maxLength` of `text`). Each text below states by hand how
many code points its clusters merge (a skin tone, a flag's two regional indicators, a
ZWJ family, a combining accent, a keycap, CRLF), so the expected count does not come
from the counter under test. Then each text, padded to exactly the limit, is posted
through the channel to the fake PDS, which takes it, and one grapheme more is refused;
a longer text is split into parts the PDS takes, never inside an emoji sequence.
"""
from __future__ import annotations

import math

import pytest

from channels.base import Message, Permanent
from channels.bluesky import BlueskyChannel
from publisher.drafting.lengths import measure
from publisher.drafting.splitting import fit
from tests.fakes.bluesky_pds import FakePDS

APP_PASSWORD = "CANARY-bsky-lengths-3c8d"
FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"

# (text, how many code points its grapheme clusters merge away)
TEXTS = [
    ("Pedimos disculpas: los pagos con tarjeta fallan desde las 9:00.", 0),
    ("¿Qué ha pasado? Un certificado caducó en la pasarela de pago.", 0),
    ("Ya funciona 👍🏽, gracias por vuestra paciencia.", 1),
    ("España 🇪🇸 y Portugal 🇵🇹: servicio restablecido.", 2),
    (f"Una familia {FAMILY} nos escribió; ya les hemos llamado.", 6),
    ("Feliz an\u0303o nuevo: el servicio vuelve a funcionar.", 1),
    ("1\ufe0f\u20e3 Reiniciad la aplicación y volved a intentarlo.", 2),
    ("Más información en https://acme.es/estado/incidencia-2026?lang=es#pagos", 0),
    ("Corazón \u2764\ufe0f roto, pero lo arreglamos hoy.", 1),
    ("Nuestra científica \U0001F469\u200d\U0001F52C de guardia lo revisa.", 2),
    ("Ñandú, pingüino, acción, árbol, ÉXITO, cigüeña.", 0),
    ("Orgullo \U0001F3F3\ufe0f\u200d\U0001F308 en la oficina de Málaga.", 3),
    ("Tres enlaces: https://acme.es https://acme.es/a?b=c https://estado.acme.es/#hoy", 0),
    ("¡Gracias! 😀😃😄", 0),
    ("Un cafe\u0301 para todo el equipo de soporte.", 1),
    ("línea uno\r\nlínea dos", 1),
    ("Horario: 9:00–18:00, coste 0 € para vosotros.", 0),
    ("Escocia \U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F también.", 6),
    ("Consultad @prensa.acme.es y #AcmePay 🚨 para novedades.", 0),
    ("La técnica \U0001F469\U0001F3FD\u200d\U0001F4BB de guardia ya está en ello.", 3),
    ("Atención: 🇪🇸🇪🇸🇪🇸 banderas seguidas.", 3),
    ("Señal \u26A0\ufe0f: no compartáis vuestra contraseña.", 1),
    ("Mañana, de 8 a 10 h, mantenimiento \U0001F6E0\ufe0f en https://acme.es/mantenimiento", 1),
    ("á" * 300, 0),
    ("🇪🇸" * 300, 300),
    (FAMILY * 120, 6 * 120),
    (FAMILY * 130, 6 * 130),
]


@pytest.mark.parametrize("text, merged", TEXTS, ids=range(len(TEXTS)))
def test_count_is_graphemes_or_a_tenth_of_the_bytes(text, merged):
    graphemes = len(text) - merged
    size = len(text.encode("utf-8"))
    assert measure(text, "bluesky") == max(graphemes, math.ceil(size / 10))


def test_the_byte_rule_binds_only_on_long_emoji_sequences():
    assert [measure(FAMILY * n, "bluesky") for n in (1, 120, 121, 130)] == [3, 300, 303, 325]
    assert measure("á" * 300, "bluesky") == 300 and measure("https://acme.es/" + "a" * 284, "bluesky") == 300


def _padded(text: str, target: int) -> str:
    """`text` followed by plain letters up to exactly `target`."""
    missing = target - measure(text, "bluesky")
    return text if missing <= 0 else text + (" " + "a" * (missing - 1) if missing > 1 else "a")


@pytest.mark.servers
def test_the_pds_takes_each_text_at_the_limit_and_refuses_one_grapheme_more():
    under = [(index, text) for index, (text, _) in enumerate(TEXTS) if measure(text, "bluesky") <= 300]
    assert len(under) == 26
    with FakePDS(APP_PASSWORD) as fake:
        channel = BlueskyChannel.build("bsky", {"type": "bluesky", "handle": "acme.bsky.social",
                                                "app_password": APP_PASSWORD, "api_url": fake.url})
        for index, text in under:
            exact = _padded(text, 300)
            assert measure(exact, "bluesky") == 300
            receipt = channel.send(_message(exact, key=f"at-limit-{index}"))
            assert fake.records[receipt.id]["value"]["text"] == exact
            with pytest.raises(Permanent, match="must not be longer than (300 graphemes|3000 characters)"):
                channel.send(_message(exact + "a", key=f"over-{index}"))
        assert len(fake.posts()) == len(under)


@pytest.mark.servers
def test_a_text_over_the_limit_is_split_into_parts_the_pds_takes():
    long_text = (" ".join(text for text, _ in TEXTS[:23]) + " " + FAMILY * 40)
    for text in (long_text, FAMILY * 130):
        parts = fit(text, 300, lambda value: measure(value, "bluesky"), "thread", "bluesky")
        assert len(parts) > 1 and all(measure(part, "bluesky") <= 300 for part in parts)
        assert [part.split(" ", 1)[0] for part in parts] == [f"{n}/{len(parts)}" for n in range(1, len(parts) + 1)]
        if " " not in text:
            bodies = [part.split(" ", 1)[1] for part in parts]
            assert "".join(bodies) == text and all(len(body) % len(FAMILY) == 0 for body in bodies)
        with FakePDS(APP_PASSWORD) as fake:
            channel = BlueskyChannel.build("bsky", {"type": "bluesky", "handle": "acme.bsky.social",
                                                    "app_password": APP_PASSWORD, "api_url": fake.url})
            receipt = channel.send(_message(*parts, key="split"))
            assert [fake.records[uri]["value"]["text"] for uri in receipt.extra["part_ids"]] == list(parts)


def _message(*parts: str, key: str) -> Message:
    return Message(draft_id="d-9", channel="bsky", parts=parts, title="t", incident_id="i-1", template="update",
                   language="es", case=2, idempotency_key=key)
