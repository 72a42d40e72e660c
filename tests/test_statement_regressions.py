"""The worst statements issue 26 quoted, each rendered again through the command line and shown fixed:
reassurance without facts, dangling pronouns, thanks to an aggressor, a lower-case sentence
start, plural subjects with singular verbs, dropped values, the summary published as a
fragment, English values in Spanish statements, and a next update promised in the past."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

SPANISH = 'language = "es"\ntimezone = "Europe/Madrid"'


def spanish(workspace, extra: str = "") -> None:
    workspace.write_config(extra=extra)
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace('language = "en"', SPANISH))


def payloads(workspace, *args: str) -> dict[str, str]:
    result = workspace.run(*args, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    return {name: "\n\n".join(payload["parts"]) for name, payload in json.loads(result.output)["draft"]["payloads"].items()}


def refused(workspace, *args: str) -> str:
    result = workspace.run(*args, "--dry-run")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


FACTS = "todas nuestras tarifas están auditadas por la CNMC"


def test_case_4_never_reassures_without_the_facts_and_never_thanks_the_attacker(workspace):
    spanish(workspace)
    workspace.open_incident(case=4, lang="es", author="@rival_corp", source="https://x.com/rival_corp/status/9",
                            what="los mensajes que circulan sobre nuestras tarifas")
    assert "needs 'facts'" in refused(workspace, "--case", "4", "--template", "reassurance") or \
        "'facts'" in refused(workspace, "--case", "4", "--template", "reassurance")
    texts = payloads(workspace, "--case", "4", "--template", "reassurance", "--var", f"facts={FACTS}")
    for text in texts.values():
        assert FACTS in text
        assert "no hay motivo para preocuparse" not in text
        assert "Su origen está en circunstancias ajenas" not in text and "La estamos siguiendo" not in text
        assert re.search(r"Por eso (podemos deciros que )?la situación está bajo control", text)
    reply = payloads(workspace, "--case", "4", "--template", "reply", "--channel", "outbox",
                     "--var", f"facts={FACTS}")["outbox"]
    assert "Gracias por tu mensaje" not in reply and "gracias" not in reply.casefold()
    assert not re.search(r"[.!?]\s+[a-záéíóúñ]", reply), reply


def test_case_1_agrees_with_a_plural_subject_and_carries_every_value(workspace):
    spanish(workspace)
    workspace.open_incident(case=1, lang="es", author="@maria_garcia", source="https://x.com/maria_garcia/status/1",
                            what="los fallos en los pagos con tarjeta en comercios")
    text = payloads(workspace, "--case", "1", "--template", "external-causes",
                    "--var", "cause=una avería en la red de nuestro proveedor de pagos")["web"]
    assert "surgió por circunstancias ajenas" not in text and "Eso no hace menores" not in text
    assert "Los fallos en los pagos con tarjeta en comercios se deben a una avería" in text
    assert "resolverlos" in text and "resolverlo " not in text
    reply = payloads(workspace, "--case", "1", "--template", "reply", "--channel", "outbox",
                     "--var", "cause=una avería en la red de nuestro proveedor de pagos",
                     "--var", "eta=hoy antes de las 20:00")["outbox"]
    assert "una avería en la red de nuestro proveedor de pagos" in reply and "hoy antes de las 20:00" in reply


def test_a_value_the_variant_drops_is_an_error_naming_it(workspace):
    workspace.open_incident(case=1, author="@maria_garcia", source="https://x.com/maria_garcia/status/1")
    output = refused(workspace, "--case", "1", "--template", "reply", "--channel", "outbox",
                     "--var", "solved=we refunded the double charge", "--var", "eta=before 20:00 today")
    assert "eta" in output and "never drops a value" in output


def test_the_summary_is_never_published_as_a_fragment(workspace):
    workspace.open_incident(case=2, what=None, summary="los pagos con tarjeta fallan")
    output = refused(workspace, "--case", "2", "--template", "apology")
    assert "--what" in output and "--summary is never published" in output
    workspace.open_incident(case=1, what=None, summary="los pagos con tarjeta fallan")
    resolution = refused(workspace, "--case", "1", "--template", "resolution", "--solution", "we added a backup")
    assert "--what" in resolution
    text = payloads(workspace, "--case", "1", "--template", "resolution", "--solution", "we added a backup",
                    "--var", "what=the card payment outage")["web"]
    assert "fallan" not in text and text.startswith("We have resolved the card payment outage.")


def test_english_values_in_a_spanish_statement_need_allow_language(workspace):
    spanish(workspace, "[cases.3]\nfreeze_on_open = false\n")
    workspace.open_incident(case=3, lang="es", what="la filtración de datos de clientes")
    leak = ["--case", "3", "--template", "apology", "--var", "since=el 28 de noviembre",
            "--var", "advice=cambiar la contraseña y desconfiar de los correos que pidan datos",
            "--var", "notified_authority=la Agencia Española de Protección de Datos",
            "--var", "contact=privacidad@acme.example"]
    output = refused(workspace, *leak, "--var", "affected=the e-mail addresses of 2,000 customers")
    assert "affected" in output and "--allow-language" in output
    text = payloads(workspace, *leak, "--var", "affected=the e-mail addresses of 2,000 customers",
                    "--allow-language")["web"]
    assert "the e-mail addresses of 2,000 customers" in text
    solution = refused(workspace, "--case", "3", "--template", "resolution", *leak[4:],
                       "--var", "affected=el correo de 2.000 clientes",
                       "--solution", "Certificates now renew automatically")
    assert "Certificates now renew automatically" in solution and "--allow-language" in solution


def test_the_next_update_is_never_promised_in_the_past(workspace):
    """`make demo` published "Próxima actualización: las 14:00." at 17:22; now the time is computed
    from the render time and the case's cadence, and a time given by hand must be later than now."""
    spanish(workspace, "[cases.2]\nupdate_every = 2\n")
    workspace.open_incident(case=2, lang="es", what="la caída del sistema de pagos", hours_ago=3)
    past = (datetime.now(timezone.utc) - timedelta(minutes=30)).isoformat(timespec="minutes")
    assert "no es posterior a ahora" in refused(workspace, "--case", "2", "--template", "apology",
                                           "--var", f"next_update={past}")
    before = datetime.now(timezone.utc)
    text = payloads(workspace, "--case", "2", "--template", "apology")["web"]
    match = re.search(r"la próxima actualización el (\d+) de (\w+) a las (\d\d):(\d\d)", text)
    assert match, text
    from zoneinfo import ZoneInfo

    local = before.astimezone(ZoneInfo("Europe/Madrid"))
    months = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
              "noviembre", "diciembre"]
    promised = local.replace(month=months.index(match.group(2)) + 1, day=int(match.group(1)),
                             hour=int(match.group(3)), minute=int(match.group(4)), second=0, microsecond=0)
    if promised < local - timedelta(days=300):
        promised = promised.replace(year=promised.year + 1)
    assert timedelta(hours=2) <= promised - local <= timedelta(hours=2, minutes=15)


@pytest.mark.parametrize("what, words", [
    ("la caída del sistema de pagos", ["resolverla", "tenerla resuelta"]),
    ("el retraso en los envíos", ["resolverlo", "tenerlo resuelto"]),
    ("las interrupciones del servicio", ["resolverlas", "tenerlas resueltas"]),
])
def test_pronouns_agree_with_what_happened(workspace, what, words):
    spanish(workspace)
    workspace.open_incident(case=2, lang="es", what=what)
    text = payloads(workspace, "--case", "2", "--template", "apology", "--var", "eta=hoy antes de las 20:00")["web"]
    assert all(word in text for word in words), text


def test_a_spanish_what_without_its_article_is_refused_where_a_statement_agrees_with_it(workspace):
    spanish(workspace, '[channels.cabinet]\ntype = "outbox"\npath = "var/cabinet"\naudience = "internal"\n')
    workspace.open_incident(case=4, lang="es", what="rumores sobre nuestras tarifas")
    output = refused(workspace, "--case", "4", "--template", "reassurance", "--var", f"facts={FACTS}")
    assert "artículo" in output and "rumores sobre nuestras tarifas" in output
    brief = payloads(workspace, "--case", "4", "--template", "advisor")
    assert "cabinet" in brief


def test_a_draft_whose_promised_update_has_passed_is_neither_approved_nor_sent(workspace):
    """Rendered at 14:22 promising 16:30, approved at 17:30: it would be read as a promise broken."""
    spanish(workspace, "[cases.2]\nupdate_every = 2\n")
    workspace.open_incident(case=2, lang="es", what="la caída del sistema de pagos", hours_ago=3)
    draft = workspace.render("--case", "2", "--template", "apology")

    def late() -> datetime:
        return datetime.now(timezone.utc) + timedelta(hours=2, minutes=30)

    before = workspace.events()
    refused_approval = workspace.run("approve", draft, "--as", "ana", clock=late)
    assert refused_approval.exit_code == 2, refused_approval.output
    assert f"el borrador {draft} promete la próxima actualización" in refused_approval.output
    assert "ya ha pasado" in refused_approval.output and "Traceback" not in refused_approval.output
    assert workspace.events() == before

    assert workspace.run("freeze", "--reason", "revisión del gabinete").exit_code == 0
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
    assert workspace.run("unfreeze", "--reason", "revisado", "--as", "ana").exit_code == 0
    before = workspace.events()
    refused_send = workspace.run("send", draft, clock=late)
    assert refused_send.exit_code == 2 and "ya ha pasado" in refused_send.output, refused_send.output
    assert [kind for _, kind in workspace.events()[len(before):]] == []
    again = workspace.render("--case", "2", "--template", "apology", clock=late)
    assert again != draft
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 0, verified.output


def test_a_statement_without_a_promise_keeps_no_promised_time(workspace):
    spanish(workspace)
    workspace.open_incident(case=2, lang="es", what="la caída del sistema de pagos", hours_ago=3)
    draft = workspace.render("--case", "2", "--template", "resolution", "--solution", "Hemos cambiado el proveedor")
    shown = json.loads(workspace.run("draft", "show", draft, "--json").output)
    assert "promises" not in shown.get("draft", shown)
