"""Issue 22, "Done when": a night in the control room, in Chromium at 390x844.

marta renders a draft on the command line; ana's phone (the console, with its service
worker, subscribed on /phone) gets a Web Push that reaches the push-service stand-in on
loopback, which checks the VAPID JWT and decrypts it with the subscription's keys
(RFC 8292, RFC 8291); Chromium delivers it to the service worker through DevTools
(`ServiceWorker.deliverPushMessage`), which shows it. ana does not acknowledge; after
the escalation time (an injected clock, shared by the commands and the console) luis is
told on Telegram, acknowledges through his link, reads the text and approves with his
passkey; a case 3 incident opens and its freeze holds the approved draft, and while it
holds, no internal channel but the allowed one receives anything (nor e-mail, nor
Telegram); luis lifts the freeze and sends from the console; the statements page shows
the statement; `log verify` passes; the report's timeline shows each notice,
acknowledgement and escalation. Every page visited passes vnu and axe-core; screenshots
of each step go to tests/artefacts/console/night-*.png.

Headless Chromium has no push service of its own, so `pushManager.subscribe` is refused
there: the test then posts a subscription made by the stand-in to `/phone/subscribe`
from ana's page, as the page's script does with the browser's."""
from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest

from tests.console.support import Clock, configure, free_port, running_console
from tests.console.test_browser import CHROMIUM, FLAGS, add_authenticator, shot
from tests.console.test_valid_accessible import AXE, SERIOUS
from tests.html_validator import vnu_errors, vnu_missing
from tests.fakes.push_service import FakePushService
from tests.fakes.server import FakeServer, Reply
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_api import FakeTelegram
from tests.test_notices_escalation import LUIS_CHAT, TOKEN, config

pytestmark = pytest.mark.servers

playwright_api = pytest.importorskip("playwright.sync_api", reason="the night test needs the playwright package")

PHONE = {"width": 390, "height": 844}
SECURE = """
[channels.cabinet-console]
type = "slack"
audience = "internal"
webhook_url = "${SECURE_WEBHOOK}"

[freeze]
allow = ["cabinet-console"]
"""
PUSH_CONTACT = '\n[notices]\npush_contact = "mailto:crisis@acme.example"\n'



def run(workspace, clock: Clock, *args: str, user: str = "marta") -> str:
    result = workspace.run(*args, user=user, clock=clock)
    assert result.exit_code == 0, (args, result.output)
    return result.output


class Phone:
    """One person's phone: a browser context at 390x844 with its own passkey."""

    def __init__(self, browser, base: str, name: str, served: dict[str, str], problems: list[str]):
        self.context = browser.new_context(viewport=PHONE, bypass_csp=True)
        self.context.grant_permissions(["notifications"], origin=base)
        self.page = self.context.new_page()
        self.name, self.base, self.served, self.problems = name, base, served, problems
        self.complaints: list[str] = []
        self.page.on("pageerror", lambda error: self.complaints.append(str(error)))
        add_authenticator(self.page)

    def check(self, step: str) -> None:
        """vnu (the page as served) and axe at 390x844; never wider than the phone; a screenshot."""
        self.served[f"{step} {self.page.url}"] = self.page.request.get(self.page.url).text()
        self.page.add_script_tag(path=str(AXE))
        self.problems.extend(f"{step}: {found}" for found in self.page.evaluate(SERIOUS))
        width = self.page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            self.problems.append(f"{step}: the page is {width}px wide")
        shot(self.page, f"night-{step}")

    def enrol(self, link: str) -> str:
        self.page.goto(link)
        self.page.get_by_label("This device's name").fill(f"{self.name}'s phone")
        self.page.get_by_role("button", name="Create my passkey").click()
        self.page.wait_for_url("**/enrolled/**")
        return self.page.locator(".fingerprint").inner_text()

    def login(self) -> None:
        self.page.goto(f"{self.base}/login")
        self.page.get_by_role("button", name="Log in with a passkey").click()
        self.page.wait_for_url(f"{self.base}/")


def _until(page, check, seconds: float = 20.0):
    """Wait for `check()` to be true, letting the browser's events in meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        page.wait_for_timeout(100)
    return check()


def _kinds(workspace) -> list[str]:
    return [kind for _, kind in workspace.events()]


def test_a_night_in_the_control_room(workspace, tmp_path, monkeypatch):
    if vnu_missing() or not AXE.exists():  # pragma: no cover
        pytest.skip(vnu_missing() or "axe-core is missing (make a11y)")
    port = free_port()
    base = f"http://localhost:{port}"
    clock = Clock()
    served: dict[str, str] = {}
    problems: list[str] = []
    with SmtpServer("none") as smtp, FakeTelegram(token=TOKEN) as telegram, FakePushService() as push, \
            FakeServer(lambda request: Reply(200, "ok", {"Content-Type": "text/html"})) as cabinet, \
            FakeServer(lambda request: Reply(200, "ok", {"Content-Type": "text/html"})) as secure:
        telegram.chats[str(LUIS_CHAT)] = {"id": LUIS_CHAT, "first_name": "Luis", "type": "private"}
        monkeypatch.setenv("TG_TOKEN", TOKEN)
        monkeypatch.setenv("CABINET_WEBHOOK", f"{cabinet.url}/services/T0/B0/secret")
        monkeypatch.setenv("SECURE_WEBHOOK", f"{secure.url}/services/T0/B1/secret")
        configure(workspace, port, extra=config(smtp, telegram, SECURE + PUSH_CONTACT))
        links = {name: run(workspace, clock, "users", "invite", name, user="ana" if name == "luis" else "luis")
                 .strip().splitlines()[-1] for name in ("ana", "luis")}

        with running_console(workspace.path, port, clock), playwright_api.sync_playwright() as play:
            browser = play.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            ana = Phone(browser, base, "ana", served, problems)
            luis = Phone(browser, base, "luis", served, problems)
            for phone, confirmer in ((ana, "luis"), (luis, "ana")):
                fingerprint = phone.enrol(links[phone.name])
                run(workspace, clock, "users", "confirm", phone.name, "--fingerprint", fingerprint, user=confirmer)
                phone.login()
            run(workspace, clock, "people", "add", "ana", "--email", "ana@acme.example", user="ana")
            run(workspace, clock, "people", "add", "luis", "--telegram", str(LUIS_CHAT), user="ana")
            key = re.search(r"([A-Za-z0-9_-]{86,88})\.?$", run(workspace, clock, "notices", "vapid").strip()).group(1)

            # ana installs the console on her phone and turns notices on.
            ana.page.goto(f"{base}/phone")
            ana.check("01-ana-phone-page")
            ana.page.get_by_role("button", name="Receive notices on this phone").click()
            refused = ana.page.locator("section[data-push] .error[role=alert]")
            real = _until(ana.page, lambda: refused.is_visible() or "push.subscribed" in _kinds(workspace), 30)
            assert real, "the page either subscribed or said why not"
            if "push.subscribed" in _kinds(workspace):  # a Chromium with a push service of its own: not ours
                ana.page.goto(f"{base}/phone")
                ana.page.get_by_role("button", name=re.compile("Stop notices on")).click()
                ana.page.wait_for_url(f"{base}/phone")
            registration = ana.page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
            assert registration == f"{base}/"
            subscription = push.subscribe(key)
            posted = ana.page.evaluate("""(body) => fetch("/phone/subscribe", {method: "POST",
                credentials: "same-origin", headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content},
                body: JSON.stringify(body)}).then(r => r.status)""",
                {"subscription": subscription, "device": "ana's phone"})
            assert posted == 200
            ana.page.goto(f"{base}/phone")
            assert "ana's phone" in ana.page.content().replace("&#39;", "'")
            ana.check("02-ana-subscribed")

            # 03:00 marta renders a draft on the command line: ana's phone is told at once.
            first_seen = (clock.now - timedelta(hours=1)).isoformat(timespec="seconds")
            run(workspace, clock, "incident", "open", "--case", "2", "--first-seen", first_seen, "--summary",
                "a payment outage that blocked card purchases", "--what", "the card payment outage")
            draft = workspace.render("--case", "2", "--template", "apology", "--channel", "web", user="marta",
                                     clock=clock)
            [pushed] = push.delivered
            assert pushed["endpoint"] == subscription["endpoint"] and draft in pushed["payload"]["body"]
            assert "/ack/" in pushed["payload"]["url"] and not smtp.received and not telegram.requests

            cdp = ana.context.new_cdp_session(ana.page)
            workers: dict[str, str] = {}
            cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: workers.update(
                {item["scopeURL"]: item["registrationId"] for item in event["registrations"]}))
            cdp.send("ServiceWorker.enable")
            _until(ana.page, lambda: workers.get(f"{base}/"))
            cdp.send("ServiceWorker.deliverPushMessage", {"origin": base, "registrationId": workers[f"{base}/"],
                                                           "data": json.dumps(pushed["payload"])})
            shown = _until(ana.page, lambda: ana.page.evaluate("""navigator.serviceWorker.ready.then(r => r.getNotifications())
                .then(list => list.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url})))"""))
            assert shown and shown[0]["tag"] == f"rendered:{draft}" and draft in shown[0]["body"], shown
            assert shown[0]["url"] == pushed["payload"]["url"]
            ana.page.goto(f"{base}/")
            ana.check("03-ana-told-does-not-answer")

            # 16 minutes later nobody has answered: the next round tells luis on Telegram.
            clock.advance(minutes=16)
            assert f"rendered:{draft}#1" in run(workspace, clock, "notices", "send")
            [told] = [FakeTelegram.params(request) for request in telegram.requests
                      if request.path.endswith("/sendMessage")]
            assert str(told["chat_id"]) == str(LUIS_CHAT) and "Nobody has acknowledged" in told["text"]
            link = re.search(r"https?://\S+/ack/[\w-]+", told["text"]).group(0)
            luis.page.goto(link)
            luis.check("04-luis-told")
            luis.page.get_by_role("button", name="I am on it (luis)").click()
            luis.page.get_by_text("Acknowledged by luis").wait_for()
            luis.check("05-luis-acknowledged")

            luis.page.goto(f"{base}/drafts/{draft}")
            text = luis.page.locator(".preview").first.inner_text()
            assert "card payment outage" in text
            luis.check("06-luis-reads-the-text")
            luis.page.goto(f"{base}/incidents/1")
            luis.check("07-incident-freeze-form")

            # A leak: marta opens a case 3 incident, which freezes everything but the cabinet's secure path.
            before = {"cabinet": len(cabinet.requests), "mail": len(smtp.received), "telegram": len(telegram.requests)}
            run(workspace, clock, "incident", "open", "--case", "3", "--first-seen", clock.now.isoformat(timespec="seconds"),
                "--summary", "customer data seen outside", "--what", "a leak of customer data")
            luis.page.goto(f"{base}/drafts/{draft}")
            with luis.page.expect_navigation():
                luis.page.get_by_role("button", name="Approve with my passkey").click()
            _until(luis.page, lambda: "draft.approved" in _kinds(workspace))
            assert "delivery.delivered" not in _kinds(workspace)
            luis.check("08-approved-held-by-the-freeze")
            update = workspace.render("--case", "2", "--template", "update", "--incident", "1", "--var",
                                      "progress=cards work again", "--channel", "web", user="marta", clock=clock)
            for _ in range(3):
                clock.advance(minutes=16)
                run(workspace, clock, "notices", "send")
            assert len(cabinet.requests) == before["cabinet"], "a held internal channel received a notice"
            assert len(smtp.received) == before["mail"] and len(telegram.requests) == before["telegram"]
            assert any(update in request.json()["text"] for request in secure.requests), "the allowed one carries it"
            assert f"rendered:{update}" in [item["payload"]["tag"] for item in push.delivered], "the push is not held"

            # luis lifts the freeze and sends from the console.
            luis.page.goto(f"{base}/")
            luis.check("09-awaiting-a-freeze-to-lift")
            luis.page.get_by_label("Why the freeze is lifted").fill("the leak is traced and closed")
            luis.page.get_by_label("Send the approved drafts that waited").uncheck()
            with luis.page.expect_navigation():
                luis.page.get_by_role("button", name="Lift the freeze with my passkey").click()
            luis.page.goto(f"{base}/drafts/{draft}")
            luis.page.get_by_role("button", name="Send with my passkey").click()
            luis.page.locator("#progress .status", has_text="delivered").wait_for(timeout=30000)
            luis.check("10-sent-from-the-console")
            site = workspace.path / "var" / "site"
            luis.page.goto((site / "index.html").as_uri())
            assert "card payment outage" in luis.page.content()
            shot(luis.page, "night-11-statements-page")
            luis.page.goto(f"{base}/incidents/1/report")
            luis.check("12-report")
            assert ana.complaints == [] and luis.complaints == [], ana.complaints + luis.complaints
            browser.close()

    assert problems == [], "\n".join(problems)
    assert vnu_errors(served, tmp_path) == []
    statements = json.loads((site / "statements.json").read_text(encoding="utf-8"))
    assert draft in json.dumps(statements)
    verified = workspace.run("log", "verify", clock=clock)
    assert verified.exit_code == 0, verified.output
    report = run(workspace, clock, "report", "1", "--format", "md")
    timeline = report[report.index("imeline"):]
    assert f"Notice rendered:{draft} sent to ana (Web Push to their phone)" in timeline
    assert f"Notice rendered:{draft} not acknowledged: escalated (step 1) to luis (tg)" in timeline
    assert f"Notice rendered:{draft} acknowledged by luis (the link it carried)" in timeline
    assert f"Notice rendered:{update} sent to ana (Web Push to their phone)" in timeline
    assert "cabinet-console" in timeline[timeline.index(f"Notice rendered:{update} not acknowledged"):]
