"""The words templates build sentences with: what happened, the register, the update's number.

Guarantees:
- `what` is a short noun phrase ("la caída del sistema de pagos", "the payment system
  outage") that fits inside a sentence: one line, at most `WHAT_WORDS` words and
  `WHAT_CHARS` characters, starting in lower case, with no sentence inside and no final
  full stop. Anything else is refused naming the flag, so a template never reads
  "Pedimos disculpas por Se cayó el sistema…".
- A statement says what happened with `what`, in the rendering language; the internal
  `--summary` is never placed into a statement. A template that needs `what` declares it
  required, and rendering without it is refused saying how to give it.
- In Spanish `what` starts with its article (el, la, los, las, un, una, unos, unas) and
  the templates agree with it through `what_plural` and `what_feminine`, read from that
  article; a Spanish statement that says `what` is refused when the phrase has none,
  since nothing could agree with it (the internal advisor brief, which does not, renders).
- An incident opened with `--what` renders in another language only with the phrase in
  that language (`--what-en`/`--what-es` on opening, or `--var what=`), else `BadInput`.
- `ustedes` is true when `[organisation] register = "ustedes"` (Spanish templates then
  address readers as ustedes instead of vosotros).
- `update_number` counts the incident's earlier updates that were approved or sent, so
  two updates always carry different titles; re-rendering an update awaiting approval
  keeps its number.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from publisher.errors import BadInput
from publisher.i18n import _

WHAT_WORDS = 14
WHAT_CHARS = 100
LANGUAGES = ("es", "en")


def check_what(text: str, flag: str) -> str:
    """`text` stripped, or `BadInput` saying why it does not fit inside a sentence."""
    phrase = " ".join(text.split())
    example = _("e.g. {flag} \"la caída del sistema de pagos\" or \"the payment system outage\"").format(flag=flag)
    problems = [
        (not phrase, _("it is empty")),
        ("\n" in text.strip(), _("it spans several lines")),
        (len(phrase) > WHAT_CHARS, _("it is longer than {n} characters").format(n=WHAT_CHARS)),
        (len(phrase.split()) > WHAT_WORDS, _("it has more than {n} words").format(n=WHAT_WORDS)),
        (phrase[-1:] in ".!?…", _("it ends like a sentence")),
        (bool(re.search(r"[.!?…]\s+\S", phrase)), _("it holds more than one sentence")),
        (phrase[:1].isupper() and not phrase.split()[0].isupper(), _("it starts with a capital letter")),
    ]
    for wrong, reason in problems:
        if wrong:
            raise BadInput(_("{flag} must be a short noun phrase that fits inside a sentence, but {reason}; "
                             "{example}.").format(flag=flag, reason=reason, example=example))
    return phrase


def what_phrases(language: str, what: str | None, translations: dict[str, str | None]) -> dict[str, str] | None:
    """The incident's phrase per language from `--what` (in `language`) and `--what-LANG`."""
    phrases = {language: check_what(what, "--what")} if what else {}
    for other, text in translations.items():
        if text is None:
            continue
        if other == language and what:
            raise BadInput(_("--what-{lang} repeats --what: the incident is in {lang} already.").format(lang=other))
        phrases[other] = check_what(text, f"--what-{other}")
    return phrases or None


def phrase_context(incident_what: dict[str, str] | None, language: str, context: dict[str, Any],
                   ustedes: bool, earlier_updates: Callable[[], Iterable[str]] | None = None) -> dict[str, Any]:
    """`what` (with its agreement in Spanish), `ustedes` and, for an update, `update_number`."""
    given = context.get("what")
    what = check_what(str(given), "--var what") if given else (incident_what or {}).get(language)
    if what is None and incident_what:
        have = ", ".join(sorted(incident_what))
        raise BadInput(_("the incident says what happened in {have} (--what); rendering in {lang} needs the "
                         "phrase in {lang}: pass --var what=\"...\" (a short noun phrase in {lang}).").format(
            have=have, lang=language))
    added: dict[str, Any] = {"ustedes": ustedes}
    if what:
        added["what"] = what
        added.update(agreement(what, language))
    if earlier_updates is not None:
        added["update_number"] = 1 + sum(1 for status in earlier_updates()
                                         if status not in ("awaiting approval", "rejected")
                                         and not status.startswith("superseded"))
    return added


ARTICLES = {"el": (False, False), "la": (False, True), "los": (True, False), "las": (True, True),
            "un": (False, False), "una": (False, True), "unos": (True, False), "unas": (True, True)}


def agreement(what: str, language: str) -> dict[str, bool]:
    """`what_plural` and `what_feminine` from a Spanish phrase's article; nothing in English,
    whose templates never agree with the phrase, nor for a phrase without an article (a
    template that needs the agreement is then refused by `require_agreement`)."""
    article = what.split()[0].casefold() if what.split() else ""
    if language != "es" or article not in ARTICLES:
        return {}
    plural, feminine = ARTICLES[article]
    return {"what_plural": plural, "what_feminine": feminine}


def require_agreement(what: str, language: str) -> None:
    """`BadInput` when a Spanish statement would have to agree with a `what` that has no article."""
    if language == "es" and not agreement(what, language):
        raise BadInput(_("--what {what!r}: in Spanish the phrase starts with its article (el, la, los, las, "
                         "un, una...), e.g. \"la caída del sistema de pagos\" or \"los fallos en los pagos "
                         "con tarjeta\", so the statement can agree with it.").format(what=what))


def incident_phrases(app: Any, incident: Any, template: str, language: str, context: dict[str, Any],
                     update_statuses: Callable[[], Iterable[str]]) -> dict[str, Any]:
    """`phrase_context` for one incident of a workspace."""
    incident_what = incident.what
    ustedes = getattr(app.config, "register", "vosotros") == "ustedes"
    return phrase_context(incident_what if isinstance(incident_what, dict) else None, language, context, ustedes,
                          update_statuses if template == "update" else None)
