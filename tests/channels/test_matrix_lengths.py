"""Matrix's length rule on Spanish texts with accents, emoji and URLs, against a real Synapse.

The client-server API limits an event, not a text: at most 65,536 bytes as canonical
JSON ("Size limits"), whatever the body holds. The channel counts code points (`chars`)
up to 12,000: a body of 12,000 four-byte characters is 48,000 bytes, and the event's
other fields and a thread relation fit in the rest. Each text below, padded with
four-byte emoji (the worst case) to exactly 12,000 code points, is sent as the second
part of a thread and read back whole; a text over the limit is split into parts Synapse
takes; and an event past 65,536 bytes is refused by Synapse (M_TOO_LARGE), which the
channel reports as permanent, so the limit is not idle."""
from __future__ import annotations

import pytest

from channels.base import Message, Permanent
from channels.matrix import MatrixChannel
from publisher.drafting.lengths import measure
from publisher.drafting.splitting import fit

pytestmark = pytest.mark.servers

LIMIT = 12000
FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"
# (text, its length in code points, counted by hand)
TEXTS = [
    ("Pedimos disculpas: los pagos con tarjeta fallan desde las 9:00.", 63),
    ("¿Qué ha pasado? Un certificado caducó.", 38),
    ("Ya funciona 👍🏽, gracias.", 24),
    ("España 🇪🇸 y Portugal 🇵🇹.", 24),
    (f"Una familia {FAMILY} nos escribió.", 33),
    ("Feliz an\u0303o nuevo.", 17),
    ("1\ufe0f\u20e3 Reiniciad la aplicación.", 28),
    ("Más información en https://acme.es/estado/incidencia-2026?lang=es#pagos", 71),
    ("Corazón \u2764\ufe0f roto.", 16),
    ("Ñandú, pingüino, acción, árbol, ÉXITO, cigüeña.", 47),
    ("Tres enlaces: https://acme.es https://acme.es/a?b=c", 51),
    ("¡Gracias! 😀😃😄", 13),
    ("Un cafe\u0301 para el equipo.", 24),
    ("línea uno\r\nlínea dos", 20),
    ("Horario: 9:00–18:00, coste 0 €.", 31),
    ("Escocia \U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F también.", 24),
    ("Consultad @prensa:acme.es y #AcmePay 🚨.", 39),
    ("La técnica \U0001F469\U0001F3FD\u200d\U0001F4BB de guardia.", 27),
    ("Atención: 🇪🇸🇪🇸🇪🇸 banderas.", 26),
    ("Señal \u26A0\ufe0f: no compartáis la contraseña.", 38),
    ("Mantenimiento \U0001F6E0\ufe0f en https://acme.es/mantenimiento", 49),
    ("Comillas «Acme Pay» & <tarjetas> \"dobles\" y \\barras\\.", 53),
]


@pytest.fixture(scope="module")
def channel_and_room(synapse):
    token = synapse.register("lengths")
    room = synapse.create_room(token)
    return MatrixChannel.build("matrix", {"type": "matrix", "homeserver": synapse.url, "room": room, "token": token},
                               secrets=frozenset({token})), token, room


def _message(*parts: str, key: str) -> Message:
    return Message(draft_id="d-9", channel="matrix", parts=parts, title="t", incident_id="i-1", template="update",
                   language="es", case=2, idempotency_key=key)


@pytest.mark.parametrize("text, length", TEXTS, ids=range(len(TEXTS)))
def test_the_count_is_code_points(text, length):
    assert len(TEXTS) >= 20
    assert measure(text, MatrixChannel.counting) == length


def test_synapse_takes_each_text_at_the_limit_in_a_thread(synapse, channel_and_room):
    channel, token, room = channel_and_room
    for index, (text, length) in enumerate(TEXTS):
        exact = text + "😀" * (LIMIT - length)
        assert measure(exact, MatrixChannel.counting) == channel.max_length == LIMIT
        receipt = channel.send(_message("1/2 Hilo.", exact, key=f"at-limit-{index}"))
        body = synapse.event(token, room, receipt.extra["part_ids"][1])["content"]["body"]
        assert body == exact


def test_a_text_over_the_limit_is_split_into_parts_synapse_takes(synapse, channel_and_room):
    channel, token, room = channel_and_room
    text = " ".join(text for text, _ in TEXTS) + " " + FAMILY * 3000
    parts = fit(text, LIMIT, lambda value: measure(value, "chars"), channel.overflow, "matrix")
    assert len(parts) > 1 and all(measure(part, "chars") <= LIMIT for part in parts)
    receipt = channel.send(_message(*parts, key="split"))
    assert [synapse.event(token, room, part)["content"]["body"] for part in receipt.extra["part_ids"]] == list(parts)


def test_an_event_past_65536_bytes_is_refused_by_synapse_as_permanent(channel_and_room):
    channel, _, _ = channel_and_room
    with pytest.raises(Permanent, match="M_TOO_LARGE"):
        channel.send(_message("😀" * 17000, key="too-large"))
