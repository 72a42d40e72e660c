"""Every console page is valid HTML and accessible, in Chromium: the Nu HTML Checker
(vnu, `make a11y`: the npm package vnu-jar, run with java) finds no error in any page as
the server sends it, and axe-core (the npm package, injected into the page) finds no
serious or critical violation at 390x844 and 1280x900; no page is wider than the
phone. The pages: log in, enrolment, an enrolled passkey, "Awaiting me", an incident
(frozen, with a checklist), a new incident, a draft waiting for approval (a thread, the
changes from the draft it supersedes), a delivered draft, the log, the people, the
phone's notices (Web Push), the report, the inbox and a heard item (with hostile text
from its source), in English and in Spanish."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.console.support import configure, free_port, running_console
from tests.console.test_browser import CHROMIUM, FLAGS, THREAD, add_authenticator, shot
from tests.html_validator import vnu_errors, vnu_missing

pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = ({"width": 390, "height": 844}, {"width": 1280, "height": 900})
SERIOUS = """async () => {
  const found = await axe.run(document, {resultTypes: ["violations"]});
  return found.violations.filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => v.id + ": " + v.help + " @ " + v.nodes.map(n => n.target.join(" ")).join(" | "));
}"""

playwright_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs the playwright package")
if vnu_missing() or not AXE.exists():  # pragma: no cover
    pytest.skip("vnu-jar, axe-core or java is missing (make a11y)", allow_module_level=True)


def _decision_bar_in_reach(page, name: str) -> None:
    """On a phone, the text comes first and the approve button stays at the bottom of the
    screen while the text scrolls under it."""
    button = page.locator(".actionbar button.primary")
    for scrolled in (0, 600):
        page.evaluate(f"window.scrollTo(0, {scrolled})")
        box = button.bounding_box()
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= VIEWPORTS[0]["height"], box
    page.evaluate("window.scrollTo(0, 0)")
    first_text = page.locator(".preview").first.bounding_box()
    assert first_text is not None and first_text["y"] < button.bounding_box()["y"]
    page.screenshot(path=str(shot(page, name)).replace(".png", "-screen.png"))


def _heard_items(workspace, incident: str) -> None:
    """An item of the incident, assigned, and one from the workspace's stream answering it,
    with an HTML injection and control characters in its author's name and text."""
    from publisher.workspace.app import App

    def heard(number: int, text: str, author: str, **more: object) -> dict:
        return {"key": f"x:{number}", "source": "x", "platform": "x", "id": str(number), "text": text,
                "author": author, "url": f"https://x.example/status/{number}", "platform_time": "2026-12-05T09:00:00Z",
                "read_at": "2026-12-05T09:00:05Z", "answers": None, "extra": {}, "rule": "@pepe", **more}

    App(workspace.path).store.append_heard("x", [
        (incident, heard(1, "@acme I cannot pay since yesterday", "pepe")),
        (None, heard(2, 'one\n<script>alert("x")</script>\x00\x1b[2J \u202eowt', '<img src=x onerror=alert(1)>\x07Eve',
                     answers="1", url="javascript:alert(1)", sentiment="negative"))])
    assert workspace.run("inbox", "assign", "x:1", "luis").exit_code == 0


def test_every_console_page_passes_vnu_and_axe_at_phone_and_desktop_width(workspace, tmp_path):
    port = free_port()
    configure(workspace, port, extra=THREAD)
    base = f"http://localhost:{port}"
    incident = workspace.open_incident(case=2, hours_ago=13)
    first = workspace.render("--case", "2", "--template", "apology", user="marta")
    draft = workspace.render("--case", "2", "--template", "apology", "--lang", "es",
                             "--var", "what=la caída de los pagos con tarjeta", user="marta")
    delivered = workspace.render("--case", "2", "--template", "update", "--var", "progress=cards work again",
                                 user="marta")
    assert workspace.run("approve", delivered, user="luis").exit_code == 0
    assert workspace.run("freeze", "--reason", "tracing a leak", user="luis").exit_code == 0
    link = workspace.run("users", "invite", "ana", user="luis").output.strip().splitlines()[-1]
    assert workspace.run("notices", "vapid").exit_code == 0
    _heard_items(workspace, incident)
    served: dict[str, str] = {}
    problems: list[str] = []

    with running_console(workspace.path, port), playwright_api.sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport=VIEWPORTS[0], bypass_csp=True).new_page()
        add_authenticator(page)

        def check(name: str, url: str | None = None) -> None:
            if url is not None:
                page.goto(url)
            served[name] = page.request.get(page.url).text()
            for size in VIEWPORTS:
                page.set_viewport_size(size)
                page.add_script_tag(path=str(AXE))
                problems.extend(f"{name} {size['width']}px: {found}" for found in page.evaluate(SERIOUS))
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > size["width"]:
                    problems.append(f"{name} {size['width']}px: the page is {width}px wide")
            shot(page, f"a11y-{name}")
            page.set_viewport_size(VIEWPORTS[0])

        check("login", f"{base}/login")
        check("enrol", link)
        page.get_by_role("button", name="Create my passkey").click()
        page.wait_for_url("**/enrolled/**")
        check("enrolled")
        fingerprint = page.locator(".fingerprint").inner_text()
        assert workspace.run("users", "confirm", "ana", "--fingerprint", fingerprint, user="luis").exit_code == 0
        page.goto(f"{base}/login")
        page.get_by_role("button", name="Log in with a passkey").click()
        page.wait_for_url(f"{base}/")
        for language in ("en", "es"):
            check(f"awaiting-{language}", f"{base}/?lang={language}")
            check(f"incident-{language}", f"{base}/incidents/{incident}")
            check(f"incident-new-{language}", f"{base}/incidents/new")
            check(f"draft-{language}", f"{base}/drafts/{draft}")
            _decision_bar_in_reach(page, f"draft-bar-{language}")
            check(f"draft-delivered-{language}", f"{base}/drafts/{delivered}")
            check(f"log-{language}", f"{base}/log")
            check(f"people-{language}", f"{base}/people")
            check(f"phone-{language}", f"{base}/phone")
            check(f"report-{language}", f"{base}/incidents/{incident}/report")
            check(f"inbox-{language}", f"{base}/inbox")
            check(f"incident-inbox-{language}", f"{base}/incidents/{incident}/inbox?unanswered=1")
            check(f"item-{language}", f"{base}/inbox/x:1")
            check(f"item-hostile-{language}", f"{base}/inbox/x:2")
        assert first != draft
        browser.close()

    assert problems == [], "\n".join(problems)
    assert vnu_errors(served, tmp_path) == []
