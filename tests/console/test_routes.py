"""Every console route for every role and for an anonymous visitor; CSRF refusals;
the security headers, no inline script and no secret on any page."""
from __future__ import annotations

import re

import pytest

from publisher.web.routing import ROUTES
from tests.console.support import HttpConsole, configure, free_port

pytestmark = [pytest.mark.servers, pytest.mark.both_stores]

ROLES = {"anonymous": None, "viewer": "vera", "operator": "marta", "approver": "ana"}
CANARY = "https://hooks.example/CANARY-7f3a9c"
INTERNAL = """
[channels.cabinet]
type = "slack"
audience = "internal"
webhook_url = "${CABINET_WEBHOOK}"
"""


@pytest.fixture
def console(workspace, monkeypatch):
    monkeypatch.setenv("CABINET_WEBHOOK", CANARY)
    configure(workspace, free_port(), extra=INTERNAL)
    path = workspace.path / "config" / "publisher.toml"
    text = re.sub(r'base_url = "http://localhost:\d+"', 'base_url = "https://console.test"',
                  path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    incident = workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", "--channel", "web", "--channel", "outbox",
                             user="marta")
    made = HttpConsole(workspace)
    made.params = {"incident": incident, "draft": draft, "token": made.invite("luis"), "credential": "unknown",
                   "name": "vera", "change": "1"}
    return made


def allowed(role: str, action: str | None) -> bool:
    from publisher.incident.authority import may

    return action is None or (role != "anonymous" and may(CONSOLE_CONFIG[0], ROLES[role], action))


CONSOLE_CONFIG: list = []


def test_every_route_for_every_role(console):
    CONSOLE_CONFIG[:] = [console.app]
    specs = sorted(ROUTES, key=lambda spec: spec.path == "/logout")
    seen = 0
    for role, person in ROLES.items():
        client = console.login(person) if person else console.client()
        token = console.csrf(client, "/login")
        for spec in specs:
            path = re.sub(r"\{(\w+)\}", lambda match: console.params[match.group(1)], spec.path)
            for method in spec.methods:
                answer = client.request(method, path, headers={"X-CSRF-Token": token}, json={})
                seen += 1
                where = f"{role} {method} {spec.path} -> {answer.status_code}"
                if allowed(role, spec.action):
                    assert answer.status_code not in (401, 403), where
                elif role == "anonymous":
                    expected = 303 if method == "GET" else 401
                    assert answer.status_code == expected, where
                    if method == "GET":
                        assert answer.headers["location"].startswith("/login"), where
                else:
                    assert answer.status_code == 403, where
    assert seen == 4 * sum(len(spec.methods) for spec in ROUTES)


def test_every_route_is_listed_with_a_known_permission():
    from publisher.incident.authority import PERMISSIONS

    known = set().union(*PERMISSIONS.values())
    assert {spec.action for spec in ROUTES} - {None} <= known
    assert len({(spec.path, method) for spec in ROUTES for method in spec.methods}) == \
        sum(len(spec.methods) for spec in ROUTES)


def test_a_state_change_without_the_csrf_token_is_refused(console, workspace):
    client = console.login("marta")
    other = console.login("ana")
    stolen = console.csrf(other, "/")
    before = workspace.events()
    form = {"case": "2", "first_seen": "2026-01-01T00:00:00+00:00", "confirm": "1"}
    assert client.post("/incidents", data=form).status_code == 403
    assert client.post("/incidents", data={**form, "csrf": "0" * 64}).status_code == 403
    assert client.post("/incidents", data=form, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/incidents", data={**form, "csrf": stolen}).status_code == 403
    assert workspace.events() == before
    accepted = client.post("/incidents", data={**form, "csrf": console.csrf(client, "/")})
    assert accepted.status_code == 303 and len(workspace.events()) == len(before) + 1


def test_pages_carry_the_security_headers_no_inline_script_and_no_secret(console):
    client = console.login("ana")
    pages = ["/", f"/incidents/{console.params['incident']}", f"/drafts/{console.params['draft']}", "/log",
             f"/drafts/{console.params['draft']}/progress", f"/incidents/{console.params['incident']}/report",
             "/incidents/new", "/inbox", f"/incidents/{console.params['incident']}/inbox"]
    for path in pages:
        answer = client.get(path)
        assert answer.status_code in (200, 403), path
        csp = answer.headers["content-security-policy"]
        assert "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src")[-1].split(";")[0] if "script-src" in csp else True
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", answer.text), path
        assert not re.search(r"\son[a-z]+\s*=", answer.text), path
        assert "CANARY-7f3a9c" not in answer.text, path
    assert "CANARY-7f3a9c" not in client.get("/static/console.js").text


def test_htmx_and_the_passkey_script_are_served_by_the_app(console):
    client = console.client()
    script = client.get("/static/htmx.min.js")
    assert script.status_code == 200 and "htmx" in script.text[:200]
    page = client.get("/login").text
    assert 'src="/static/htmx.min.js"' in page and "http" not in re.findall(r'src="([^"]+)"', page)[0]
