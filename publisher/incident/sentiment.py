"""Whether a heard item is negative, offline, in Spanish and English.

Guarantees: the same text, keywords and terms always give the same `Sentiment`; nothing
is fetched and no model is downloaded. The built-in judge reads the lexicon shipped
beside this module (`sentiment_lexicon.json`: weighted words and phrases of both
languages, accents folded, a trailing `*` matching any ending), then applies:
- negation: "no", "nunca", "sin", "ni", "not", "never", "n't", "without"... turn a
  positive word within the next 3 words (words of one or two letters not counted) negative and soften a negative one to half its
  opposite ("no está mal", "not bad"); punctuation ends the scope; "nada", "nadie",
  "nobody" keep their sign (Spanish negative concord: "no contesta nadie");
- intensifiers ("muy", "totalmente", "very", "so"...) and diminishers ("algo", "a bit")
  on the next weighted word; a word in capitals (3 letters or more) counts 1.5 times;
  "!!" or more, or any shouted word, makes the whole message count 1.3 times;
- "pero", "aunque", "sin embargo", "but", "however": what comes before counts half ("gracias, pero
  sigo sin servicio" is a complaint);
- hashtags are split at their capitals (`#AcmeCaido` reads "acme caido");
- chat spelling: letters held too long are shortened ("nooooo", "graciasss", "sooo"), chat
  spellings read as their word ("q", "xq", "thx", "pls": the lexicon's `spellings`), emoji
  and emoticons (":(", ":)", "<3") are weighted, "10/10" and "1/10" are marks, and "??"
  counts as exasperation;
- irony: praise listed as `ironic` ("genial", "gracias", "great", "thanks", 👏...) counts as
  blame when the message is sarcastic: a sarcasm mark anywhere (🙄 🙃 🤡 😒), a complaint
  before it ("otro finde sin tele. gracias acme"), or praise opening the message as a
  clause of its own before a complaint ("genial, otra vez sin servicio");
- the words of the workspace's own `keywords` (its brand, its products; a hashtag keyword
  is read by its words) are never scored, so a brand called "Claro" or "Bueno" is not praise; its own `terms` (word or phrase -> weight)
  are added to the lexicon and win over it.
A heard item is judged once, when it is stored: `workspace_judge` (the judge the
workspace names in `[listen] sentiment`, "lexicon" by default, with its `[listen]
keywords`, made once per process) gives the label kept in its
`item.heard` payload (`sentiment`). A person's judgement wins over any model: an
`item.sentiment` event (payload `{"key": KEY, "sentiment": "negative"|"neutral"|"positive",
"reason": TEXT}`, the person as the event's actor; `publish inbox sentiment`) is read by
`overrides_from`, and `judge` returns the last one for an item. An organisation's model replaces the lexicon through the entry point
group `publish.sentiment`: the entry point names a callable `(text, language) -> label`
or `(label, score)`; `classifier(NAME)` loads it on first use.

Measured (bench/sentiment_eval.py over tests/data/sentiment_labelled.jsonl, 743
messages written for this purpose, Spanish and English; 2026-12-06), "negative" as the
positive class, in the order the parts were written:
- dev, 204 clean messages (complaints, praise, neutral news and questions), tuned on:
  precision 0.99, recall 0.96;
- held-out, 102 more of the same, not tuned on: precision 0.98, recall 0.94;
- blind, 60 messages like real traffic (slang, no accents, typos, "lol", irony): 1.00 /
  0.43 before its errors were read; tuned on since (now 1.00 / 0.97);
- blind-2, 60 fresh messages of that style: 0.92 / 0.37 while never tuned on; its errors
  then drove the chat-spelling and irony rules, so no longer blind (now 1.00 / 0.93);
- dev-2, 187 slangy messages written to tune those rules on (now 0.99 / 0.99); 53 of them,
  scored before they were tuned on, were at 1.00 / 0.54;
- blind-3, 130 messages like X, Mastodon and Facebook comments and complaint e-mails
  (Spain, Latin America, English: slang, emoji, sarcasm, "q", "xq", "nooo"), committed
  with its scores before any of the above tuning and never tuned on: precision 0.97,
  recall 0.58 before; 0.98 / 0.73 after (Spanish 0.96 / 0.74, English 1.00 / 0.72).
  Written by the same hand that wrote the rules, so expect less on traffic nobody here
  wrote; those 53 fresh messages of dev-2 (0.54) are the more cautious guess.
So: what it calls negative nearly always is, but it still misses about a quarter of
slangy complaints, most of them those that carry no sentiment word ("their 24/7 support
closes at 6"). Treat "negative" as a first sort, not a verdict: a person's override
corrects it, and an organisation's own model is the plug-in point.
Speed: about 300 µs a message (the labelled set judged 15 times over, 2026-12-06, on the
shared 2-core machine under a load average of 11; 1.1 to 1.3 times the judge before the
chat-spelling and irony rules, timed alongside), well within the 2 ms an item may take at
the 500 items/s ingest goal; the judge is made once per workspace (about 40 ms under that load).
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from publisher.errors import BadInput, PublishError
from publisher.i18n import _

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"
LABELS = (NEGATIVE, NEUTRAL, POSITIVE)
SENTIMENT = "item.sentiment"
ENTRY_POINT_GROUP = "publish.sentiment"
LEXICON = Path(__file__).resolve().parent / "sentiment_lexicon.json"
THRESHOLD = 1.0
NEGATION_SCOPE = 3
MODIFIER_SCOPE = 2
LONGEST_PHRASE = 4
CONCORD = frozenset({"nada", "nadie", "ningun", "ninguna", "ninguno", "nobody", "nothing"})
CONTRAST = frozenset({"pero", "aunque", "embargo", "but", "however", "though"})
SHOUT = 1.3
CAPS = 1.5
IRONY = 1.0
NORMALS_KEPT = 65536

EMOTICON = r"(?<!\S)(?:>?[:;=]'?-?[()\[\]DPp/|]|<3)(?!\S)"
TOKEN = re.compile(EMOTICON + r"|\b\d{1,2}/10\b|[#@]\w+|\w+(?:'\w+)*|!{2,}|\?{2,}|[!?.,;:¡¿]"
                   r"|[\U0001F300-\U0001FAFF\u2600-\u27BF]\ufe0f?")
ELONGATED = re.compile(r"(\w)\1{2,}")
EXASPERATED = "??"
CAMEL = re.compile(r"[A-ZÁÉÍÓÚÑ]?[a-záéíóúñü]+|[A-ZÁÉÍÓÚÑ]+(?![a-záéíóúñü])|\d+")
PUNCTUATION = frozenset("!?.,;:¡¿")

Classify = Callable[[str, "str | None"], "Sentiment"]


@dataclass(frozen=True)
class Sentiment:
    label: str
    score: float | None
    by: str
    """"lexicon", "person:NAME" or "model:NAME"."""

    @property
    def negative(self) -> bool:
        return self.label == NEGATIVE


@dataclass(frozen=True)
class _Token:
    text: str
    caps: bool = False
    shout: bool = False


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower case, accents removed, typographic apostrophes made plain."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").lower()
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _words(raw: str, keep_tag: bool) -> list[_Token]:
    if raw[0] == "#" and not keep_tag:
        return [_Token(fold(part), caps=False) for part in CAMEL.findall(raw[1:])] or [_Token(fold(raw))]
    if raw[0] == "@" or raw[0] == "#":
        return [_Token(fold(raw))]
    if raw.startswith("!!"):
        return [_Token("!", shout=True)]
    if raw.startswith("??"):
        return [_Token(EXASPERATED)]
    folded = fold(raw)
    caps = len(raw) >= 3 and raw.isupper() and raw.isalpha()
    for ending in ("n't",):
        if folded.endswith(ending) and len(folded) > len(ending):
            return [_Token(folded[: -len(ending)], caps), _Token("n't", caps)]
    return [_Token(folded, caps)]


def tokens(text: str, keep_tags: bool = False) -> list[_Token]:
    """The message as words, marks and emoji; hashtags split unless `keep_tags`."""
    found: list[_Token] = []
    for raw in TOKEN.findall(text.replace("\u2019", "'")):
        found.extend(_words(raw, keep_tags))
    return found


@dataclass(frozen=True)
class Lexicon:
    phrases: dict[tuple[str, ...], float]
    starts: frozenset[str]
    """The first words of the phrases of two words or more."""
    prefixes: dict[str, float]
    prefix_lengths: tuple[int, ...]
    negators: frozenset[str]
    intensifiers: dict[str, float]
    keywords: frozenset[str]
    tags: dict[str, float]
    spellings: dict[str, str]
    """Chat spellings and their word ("q" -> "que", "thx" -> "thanks")."""
    ironic: frozenset[tuple[str, ...]]
    """Praise that turns to blame in a complaint ("genial, otra vez sin servicio")."""
    sarcasm: frozenset[str]
    """Marks that make the message's praise ironic (🙄, 🙃, 🤡)."""
    normals: dict[str, str] = field(default_factory=dict, compare=False)

    def known(self, word: str) -> bool:
        return ((word,) in self.phrases or word in self.starts or word in self.negators
                or word in self.intensifiers or any(word[:length] in self.prefixes for length in self.prefix_lengths))

    def normal(self, word: str) -> str:
        """The word as the lexicon writes it: a chat spelling replaced, letters held too
        long ("nooooo", "graciasss") shortened to the known form, else to one."""
        found = self.normals.get(word)
        if found is None:
            found = word
            if ELONGATED.search(word):
                twice, once = ELONGATED.sub(r"\1\1", word), ELONGATED.sub(r"\1", word)
                found = twice if self.known(twice) and not self.known(once) else once
            found = self.spellings.get(found, found)
            if len(self.normals) < NORMALS_KEPT:
                self.normals[word] = found
        return found

    def weight(self, words: list[str], at: int) -> tuple[float, int]:
        """The weight of the longest entry starting at `at`, and how many words it spans."""
        word = words[at]
        if word in self.starts:
            for length in range(min(LONGEST_PHRASE, len(words) - at), 1, -1):
                found = self.phrases.get(tuple(words[at: at + length]))
                if found is not None:
                    return found, length
        found = self.phrases.get((word,))
        if found is not None:
            return found, 1
        for length in self.prefix_lengths:
            found = self.prefixes.get(word[:length]) if len(word) >= length else None
            if found is not None:
                return found, 1
        return 0.0, 1


@lru_cache(maxsize=1)
def _shipped() -> dict[str, Any]:
    with LEXICON.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


def lexicon(keywords: Iterable[str] = (), terms: Mapping[str, float] | None = None) -> Lexicon:
    """The shipped lexicon with the workspace's keywords (never scored) and terms (added)."""
    shipped = _shipped()
    phrases: dict[tuple[str, ...], float] = {}
    prefixes: dict[str, float] = {}
    entries = {**shipped["words"], **shipped["emoji"]}
    tags: dict[str, float] = {}
    for entry, value in list(entries.items()) + list((terms or {}).items()):
        if entry.startswith("#"):
            tags[fold(entry)] = float(value)
            continue
        if entry.endswith("*") and " " not in entry:
            prefixes[fold(entry[:-1])] = float(value)
            continue
        key = tuple(token.text for token in tokens(entry))
        if key:
            phrases[key] = float(value)
    lengths = tuple(sorted({len(prefix) for prefix in prefixes}, reverse=True))
    modifiers = {**shipped["intensifiers"], **shipped["diminishers"]}
    names = frozenset(token.text.lstrip("@") for word in keywords if not word.startswith("#")
                      for token in tokens(word, keep_tags=True))
    starts = frozenset(key[0] for key in phrases if len(key) > 1)
    ironic = frozenset(tuple(token.text for token in tokens(entry)) for entry in shipped["ironic"])
    return Lexicon(phrases, starts, prefixes, lengths, frozenset(shipped["negators"]), modifiers, names, tags,
                   shipped["spellings"], ironic, frozenset(shipped["sarcasm"]))


def score(text: str, words: Lexicon) -> float:
    """The message's weight: below -1 negative, above 1 positive."""
    found: list[_Token] = []
    for raw in TOKEN.findall(text.replace("\u2019", "'")):
        tag = fold(raw) if raw[0] == "#" else None
        if tag is not None and tag in words.tags:
            found.append(_Token(tag))
        else:
            for token in _words(raw, keep_tag=False):
                normal = token.text if token.text in words.keywords else words.normal(token.text)
                found.append(token if normal == token.text else _Token(normal, token.caps, token.shout))
    texts = [token.text for token in found]
    parts: list[_Part] = []
    shouted = False
    negated = 0
    modifier, modifier_left = 1.0, 0
    at = 0
    while at < len(found):
        token = found[at]
        if token.shout:
            shouted = True
        if token.text in PUNCTUATION or token.text == EXASPERATED:
            negated, modifier_left = 0, 0
            if token.text == EXASPERATED:
                parts.append(_Part(words.phrases.get((EXASPERATED,), 0.0)))
            at += 1
            continue
        if token.text in words.tags:
            parts.append(_Part(words.tags[token.text]))
            at += 1
            continue
        if token.text in words.keywords:
            at += 1
            continue
        value, span = words.weight(texts, at)
        if token.text in CONTRAST:
            parts = [_Part(part.value * 0.5, part.ironic, part.opener) for part in parts]
        if value == 0.0:
            if token.text in words.negators:
                negated = NEGATION_SCOPE
            elif token.text in words.intensifiers:
                modifier, modifier_left = words.intensifiers[token.text], MODIFIER_SCOPE
            else:
                negated = max(0, negated - (len(token.text) > 2))
                modifier_left = max(0, modifier_left - 1)
            shouted = shouted or token.caps
            at += span
            continue
        if any(found[i].caps for i in range(at, at + span)):
            value *= CAPS
            shouted = True
        if modifier_left:
            value *= modifier
            modifier_left = 0
        ironic = not negated and value > 0 and tuple(texts[at: at + span]) in words.ironic
        if negated and token.text not in CONCORD:
            value = -value if value > 0 else -value * 0.5
        negated = max(0, negated - span)
        parts.append(_Part(value, ironic, ironic and not parts and _ends_clause(found, at + span, words)))
        at += span
    total = _irony(parts, not words.sarcasm.isdisjoint(texts))
    return total * SHOUT if shouted else total


class _Part(NamedTuple):
    value: float
    ironic: bool = False
    opener: bool = False
    """Ironic praise opening the message as a clause of its own ("Genial, ...")."""


def _ends_clause(found: list[_Token], at: int, words: Lexicon) -> bool:
    while at < len(found) and (found[at].text in words.keywords or found[at].text.startswith("@")):
        at += 1
    return at < len(found) and found[at].text in {",", ".", "!", ":"}


def _irony(parts: list[_Part], sarcastic: bool) -> float:
    """The sum of the parts, ironic praise counted as blame when the message is sarcastic:
    a sarcasm mark anywhere, a complaint before the praise ("otro finde sin tele. gracias"),
    or praise opening the message followed by a complaint ("genial, otra vez sin servicio")."""
    plain = sum(part.value for part in parts if not part.ironic)
    sarcastic = sarcastic or any(part.opener for part in parts) and plain <= -IRONY
    result, before = 0.0, 0.0
    for part in parts:
        if not part.ironic:
            before += part.value
        result += -part.value if part.ironic and (sarcastic or before <= -IRONY) else part.value
    return result


def label_of(value: float) -> str:
    if value <= -THRESHOLD:
        return NEGATIVE
    if value >= THRESHOLD:
        return POSITIVE
    return NEUTRAL


def lexicon_classifier(keywords: Iterable[str] = (), terms: Mapping[str, float] | None = None) -> Classify:
    """The built-in judge, made once per workspace (its keywords and terms)."""
    words = lexicon(keywords, terms)

    def classify(text: str, language: str | None = None) -> Sentiment:
        value = score(text, words)
        return Sentiment(label_of(value), round(value, 3), "lexicon")

    return classify


@lru_cache(maxsize=8)
def workspace_judge(keywords: tuple[str, ...] = (), name: str = "lexicon") -> Classify:
    """The judge a workspace chose (`[listen] sentiment`, with its `[listen] keywords`),
    made once per process."""
    return classifier(name, keywords)


def classifier(name: str | None = None, keywords: Iterable[str] = (),
               terms: Mapping[str, float] | None = None) -> Classify:
    """The judge a workspace chose: the lexicon (no name, or "lexicon"), or the model an
    installed package registers under `name` in the entry point group `publish.sentiment`."""
    if not name or name == "lexicon":
        return lexicon_classifier(keywords, terms)
    from importlib.metadata import entry_points

    found = [point for point in entry_points(group=ENTRY_POINT_GROUP) if point.name == name]
    if not found:
        raise BadInput(_("No sentiment model named \"{name}\" is installed (entry point group {group}).")
                       .format(name=name, group=ENTRY_POINT_GROUP))
    model = found[0].load()

    def classify(text: str, language: str | None = None) -> Sentiment:
        return _model_answer(name, model(text, language))

    return classify


def _model_answer(name: str, answer: Any) -> Sentiment:
    label, value = (answer[0], answer[1]) if isinstance(answer, tuple) and len(answer) == 2 else (answer, None)
    if label not in LABELS or not (value is None or isinstance(value, (int, float))):
        raise PublishError(_("The sentiment model \"{name}\" answered {answer!r}; it must answer negative, "
                             "neutral or positive.").format(name=name, answer=str(answer)[:80]))
    return Sentiment(label, None if value is None else float(value), f"model:{name}")


def override_payload(key: str, label: str, reason: str | None = None) -> dict[str, Any]:
    """The data of an `item.sentiment` event, checked."""
    if label not in LABELS:
        raise BadInput(_("A sentiment is negative, neutral or positive, not \"{label}\".").format(label=label))
    return {"key": key, "sentiment": label, "reason": reason}


def overrides_from(events: Iterable[Any]) -> dict[str, Sentiment]:
    """Each item's last sentiment set by a person, from log events (`kind`, `actor`, `data`)."""
    found: dict[str, Sentiment] = {}
    for event in events:
        if event.kind != SENTIMENT:
            continue
        data = event.data or {}
        if data.get("sentiment") in LABELS and data.get("key"):
            found[str(data["key"])] = Sentiment(data["sentiment"], None, f"person:{event.actor or ''}")
    return found


def judge(item: str, text: str, classify: Classify, overrides: Mapping[str, Sentiment],
          language: str | None = None) -> Sentiment:
    """The item's sentiment: a person's override when there is one, else the judge's."""
    return overrides.get(item) or classify(text, language)
