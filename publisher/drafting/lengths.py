"""How each platform counts the length of a text, and which texts it refuses outright.

This is the one place that holds every counting rule; drafts, the preview, the thread
splitter and the console all measure through `measure()` and `refusal()`.
- `x`: X's weighted length, computed by `twitter-text-parser` (a Python port of
  twitter-text v3 that passes twitter-text's own conformance suite, kept in
  tests/conformance/): NFC-normalised; Latin, general punctuation and a few other
  ranges weigh 1, everything else 2; a whole emoji sequence (ZWJ family, skin tone,
  flag, keycap) weighs 2; every URL twitter-text recognises, bare domains included,
  weighs 23, also between directional marks. A text with a character X refuses
  (U+FFFE, U+FFFF, U+FEFF) is refused, whatever its length. The library knows the emoji
  sequences of Unicode 12; a newer sequence is counted code point by code point, longer
  than X counts it, so it can never make X refuse a text we accepted.
- `mastodon`: Mastodon's StatusLengthValidator: grapheme clusters; a URL with a
  protocol that Mastodon would link (preceded by a space or punctuation, at most
  4096 characters, a valid domain) counts 23; a mention `@user@domain` counts as
  `@user` unless its domain is over 253 characters; everything else counts in full. A
  text holding a URL over 4096 characters or such a domain is refused, never split.
- `bluesky`: the `app.bsky.feed.post` lexicon the PDS validates a post with: at most 300
  grapheme clusters (Unicode extended grapheme clusters, as the validator counts them) and
  at most 3000 bytes of UTF-8. The count is the graphemes, or a tenth of the bytes
  (rounded up) where that is more, so the one limit of 300 holds both rules and a text
  heavy in long emoji sequences is split before the PDS would refuse it. A URL counts in
  full: the approved text is posted as it is (the Bluesky app shortens the links it
  shows; this tool does not rewrite an approved text).
- `instagram`: a caption of at most 2,200 characters, 30 hashtags and 20 @mentions (the
  Content Publishing guide's limits). Characters are counted as UTF-16 code units, never
  fewer than Instagram counts (an emoji is 2, an accented letter 1). A hashtag is `#`
  then letters, digits or `_` (accented letters included), not inside a word or a URL's
  fragment; a mention is `@` then 1 to 30 letters, digits, `.` or `_`, not inside a word
  (an e-mail address is not a mention). A text over 30 hashtags or 20 mentions is
  refused whatever its length: splitting cannot help, the caption is one.
- `threads`: Threads' rule for a text post (developers.facebook.com/documentation/threads/
  posts, "Limitations": 500 characters, "emojis are counted as the number of UTF-8
  bytes"): a grapheme cluster holding an emoji (a pictographic code point, a regional
  indicator, a keycap or an emoji presentation selector) counts its UTF-8 bytes, every
  other code point counts 1.
- `linkedin`: the commentary as the Posts API receives it, in LinkedIn's little format
  (every reserved character behind a backslash, `channels.little_text`), counted in UTF-16
  code units: LinkedIn documents 3,000 characters but not the unit, and this count is never
  below what LinkedIn shows.
- `utf16`: UTF-16 code units (Telegram 4096, Discord 2000).
- `chars`: code points (Facebook, Slack, Teams, email, webhook).
"""
from __future__ import annotations

import re
from typing import Callable

from publisher.i18n import N_, _

URL_LENGTH = 23
BLUESKY_BYTES_PER_GRAPHEME = 10
MASTODON_DOMAIN_MAX = 253
MASTODON_URL_MAX = 4096
MASTODON_MENTION = re.compile(
    r"(?<![=/\w])@((?:[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@\w+(?:[.-]\w+)*)?)", re.IGNORECASE)
_MENTION_END = re.compile(r"[@＠]|://")
THREADS_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2300-\u23FF\u2B00-\u2BFF\u20E3\uFE0F"
                           "\U000E0020-\U000E007F\u00A9\u00AE\u203C\u2049\u2122\u2139\u2194-\u21AA"
                           "\u24C2\u25AA-\u25FE\u3030\u303D\u3297\u3299]")


def x_length(text: str) -> int:
    from twitter_text import parse_tweet

    return parse_tweet(text).weightedLength


def x_refusal(text: str) -> str | None:
    """Why X refuses `text` whatever its length, or None."""
    from twitter_text import parse_tweet
    from twitter_text.config import config

    unlimited = {**config["version3"], "max_weighted_tweet_length": 10**9}
    if text and not parse_tweet(text, unlimited).valid:
        return _("it contains a character X refuses (U+FFFE, U+FFFF or the byte-order mark U+FEFF)")
    return None


def mastodon_refusal(text: str) -> str | None:
    """Why a Mastodon server refuses `text` whatever its length: a URL or a mention domain
    too long for its validator, which would then count it in full."""
    for match in re.finditer(r"(?i)https?://\S+", text):
        if len(match.group(0)) > MASTODON_URL_MAX:
            return _("it holds a URL longer than {limit} characters, which Mastodon counts in full").format(
                limit=MASTODON_URL_MAX)
    for match in re.finditer(r"(?<![=/\w])@\w+@([\w.-]+)", text):
        if len(match.group(1)) > MASTODON_DOMAIN_MAX:
            return _("it mentions an account whose domain is longer than {limit} characters").format(
                limit=MASTODON_DOMAIN_MAX)
    return None


def mastodon_length(text: str) -> int:
    import regex

    return len(regex.findall(r"\X", _mastodon_countable(text)))


def _mastodon_countable(text: str) -> str:
    from twitter_text.extract_urls import extract_urls_with_indices

    entities = [(start, end, "x" * URL_LENGTH) for start, end in
                (url["indices"] for url in extract_urls_with_indices(text, extract_urls_without_protocol=False))]
    entities += _mastodon_mentions(text)
    pieces, position = [], 0
    for start, end, replacement in sorted(entities):
        if start < position:
            continue
        pieces += [text[position:start], replacement]
        position = end
    return "".join(pieces) + text[position:]


def _mastodon_mentions(text: str) -> list[tuple[int, int, str]]:
    found = []
    for match in MASTODON_MENTION.finditer(text):
        if _MENTION_END.match(text, match.end()):
            continue
        local, _, domain = match.group(1).partition("@")
        if len(domain) > MASTODON_DOMAIN_MAX:
            continue
        found.append((match.start(), match.end(), "@" + local))
    return found


def bluesky_length(text: str) -> int:
    import regex

    graphemes = len(regex.findall(r"\X", text))
    return max(graphemes, -(-len(text.encode("utf-8")) // BLUESKY_BYTES_PER_GRAPHEME))


INSTAGRAM_HASHTAGS = 30
INSTAGRAM_MENTIONS = 20
INSTAGRAM_HASHTAG = re.compile(r"(?<![\w&/#])#(\w+)")
INSTAGRAM_MENTION = re.compile(r"(?<![\w.@/])@([A-Za-z0-9._]{1,30})(?![A-Za-z0-9_])")


def instagram_counts(text: str) -> tuple[int, int]:
    """The hashtags and @mentions Instagram finds in a caption."""
    without_urls = re.sub(r"(?i)\b(?:https?://|www\.)\S+", " ", text)
    return len(INSTAGRAM_HASHTAG.findall(without_urls)), len(INSTAGRAM_MENTION.findall(without_urls))


def instagram_refusal(text: str) -> str | None:
    """Why Instagram refuses the caption `text` whatever its length, or None."""
    hashtags, mentions = instagram_counts(text)
    if hashtags > INSTAGRAM_HASHTAGS:
        return _("it has {count} hashtags and an Instagram caption takes at most {limit}").format(
            count=hashtags, limit=INSTAGRAM_HASHTAGS)
    if mentions > INSTAGRAM_MENTIONS:
        return _("it mentions {count} accounts and an Instagram caption takes at most {limit}").format(
            count=mentions, limit=INSTAGRAM_MENTIONS)
    return None


def threads_length(text: str) -> int:
    import regex

    return sum(len(cluster.encode("utf-8")) if THREADS_EMOJI.search(cluster) else len(cluster)
               for cluster in regex.findall(r"\X", text))


def linkedin_length(text: str) -> int:
    from channels.little_text import escape

    return utf16_length(escape(text))


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


COUNTERS: dict[str, Callable[[str], int]] = {
    "x": x_length,
    "mastodon": mastodon_length,
    "bluesky": bluesky_length,
    "instagram": utf16_length,
    "threads": threads_length,
    "linkedin": linkedin_length,
    "utf16": utf16_length,
    "chars": len,
}

REFUSALS: dict[str, Callable[[str], str | None]] = {
    "x": x_refusal,
    "mastodon": mastodon_refusal,
    "instagram": instagram_refusal,
}

DESCRIPTIONS = {
    "x": N_("X weighted characters"),
    "mastodon": N_("Mastodon characters"),
    "bluesky": N_("Bluesky graphemes"),
    "instagram": N_("Instagram characters (UTF-16)"),
    "threads": N_("Threads characters"),
    "linkedin": N_("LinkedIn characters"),
    "utf16": N_("UTF-16 units"),
    "chars": N_("characters"),
}


def measure(text: str, counting: str) -> int:
    return COUNTERS[counting](text)


def refusal(text: str, counting: str) -> str | None:
    """Why the platform counting this way refuses `text` whatever its length, or None."""
    check = REFUSALS.get(counting)
    return check(text) if check else None


def check_accepted(text: str, counting: str, what: str) -> None:
    """Raise `BadInput` naming `what` when the platform would refuse `text` outright."""
    from publisher.errors import BadInput

    reason = refusal(text, counting)
    if reason:
        raise BadInput(_("{what}: {reason}.").format(what=what, reason=reason))
