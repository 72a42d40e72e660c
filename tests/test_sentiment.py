"""The offline sentiment judge: lexicon, negation, intensifiers, the workspace's keywords
and terms, chat spelling (elongated letters, "q", emoji and emoticons), irony, a person's
override, the `publish.sentiment` plug-in point, and its quality on the held-out and
blind-3 parts of the labelled set."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from publisher.errors import BadInput, PublishError
from publisher.incident.sentiment import (NEGATIVE, NEUTRAL, POSITIVE, SENTIMENT, classifier, judge,
                                          lexicon_classifier, override_payload, overrides_from)

LABELLED = Path(__file__).parent / "data" / "sentiment_labelled.jsonl"


@pytest.fixture(scope="module")
def classify():
    return lexicon_classifier(("Acme",))


@pytest.mark.parametrize("text,label", [
    ("La app funciona", POSITIVE),
    ("La app no funciona", NEGATIVE),
    ("Nunca me han dado un buen servicio", NEGATIVE),
    ("The update is good", POSITIVE),
    ("The update isn't good", NEGATIVE),
    ("The update doesn’t work", NEGATIVE),
    ("not bad at all", POSITIVE),
    ("No está mal", POSITIVE),
    ("Sin problemas desde hace meses", POSITIVE),
    ("¿A qué hora abre la tienda?", NEUTRAL),
    ("Gracias por nada", NEGATIVE),
])
def test_negation_and_phrases(classify, text, label):
    assert classify(text, None).label == label


def test_intensifiers_capitals_and_exclamations_weigh_more(classify):
    plain = classify("servicio malo", "es").score
    assert classify("servicio muy malo", "es").score < plain
    assert classify("servicio MALO", "es").score < plain
    assert classify("servicio malo!!!", "es").score < plain
    assert classify("a bit slow", "en").score > classify("slow", "en").score


def test_contrast_keeps_the_complaint(classify):
    assert classify("Gracias por la respuesta, pero sigo sin servicio", "es").label == NEGATIVE
    assert classify("Thanks for the reply but I still have no service", "en").label == NEGATIVE


def test_hashtags_are_read_by_their_words(classify):
    assert classify("#AcmeCaido", "es").label == NEGATIVE


def test_the_workspace_keywords_are_never_scored():
    assert lexicon_classifier(())("Bueno", "es").label == POSITIVE
    assert lexicon_classifier(("Bueno",))("Bueno", "es").label == NEUTRAL
    assert lexicon_classifier(("@Bueno",))("La tarifa de Bueno es un timo", "es").label == NEGATIVE
    assert lexicon_classifier(("Banco Bueno",))("El Banco Bueno abre hoy", "es").label == NEUTRAL
    assert lexicon_classifier(("Acme", "#AcmeCaido"))("#AcmeCaido", "es").label == NEGATIVE


def test_the_workspace_terms_are_added_and_win():
    terms = {"apagón": -2.5, "#AcmeVuelve": 2.0, "caída": 0.0}
    classify = lexicon_classifier(("Acme",), terms)
    assert classify("otro apagon en el barrio", "es").label == NEGATIVE
    assert classify("#AcmeVuelve", "es").label == POSITIVE
    assert lexicon_classifier(("Acme",))("#AcmeVuelve", "es").label == NEUTRAL
    assert classify("la caída de ayer", "es").label == NEUTRAL


def test_hostile_text_is_only_text(classify):
    said = classify("<script>alert(1)</script>" + "\u0000\u202e" + "x" * 100_000, None)
    assert said.label == NEUTRAL


@dataclass
class Row:
    kind: str
    actor: str | None
    data: dict[str, Any]


def test_a_person_s_override_wins_and_the_last_one_counts(classify):
    events = [Row(SENTIMENT, "marta", override_payload("mastodon:1", NEGATIVE, "ironic praise")),
              Row("item.heard", None, {"key": "mastodon:2"}),
              Row(SENTIMENT, "marta", override_payload("mastodon:3", NEGATIVE)),
              Row(SENTIMENT, "ana", override_payload("mastodon:3", NEUTRAL, "a joke"))]
    overrides = overrides_from(events)
    said = judge("mastodon:1", "Genial, otra caída más. Gracias Acme", classify, overrides)
    assert (said.label, said.by) == (NEGATIVE, "person:marta")
    assert judge("mastodon:3", "esto es un timo", classify, overrides).label == NEUTRAL
    assert judge("mastodon:2", "esto es un timo", classify, overrides).by == "lexicon"
    with pytest.raises(BadInput, match="negative, neutral or positive"):
        override_payload("mastodon:1", "angry")


@pytest.fixture
def installed_model(tmp_path, monkeypatch):
    """A real installed distribution declaring a `publish.sentiment` entry point."""
    (tmp_path / "acme_mood.py").write_text(
        "def judge(text, language):\n"
        "    return ('negative', -0.9) if 'acme' in text.lower() else 'neutral'\n"
        "def broken(text, language):\n"
        "    return 'furious'\n", encoding="utf-8")
    info = tmp_path / "acme_mood-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-mood\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[publish.sentiment]\nacme = acme_mood:judge\nbroken = acme_mood:broken\n",
                                           encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("acme_mood", None)


def test_an_organisation_s_model_replaces_the_lexicon(installed_model):
    model = classifier("acme", keywords=("Acme",))
    said = model("Acme es genial", "es")
    assert (said.label, said.score, said.by) == (NEGATIVE, -0.9, "model:acme")
    assert model("hola", "es").label == NEUTRAL
    with pytest.raises(PublishError, match="must answer negative, neutral or positive"):
        classifier("broken")("hola", "es")


def test_an_unknown_model_is_one_sentence():
    with pytest.raises(BadInput, match='No sentiment model named "nope" is installed'):
        classifier("nope")
    assert classifier(None)("fatal", "es").by == "lexicon"


@pytest.mark.parametrize("text,label", [
    ("nooooo, la app otra vez", NEGATIVE),
    ("graciasss!! todo perfecto", POSITIVE),
    ("soooo slow tonight", NEGATIVE),
    ("q verguenza de servicio", NEGATIVE),
    ("sin fibra desde el martes :(", NEGATIVE),
    ("router nuevo instalado :)", POSITIVE),
    ("bill paid, all sorted 👌", POSITIVE),
    ("1/10 would not recommend", NEGATIVE),
    ("10/10 the new plan", POSITIVE),
    ("xq me cobran 2 veces??", NEGATIVE),
    ("alguien sabe si abren mañana??", NEUTRAL),
])
def test_chat_spelling(classify, text, label):
    assert classify(text, None).label == label


@pytest.mark.parametrize("text,label", [
    ("Perfecto, me cortan la luz otra vez", NEGATIVE),
    ("great, the app crashed again", NEGATIVE),
    ("no signal all weekend. thanks acme", NEGATIVE),
    ("me encanta pagar por algo que no funciona 🙄", NEGATIVE),
    ("lovely service 🤡", NEGATIVE),
    ("Perfecto, ya me llegó la factura corregida", POSITIVE),
    ("great, the engineer fixed it in ten minutes", POSITIVE),
    ("had a problem with the app, fixed within the hour. thanks!", POSITIVE),
])
def test_irony_turns_praise_in_a_complaint_to_blame(classify, text, label):
    assert classify(text, None).label == label


def _quality(split: str) -> tuple[float, float]:
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 300 and {row["lang"] for row in rows} == {"es", "en"}
    part = [row for row in rows if row["split"] == split]
    classify = lexicon_classifier(("Acme",))
    said = [(classify(row["text"], row["lang"]).label == NEGATIVE, row["label"] == NEGATIVE) for row in part]
    hits = sum(1 for guess, truth in said if guess and truth)
    return hits / sum(1 for guess, _ in said if guess), hits / sum(1 for _, truth in said if truth)


def test_held_out_quality_of_negative():
    """Quality, not time: the held-out third of the labelled set (the figures of the
    module's docstring come from bench/sentiment_eval.py)."""
    precision, recall = _quality("held-out")
    assert precision >= 0.85 and recall >= 0.85, (precision, recall)


def test_blind_3_quality_of_negative():
    """Quality on 130 messages written like real traffic and never tuned on (measured
    0.98 / 0.73; the floor leaves a margin, it is not a target to tune towards)."""
    precision, recall = _quality("blind-3")
    assert precision >= 0.90 and recall >= 0.65, (precision, recall)
