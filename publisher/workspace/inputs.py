"""The rule every piece of text a person gives passes before the tool keeps it.

Guarantees: no text from a flag, an argument, an environment name, a file given as input
or a config file holds a control character other than newline and tab (C0, DEL, C1), nor
a character XML 1.0 forbids (lone surrogates, U+FFFE, U+FFFF): such text is refused with
one `BadInput` sentence naming where it came from and which character, before anything is
written. A file read as input is bounded in size, so `/dev/zero` is refused instead of
read until memory runs out.
"""
from __future__ import annotations

import re

from publisher.errors import BadInput
from publisher.i18n import _

FORBIDDEN = "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]"
MAX_INPUT_FILE = 1_000_000


def forbidden_character(text: str) -> str | None:
    """The first forbidden character of `text` as U+XXXX, or None. Printable ASCII (most
    flags and names) holds none and is passed without the search."""
    if text.isascii() and text.isprintable():
        return None
    found = re.search(FORBIDDEN, text)
    return f"U+{ord(found.group()):04X}" if found else None


def check_text(text: str, what: str) -> str:
    """`text` itself, or `BadInput` naming `what` when it holds a forbidden character."""
    character = forbidden_character(text)
    if character:
        raise BadInput(_("{what} contains the control character {character}; only text, newlines and "
                         "tabs are accepted.").format(what=what, character=character))
    return text


def read_text_file(path: str, what: str, limit: int = MAX_INPUT_FILE) -> str:
    """A UTF-8 text file given as input, read up to `limit` bytes and checked."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    except OSError as error:
        raise BadInput(_("{what} {path}: cannot read it ({reason}).").format(
            what=what, path=path, reason=error.strerror or error)) from None
    if len(data) > limit:
        raise BadInput(_("{what} {path}: larger than {limit} bytes; give a text file.").format(
            what=what, path=path, limit=limit))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(_("{what} {path}: not UTF-8 text.").format(what=what, path=path)) from None
    return check_text(text.replace("\r\n", "\n"), f"{what} {path}")
