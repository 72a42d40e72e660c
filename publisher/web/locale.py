"""The console's language: `?lang=es|en` (kept in a cookie), else the organisation's.

Source strings are English; `publisher/web/locale/<lang>.po` holds the translations
(standard gettext .po, single-line entries), read once. A string with no translation
is shown in English, never dropped."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

from starlette.requests import Request

LANGUAGES = ("es", "en")
LANG_COOKIE = "publish_lang"
FOLDER = Path(__file__).resolve().parent / "locale"
ENTRY = re.compile(r'msgid "((?:[^"\\]|\\.)*)"\s*\nmsgstr "((?:[^"\\]|\\.)*)"')


def choose_language(request: Request, default: str) -> str:
    for wanted in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if wanted in LANGUAGES:
            return wanted
    return default if default in LANGUAGES else "en"


def _unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


@lru_cache(maxsize=None)
def catalogue(language: str) -> dict[str, str]:
    path = FOLDER / f"{language}.po"
    if not path.exists():
        return {}
    found = ENTRY.findall(path.read_text(encoding="utf-8"))
    return {_unescape(source): _unescape(target) for source, target in found if source and target}


def translator(language: str) -> Callable[[str], str]:
    entries = catalogue(language)
    return lambda message: entries.get(message, message)
