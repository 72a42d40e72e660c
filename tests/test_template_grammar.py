"""Every shipped statement, rendered with realistic values, reads as a professional wrote it.

Each template of each case and kind in the shipped playbooks is rendered in Spanish and
English, short, long and title, with every form of the values sentences agree with (the
Spanish `what` masculine and feminine, singular and plural, as `[agreement]` declares),
with and without the optional values, in both Spanish registers, with URLs and emoji.
Each text is checked for: spelling (Debian's hunspell dictionaries; unknown words other
than the values' own and GLOSSARY fail), a capital after every sentence end and at the
start of each line (a value that opens a sentence included), no doubled or orphaned
punctuation, balanced brackets and quotes, and a fit on X and Mastodon (thread split).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timezone
from functools import lru_cache
from itertools import product
from typing import Any

import pytest

from publisher.drafting.lengths import measure
from publisher.drafting.phrasing import agreement
from publisher.drafting.promises import phrase
from publisher.drafting.rendering import Renderer
from publisher.drafting.splitting import fit
from publisher.drafting.variables import _tables, declaration
from publisher.incident.playbooks import shipped_cases
from publisher.workspace.folder import shipped_path

DICTIONARIES = {"es": "es_ES", "en": "en_US"}
# Words the dictionaries lack that the templates rightly use.
GLOSSARY = {"es": {"n", "º", "X"}, "en": {"no", "X"}}
WHATS = {
    "es": ["la caída del sistema de pagos", "el retraso en los envíos", "los fallos en los pagos con tarjeta",
           "las interrupciones del servicio de mensajería"],
    "en": ["the payment system outage", "the card payment failures"],
}
VALUES: dict[str, dict[str, Any]] = {
    "es": {
        "eta": "hoy antes de las 20:00",
        "contact": "https://acme.example/ayuda",
        "cause": "una avería en la red de nuestro proveedor de pagos",
        "progress": "hemos restablecido los pagos para el 80 % de los clientes ✅",
        "solutions": ["duplicamos los servidores de pagos", "revisaremos cada cambio antes de publicarlo 🔒"],
        "solved": "te hemos devuelto el cargo duplicado",
        "affected": "el nombre, el correo y la dirección de 1.200 clientes",
        "since": "el 28 de noviembre",
        "advice": "cambiar la contraseña y desconfiar de los correos que pidan datos",
        "notified_authority": "la Agencia Española de Protección de Datos (AEPD)",
        "notified_on": "el 3 de diciembre",
        "facts": "todas nuestras tarifas están auditadas por la CNMC y publicadas en https://acme.example/tarifas",
        "advisor": "Laura",
        "summary": "una caída del sistema de pagos que impidió comprar con tarjeta",
        "source": "https://x.com/maria_garcia/status/1861234567890123456",
        "platform": "x",
    },
    "en": {
        "eta": "before 20:00 today",
        "contact": "help@acme.example",
        "cause": "a failure in our payment provider's network",
        "progress": "card payments work again for 80% of customers ✅",
        "solutions": ["we now run two payment servers", "every change is reviewed before release 🔒"],
        "solved": "we refunded the double charge",
        "affected": "the name, email and postal address of 1,200 customers",
        "since": "28 November",
        "advice": "change your password and distrust emails asking for details",
        "notified_authority": "the Information Commissioner's Office (ICO)",
        "notified_on": "on 3 December",
        "facts": "all our prices are audited by the regulator and published at https://acme.example/prices",
        "advisor": "Laura",
        "summary": "a payment outage that blocked card purchases",
        "source": "https://x.com/maria_garcia/status/1861234567890123456",
        "platform": "x",
    },
}
ALWAYS = {"organisation": "Acme", "incident_id": "INC-7", "first_seen": "2026-12-05 14:22 CET",
          "update_number": 2, "author": "@maria_garcia"}
PAIRS = sorted({(number, kind) for number, case in shipped_cases().items() for kind in case.templates})
SENTENCE_END = re.compile(r"[.!?]\s+(?=[^\W\d_])(\w)")
# Constructions a register switch or an agreement form can produce and a reader would stop at.
FORBIDDEN = {
    "es": [r"\bles l[oa]s?\b", r"\ble l[oa]s?\b",  # "se lo diríamos", never "les lo"
           r"\b(sus|su) (está|están|es|son)\b",  # "su" before a verb: "datos suyos están"
           r"\bpreocupa (los|las)\b", r"\bpreocupan (el|la)\b", r"\b(de|a) el\b", r"\bdebe a (los|las)\b",
           r"\b(\w+) \1\b"],
    "en": [r"\b(\w+) \1\b", r"\ba [aeiou]"],
}
DOUBLED = re.compile(r"[.,;:]\s*[.,;:]|\s[.,;:!?]|\(\s*\)|\s{2,}|[¿¡]\s")


def renderer() -> Renderer:
    return Renderer({"shipped": shipped_path("templates")})


def combinations(language: str, case: int, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(label, context) for each form of the values a template is rendered with."""
    found = declaration(None, language, case, kind)
    given = VALUES[language]
    moment = datetime(2026, 12, 5, 23, 30, tzinfo=timezone.utc)
    registers = (False, True) if language == "es" else (False,)
    whats = WHATS[language] if "what" in found.names else [None]
    forms = []
    for what, ustedes, full in product(whats, registers, (True, False)):
        context: dict[str, Any] = {**ALWAYS, "case": case, "ustedes": ustedes,
                                   "next_update": phrase(moment, language, False)}
        if full:
            context["website"] = "https://acme.example/estado"
        if what:
            context.update(what=what, **agreement(what, language))
        names = found.names if full else found.required
        context.update({name: given[name] for name in names if name in given})
        forms.append((f"{what} ustedes={ustedes} full={full}", context))
    if kind == "reply" and case == 1:
        # the follow-up ("your problem is solved") carries no estimate; the first reply no `solved`
        plain = [(label, {k: v for k, v in context.items() if k != "solved"}) for label, context in forms]
        solved = [(label + " solved", {**{k: v for k, v in context.items() if k != "eta"}, "solved": given["solved"]})
                  for label, context in forms]
        forms = plain + solved
    return forms


@lru_cache(maxsize=None)
def rendered(language: str) -> tuple[tuple[str, str, str], ...]:
    """(where, text, variant) for every template, form and variant of `language`."""
    made = renderer()
    texts = []
    for case, kind in PAIRS:
        for label, context in combinations(language, case, kind):
            for variant in ("short", "long", "title"):
                text = made.render(language, case, kind, variant, context).text
                texts.append((f"case {case} {kind} {variant} {language} [{label}]", text, variant))
    return tuple(texts)


def problems(text: str, variant: str, language: str = "es") -> list[str]:
    found = [f"{pattern!r} matches: {text[max(0, m.start() - 30):m.end() + 10]!r}"
             for pattern in FORBIDDEN[language] for m in [re.search(pattern, text)] if m]
    prose = re.sub(r"https?://\S+|\S+@\S+\.\w+", "URL", text)
    for match in SENTENCE_END.finditer(prose):
        if match.group(1).islower() and not prose[:match.start() + 1].endswith(("n.º", "no.")):
            found.append(f"lower case after a sentence end: {prose[max(0, match.start() - 30):match.end() + 10]!r}")
    for line in prose.splitlines():
        first = re.search(r"[^\W\d_]", line)
        if first and first.start() == 0 and line[0].islower():
            found.append(f"line starts in lower case: {line[:40]!r}")
        if re.match(r"\s*[.,;:!?)]", line):
            found.append(f"line starts with punctuation: {line[:40]!r}")
    for match in DOUBLED.finditer(prose):
        if not re.fullmatch(r"\n\s*", match.group()):
            found.append(f"doubled or orphaned punctuation {match.group()!r}: "
                         f"{prose[max(0, match.start() - 30):match.end() + 10]!r}")
    for opening, closing in ("()", "[]", "«»", "¿?", "¡!"):
        if opening == "¿" and prose.count("¿") == 0:
            continue
        if opening == "¡" and prose.count("¡") == 0:
            continue
        if prose.count(opening) != prose.count(closing):
            found.append(f"unbalanced {opening}{closing}")
    if prose.count('"') % 2:
        found.append("unbalanced quotes")
    if variant != "title" and prose.rstrip()[-1:] not in ".!?" and not re.search(r"(URL|\w)$", prose.rstrip()):
        found.append(f"ends without a full stop: {prose[-30:]!r}")
    return found


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("case, kind", PAIRS)
def test_every_text_is_punctuated_and_capitalised(language, case, kind):
    texts = [(where, text, variant) for where, text, variant in rendered(language)
             if where.startswith(f"case {case} {kind} ")]
    assert texts
    failures = [f"{where}: {problem}\n{text}" for where, text, variant in texts
                for problem in problems(text, variant, language)]
    assert not failures, "\n\n".join(failures[:5])


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("case, kind", PAIRS)
def test_every_short_text_fits_x_and_mastodon(language, case, kind):
    for where, text, variant in rendered(language):
        if variant == "short" and where.startswith(f"case {case} {kind} "):
            for counting, limit in (("x", 280), ("mastodon", 500)):
                parts = fit(text, limit, lambda value, c=counting: measure(value, c), "thread", where)
                assert all(measure(part, counting) <= limit for part in parts)


def test_spanish_agreement_is_declared_and_both_forms_read_differently():
    """Spanish sentences agree with `what`: the declaration says so, and a plural and a feminine
    `what` change the words around it."""
    assert _tables(None, "es")["agreement"] == {"what": ["number", "gender"]}
    made = renderer()
    texts = {}
    for what in WHATS["es"]:
        context = {**ALWAYS, "case": 1, "ustedes": False, "next_update": "el 5 de diciembre a las 23:30",
                   "what": what, "eta": "hoy antes de las 20:00", **agreement(what, "es")}
        texts[what] = made.render("es", 1, "external-causes", "long", context).text
    assert "La caída del sistema de pagos se debe a" in texts["la caída del sistema de pagos"]
    assert "Prevemos tenerla resuelta hoy" in texts["la caída del sistema de pagos"]
    assert "El retraso en los envíos se debe a" in texts["el retraso en los envíos"]
    assert "Prevemos tenerlo resuelto hoy" in texts["el retraso en los envíos"]
    assert "Los fallos en los pagos con tarjeta se deben a" in texts["los fallos en los pagos con tarjeta"]
    assert "para resolverlos cuanto antes. Prevemos tenerlos resueltos" in texts["los fallos en los pagos con tarjeta"]
    assert "Prevemos tenerlas resueltas" in texts["las interrupciones del servicio de mensajería"]


@pytest.mark.parametrize("language", ["es", "en"])
def test_spelling(language):
    hunspell = shutil.which("hunspell")
    if hunspell is None or not (shutil.which("hunspell") and _has_dictionary(DICTIONARIES[language])):
        pytest.skip(f"hunspell with {DICTIONARIES[language]} is not installed: `make hunspell` installs it")
    known = set(GLOSSARY[language])
    for value in [*VALUES[language].values(), *WHATS[language], *ALWAYS.values(), "https://acme.example/estado"]:
        for piece in value if isinstance(value, list) else [value]:
            known |= set(re.findall(r"[^\W\d_]+", str(piece)))
    words = {word for _, text, _ in rendered(language) for word in re.findall(r"[^\W\d_]+", text)} - known
    result = subprocess.run([hunspell, "-d", DICTIONARIES[language], "-i", "utf-8", "-l"], input="\n".join(sorted(words)),
                            capture_output=True, text=True, timeout=60)
    unknown = sorted(set(result.stdout.split()))
    assert result.returncode == 0, result.stderr
    assert unknown == [], f"words hunspell does not know: {unknown}"


def _has_dictionary(name: str) -> bool:
    result = subprocess.run(["hunspell", "-D"], capture_output=True, text=True, input="", timeout=30)
    return any(line.rstrip().endswith("/" + name) for line in (result.stdout + result.stderr).splitlines())


def test_the_ustedes_register_never_slips_into_vosotros():
    """`[organisation] register = "ustedes"`: no public statement says os, vuestro, tenéis...
    (the advisor brief speaks to the agency's team, not to the public)."""
    vosotros = re.compile(r"\b(os|vuestr[oa]s?|tenéis|podéis|notéis|habéis|necesitáis|\w+aros|\w+eros)\b")
    slips = [(where, match.group()) for where, text, _ in rendered("es")
             if "ustedes=True" in where and " advisor " not in where
             for match in [vosotros.search(text.replace(VALUES["es"]["advice"], ""))] if match]
    assert slips == []
