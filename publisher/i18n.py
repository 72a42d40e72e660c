"""The interface's language: every user-facing sentence goes through `_()`.

Guarantees: source strings are English; one catalogue per language,
`publisher/locale/<lang>/LC_MESSAGES/publish.po`, translates them for the CLI, the
report and the console alike. It is read directly (no compiled .mo to forget; its parsed form is kept
between runs beside it, `publisher.parsed_cache`), lazily and only for a language other
than English, so `publish --help` in English reads no
file. The language is `PUBLISH_LANG` when set, else the one the workspace's
`[organisation] language` chose through `use_language()`, else English; a console
request speaks its visitor's language (`speaking()`). A sentence with
no translation is shown in English, never dropped. Messages with values are written
`_("... {name} ...").format(name=value)` so the catalogue holds one entry.
"""
from __future__ import annotations

import os
import re
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Callable

DOMAIN = "publish"
LANGUAGES = ("en", "es")

ESCAPE = re.compile(r"\\(.)")
ESCAPES = {"n": "\n", "t": "\t"}

_chosen: str | None = None
_speaking: ContextVar[str | None] = ContextVar("publish_speaking", default=None)


def use_language(language: str | None) -> None:
    """The workspace's language (overridden by PUBLISH_LANG)."""
    global _chosen
    _chosen = language if language in LANGUAGES else None


def speaking(language: str | None) -> None:
    """One console request's language (the visitor's choice), for this request only."""
    _speaking.set(language if language in LANGUAGES else None)


def current_language() -> str:
    asked = _speaking.get()
    if asked:
        return asked
    wanted = os.environ.get("PUBLISH_LANG", "").strip().lower()[:2]
    if wanted in LANGUAGES:
        return wanted
    return _chosen or "en"


def locale_dir() -> Path:
    """Where the catalogues are (pathlib is imported here: English help needs no path)."""
    from pathlib import Path

    return Path(__file__).resolve().parent / "locale"


def catalogue_path(language: str) -> Path:
    return locale_dir() / language / "LC_MESSAGES" / f"{DOMAIN}.po"


class Catalogue:
    """One language's translations: msgid -> msgstr, plurals as (singular, plural) -> forms."""

    def __init__(self, messages: dict[str, str], plurals: dict[tuple[str, str], list[str]]):
        self.messages = messages
        self.plurals = plurals

    def gettext(self, message: str) -> str:
        return self.messages.get(message) or message

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        forms = self.plurals.get((singular, plural))
        index = 0 if count == 1 else 1
        if forms and index < len(forms) and forms[index]:
            return forms[index]
        return singular if count == 1 else plural


def _unquote(text: str) -> str:
    body = text.strip()[1:-1]
    if "\\" not in body:
        return body
    return ESCAPE.sub(lambda found: ESCAPES.get(found.group(1), found.group(1)), body)


def parse_po(text: str) -> Catalogue:
    """A gettext .po file (multi-line strings, plurals; fuzzy and obsolete entries skipped)."""
    messages: dict[str, str] = {}
    plurals: dict[tuple[str, str], list[str]] = {}
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        current = None
        fuzzy = False
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            if not line or line.startswith("#"):
                continue
            if line.startswith('"') and current:
                fields[current] += _unquote(line)
                continue
            key, _space, rest = line.partition(" ")
            current = key
            fields[key] = _unquote(rest)
        source = fields.get("msgid")
        if fuzzy or not source:
            continue
        if "msgid_plural" in fields:
            forms = [fields[key] for key in sorted(k for k in fields if k.startswith("msgstr["))]
            plurals[(source, fields["msgid_plural"])] = forms
        elif fields.get("msgstr"):
            messages[source] = fields["msgstr"]
    return Catalogue(messages, plurals)


@lru_cache(maxsize=None)
def catalogue(language: str) -> Catalogue:
    """One language's catalogue, parsed once per version of its file (`publisher.parsed_cache`)."""
    from publisher.parsed_cache import parsed

    path = catalogue_path(language)
    if language == "en" or not path.exists():
        return Catalogue({}, {})
    messages, plurals = parsed(path, _plain_catalogue, "catalogue")
    return Catalogue(messages, plurals)


def _plain_catalogue(text: str) -> tuple[dict[str, str], dict[tuple[str, str], list[str]]]:
    parsed = parse_po(text)
    return parsed.messages, parsed.plurals


def translator(language: str) -> Callable[[str], str]:
    """`_` for one given language (the console's visitor may choose another)."""
    return catalogue(language).gettext


def _(message: str) -> str:
    return catalogue(current_language()).gettext(message)


def N_(message: str) -> str:
    """Marks a sentence for the catalogue where it is translated later (click help)."""
    return message


def ngettext(singular: str, plural: str, count: int) -> str:
    return catalogue(current_language()).ngettext(singular, plural, count)
