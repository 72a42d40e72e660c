"""The interface's language: every user-facing sentence goes through `_()`.

Guarantees: source strings are English; one catalogue per language translates them for
the CLI, the report and the console alike. Translators edit
`publisher/locale/<lang>/LC_MESSAGES/publish.po`; Babel compiles it to the `publish.mo`
beside it (`scripts/catalogue.py --compile`, committed and shipped with the package), and
stdlib `gettext` reads that `.mo`, plural forms by the catalogue's own `Plural-Forms`
header. Nothing is written at run time. The catalogue is read lazily and only for a
language other than English, so `publish --help` in English reads no file. The language
is `PUBLISH_LANG` when set, else the one the workspace's `[organisation] language` chose
through `use_language()`, else English; a console request speaks its visitor's language
(`speaking()`). A sentence with no translation (or a fuzzy one) is shown in English,
never dropped. Messages with values are written `_("... {name} ...").format(name=value)`
so the catalogue holds one entry.
"""
from __future__ import annotations

import os
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gettext import NullTranslations
    from pathlib import Path
    from typing import Callable

DOMAIN = "publish"
LANGUAGES = ("en", "es")

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
    """The catalogue translators edit (its source)."""
    return locale_dir() / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def compiled_path(language: str) -> Path:
    """The compiled catalogue read at run time."""
    return locale_dir() / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


def read_catalogue(path: Path) -> NullTranslations:
    """A compiled catalogue; none (every sentence in English) when there is no such file."""
    from gettext import GNUTranslations, NullTranslations

    try:
        with open(path, "rb") as compiled:
            return GNUTranslations(compiled)
    except FileNotFoundError:
        return NullTranslations()


@lru_cache(maxsize=None)
def catalogue(language: str) -> NullTranslations:
    """One language's catalogue, read once per process."""
    if language == "en":
        from gettext import NullTranslations

        return NullTranslations()
    return read_catalogue(compiled_path(language))


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
