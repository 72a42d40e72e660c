"""How the fake Bot API reads a text sent with `parse_mode`, as Telegram does.

Telegram parses the text into plain text and entities before anything else, and refuses
a text it cannot parse with HTTP 400 and
`{"ok": false, "error_code": 400, "description": "Bad Request: can't parse entities: …"}`;
the length limit (4096) and the empty-text check apply to the parsed text ("1-4096
characters after entities parsing", Bot API, sendMessage). Sources: the Bot API's
"Formatting options" (core.telegram.org/bots/api#formatting-options) and TDLib's parser
(td/telegram/MessageEntity.cpp, `parse_html`, `parse_markdown_v2`, `parse_markdown`),
whose error sentences these are, with byte offsets into the UTF-8 text.

- HTML: `<`, `>` and `&` that are not part of a tag or an entity must be written as
  `&lt;`, `&gt;`, `&amp;`; `&quot;` and numeric `&#…;` entities are read too, and an `&`
  that starts no known entity stays as it is. Tags: b, strong, i, em, u, ins, s, strike,
  del, span, tg-spoiler, tg-emoji, a, code, pre, blockquote.
- MarkdownV2: `_ * [ ] ( ) ~ ` > # + - = | { } . !` must be escaped with `\\` outside an
  entity, and any character from 1 to 126 may be. This fake reads only escaped text: an
  unescaped reserved character is refused with TDLib's sentence for the punctuation that
  starts no entity, and with "Can't find end of … entity" for the entity markers, whose
  formatting it does not model.
- Markdown (legacy): `_ * ` [` start entities and are escaped with `\\` outside one.
"""
from __future__ import annotations

import re

HTML_TAGS = frozenset({"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
                       "span", "pre", "code", "blockquote"})
SPACES = " \t\r\n\v"
NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
V2_RESERVED = "_*[]()~`>#+-=|{}.!"
V2_MARKERS = {"*": "Bold", "_": "Italic", "~": "Strikethrough", "|": "Spoiler", "`": "Code", "[": "TextUrl"}


class Unparsable(ValueError):
    """TDLib's sentence for a text it cannot parse."""


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _entity(text: str, index: int) -> tuple[str, int] | None:
    """The character an HTML entity at `index` stands for and the index after it."""
    match = re.match(r"&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|([a-zA-Z]{2,8}));", text[index:])
    if not match:
        return None
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2)) if match.group(2) else None
    if code is None:
        named = NAMED.get(match.group(3))
        return (named, index + match.end()) if named else None
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), index + match.end()


def parse_html(text: str) -> str:
    """The text Telegram shows for `text` read as HTML; `Unparsable` as TDLib refuses it."""
    shown: list[str] = []
    open_tags: list[str] = []
    index, size = 0, len(text)
    while index < size:
        char = text[index]
        if char == "&":
            decoded = _entity(text, index)
            if decoded:
                shown.append(decoded[0])
                index = decoded[1]
                continue
        if char != "<":
            shown.append(char)
            index += 1
            continue
        begin = index
        index += 1
        if index < size and text[index] == "/":
            if not open_tags:
                raise Unparsable(f"Unexpected end tag at byte offset {_offset(text, begin)}")
            while index < size and text[index] not in SPACES + ">":
                index += 1
            name = text[begin + 2:index]
            while index < size and text[index] in SPACES:
                index += 1
            if index >= size or text[index] != ">":
                raise Unparsable(f"Unclosed end tag at byte offset {_offset(text, begin)}")
            expected = open_tags.pop()
            if name and name.lower() != expected:
                raise Unparsable(f"Unmatched end tag at byte offset {_offset(text, begin)}, expected "
                                 f"\"</{expected}>\", found \"</{name}>\"")
            index += 1
            continue
        while index < size and text[index] not in SPACES + ">":
            index += 1
        if index >= size:
            raise Unparsable(f"Unclosed start tag at byte offset {_offset(text, begin)}")
        name = text[begin + 1:index].lower()
        if name not in HTML_TAGS:
            raise Unparsable(f"Unsupported start tag \"{name}\" at byte offset {_offset(text, begin)}")
        index = _skip_attributes(text, index, name, begin)
        open_tags.append(name)
        index += 1
    if open_tags:
        raise Unparsable(f"Can't find end tag corresponding to start tag \"{open_tags[-1]}\"")
    return "".join(shown)


def _skip_attributes(text: str, index: int, tag: str, begin: int) -> int:
    """The index of the `>` ending a start tag's attributes (`name="value"`, `name='value'`
    or `name=value`)."""
    size = len(text)
    while True:
        while index < size and text[index] in SPACES:
            index += 1
        if index >= size:
            raise Unparsable(f"Unclosed start tag at byte offset {_offset(text, begin)}")
        if text[index] == ">":
            return index
        start = index
        while index < size and text[index] not in SPACES + "=>":
            index += 1
        if index == start:
            raise Unparsable(f"Empty attribute name in the tag \"{tag}\" at byte offset {_offset(text, begin)}")
        while index < size and text[index] in SPACES:
            index += 1
        if index >= size or text[index] != "=":
            if tag == "blockquote" and text[start:index] == "expandable":
                continue
            raise Unparsable(f"Expected equal sign in declaration of an attribute of the tag \"{tag}\" at byte "
                             f"offset {_offset(text, begin)}")
        index += 1
        while index < size and text[index] in SPACES:
            index += 1
        if index < size and text[index] in "\"'":
            end = text.find(text[index], index + 1)
            if end < 0:
                raise Unparsable(f"Unclosed start tag at byte offset {_offset(text, begin)}")
            index = end + 1
        else:
            while index < size and text[index] not in SPACES + ">":
                index += 1


def parse_markdown_v2(text: str) -> str:
    """The text Telegram shows for escaped MarkdownV2 (see the module's note)."""
    shown: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and 0 < ord(text[index + 1]) <= 126:
            shown.append(text[index + 1])
            index += 2
            continue
        if char in V2_MARKERS:
            raise Unparsable(f"Can't find end of {V2_MARKERS[char]} entity at byte offset {_offset(text, index)}")
        if char in V2_RESERVED:
            raise Unparsable(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        shown.append(char)
        index += 1
    return "".join(shown)


def parse_markdown(text: str) -> str:
    """The text Telegram shows for legacy Markdown: `_ * ` [` open entities closed by the
    same character (`[` by `](url)`), escaped with `\\` outside one."""
    shown: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in "_*`[":
            shown.append(text[index + 1])
            index += 2
            continue
        if char in "_*`":
            end = text.find(char, index + 1)
            if end < 0:
                raise Unparsable(f"Can't find end of the entity starting at byte offset {_offset(text, index)}")
            shown.append(text[index + 1:end])
            index = end + 1
            continue
        if char == "[":
            match = re.match(r"\[([^\]]*)\]\(([^)]*)\)", text[index:])
            if not match:
                raise Unparsable(f"Can't find end of the entity starting at byte offset {_offset(text, index)}")
            shown.append(match.group(1))
            index += match.end()
            continue
        shown.append(char)
        index += 1
    return "".join(shown)


PARSERS = {"HTML": parse_html, "MarkdownV2": parse_markdown_v2, "Markdown": parse_markdown}


def shown_text(text: str, parse_mode: str | None) -> str:
    """What Telegram shows for `text` sent with `parse_mode`; `Unparsable` when it refuses it."""
    return PARSERS[parse_mode](text) if parse_mode else text
