"""The console's frame: read commands and --help never load it, the wheel ships its
templates, static files and catalogue, the interface switches to Spanish, and an
operator opens an incident and renders a draft from a phone."""
from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.console.support import HttpConsole, configure, free_port

pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_MODULES = ("starlette", "uvicorn", "webauthn", "publisher.web", "cbor2")
PROBE = """
import sys
from publisher.cli import cli
try:
    cli(sys.argv[1:], prog_name="publish")
except SystemExit:
    pass
print("MODULES", sorted(m for m in sys.modules if m.startswith({modules!r})))
"""


def https_console(workspace) -> HttpConsole:
    configure(workspace, free_port())
    path = workspace.path / "config" / "publisher.toml"
    path.write_text(re.sub(r'base_url = "http://localhost:\d+"', 'base_url = "https://console.test"',
                           path.read_text(encoding="utf-8")), encoding="utf-8")
    return HttpConsole(workspace)


def test_help_and_read_commands_do_not_load_the_console(workspace):
    workspace.open_incident(case=2)
    env = {"PUBLISH_WORKSPACE": str(workspace.path), "PUBLISH_USER": "marta", "PATH": "/usr/bin:/bin"}
    for args in (["--help"], ["status"], ["log", "-n", "5"], ["incident", "list"], ["users", "--help"]):
        result = subprocess.run([sys.executable, "-c", PROBE.format(modules=CONSOLE_MODULES), *args],
                                capture_output=True, text=True, cwd=ROOT, env=env)
        assert "Traceback" not in result.stderr, result.stderr
        assert result.stdout.strip().splitlines()[-1] == "MODULES []", (args, result.stdout[-300:])


def test_the_wheel_ships_the_console_files(tmp_path):
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)], cwd=ROOT,
                   check=True, capture_output=True)
    names = zipfile.ZipFile(next(tmp_path.glob("*.whl"))).namelist()
    for wanted in ("publisher/web/templates/draft.html", "publisher/web/static/htmx.min.js",
                   "publisher/web/static/console.js", "publisher/web/static/console.css",
                   "publisher/locale/es/LC_MESSAGES/publish.po"):
        assert wanted in names, wanted


def test_the_interface_speaks_spanish_when_asked(workspace):
    console = https_console(workspace)
    client = console.login("vera")
    page = client.get("/?lang=es")
    assert '<html lang="es">' in page.text and "Incidencias" in page.text
    assert "publish_lang=es" in page.headers.get("set-cookie", "")
    assert "Incidencias" in client.get("/").text
    assert "Incidents" in client.get("/?lang=en").text


def test_an_operator_opens_an_incident_and_renders_a_draft(workspace):
    console = https_console(workspace)
    client = console.login("marta")
    token = console.csrf(client, "/incidents/new")
    first_seen = console.clock.now.isoformat(timespec="seconds")
    opened = client.post("/incidents", data={"csrf": token, "case": "2", "first_seen": first_seen,
                                             "summary": "card payments fail", "what": "the card payment outage"})
    assert opened.status_code == 303
    incident_path = opened.headers["location"]
    page = client.get(incident_path)
    assert "card payments fail" in page.text and "apology" in page.text
    rendered = client.post(f"{incident_path}/render", data={"csrf": token, "template": "apology"})
    assert rendered.status_code == 303 and rendered.headers["location"].startswith("/drafts/")
    draft = client.get(rendered.headers["location"]).text
    assert "characters" in draft and "awaiting approval" in draft
    assert "We apologize for the card payment outage." in draft
    assert "Approve with my passkey" not in draft
    events = [kind for _, kind in workspace.events()]
    assert events.count("incident.opened") == 1 and events.count("draft.rendered") == 1
    assert [row[0] for row in workspace.db().execute(
        "SELECT json_extract(body, '$.actor') FROM events WHERE json_extract(body, '$.kind') = 'draft.rendered'")] \
        == ["marta"]


def test_a_bad_form_is_one_sentence_not_a_traceback(workspace):
    console = https_console(workspace)
    client = console.login("marta")
    token = console.csrf(client, "/incidents/new")
    answer = client.post("/incidents", data={"csrf": token, "case": "2", "first_seen": "yesterday"})
    assert answer.status_code == 400 and "first-seen" in answer.text.lower()
    assert "Traceback" not in answer.text and "incident.opened" not in [k for _, k in workspace.events()]


def test_times_are_shown_in_the_organisations_time_zone(workspace):
    console_path = workspace.path / "config" / "publisher.toml"
    https_console(workspace)
    console_path.write_text(console_path.read_text(encoding="utf-8").replace(
        'language = "en"', 'language = "en"\ntimezone = "Europe/Madrid"'), encoding="utf-8")
    console = HttpConsole(workspace)
    incident = workspace.open_incident(case=2)
    page = console.login("vera").get(f"/incidents/{incident}").text
    assert re.search(r"\d\d:\d\d CES?T", page)


def test_a_draft_page_shows_changes_from_the_draft_it_supersedes_and_other_platforms(workspace):
    console = https_console(workspace)
    incident = workspace.open_incident(case=2)
    first = workspace.render("--case", "2", "--template", "apology", "--incident", incident, user="marta")
    second = workspace.render("--case", "2", "--template", "apology", "--incident", incident, "--lang", "es",
                              "--var", "what=la caída de los pagos con tarjeta", user="marta")
    page = console.login("vera").get(f"/drafts/{second}").text
    assert f"Changes from draft {first}" in page
    assert '<span class="del">-We apologize' in page and '<span class="add">+' in page
    for platform in ("x", "mastodon", "telegram", "facebook", "email"):
        assert f"<strong>{platform}</strong>" in page
    assert "UTF-16 units" in page and "/280 X weighted characters" in page


def test_every_console_page_is_in_the_readme():
    from publisher.web import auth_pages, draft_pages, incident_pages, log_pages  # noqa: F401
    from publisher.web.routing import ROUTES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for spec in ROUTES:
        if "GET" in spec.methods:
            assert f"`{spec.path}`" in readme, f"the console page {spec.path} is not in README.md"


def test_a_late_clock_says_how_late_and_is_marked_late(workspace):
    console = https_console(workspace)
    workspace.open_incident(case=2, hours_ago=13)
    page = console.login("vera").get("/").text
    assert re.search(r'class="clock late">Prepare:\s*1\.0 h late', page)
    assert re.search(r'class="clock due">Publish:\s*35\.0 h left', page)


def test_an_operator_marks_a_step_done_from_the_incident_page(workspace):
    console = https_console(workspace)
    incident = workspace.open_incident(case=2)
    client = console.login("marta")
    page = client.get(f"/incidents/{incident}").text
    assert 'name="step" value="trace-source"' in page
    token = console.csrf(client, "/")
    answer = client.post(f"/incidents/{incident}/done", data={"csrf": token, "step": "trace-source",
                                                               "note": "a customer's post on X"})
    assert answer.status_code == 303
    done = console.app.store.events(kind="step.done")
    assert [(event.actor, event.data["step"]) for event in done] == [("marta", "trace-source")]
    assert 'name="step" value="trace-source"' not in client.get(f"/incidents/{incident}").text


def test_a_value_in_another_language_needs_the_consoles_allow_language_box(workspace):
    console = https_console(workspace)
    client = console.login("marta")
    incident = workspace.open_incident(case=2)
    token = console.csrf(client, f"/incidents/{incident}")
    assert 'name="allow_language"' in client.get(f"/incidents/{incident}").text
    form = {"csrf": token, "template": "resolution",
            "variables": "- Los certificados se renuevan ahora automáticamente cada noche sin intervención"}
    refused = client.post(f"/incidents/{incident}/render", data=form)
    assert refused.status_code == 400 and "--allow-language" in refused.text and "Traceback" not in refused.text
    assert "draft.rendered" not in [kind for _, kind in workspace.events()]
    allowed = client.post(f"/incidents/{incident}/render", data={**form, "allow_language": "1"})
    assert allowed.status_code == 303 and allowed.headers["location"].startswith("/drafts/")
    assert "Los certificados se renuevan" in client.get(allowed.headers["location"]).text
