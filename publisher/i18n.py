"""The interface's language: every user-facing sentence goes through `_()`.

Guarantees: source strings are English; a catalogue under `publisher/locale/<lang>/`
translates them (gettext). The language is `PUBLISH_LANG` when set, else the one the
workspace's `[organisation] language` chose through `use_language()`, else English. A
sentence with no translation is shown in English, never dropped. Messages with values
are written `_("... {name} ...").format(name=value)` so the catalogue holds one entry.
"""
from __future__ import annotations

import gettext
import os
from functools import lru_cache
from pathlib import Path

DOMAIN = "publish"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "es")

_chosen: str | None = None


def use_language(language: str | None) -> None:
    """The workspace's language (overridden by PUBLISH_LANG)."""
    global _chosen
    _chosen = language if language in LANGUAGES else None


def current_language() -> str:
    wanted = os.environ.get("PUBLISH_LANG", "").strip().lower()[:2]
    if wanted in LANGUAGES:
        return wanted
    return _chosen or "en"


@lru_cache(maxsize=None)
def _catalogue(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def _(message: str) -> str:
    return _catalogue(current_language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return _catalogue(current_language()).ngettext(singular, plural, count)
