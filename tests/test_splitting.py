"""Thread splitting (publisher/drafting/splitting.py): cuts at sentence, then clause, then
word boundaries; nothing lost; no orphaned last word; the preview shows each part's count."""
from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.drafting.lengths import x_length
from publisher.drafting.splitting import MIN_WORDS, fit

SPANISH = ("Pedimos disculpas por la caída del sistema de pagos. Sabemos que os ha causado molestias, "
           "y lo sentimos de verdad; el equipo trabaja para resolverlo cuanto antes. ")


def _body(part: str) -> str:
    return re.sub(r"^\d+/\d+ ", "", part)


def _words(text: str) -> list[str]:
    return text.split()


def test_cuts_fall_between_sentences_when_they_can():
    parts = fit(SPANISH * 4, 280, x_length, "thread", "x")
    assert len(parts) > 1
    assert all(x_length(part) <= 280 for part in parts)
    assert all(_body(part).endswith(".") for part in parts)


def test_a_sentence_longer_than_a_part_is_cut_at_a_clause_before_a_word():
    sentence = ("Hemos revisado los pagos con tarjeta, las transferencias y los recibos domiciliados, "
                "y hemos confirmado que ningún cobro se ha duplicado durante la incidencia. ")
    parts = fit(sentence * 2, 120, len, "thread", "x")
    assert _body(parts[0]).endswith(",")


def test_the_last_part_never_holds_an_orphaned_word():
    text = "Os pedimos paciencia mientras trabajamos en ello " * 5 + "publicarlo."
    for limit in range(40, 120):
        parts = fit(text, limit, len, "thread", "x")
        if len(parts) > 1:
            assert len(_words(_body(parts[-1]))) >= MIN_WORDS, (limit, parts)
            assert all(len(part) <= limit for part in parts)


def test_lines_and_variable_values_survive_the_split():
    value = "el cobro duplicado del 21 de noviembre"
    text = "\n".join(f"- Línea {number}: {value}." for number in range(30))
    parts = fit(text, 280, x_length, "thread", "x")
    assert _words(" ".join(_body(part) for part in parts)) == _words(text)
    assert sum(_body(part).count(value) for part in parts) == 30
    assert all("\n" in _body(part) for part in parts[:-1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abcdeñ áé.,;:\n😷👨‍👩‍👧", min_size=1, max_size=40), min_size=1, max_size=30),
       st.integers(min_value=30, max_value=300))
def test_nothing_is_lost_and_every_part_fits(pieces, limit):
    text = " ".join(pieces).strip() or "x"
    parts = fit(text, limit, x_length, "thread", "x")
    assert all(x_length(part) <= limit for part in parts)
    joined = "".join("".join(_body(part).split()) for part in parts) if len(parts) > 1 else "".join(text.split())
    assert joined == "".join(text.split())


def test_the_preview_shows_each_part_and_its_count(workspace):
    workspace.write_config(extra='[channels.xlike]\ntype = "outbox"\npath = "var/x"\nvariant = "long"\n'
                                 'max_length = 280\ncounting = "x"\noverflow = "thread"\n')
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", "--channel", "xlike")
    shown = workspace.run("drafts", "show", draft).output
    parts = json.loads(workspace.run("drafts", "show", draft, "--json").output)["draft"]["payloads"]["xlike"]["parts"]
    for number, part in enumerate(parts, start=1):
        assert f"· part {number} of {len(parts)} · {x_length(part)}/280 X weighted characters" in shown
