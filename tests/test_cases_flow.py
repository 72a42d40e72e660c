"""The four cases of the playbook (seeds/000) through the real CLI, with the clock
injected: every step is either done by the tool or tracked on the checklist."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.fakes.x_api import FakeX

pytestmark = pytest.mark.servers

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
X_SECRETS = {"X_API_KEY": "xk-1", "X_API_SECRET": "xs-2", "X_ACCESS_TOKEN": "1580661436132757506-xt",
             "X_ACCESS_SECRET": "xa-4"}
SOURCE = "https://x.com/maria_garcia/status/1861234567890123456"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Cabinet:
    """The crisis cabinet at work: every command at a chosen hour after the first message."""

    def __init__(self, workspace, env: dict[str, str] | None = None):
        self.ws = workspace
        self.clock = Clock()
        self.env = env or {}

    def at(self, hours: float) -> "Cabinet":
        self.clock.now = T0 + timedelta(hours=hours)
        return self

    def run(self, *args: str, user: str = "marta"):
        return self.ws.run(*args, user=user, env=self.env, clock=self.clock)

    def ok(self, *args: str, user: str = "marta"):
        result = self.run(*args, user=user)
        assert result.exit_code == 0, result.output
        return result

    def open(self, case: int, *flags: str) -> str:
        result = self.ok("incident", "open", "--case", str(case), "--first-seen", T0.isoformat(),
                         "--summary", "a payment outage that blocked card purchases", "--what", "the card payment outage",
                         *flags, "--json")
        return json.loads(result.output)["id"]

    def render(self, *args: str) -> str:
        return json.loads(self.ok(*args, "--json").output)["draft"]["id"]

    def status(self, incident: str = "1") -> dict:
        return json.loads(self.ok("status", incident, "--json").output)[0]

    def steps(self, incident: str = "1") -> dict[str, str]:
        return {item["id"]: item["state"] for item in self.status(incident)["checklist"]}


X_CONFIG = """
[channels.x]
type = "x"
api_url = "{url}"
username = "acme_es"
api_key = "${{X_API_KEY}}"
api_secret = "${{X_API_SECRET}}"
access_token = "${{X_ACCESS_TOKEN}}"
access_token_secret = "${{X_ACCESS_SECRET}}"
"""


@pytest.fixture
def x_platform(workspace):
    fake = FakeX(*X_SECRETS.values(), username="acme_es").start()
    workspace.write_config(extra=X_CONFIG.format(url=fake.url))
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def cabinet(workspace):
    return Cabinet(workspace, X_SECRETS)


def test_case_1_reply_answers_the_source_post_on_its_platform(cabinet, x_platform):
    cabinet.open(1, "--source", SOURCE, "--author", "@maria_garcia", "--platform", "x")
    cabinet.at(1).ok("done", "trace-source", "--note", "original post by @maria_garcia, retweeted by a blog")
    preview = cabinet.at(2).ok("--case", "1", "--template", "reply")
    assert f"Replies to {SOURCE} on: x" in preview.output
    draft = cabinet.render("--case", "1", "--template", "reply")
    shown = json.loads(cabinet.ok("drafts", "show", draft, "--json").output)["draft"]
    assert list(shown["payloads"]) == ["x"] and shown["reply_to"] == SOURCE
    cabinet.at(3).ok("approve", draft, "--as", "ana")
    (tweet,) = x_platform.tweets.values()
    assert tweet["in_reply_to"] == "1861234567890123456" and "@maria_garcia" in tweet["text"]
    steps = cabinet.steps()
    assert steps["reply"] == "done" and steps["trace-source"] == "done"
    # case 1's response is the explanation of the outside cause: the reply to one user is not it
    assert steps["prepare"] == "due" and steps["explain"] == "due" and steps["publish"] == "due"
    assert steps["contact-customer"] == "due"


def test_case_1_external_causes_goes_to_every_channel_and_passes(cabinet, x_platform):
    cabinet.open(1, "--source", SOURCE, "--platform", "x", "--author", "@maria_garcia")
    draft = cabinet.at(4).render("--case", "1", "--template", "external-causes", "--var",
                                 "cause=a failure in our payment provider's network")
    cabinet.at(5).ok("approve", draft, "--as", "luis")
    status = cabinet.status()
    assert {channel["name"]: channel["state"] for channel in status["channels"]} == {
        "web": "delivered", "outbox": "delivered", "x": "delivered"}
    assert status["prepared"]["verdict"] == "PASS" and status["published"]["verdict"] == "PASS"
    assert cabinet.steps()["explain"] == "done"
    assert (cabinet.ws.path / "var" / "outbox" / f"{draft}--outbox.txt").exists()


def test_a_reply_with_no_channel_on_the_source_platform_is_refused(cabinet):
    cabinet.open(1, "--source", "https://www.facebook.com/acme/posts/42", "--author", "Luis")
    result = cabinet.run("--case", "1", "--template", "reply")
    assert result.exit_code == 2
    assert "the source post is on facebook, but no enabled channel has type = 'facebook'" in result.output


def test_a_reply_needs_a_source_post(cabinet):
    cabinet.open(1, "--author", "@maria_garcia")
    result = cabinet.run("--case", "1", "--template", "reply")
    assert result.exit_code == 2 and "give --reply-to URL_OR_ID" in result.output


def test_case_2_notice_apology_updates_and_resolution(cabinet, tmp_path):
    cabinet.open(2)
    notice = cabinet.at(1).render("--case", "2", "--template", "notice")
    cabinet.ok("approve", notice, "--as", "ana")
    apology = cabinet.at(5).render("--case", "2", "--template", "apology")
    cabinet.ok("approve", apology, "--as", "ana")
    steps = cabinet.steps()
    assert steps["notice"] == "done" and steps["apology"] == "done" and steps["publish"] == "done"
    assert steps["update"] == "due" and steps["resolution"] == "due"
    stale = cabinet.at(8).status()["warnings"]
    assert any("no update yet, more than 6 h ([cases.2] update_every)" in note for note in stale)
    update = cabinet.render("--case", "2", "--template", "update", "--var", "progress=card payments work again")
    cabinet.ok("approve", update, "--as", "luis")
    assert not any("update_every" in note for note in cabinet.at(13).status()["warnings"])
    later = cabinet.at(15).status()["warnings"]
    assert any("the last update is 7 h 00 min old, more than 6 h" in note for note in later)

    refused = cabinet.run("--case", "2", "--template", "resolution")
    assert refused.exit_code == 2
    assert "a resolution must list every solution" in refused.output and "--solution TEXT" in refused.output
    listed = tmp_path / "solutions.txt"
    listed.write_text("# agreed by the cabinet\na second payment provider as fallback\n\n"
                      "- monthly load tests of the gateway\n", encoding="utf-8")
    resolution = cabinet.render("--case", "2", "--template", "resolution", "--solution",
                                "outage alerts reviewed every five minutes", "--solutions-file", str(listed))
    text = json.loads(cabinet.ok("drafts", "show", resolution, "--json").output)["draft"]["payloads"]["web"]["parts"][0]
    for solution in ("Outage alerts reviewed every five minutes", "A second payment provider as fallback",
                     "Monthly load tests of the gateway"):
        assert f"- {solution}." in text
    cabinet.ok("approve", resolution, "--as", "ana")
    cabinet.ok("incident", "resolve", "1")
    assert cabinet.steps()["resolution"] == "done"


def test_solutions_belong_to_a_resolution_only(cabinet):
    cabinet.open(2)
    result = cabinet.run("--case", "2", "--template", "apology", "--solution", "more servers")
    assert result.exit_code == 2 and "--template apology takes none" in result.output
    missing = cabinet.run("--case", "2", "--template", "resolution", "--solutions-file", "nowhere.txt")
    assert missing.exit_code == 2 and "--solutions-file nowhere.txt: cannot read it" in missing.output


def test_case_3_opens_frozen_and_moderates_daily(cabinet):
    # the statement waits 28 h in the freeze: a case whose next update is three days ahead,
    # so what it promises has not passed when it is finally sent
    cabinet.ws.write_config(extra="[cases.3]\nupdate_every = 72\n")
    opened = cabinet.ok("incident", "open", "--case", "3", "--first-seen", T0.isoformat(),
                        "--summary", "a leak of customer e-mail addresses", "--what", "the leak of customer emails")
    assert "Publishing is frozen" in opened.output
    draft = cabinet.at(2).render("--case", "3", "--template", "apology", "--var", "affected=customer emails",
                                 "--var", "advice=change your password", "--var", "since=1 December",
                                 "--var", "notified_authority=the ICO", "--var", "contact=privacy@acme.example")
    held = cabinet.run("approve", draft, "--as", "ana")
    assert held.exit_code == 0 and "Publishing is frozen since" in held.output
    assert f"The draft waits: after `publish unfreeze`, `publish send {draft}` sends it." in held.output
    assert not (cabinet.ws.path / "var" / "outbox").exists()
    cabinet.at(3).ok("done", "leak-origin", "--note", "a shared folder left public")
    cabinet.at(5).ok("done", "moderation")
    again = cabinet.run("done", "moderation")
    assert again.exit_code == 2 and "already done for day 1" in again.output
    items = [(item["id"], item["title"], item["state"]) for item in cabinet.at(30).status()["checklist"]]
    moderation = [(title.rsplit("(", 1)[1], state) for step, title, state in items if step == "moderation"]
    assert moderation == [("day 1)", "done"), ("day 2)", "due")]
    steps = dict((step, state) for step, _, state in items)
    assert steps["freeze"] == "done" and steps["leak-origin"] == "done" and steps["prepare"] == "done"
    waiting = cabinet.ok("unfreeze", "--reason", "leak contained, statement agreed", "--as", "ana")
    assert f"publish send {draft}" in waiting.output
    cabinet.ok("send", draft)
    assert cabinet.steps()["apology"] == "done"
    assert cabinet.at(31).status()["frozen"] is None


CABINET_CHANNEL = """
[channels.cabinet]
type = "outbox"
path = "var/cabinet"
audience = "internal"
"""


def test_case_4_briefs_the_advisor_and_may_decide_to_ignore(cabinet):
    cabinet.ws.write_config(extra=CABINET_CHANNEL)
    opened = cabinet.ok("incident", "open", "--case", "4", "--first-seen", T0.isoformat(), "--source",
                        SOURCE, "--author", "@rival_corp", "--summary", "a rival's smear campaign")
    assert "PR advisor brief" in opened.output and "on cabinet: delivered" in opened.output
    (brief,) = (cabinet.ws.path / "var" / "cabinet").glob("*--cabinet.txt")
    assert "a rival's smear campaign" in brief.read_text() and "@rival_corp" in brief.read_text()
    assert not (cabinet.ws.path / "var" / "site").exists() and not (cabinet.ws.path / "var" / "outbox").exists()
    refused = cabinet.at(3).run("decide", "ignore", "--reason", "not worth it", "--as", "marta")
    assert refused.exit_code == 2 and "only an approver" in refused.output
    cabinet.ok("decide", "ignore", "--reason", "the advisor says answering feeds the troll", "--as", "luis")
    status = cabinet.at(60).status()
    assert status["published"]["verdict"] == "WAIVED" and status["published"]["waived"]["by"] == "luis"
    steps = {item["id"]: item for item in status["checklist"]}
    assert steps["advisor"]["state"] == "done" and steps["decide"]["state"] == "done"
    assert steps["publish"]["state"] == "waived" and steps["prevention"]["state"] == "due"
    cabinet.ok("done", "prevention", "--note", "monitoring of rival accounts, pre-approved answers")
    text = cabinet.ok("status", "1").output
    assert "Published: WAIVED by decision not to answer (luis" in text
    assert "Decision: luis decided not to answer" in text


def test_only_case_4_can_decide_not_to_answer(cabinet):
    cabinet.open(2)
    result = cabinet.run("decide", "ignore", "--reason", "quiet", "--as", "ana")
    assert result.exit_code == 2 and "case 2 (technical fault, clearly ours) requires an answer" in result.output


def test_single_severity_requires_the_reply_only(cabinet, x_platform):
    cabinet.open(2, "--source", SOURCE, "--platform", "x", "--author", "@maria_garcia", "--severity", "single")
    assert set(cabinet.steps()) == {"trace-source", "prepare", "reply"}
    draft = cabinet.at(2).render("--case", "2", "--template", "reply")
    cabinet.ok("approve", draft, "--as", "ana")
    status = cabinet.status()
    assert [channel["name"] for channel in status["channels"]] == ["x"]
    assert status["published"]["verdict"] == "PASS" and cabinet.steps()["reply"] == "done"
    assert "the 48 h proof covers x." in cabinet.ok("status").output
    report = cabinet.ok("report", "1", "--format", "html").output
    assert "Severity single (an isolated complaint)" in report and "x.com/acme_es/status/" in report


def test_case_4_without_an_internal_channel_says_how_to_brief_the_advisor(cabinet):
    opened = cabinet.ok("incident", "open", "--case", "4", "--first-seen", T0.isoformat())
    assert "WARNING: the PR advisor was not briefed: the advisor brief goes to the internal channels" in opened.output
    assert "publish --case 4 --template advisor" in opened.output
    assert cabinet.steps()["advisor"] == "due"
    public = cabinet.run("--case", "4", "--template", "advisor", "--channel", "web")
    assert public.exit_code == 2 and "--channel web is a public channel" in public.output


def test_deciding_to_respond_after_all_restores_the_deadlines(cabinet):
    cabinet.ws.write_config(extra=CABINET_CHANNEL)
    cabinet.open(4)
    cabinet.at(1).ok("decide", "ignore", "--reason", "advisor: ignore it", "--as", "ana")
    twice = cabinet.run("decide", "ignore", "--reason", "again", "--as", "luis")
    assert twice.exit_code == 2 and "already decided to ignore" in twice.output
    answer = cabinet.at(20).ok("decide", "respond", "--reason", "it reached the press", "--as", "luis")
    assert "decided to answer incident 1 after all" in answer.output
    status = cabinet.status()
    assert status["published"]["verdict"] == "DUE" and status["prepared"]["verdict"] == "LATE"
    assert status["decision"]["decision"] == "respond" and status["decision"]["by"] == "luis"


def test_a_reply_on_a_channel_that_cannot_reply_is_posted_as_a_new_message(cabinet):
    cabinet.open(1, "--source", SOURCE, "--author", "@maria_garcia")
    preview = cabinet.ok("--case", "1", "--template", "reply", "--channel", "web", "--dry-run")
    assert "Posted as a new message (the channel cannot reply) on: web" in preview.output
