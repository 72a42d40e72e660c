"""The shipped message templates: every case's templates, in es and en, in all three variants.

They must fit their platforms with realistic values (X's weighted 280 in at most two posts,
three for a case 3 leak statement; Mastodon's 500 in one, two for case 3; a
one-line title under 90), say what the playbook (seeds/000) asks of each case, list every
solution in a resolution, refuse a missing required variable by name, and render the same
bytes every time.
"""
from __future__ import annotations

import re

import pytest

from publisher.incident.playbooks import shipped_cases

CASES = shipped_cases()
from publisher.drafting.lengths import mastodon_length, x_length
from publisher.drafting.rendering import Renderer
from publisher.drafting.splitting import fit
from publisher.errors import BadInput
from publisher.workspace.folder import shipped_path

LANGUAGES = ("es", "en")
VARIANTS = ("title", "short", "long")
TEMPLATES = shipped_path("templates")

BASE = {
    "organisation": "Acme Energía",
    "incident_id": "7",
    "first_seen": "2026-11-21 08:30 CET",
    "author": "@maria_garcia",
    "platform": "x",
    "website": "https://status.acme-energia.es/incidents/2026-11-21",
    "source": "https://x.com/maria_garcia/status/1861234567890123456",
    "advisor": "Laura Pérez",
    "ustedes": False,
    "update_number": 2,
}
BY_LANGUAGE = {
    "es": {
        "summary": "una caída de la pasarela de pago que impidió a los clientes pagar con tarjeta",
        "what": "la caída de la pasarela de pago",
        "what_plural": False,
        "what_feminine": True,
        "affected": "el nombre y el correo de 1.200 clientes",
        "since": "el 19 de noviembre",
        "advice": "cambiar la contraseña y desconfiar de los correos que pidan datos",
        "notified_authority": "la Agencia Española de Protección de Datos",
        "facts": "la CNMC auditó nuestras tarifas en octubre y confirmó que son correctas",
        "eta": "hoy antes de las 14:00",
        "progress": "hemos restablecido los pagos con tarjeta para el 80 % de los clientes",
        "next_update": "el 21 de noviembre a las 12:00",
        "cause": "un fallo en la red de nuestro proveedor externo de pagos",
        "contact": "https://acme-energia.es/ayuda",
        "solutions": ["un segundo proveedor de pagos como respaldo automático",
                      "alertas de caída revisadas cada cinco minutos",
                      "pruebas de carga mensuales en la pasarela de pago"],
    },
    "en": {
        "summary": "a payment gateway outage that stopped customers from paying their bills by card",
        "what": "the payment gateway outage",
        "affected": "the name and email address of 1,200 customers",
        "since": "19 November",
        "advice": "change your password and distrust emails asking for details",
        "notified_authority": "the Information Commissioner's Office",
        "facts": "the regulator audited our prices in October and found them correct",
        "eta": "before 14:00 today",
        "progress": "card payments are working again for 80% of customers",
        "next_update": "12:00 on 21 November",
        "cause": "a failure in our external payment provider's network",
        "contact": "https://acme-energia.es/help",
        "solutions": ["a second payment provider as automatic fallback",
                      "outage alerts now reviewed every five minutes",
                      "monthly load tests of the whole payment gateway"],
    },
}
# What the playbook asks each case's message to say: every pattern must match short and long.
WORDING = {
    (1, "external-causes"): {"es": [r"algo ajeno a Acme", r"responsables", r"informa"],
                             "en": [r"outside Acme Energía's control|outside our control", r"those responsible",
                                    r"informed|Next update"]},
    (1, "reply"): {"es": [r"algo ajeno a nosotros", r"ayud"], "en": [r"outside our control", r"help"]},
    (2, "notice"): {"es": [r"hemos detectado", r"trabaj"], "en": [r"detected", r"working"]},
    (2, "apology"): {"es": [r"disculpas", r"el fallo es nuestro", r"informa", r"actualizaci"],
                     "en": [r"apologize", r"the fault is ours", r"informed", r"update"]},
    (2, "reassurance"): {"es": [r"el fallo es nuestro", r"resolverla"], "en": [r"the fault is ours"]},
    (3, "apology"): {"es": [r"disculpas", r"1\.200 clientes", r"contraseña", r"19 de noviembre",
                            r"Agencia Española de Protección de Datos", r"derechos"],
                     "en": [r"apologize", r"1,200 customers", r"password", r"19 November",
                            r"Information Commissioner's Office", r"rights"]},
    (3, "reassurance"): {"es": [r"1\.200 clientes", r"contraseña", r"Agencia Española", r"derechos"],
                         "en": [r"1,200 customers", r"password", r"Information Commissioner", r"rights"]},
    (3, "reply"): {"es": [r"1\.200 clientes", r"contraseña", r"derechos"],
                   "en": [r"1,200 customers", r"password", r"rights"]},
    (4, "reassurance"): {"es": [r"auditó nuestras tarifas", r"Por eso (podemos deciros que )?la situación está bajo control"],
                         "en": [r"audited our prices", r"That is why (we can tell you )?the situation is under control"]},
    (4, "external-causes"): {"es": [r"algo ajeno a Acme", r"auditó", r"bajo control"],
                             "en": [r"outside", r"audited", r"under control"]},
    (4, "reply"): {"es": [r"auditó nuestras tarifas"], "en": [r"audited our prices"]},
    (4, "advisor"): {"es": [r"estrategia", r"incidencia:? 7\b", r"caso 4", r"2026-11-21 08:30 CET"],
                     "en": [r"strategy", r"incident:? 7\b", r"case 4", r"2026-11-21 08:30 CET"]},
}
NEEDS_SUMMARY = ("apology", "external-causes", "notice", "update", "reassurance", "resolution")
PAIRS = [(number, kind) for number, case in CASES.items() for kind in case.templates]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer({"shipped": TEMPLATES})


def context(language: str, case: int, **changes) -> dict:
    values = {**BASE, **BY_LANGUAGE[language], "case": case, "language": language, **changes}
    return {key: value for key, value in values.items() if value is not None}


def render_all(renderer: Renderer, language: str, case: int, kind: str, **changes) -> dict[str, str]:
    values = context(language, case, **changes)
    return {variant: renderer.render(language, case, kind, variant, values).text for variant in VARIANTS}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case, kind", PAIRS)
def test_fits_every_platform(renderer, language, case, kind):
    texts = render_all(renderer, language, case, kind)
    assert all(texts.values())
    short, long, title = texts["short"], texts["long"], texts["title"]
    # a leak statement carries its data, dates, advice, authority and contact: a thread of three on X
    assert len(fit(short, 280, x_length, "thread", "X")) <= (3 if case == 3 else 2), short
    assert len(fit(short, 500, mastodon_length, "thread", "Mastodon")) <= (2 if case == 3 else 1), short
    assert "\n" not in title and len(title) < 90, title
    assert len(long) > len(short)
    for text in texts.values():
        assert not re.search(r"(?<!\S)#\w", text), "no hashtags"
        assert not re.search(r"\s[.,;:]|\.\.(?!\.)|  |\(\)", text), text
        assert all(ord(char) < 0x2000 for char in text), "no emoji"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case, kind", PAIRS)
def test_says_what_the_playbook_asks(renderer, language, case, kind):
    texts = render_all(renderer, language, case, kind)
    for pattern in WORDING.get((case, kind), {}).get(language, []):
        for variant in ("short", "long"):
            assert re.search(pattern, texts[variant], re.IGNORECASE), f"{variant} lacks {pattern!r}"
    if kind in NEEDS_SUMMARY and case != 4:
        assert BY_LANGUAGE[language]["what"] in texts["short"].casefold()
    if kind not in ("reply", "advisor"):
        assert texts["long"].splitlines()[-1].endswith("Acme Energía" if language == "es" else "Acme Energía team")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", [number for number, case in CASES.items() if "resolution" in case.templates])
def test_resolution_lists_every_solution(renderer, language, case):
    texts = render_all(renderer, language, case, "resolution")
    for solution in BY_LANGUAGE[language]["solutions"]:
        assert solution in texts["short"]
        assert solution[1:] in texts["long"]
    bullets = [line for line in texts["long"].splitlines() if line.startswith("- ")]
    assert len(bullets) == 3
    typed = render_all(renderer, language, case, "resolution", solutions="backup power; weekly drills\n")
    assert "backup power; weekly drills." in typed["short"]
    assert [line for line in typed["long"].splitlines() if line.startswith("- ")] == ["- Backup power.",
                                                                                     "- Weekly drills."]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", [number for number, case in CASES.items() if "reply" in case.templates])
def test_reply_is_addressed_to_the_author(renderer, language, case):
    texts = render_all(renderer, language, case, "reply")
    for variant in ("short", "long"):
        assert "@maria_garcia" in texts[variant].splitlines()[0]
        assert BY_LANGUAGE[language]["contact"] in texts[variant]
    with pytest.raises(BadInput, match="'author'"):
        render_all(renderer, language, case, "reply", author=None)


def test_advisor_brief_carries_the_incident(renderer):
    for language in LANGUAGES:
        long = render_all(renderer, language, 4, "advisor")["long"]
        for value in ("Laura Pérez", BASE["source"], BASE["first_seen"], BY_LANGUAGE[language]["summary"]):
            assert value in long
        assert "ICODA" not in long


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["apology", "reassurance", "reply"])
def test_a_missing_leak_detail_is_named(renderer, language, kind):
    for variant in ("short", "long"):
        with pytest.raises(BadInput, match="'affected'"):
            renderer.render(language, 3, kind, variant, context(language, 3, affected=None))


@pytest.mark.parametrize("language", LANGUAGES)
def test_missing_solutions_is_named(renderer, language):
    for variant in ("short", "long"):
        with pytest.raises(BadInput, match="'solutions'"):
            renderer.render(language, 2, "resolution", variant, context(language, 2, solutions=None))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case, kind", PAIRS)
def test_optional_variables_may_be_absent(renderer, language, case, kind):
    optional = dict.fromkeys(("eta", "progress", "cause", "advisor",
                              "website", "source", "platform", "summary"))
    texts = render_all(renderer, language, case, kind, **optional)
    for text in texts.values():
        assert text and "None" not in text
        assert not re.search(r"\s[.,;:]|\.\.|  |\(\)|\n{3}", text), text
    assert len(fit(texts["short"], 280, x_length, "thread", "X")) <= (3 if case == 3 else 2)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case, kind", PAIRS)
def test_rendering_is_byte_identical(renderer, language, case, kind):
    first = render_all(renderer, language, case, kind)
    assert render_all(renderer, language, case, kind) == first
    assert render_all(Renderer({"shipped": TEMPLATES}), language, case, kind) == first


def test_languages_ship_the_same_files():
    names = {language: sorted(path.relative_to(TEMPLATES / language).as_posix()
                              for path in (TEMPLATES / language).rglob("*.j2")) for language in LANGUAGES}
    assert names["es"] == names["en"]
    for name in names["es"]:
        stem = name.rsplit(".", 2)[0]
        assert all(f"{stem}.{variant}.j2" in names["es"] for variant in VARIANTS), stem


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case, kind", PAIRS)
def test_long_texts_keep_their_paragraphs_apart(renderer, language, case, kind):
    for changes in ({}, dict.fromkeys(("eta", "progress", "cause", "website"))):
        long = render_all(renderer, language, case, kind, **changes)["long"]
        lines = long.splitlines()
        for above, below in zip(lines, lines[1:]):
            if above and below and not (above.startswith("- ") or below.startswith("- ")):
                assert re.match(r"(Un saludo|Kind regards|Hola|Hi|Hello)\b", above) or kind == "advisor", \
                    f"{above!r} runs into {below!r}"
