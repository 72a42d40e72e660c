"""Every counting rule in publisher/drafting/lengths.py against the platforms' own references:
twitter-text's conformance suite (a copy in tests/conformance/) for X, the cases of Mastodon's
spec/validators/status_length_validator_spec.rb for Mastodon, UTF-16 units for Telegram and
Discord. Also: a text X refuses is refused before it becomes a draft."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from publisher.drafting.lengths import mastodon_length, measure, refusal, utf16_length, x_length

CONFORMANCE = yaml.safe_load((Path(__file__).parent / "conformance" / "twitter_text_validate.yml")
                             .read_text(encoding="utf-8"))["tests"]
WEIGHTED = [(section, case["description"], case["text"], case["expected"])
            for section in ("WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest")
            for case in CONFORMANCE[section]]


def test_the_conformance_copy_is_whole():
    assert {name: len(cases) for name, cases in CONFORMANCE.items()} == {
        "WeightedTweetsCounterTest": 20, "WeightedTweetsWithDiscountedEmojiCounterTest": 22,
        "UnicodeDirectionalMarkerCounterTest": 2}
    for cases in CONFORMANCE.values():
        for case in cases:
            assert utf16_length(case["text"]) == case["expected"]["displayRangeEnd"] + 1, case["description"]


@pytest.mark.parametrize("section, description, text, expected", WEIGHTED,
                         ids=[f"{section[:20]}:{description[:50]}" for section, description, _, _ in WEIGHTED])
def test_x_length_is_twitter_texts_v3_weighted_length(section, description, text, expected):
    assert x_length(text) == expected["weightedLength"]
    invalid_characters = refusal(text, "x") is not None
    assert invalid_characters == (not expected["valid"] and expected["weightedLength"] <= 280)


@pytest.mark.parametrize("case", CONFORMANCE["WeightedTweetsCounterTest"], ids=lambda case: case["description"][:50])
def test_the_library_passes_the_version2_section_too(case):
    from twitter_text import parse_tweet
    from twitter_text.config import config

    version2 = {**config["version2"], "emoji_parsing_enabled": False}
    assert parse_tweet(case["text"], version2).asdict() == case["expected"]


@pytest.mark.parametrize("text, expected", [
    ("Más información en acme.es", 42),
    ("Detalles: www.acme.com/incidente", 33),
    ("Detalles: https://acme.es/новости/сбой", 33),
    ("Familia 👨‍👩‍👧‍👦, tono 👍🏽, bandera 🇪🇸, tecla 1️⃣", 41),
])
def test_x_counts_bare_domains_non_latin_paths_and_emoji_sequences(text, expected):
    assert x_length(text) == expected


# Mastodon's spec/validators/status_length_validator_spec.rb (text-only cases; the content
# warning is not used by this tool), limit 500: (text, accepted).
MASTODON_SPEC = [
    ("a" * 520, False),
    ("a" * 476 + " http://" + "b" * 30 + ".com/example", True),
    ("a" * 476 + "http://" + "b" * 30 + ".com/example", False),
    ("http://example.com/valid?" + "#foo?" * 1000, False),
    ("a" * 475 + " @alice@" + "b" * 30 + ".com", True),
    ("@alice@" + "b" * 500 + ".com", False),
    ("✨" * 500, True),
    ("🏳️‍⚧️" * 500, True),
]


@pytest.mark.parametrize("text, accepted", MASTODON_SPEC, ids=range(len(MASTODON_SPEC)))
def test_mastodon_length_follows_mastodons_validator_spec(text, accepted):
    assert (mastodon_length(text) <= 500) is accepted


@pytest.mark.parametrize("text, expected", [
    ("Ver acme.es", 11),
    ("Ver https://acme.es/incidente", 27),
    ("Hola @ana@social.example.org", 9),
    ("👨‍👩‍👧‍👦 é", 3),
])
def test_mastodon_counts_graphemes_and_only_urls_with_a_protocol(text, expected):
    assert mastodon_length(text) == expected


def test_utf16_and_chars_keep_their_rules():
    assert measure("😷a", "utf16") == 3 and measure("😷a", "chars") == 2


def test_a_text_x_refuses_is_refused_before_it_becomes_a_draft(workspace):
    workspace.write_config(extra='[channels.xlike]\ntype = "outbox"\npath = "var/x"\nvariant = "short"\n'
                                 'max_length = 280\ncounting = "x"\noverflow = "thread"\n')
    workspace.open_incident(case=2)
    own = workspace.path / "templates" / "en"
    own.mkdir(parents=True)
    (own / "apology.short.j2").write_text("We are sorry.\ufffe {{ summary }}", encoding="utf-8")
    result = workspace.run("--case", "2", "--template", "apology")
    assert result.exit_code == 2
    assert "channel 'xlike'" in result.output and "U+FFFE" in result.output
    assert "draft.rendered" not in [kind for _, kind in workspace.events()]


@pytest.mark.parametrize("text", ["Ver http://example.com/valid?" + "#foo?" * 1000, "Hola @alice@" + "b" * 300 + ".com"])
def test_mastodon_refuses_an_over_long_url_or_domain_instead_of_splitting_it(text):
    assert refusal(text, "mastodon") is not None
    assert refusal("Ver https://acme.es/incidente y @ana@social.example.org", "mastodon") is None


def test_an_emoji_sequence_newer_than_the_librarys_data_is_never_counted_short():
    for sequence in ("\u2764\ufe0f\u200d\U0001f525", "\U0001f9d1\u200d\U0001f9d1\u200d\U0001f9d2", "\U0001fae0"):
        assert x_length(sequence) >= 2
