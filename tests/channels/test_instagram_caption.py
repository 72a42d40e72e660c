"""Instagram's caption rules (publisher/drafting/lengths.py, counting `instagram`): 2,200
characters counted as UTF-16 units, at most 30 hashtags and 20 @mentions (Content Publishing
guide, "Limitations"), on Spanish texts with accents, emoji, URLs, hashtags and mentions; then
each text padded to exactly 2,200 is taken, and one unit more is refused."""
from __future__ import annotations

import pytest

from channels.instagram import InstagramChannel
from publisher.drafting.lengths import instagram_counts, measure, refusal
from publisher.drafting.splitting import fit, TooLong
from publisher.i18n import use_language

LIMIT = InstagramChannel.max_length


@pytest.fixture(autouse=True)
def english():
    use_language("en")

# (text, UTF-16 units, hashtags, mentions), counted by hand: an accented letter is 1 unit, a
# combining accent 1 more, an emoji outside the BMP 2 (✅ and ☎ are in the BMP: 1, and ☎️'s
# variation selector 1), a flag 4 (two regional indicators), a family of four 11 (four people
# of 2, three joiners of 1); a URL counts in full, and a `#` inside it or inside a word is no
# hashtag; an e-mail address is no mention, nor an @ followed by more than 30 characters.
CASES = [
    ("Pedimos disculpas.", 18, 0, 0),
    ("Año, acción, pingüino, Ñandú.", 29, 0, 0),
    ("¿Qué ha pasado? ¡Lo explicamos!", 31, 0, 0),
    ("Gracias 🙏", 10, 0, 0),
    ("España 🇪🇸", 11, 0, 0),
    ("Familia 👨‍👩‍👧‍👦", 19, 0, 0),
    ("Más en https://acme.es/estado", 29, 0, 0),
    ("Detalles: https://acme.es/ayuda#pagos", 37, 0, 0),
    ("#Acme informa", 13, 1, 0),
    ("#Cádiz #Málaga #Logroño", 23, 3, 0),
    ("Seguid a @acme_soporte y @acme.es", 33, 0, 2),
    ("Escribid a ayuda@acme.es", 24, 0, 0),
    ("Sin etiqueta: C#, ni número: nº#3", 33, 0, 0),
    ("#pagos👍 resuelto", 17, 1, 0),
    ("Ya funciona ✅ #tarjetas #pagos", 30, 2, 0),
    ("@acme: ¿os llegó el reembolso? 💳", 33, 0, 1),
    ("Línea 1\nLínea 2\n\nLínea 3", 24, 0, 0),
    ("Tilde combinante: cafe\u0301", 23, 0, 0),
    ("Atención 24 h: 900 123 456 ☎️", 29, 0, 0),
    ("Ver https://acme.es/p?id=1&tag=#no #sí", 38, 1, 0),
    ("«Acme Pay» & <tarjetas> — resuelto", 34, 0, 0),
    ("@" + "a" * 31 + " no es una mención válida", 57, 0, 0),
]


@pytest.mark.parametrize("text, units, hashtags, mentions", CASES, ids=range(len(CASES)))
def test_counted_as_instagram_counts(text, units, hashtags, mentions):
    assert measure(text, "instagram") == units
    assert instagram_counts(text) == (hashtags, mentions)
    assert refusal(text, "instagram") is None


@pytest.mark.parametrize("text, units, hashtags, mentions", CASES, ids=range(len(CASES)))
def test_taken_at_the_limit_refused_one_over(text, units, hashtags, mentions):
    padded = text + " " + "a" * (LIMIT - units - 1)
    assert measure(padded, "instagram") == LIMIT
    assert fit(padded, LIMIT, lambda value: measure(value, "instagram"), "reject", "instagram") == (padded,)
    with pytest.raises(TooLong, match="over the limit of 2200"):
        fit(padded + "a", LIMIT, lambda value: measure(value, "instagram"), "reject", "instagram")


def test_thirty_hashtags_are_taken_and_thirty_one_refused():
    tags = " ".join(f"#etiqueta{n}" for n in range(30))
    assert refusal(tags, "instagram") is None
    assert "31 hashtags" in refusal(tags + " #otra", "instagram")


def test_twenty_mentions_are_taken_and_twenty_one_refused():
    names = " ".join(f"@cuenta_{n}" for n in range(20))
    assert refusal(names, "instagram") is None
    assert "21 accounts" in refusal(names + " @otra", "instagram")
