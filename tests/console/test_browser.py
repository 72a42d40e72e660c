"""The cabinet's console in a real browser: Debian's Chromium (Playwright pointed at
it) with the DevTools virtual authenticator. Invite, enrol a passkey, log in, open a
pending draft at 390x844 (the passkey confirmed first by another approver, comparing its fingerprint), approve it with the passkey, watch it reach the outbox and
the statements page, then `publish log verify` re-checks the passkey signature.
Screenshots at phone and desktop width go to tests/artefacts/console/."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.console.support import configure, free_port, running_console

pytestmark = pytest.mark.servers

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts" / "console"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]

THREAD = """
[channels.thread]
type = "outbox"
path = "var/thread"
variant = "short"
max_length = 120
counting = "x"
overflow = "thread"
"""

playwright_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs the playwright package")
if not Path(CHROMIUM).exists():  # pragma: no cover
    pytest.skip("Debian's chromium is not installed (make chromium)", allow_module_level=True)


def add_authenticator(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})


def shot(page, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_invite_enrol_login_approve_deliver_verify(workspace):
    port = free_port()
    configure(workspace, port, extra=THREAD)
    incident = workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", user="marta")
    invited = workspace.run("users", "invite", "ana", user="luis")
    assert invited.exit_code == 0, invited.output
    link = invited.output.strip().splitlines()[-1]
    assert link.startswith(f"http://localhost:{port}/enrol/")

    with running_console(workspace.path, port), playwright_api.sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        complaints: list[str] = []
        page.on("console", lambda message: complaints.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: complaints.append(str(error)))
        add_authenticator(page)
        page.goto(link)
        shot(page, "1-enrol-phone")
        device = page.get_by_label("This device's name")
        assert device.input_value(), "the device's name defaults to the browser's platform"
        device.fill("ana's phone")
        page.get_by_role("button", name="Create my passkey").click()
        page.wait_for_url("**/enrolled/**")
        fingerprint = page.locator(".fingerprint").inner_text()
        assert "ana's phone" in page.content().replace("&#39;", "'")
        shot(page, "1b-enrolled-waits-for-confirmation-phone")
        confirmed = workspace.run("users", "confirm", "ana", "--fingerprint", fingerprint, user="luis")
        assert confirmed.exit_code == 0, confirmed.output
        page.reload()
        page.get_by_role("link", name="Log in").last.click()
        page.wait_for_url("**/login")
        page.get_by_role("button", name="Log in with a passkey").click()
        page.wait_for_url(f"http://localhost:{port}/")
        shot(page, "2-incidents-phone")
        page.get_by_role("link", name=f"#{incident}").click()
        page.wait_for_url(f"**/incidents/{incident}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "2b-incident-phone")
        page.get_by_role("link", name=draft[:12]).first.click()
        page.wait_for_url(f"**/drafts/{draft}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.locator(".preview .part").count() >= 2
        shot(page, "3-draft-pending-phone")
        page.get_by_role("button", name="Approve with my passkey").click()
        page.wait_for_url(f"**/drafts/{draft}")
        page.locator("#progress .status", has_text="delivered").wait_for(timeout=30000)
        shot(page, "4-draft-delivered-phone")
        page.set_viewport_size({"width": 1280, "height": 900})
        shot(page, "5-draft-delivered-desktop")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"http://localhost:{port}/incidents/{incident}?lang=es")
        page.get_by_role("heading", name=f"Incidencia #{incident}").wait_for()
        shot(page, "6-incident-spanish-phone")
        browser.close()
    assert complaints == [], complaints

    outbox = list((workspace.path / "var" / "outbox").rglob("*"))
    assert any(path.is_file() for path in outbox)
    statements = json.loads((workspace.path / "var" / "site" / "statements.json").read_text(encoding="utf-8"))
    assert draft in json.dumps(statements)
    approvals = [row for row in workspace.db().execute(
        "SELECT body FROM events WHERE json_extract(body, '$.kind') = 'draft.approved'")]
    approval = json.loads(approvals[0][0])
    assert approval["actor"] == "ana" and approval["data"]["signature"]["scheme"] == "webauthn"
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 0, verified.output
