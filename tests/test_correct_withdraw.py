"""`publish correct` and `publish withdraw` end to end, through the real channels against
their loopback fakes (Mastodon, Telegram, X) and the statements page: a correction is
approved like any statement and applied as an edit where the platform can edit, as a
reply where it can only answer; a withdrawal is an approver's signed action that deletes
where the platform can, keeps a notice on the statements page, takes the statement out
of the 48 h proof and shows in status and the report."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.fakes.mastodon_api import FakeMastodon, temporary_problem
from tests.fakes.server import Reply
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.x_api import FakeX
from tests.test_cases_flow import X_SECRETS, Cabinet
from tests.trust_support import allowed_signers, forged_signature, make_keys, rewrite_log, turn_signing_on

pytestmark = pytest.mark.servers

SECRETS = {**X_SECRETS, "MASTODON_TOKEN": "CANARY-mastodon-cw-77", "TG_TOKEN": "7012345678:CANARY-tg-cw-88"}
EDIT = """import pathlib, sys
path = pathlib.Path(sys.argv[1])
path.write_text(path.read_text(encoding="utf-8").replace({old!r}, {new!r}), encoding="utf-8")
"""
OLD, NEW = "apologize", "apologise"


class Platforms:
    def __init__(self) -> None:
        self.mastodon = FakeMastodon(token=SECRETS["MASTODON_TOKEN"])
        self.telegram = FakeTelegram(token=SECRETS["TG_TOKEN"])
        self.x = FakeX(*X_SECRETS.values(), username="acme_es")

    def config(self) -> str:
        return f"""
[channels.x]
type = "x"
api_url = "{self.x.url}"
username = "acme_es"
api_key = "${{X_API_KEY}}"
api_secret = "${{X_API_SECRET}}"
access_token = "${{X_ACCESS_TOKEN}}"
access_token_secret = "${{X_ACCESS_SECRET}}"

[channels.telegram]
type = "telegram"
api_url = "{self.telegram.url}"
chat = "@citywater"
token = "${{TG_TOKEN}}"

[channels.mastodon]
type = "mastodon"
instance = "{self.mastodon.url}"
token = "${{MASTODON_TOKEN}}"
"""


@pytest.fixture
def platforms(workspace):
    found = Platforms()
    with found.mastodon, found.telegram:
        found.x.start()
        try:
            workspace.write_config(extra=found.config())
            yield found
        finally:
            found.x.stop()


@pytest.fixture
def delivered(workspace, platforms, tmp_path):
    """Incident 1 (case 2) with its apology approved at hour 2 and delivered everywhere."""
    script = tmp_path / "edit.py"
    script.write_text(EDIT.format(old=OLD, new=NEW), encoding="utf-8")
    cabinet = Cabinet(workspace, {**SECRETS, "EDITOR": f"{sys.executable} {script}", "VISUAL": ""})
    cabinet.open(2)
    draft = cabinet.at(1).render("--case", "2", "--template", "apology")
    cabinet.at(2).ok("approve", draft, "--as", "ana")
    assert cabinet.status()["published"]["verdict"] == "PASS"
    return cabinet, draft


def kinds(cabinet: Cabinet) -> list[dict]:
    return json.loads(cabinet.ok("log", "--json").output)


def test_a_correction_is_approved_then_edited_in_place_or_posted_as_a_reply(delivered, platforms):
    cabinet, draft = delivered
    made = json.loads(cabinet.at(5).ok("correct", draft, "--json").output)
    correction = made["draft"]
    assert made["corrects"] == draft and made["changed"] is True
    assert made["how"] == {"web": "edit", "x": "reply", "telegram": "edit", "mastodon": "edit"}
    assert "outbox" in made["skipped"] and "can neither edit a post nor reply to one" in made["skipped"]["outbox"]
    assert not [event for event in kinds(cabinet) if event["kind"] == "statement.corrected"]

    applied = cabinet.at(6).ok("approve", correction, "--as", "luis")
    assert "corrected in place" in applied.output and "posted as a reply" in applied.output
    [status] = [status for status in platforms.mastodon.statuses.values() if status["edited_at"]]
    assert NEW in status["content"]
    assert NEW in platforms.telegram.sent[0]["text"] and platforms.telegram.sent[0].get("edit_date")
    corrected = {event["channel"]: event["data"] for event in kinds(cabinet) if event["kind"] == "statement.corrected"}
    assert {name: data["how"] for name, data in corrected.items()} == {
        "web": "edit", "x": "reply", "telegram": "edit", "mastodon": "edit"}
    assert corrected["mastodon"]["id"] == status["id"] and corrected["mastodon"]["corrects"] == draft
    assert corrected["mastodon"]["platform_time"] == status["edited_at"]
    x_receipt = next(event for event in kinds(cabinet) if event["kind"] == "delivery.delivered"
                     and event["channel"] == "x" and event["draft"] == draft)["data"]["id"]
    reply = [request for request in platforms.x.requests if request.method == "POST"][-1].json()
    assert reply["reply"]["in_reply_to_tweet_id"] == x_receipt and NEW in reply["text"]
    page = next((cabinet.ws.path / "var" / "site" / "statements").glob("*.html")).read_text(encoding="utf-8")
    assert NEW in page

    status_out = cabinet.ok("status", "1").output
    assert f"draft {draft} on mastodon: corrected by {correction}, edited in place" in status_out
    assert cabinet.status()["published"]["verdict"] == "PASS"
    report = json.loads(cabinet.ok("report", "1", "--format", "json").output)
    [original] = [item for item in report["drafts"] if item["id"] == draft]
    assert {change["channel"] for change in original["changes"]} == {"web", "x", "telegram", "mastodon"}
    assert "posted as a reply to the original post" in cabinet.ok("report", "1").output


def test_a_withdrawal_deletes_keeps_a_notice_and_leaves_the_48h_proof(delivered, platforms):
    cabinet, draft = delivered
    operator = cabinet.at(10).run("withdraw", draft, "--reason", "wrong figure", "--as", "marta")
    assert operator.exit_code == 2 and len(operator.output.strip().splitlines()) == 1
    assert "approver" in operator.output
    assert not [event for event in kinds(cabinet) if event["kind"].startswith(("withdrawal.", "statement.withdrawn"))]

    done = cabinet.ok("withdraw", draft, "--reason", "wrong figure", "--as", "ana", "--channel", "mastodon",
                      "--channel", "telegram", "--channel", "web", "--channel", "outbox")
    assert not platforms.mastodon.statuses and platforms.mastodon.deleted
    assert platforms.telegram.deleted and not platforms.telegram.sent
    assert "outbox (outbox) cannot delete a post through its API" in done.output
    withdrawn = {event["channel"]: event["data"] for event in kinds(cabinet) if event["kind"] == "statement.withdrawn"}
    assert {name: data["how"] for name, data in withdrawn.items()} == {
        "mastodon": "deleted", "telegram": "deleted", "web": "deleted", "outbox": "cannot"}
    assert withdrawn["web"]["reason"] == "wrong figure" and withdrawn["web"]["platform_time"]
    assert withdrawn["outbox"]["platform_time"] is None and withdrawn["mastodon"]["draft_id"] == draft
    site = cabinet.ws.path / "var" / "site"
    for page in (site / "index.html", next((site / "statements").glob("*.html")), site / "feed.xml"):
        assert "Withdrawn on" in page.read_text(encoding="utf-8") and "wrong figure" in page.read_text(encoding="utf-8")

    status = cabinet.status()
    states = {channel["name"]: channel["state"] for channel in status["channels"]}
    assert states["mastodon"] == "withdrawn" and states["x"] == "delivered"
    assert status["published"]["done_at"] is None
    assert cabinet.at(49).status()["published"]["verdict"] == "LATE"
    out = cabinet.ok("status", "1").output
    assert f"draft {draft} on mastodon: withdrawn by ana (wrong figure), deleted on the platform" in out

    report_md = cabinet.ok("report", "1").output
    assert "Corrections and withdrawals of statements" in report_md and "to be removed by hand" in report_md
    html = cabinet.ok("report", "1", "--format", "html").output
    assert "Corrections and withdrawals of statements" in html and "wrong figure" in html
    report = json.loads(cabinet.ok("report", "1", "--format", "json").output)
    [original] = [item for item in report["drafts"] if item["id"] == draft]
    assert {change["channel"] for change in original["changes"] if change["kind"] == "withdrawn"} == {
        "mastodon", "telegram", "web", "outbox"}

    deletes = len(platforms.mastodon.deleted)
    again = cabinet.ok("withdraw", draft, "--reason", "again", "--as", "luis", "--channel", "mastodon")
    assert "already withdrawn" in again.output and len(platforms.mastodon.deleted) == deletes
    assert [event["kind"] for event in kinds(cabinet)].count("withdrawal.requested") == 1
    assert cabinet.ok("log", "verify").exit_code == 0


def test_a_withdrawal_that_fails_is_taken_up_again(delivered, platforms):
    cabinet, draft = delivered
    platforms.mastodon.queue(temporary_problem())
    failed = cabinet.at(10).run("withdraw", draft, "--reason", "wrong figure", "--as", "ana", "--channel", "mastodon")
    assert failed.exit_code == 1 and "not withdrawn yet from mastodon" in failed.output
    assert SECRETS["MASTODON_TOKEN"] not in failed.output
    assert platforms.mastodon.statuses
    kinds_now = [event["kind"] for event in kinds(cabinet)]
    assert kinds_now.index("withdrawal.started") < kinds_now.index("withdrawal.failed")
    cabinet.ok("withdraw", draft, "--reason", "wrong figure", "--as", "ana", "--channel", "mastodon")
    assert not platforms.mastodon.statuses
    assert cabinet.status()["published"]["done_at"] is None


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed")
def test_with_signing_on_an_unsigned_withdrawal_is_refused(workspace, platforms, tmp_path: Path):
    keys = make_keys(tmp_path / "keys", "ana", "luis", "mallory")
    allowed_signers(workspace, keys, "ana", "luis")
    turn_signing_on(workspace)
    cabinet = Cabinet(workspace, SECRETS)
    cabinet.open(2)
    draft = cabinet.at(1).render("--case", "2", "--template", "apology")
    cabinet.at(2).ok("approve", draft, "--as", "ana", "--key", str(keys["ana"]))
    unsigned = cabinet.at(3).run("withdraw", draft, "--reason", "wrong", "--as", "ana", "--channel", "mastodon",
                                 "--key", str(tmp_path / "missing"))
    assert unsigned.exit_code == 2 and len(unsigned.output.strip().splitlines()) == 1
    assert "must be signed" in unsigned.output and platforms.mastodon.statuses
    assert "withdrawal.requested" not in [event["kind"] for event in kinds(cabinet)]
    data = {"reason": "hide it", "channels": ["telegram"]}
    rewrite_log(workspace, append=(
        {"kind": "withdrawal.requested", "actor": "ana", "incident": "1", "draft": draft,
         "data": {**data, "signature": forged_signature("withdraw", draft, data, "ana", keys["mallory"])}},
        {"kind": "statement.withdrawn", "incident": "1", "draft": draft, "channel": "telegram",
         "data": {"draft_id": draft, "channel": "telegram", "reason": "hide it", "how": "deleted",
                  "platform_time": None, "request": len(workspace.events()) + 1, "answer": None}}))
    assert {c["name"]: c["state"] for c in cabinet.status()["channels"]}["telegram"] == "delivered"
    forged = cabinet.run("log", "verify")
    assert forged.exit_code == 1 and "withdrawal.requested" in forged.output
    wrong = cabinet.run("withdraw", draft, "--reason", "wrong", "--as", "ana", "--channel", "mastodon",
                        "--key", str(keys["luis"]))
    assert wrong.exit_code == 2 and "nothing was recorded" in wrong.output and platforms.mastodon.statuses
    cabinet.ok("withdraw", draft, "--reason", "wrong", "--as", "ana", "--channel", "mastodon",
               "--key", str(keys["ana"]))
    assert not platforms.mastodon.statuses
    [event] = [e for e in kinds(cabinet) if e["kind"] == "withdrawal.requested" and e["data"]["reason"] == "wrong"]
    assert event["data"]["signature"]["scheme"] == "ssh" and event["actor"] == "ana"


def test_a_crash_mid_withdrawal_is_taken_up_again(delivered, platforms):
    """The process dies the moment Mastodon receives the DELETE (before it acts): the log
    has the signed request and the intent, status says the withdrawal is not finished,
    and running the command again deletes the post."""
    cabinet, draft = delivered
    answer = platforms.mastodon.handler
    running: list[subprocess.Popen] = []

    def crash_on_delete(request):
        if request.method == "DELETE" and running:
            os.kill(running.pop().pid, signal.SIGKILL)
            return Reply(503, {"error": "gone"})
        return answer(request)

    platforms.mastodon.handler = crash_on_delete
    env = {**os.environ, **SECRETS, "PUBLISH_WORKSPACE": str(cabinet.ws.path), "PUBLISH_USER": "ana"}
    process = subprocess.Popen([sys.executable, "-m", "publisher", "withdraw", draft, "--reason", "wrong figure",
                                "--channel", "mastodon"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    running.append(process)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert platforms.mastodon.statuses
    cabinet.clock.now = datetime.now(timezone.utc)
    logged = [event["kind"] for event in kinds(cabinet)]
    assert logged[-2:] == ["withdrawal.requested", "withdrawal.started"]
    assert f"draft {draft} on mastodon: withdrawal not finished" in cabinet.ok("status", "1").output

    platforms.mastodon.handler = answer
    cabinet.ok("withdraw", draft, "--reason", "wrong figure", "--as", "ana", "--channel", "mastodon")
    assert not platforms.mastodon.statuses
    out = cabinet.ok("status", "1").output
    assert "withdrawal not finished" not in out and "withdrawn by ana (wrong figure)" in out
