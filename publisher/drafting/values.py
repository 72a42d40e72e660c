"""The values a person gives a statement (`--var`, `--solution`), checked, never dropped.

Guarantees:
- Every value given is in every text rendered from it: a value that a variant does
  not carry is `BadInput` naming the value and the variant, so a statement never
  goes out silently without the cause, the facts or the deadline someone typed.
- A value of more than `LANGUAGE_WORDS` words is in the statement's language, judged
  by an offline detector (lingua, loaded only when such a value is given); a value in
  another language is refused unless `--allow-language` says it is meant, so
  "Datos afectados: the e-mail addresses of 2,000 customers" is never published.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable

from publisher.errors import BadInput
from publisher.i18n import N_, _

LANGUAGE_WORDS = 3
# Languages a value is told apart from; the statement's own must be among them.
DETECTED = ("ENGLISH", "SPANISH", "FRENCH", "GERMAN", "PORTUGUESE", "ITALIAN", "CATALAN")
NAMES = {"en": N_("English"), "es": N_("Spanish"), "fr": N_("French"), "de": N_("German"),
         "pt": N_("Portuguese"), "it": N_("Italian"), "ca": N_("Catalan")}
NOT_PROSE = re.compile(r"https?://\S+|\S+@\S+|[@#]\w+")


def pieces(value: Any) -> list[str]:
    """The texts of one value: a list's items, or the value itself."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return [str(item) for item in items if str(item).strip()]


def check_used(text: str, variant: str, template: str, values: dict[str, Any]) -> None:
    """`BadInput` naming the first value that `text` (the `variant` rendered) does not carry."""
    folded = _fold(text)
    for name, value in values.items():
        for piece in pieces(value):
            core = _fold(piece).strip().strip(".").strip()
            if core and core not in folded:
                raise BadInput(_("the {variant} {template} text does not carry the value of {name} "
                                 "({value!r}); a statement never drops a value it was given: change the "
                                 "template, or leave {name} out.").format(
                    variant=variant, template=template, name=name, value=piece))


def check_language(language: str, values: dict[str, Any], allowed: bool) -> None:
    """`BadInput` naming the first value of several words written in another language."""
    if allowed:
        return
    for name, value in values.items():
        for piece in pieces(value):
            prose = NOT_PROSE.sub(" ", piece)
            if len(re.findall(r"[^\W\d_]{2,}", prose)) <= LANGUAGE_WORDS:
                continue
            found = detect(prose)
            if found and found != language:
                raise BadInput(_("--var {name}={value!r} reads as {found}, but the statement is in {language}; "
                                 "write it in {language}, or pass --allow-language if it is meant.").format(
                    name=name, value=piece, found=_(NAMES.get(found, found)), language=_(NAMES.get(language, language))))


def detect(text: str) -> str | None:
    """The ISO 639-1 code of `text`'s language, or None when the detector cannot tell."""
    found = _detector().detect_language_of(text)
    return found.iso_code_639_1.name.lower() if found is not None else None


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    return (LanguageDetectorBuilder.from_languages(*(getattr(Language, name) for name in DETECTED))
            .with_minimum_relative_distance(0.1).build())


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def given_values(variables: dict[str, Any], context: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The values a person gave, as the templates receive them (after any formatting)."""
    return {name: context.get(name, variables[name]) for name in names if name in variables}
