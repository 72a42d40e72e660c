"""The console's language: `?lang=es|en` (kept in a cookie), else the organisation's.

The translations are the interface's one catalogue (`publisher.i18n`,
`publisher/locale/<lang>/LC_MESSAGES/publish.po`); a string with no translation is
shown in English, never dropped."""
from __future__ import annotations

from starlette.requests import Request

from publisher.i18n import translator

LANGUAGES = ("es", "en")
LANG_COOKIE = "publish_lang"

__all__ = ["LANGUAGES", "LANG_COOKIE", "choose_language", "translator"]


def choose_language(request: Request, default: str) -> str:
    for wanted in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if wanted in LANGUAGES:
            return wanted
    return default if default in LANGUAGES else "en"
