"""The image cards (channels/cards.py) drawn with Pillow and DejaVu Sans from fonts-dejavu-core."""
from __future__ import annotations

import io

import pytest

from channels.cards import (ALT_TEXT_LIMIT, CardError, HEIGHT, MAX_CARDS, render_cards, Style, WIDTH,
                            font_file)

pytest.importorskip("PIL")
try:
    font_file()
except CardError as missing:
    pytest.skip(f"{missing} (make fonts installs it)", allow_module_level=True)

STATEMENT = ("Lamentamos profundamente el fallo de los pagos con tarjeta de esta mañana. Ya está resuelto: "
             "¿tenéis algún cargo duplicado? Os lo devolveremos en 48 horas. Año, acción, pingüino, Ñandú.")


def image(card):
    from PIL import Image

    return Image.open(io.BytesIO(card.data))


def dark_pixels(picture, box) -> int:
    region = picture.convert("L").crop(box)
    return sum(1 for value in region.tobytes() if value < 100)


def test_one_card_is_a_4_by_5_jpeg_whose_alt_text_is_the_statement():
    [card] = render_cards(STATEMENT, "Acme")
    picture = image(card)
    assert picture.format == "JPEG" and picture.mode == "RGB" and picture.size == (WIDTH, HEIGHT)
    assert card.text == STATEMENT


def test_the_text_is_drawn_in_the_text_area():
    [card] = render_cards(STATEMENT, "Acme")
    assert dark_pixels(image(card), (96, 246, WIDTH - 96, 700)) > 2000


def test_accented_letters_are_drawn_with_their_accents():
    from PIL import ImageFont

    font = ImageFont.truetype(str(font_file()), 42)
    for plain, accented in (("a", "á"), ("n", "ñ"), ("u", "ü"), ("e", "é"), ("N", "Ñ"), ("?", "¿")):
        assert font.getmask(plain).getbbox() != font.getmask(accented).getbbox(), accented
    assert render_cards("Año", "Acme")[0].data != render_cards("Ano", "Acme")[0].data


def test_the_same_text_gives_the_same_bytes_and_another_text_other_bytes():
    first, again = render_cards(STATEMENT, "Acme"), render_cards(STATEMENT, "Acme")
    assert [card.data for card in first] == [card.data for card in again]
    assert render_cards(STATEMENT + ".", "Acme")[0].data != first[0].data


def test_the_organisation_s_colours_are_used():
    [card] = render_cards(STATEMENT, "Acme", Style(accent="#C00000"))
    red, green, blue = image(card).getpixel((10, 10))
    assert red > 180 and green < 60 and blue < 60
    assert image(card).getpixel((10, HEIGHT // 2))[0] > 240


def test_a_long_text_becomes_a_carousel_whose_alt_texts_are_the_statement():
    text = "\n\n".join(f"Párrafo {n}: seguimos revisando cada operación afectada y os informaremos aquí de "
                       "cada avance, con la hora y lo que hayamos comprobado." for n in range(1, 16))
    cards = render_cards(text, "Acme")
    assert 2 <= len(cards) <= MAX_CARDS
    assert all(len(card.text) <= ALT_TEXT_LIMIT for card in cards)
    assert " ".join(card.text for card in cards).replace(" Párrafo", "\n\nPárrafo") == text
    assert all(image(card).size == (WIDTH, HEIGHT) for card in cards)


def test_a_word_longer_than_a_line_is_cut_never_lost():
    url = "https://acme.example/" + "x" * 120
    [card] = render_cards(f"Detalles: {url}", "Acme")
    assert card.text == f"Detalles: {url}"


def test_a_text_beyond_ten_cards_is_refused_in_a_sentence():
    with pytest.raises(CardError, match="at most 10"):
        render_cards("palabra " * 5000, "Acme")


def test_a_bad_colour_or_a_missing_font_is_named():
    with pytest.raises(CardError, match="card_accent"):
        render_cards(STATEMENT, "Acme", Style(accent="blue"))
    with pytest.raises(CardError, match="does not exist"):
        render_cards(STATEMENT, "Acme", Style(font="/nonexistent/font.ttf"))
