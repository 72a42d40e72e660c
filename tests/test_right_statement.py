"""Attack 6 of issue 21: verdicts rested on the wrong statement. A prepared PASS cited
the unsigned approval of a draft that was superseded and never sent; a `notice` alone
satisfied the 48 h verdict while the apology was pending; nothing said which statement
is "the response". Now each case's playbook names the template kinds that are the
response for each clock (`[cases.N.response]`), a superseded or rejected draft never
counts, and `status` and the report (JSON, Markdown, HTML) name the draft each verdict
rests on with its signature state, or the kinds that would satisfy it. SQLite and
PostgreSQL (one log shared by the cabinet's machines)."""
from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime, timedelta, timezone

import pytest

from tests.trust_support import allowed_signers, make_keys, turn_signing_on

pytestmark = pytest.mark.both_stores

EDIT = """import pathlib, sys
path = pathlib.Path(sys.argv[1])
path.write_text(path.read_text(encoding="utf-8").replace("The Acme team", "The Acme crisis team"), encoding="utf-8")
"""


class Cabinet:
    """Every command at a chosen hour after a first negative message 56 h before real
    time, so no command is dated ahead of the PostgreSQL server's clock. The case promises
    its next update three days ahead, so a statement rendered at hour 2 and approved at
    hour 50 promises no time already past (which would refuse its approval)."""

    def __init__(self, workspace, case: int):
        config = workspace.path / "config" / "publisher.toml"
        config.write_text(config.read_text(encoding="utf-8") + f"\n[cases.{case}]\nupdate_every = 72\n",
                          encoding="utf-8")
        self.ws = workspace
        self.start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=56)
        self.now = self.start
        result = self.run("incident", "open", "--case", str(case), "--first-seen", self.start.isoformat(),
                          "--summary", "a payment outage that blocked card purchases",
                          "--what", "the payment outage", "--json")
        assert result.exit_code == 0, result.output

    def at(self, hours: float) -> "Cabinet":
        self.now = self.start + timedelta(hours=hours)
        return self

    def run(self, *args: str, env: dict[str, str] | None = None):
        return self.ws.run(*args, env=env, clock=lambda: self.now)

    def ok(self, *args: str, env: dict[str, str] | None = None):
        result = self.run(*args, env=env)
        assert result.exit_code == 0, result.output
        return result

    def render(self, *args: str) -> str:
        return json.loads(self.ok(*args, "--json").output)["draft"]["id"]

    def status(self) -> dict:
        return json.loads(self.ok("status", "1", "--json").output)[0]

    def report(self, fmt: str = "json"):
        output = self.ok("report", "1", "--format", fmt).output
        return json.loads(output) if fmt == "json" else output


def rests_on(clock: dict) -> list[tuple[str, str, list[tuple[str, str | None]]]]:
    return [(basis["draft"], basis["template"], [(item["by"], item["scheme"]) for item in basis["approvals"]])
            for basis in clock["rests_on"]]


def test_a_superseded_never_sent_drafts_unsigned_approval_no_longer_makes_prepared_pass(workspace, tmp_path):
    cabinet = Cabinet(workspace, 2)
    cabinet.at(1).ok("freeze", "--reason", "legal reviews every statement", "--as", "ana")
    first = cabinet.at(2).render("--case", "2", "--template", "apology")
    cabinet.at(3).ok("approve", first, "--as", "ana")
    script = tmp_path / "edit.py"
    script.write_text(EDIT, encoding="utf-8")
    edited = cabinet.at(20).ok("drafts", "edit", first, "--json",
                               env={"EDITOR": f"{sys.executable} {script}", "VISUAL": ""})
    second = json.loads(edited.output)["draft"]
    assert json.loads(cabinet.ok("drafts", "show", first, "--json").output)["status"] == f"superseded by {second}"

    status = cabinet.at(21).status()
    assert status["prepared"]["verdict"] == "LATE" and status["prepared"]["done_at"] is None
    assert status["prepared"]["rests_on"] == [] and status["prepared"]["kinds"] == ["notice", "apology"]
    text = cabinet.ok("status", "1").output
    prepared_line = next(line for line in text.splitlines() if line.startswith("Prepared"))
    assert "LATE" in prepared_line and first not in prepared_line
    assert "only drafts of kind notice or apology count" in prepared_line
    assert cabinet.report()["prepared"]["verdict"] == "FAIL"

    cabinet.at(22).ok("approve", second, "--as", "luis")
    status = cabinet.status()
    assert status["prepared"]["verdict"] == "FAIL" and status["prepared"]["after_hours"] == 22
    assert rests_on(status["prepared"]) == [(second, "apology", [("luis", None)])]
    markdown = cabinet.report("md")
    verdict_row = next(line for line in markdown.splitlines() if line.startswith("| prepared (approved)"))
    assert f"rests on draft {second} (apology), unsigned, self-declared by luis" in verdict_row
    assert first not in verdict_row


def test_a_notice_delivered_alone_does_not_publish_the_apology_case(workspace):
    cabinet = Cabinet(workspace, 2)
    notice = cabinet.at(1).render("--case", "2", "--template", "notice")
    cabinet.ok("approve", notice, "--as", "ana")
    apology = cabinet.at(2).render("--case", "2", "--template", "apology")
    assert json.loads(cabinet.ok("drafts", "show", notice, "--json").output)["status"] == "delivered"

    status = cabinet.at(49).status()
    assert status["published"]["verdict"] == "LATE" and status["published"]["done_at"] is None
    assert status["prepared"]["verdict"] == "PASS"
    assert rests_on(status["prepared"]) == [(notice, "notice", [("ana", None)])]
    assert status["published"]["kinds"] == ["apology"] and status["published"]["rests_on"] == []
    assert {(channel["name"], channel["state"], channel["draft"]) for channel in status["channels"]} == {
        ("web", "not sent", None), ("outbox", "not sent", None)}
    steps = {item["id"]: item["state"] for item in status["checklist"]}
    assert steps["notice"] == "done" and steps["publish"] == "late" and steps["apology"] == "late"
    published_line = next(line for line in cabinet.ok("status", "1").output.splitlines()
                          if line.startswith("Published"))
    assert "LATE" in published_line and "only drafts of kind apology count" in published_line
    report = cabinet.report()
    assert report["published"]["verdict"] == "FAIL"
    assert [row["verdict"] for row in report["channels"]] == ["FAIL", "FAIL"]

    cabinet.at(50).ok("approve", apology, "--as", "luis")
    status = cabinet.status()
    assert status["published"]["verdict"] == "FAIL" and status["published"]["after_hours"] == 50
    assert rests_on(status["published"]) == [(apology, "apology", [("luis", None)])]
    html = cabinet.report("html")
    assert f"rests on draft {apology} (apology), unsigned, self-declared by luis" in html


def test_a_rejected_draft_counts_for_neither_verdict(workspace):
    cabinet = Cabinet(workspace, 2)
    cabinet.at(1).ok("freeze", "--reason", "legal reviews every statement", "--as", "ana")
    rejected = cabinet.at(2).render("--case", "2", "--template", "apology")
    cabinet.ok("approve", rejected, "--as", "ana")
    cabinet.at(3).ok("reject", rejected, "--reason", "legal did not clear it", "--as", "luis")
    cabinet.at(4).ok("unfreeze", "--reason", "legal is done", "--as", "luis")
    status = cabinet.status()
    assert status["prepared"]["verdict"] == "DUE" and status["prepared"]["rests_on"] == []
    assert status["published"]["verdict"] == "DUE" and status["published"]["rests_on"] == []
    assert all(channel["state"] == "not sent" for channel in status["channels"])
    markdown = cabinet.report("md")
    verdict_row = next(line for line in markdown.splitlines() if line.startswith("| prepared (approved)"))
    assert "only drafts of kind notice or apology count" in verdict_row and rejected not in verdict_row

    accepted = cabinet.at(5).render("--case", "2", "--template", "apology", "--var", "eta=tonight")
    cabinet.ok("approve", accepted, "--as", "luis")
    status = cabinet.status()
    assert [basis[0] for basis in rests_on(status["prepared"])] == [accepted]
    assert [basis[0] for basis in rests_on(status["published"])] == [accepted]
    assert status["published"]["verdict"] == "PASS"


def test_an_approved_draft_held_by_a_freeze_counts_as_prepared(workspace):
    cabinet = Cabinet(workspace, 3)
    held = cabinet.at(2).render("--case", "3", "--template", "apology", "--var", "affected=customer e-mails",
                                "--var", "advice=ignore e-mails asking for your password",
                                "--var", "since=since 1 December", "--var", "contact=privacy@acme.example",
                                "--var", "notified_authority=the data-protection authority")
    approved = cabinet.at(3).ok("approve", held, "--as", "ana")
    assert "Publishing is frozen since" in approved.output
    status = cabinet.status()
    assert json.loads(cabinet.ok("drafts", "show", held, "--json").output)["status"] == "approved, not sent"
    assert status["prepared"]["verdict"] == "PASS" and status["prepared"]["after_hours"] == 3
    assert rests_on(status["prepared"]) == [(held, "apology", [("ana", None)])]
    assert status["published"]["verdict"] == "DUE" and status["published"]["kinds"] == ["apology"]
    report = cabinet.report()
    assert report["prepared"]["verdict"] == "PASS"
    assert report["prepared"]["rests_on"][0]["draft"] == held
    prepared_line = next(line for line in cabinet.ok("status", "1").output.splitlines()
                         if line.startswith("Prepared"))
    assert f"PASS; rests on draft {held} (apology), unsigned, self-declared by ana" in prepared_line


def test_the_report_names_the_draft_in_spanish_too(workspace):
    cabinet = Cabinet(workspace, 2)
    notice = cabinet.at(1).render("--case", "2", "--template", "notice")
    cabinet.ok("approve", notice, "--as", "ana")
    spanish = {"PUBLISH_LANG": "es"}
    text = cabinet.at(2).ok("report", "1", "--format", "md", env=spanish).output
    assert f"se basa en: borrador {notice} (notice), sin firmar, autodeclarada por ana" in text
    assert "ningún borrador lo cumple todavía; solo cuentan los borradores de tipo apology" in text
    line = next(line for line in cabinet.ok("status", "1", env=spanish).output.splitlines()
                if line.startswith("Publicado"))
    assert "solo cuentan los borradores de tipo apology" in line


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed")
def test_only_an_approval_that_verifies_makes_the_response_and_its_signer_is_named(workspace, tmp_path):
    keys = make_keys(tmp_path / "keys", "ana", "luis")
    allowed_signers(workspace, keys, "ana", "luis")
    turn_signing_on(workspace)
    cabinet = Cabinet(workspace, 2)
    unsigned = cabinet.at(1).render("--case", "2", "--template", "notice")
    config = workspace.path / "config" / "publisher.toml"
    signed_text = config.read_text()
    config.write_text(signed_text.replace('signing = "ssh"', 'signing = "none"') + "\n[workspace]\npractice = true\n")
    cabinet.ok("approve", unsigned, "--as", "ana")
    config.write_text(signed_text)
    status = cabinet.at(2).status()
    assert status["prepared"]["verdict"] == "DUE" and status["prepared"]["rests_on"] == []
    assert json.loads(cabinet.ok("drafts", "show", unsigned, "--json").output)["status"] == "delivered"

    signed = cabinet.render("--case", "2", "--template", "apology")
    cabinet.at(3).ok("approve", signed, "--as", "luis", "--key", str(keys["luis"]))
    status = cabinet.status()
    assert status["prepared"]["verdict"] == "PASS" and status["prepared"]["after_hours"] == 3
    assert rests_on(status["prepared"]) == [(signed, "apology", [("luis", "ssh")])]
    assert rests_on(status["published"]) == [(signed, "apology", [("luis", "ssh")])]
    text = cabinet.ok("status", "1").output
    assert f"rests on draft {signed} (apology), signed by luis (ssh)" in text
