"""`publish report`: the evidence of one incident in Markdown, JSON and HTML, all from
the log, with PASS/FAIL against the 12 h and 48 h deadlines and the log's verification."""
from __future__ import annotations

import json
import re

import pytest

from tests.test_cases_flow import Cabinet

pytestmark = pytest.mark.both_stores

PRACTICE = "**PRACTICE: a practice workspace (\\[workspace\\] practice = true), a rehearsal whose approvals may be " \
           "unsigned and self-declared; nothing it records is evidence.**"
"""The Markdown report of the tests' practice workspace starts with the practice line."""
CABINET_CHANNEL = '\n[channels.cabinet]\ntype = "outbox"\npath = "var/cabinet"\naudience = "internal"\n'


def _case_2(workspace, approve_at: float = 5) -> Cabinet:
    """A case 2 incident: source traced at 1 h, apology approved and delivered at `approve_at`."""
    cabinet = Cabinet(workspace)
    cabinet.open(2, "--source", "https://forum.example.org/t/4411", "--author", "pablo_r")
    cabinet.at(1).ok("done", "trace-source", "--note", "forum thread, then a blog post")
    draft = cabinet.at(approve_at - 1).render("--case", "2", "--template", "apology")
    cabinet.at(approve_at).ok("approve", draft, "--as", "ana")
    return cabinet


def test_json_report_holds_the_evidence(workspace):
    cabinet = _case_2(workspace)
    report = json.loads(cabinet.at(6).ok("report", "1", "--format", "json").output)
    assert report["prepared"]["verdict"] == "PASS" and report["prepared"]["after_hours"] == 5
    assert report["published"]["verdict"] == "PASS"
    channels = {row["channel"]: row for row in report["channels"]}
    assert set(channels) == {"web", "outbox"}
    outbox = channels["outbox"]
    assert outbox["verdict"] == "PASS" and outbox["attempts"] == 1 and outbox["platform_id"].endswith("--outbox.txt")
    assert outbox["url"].startswith("file://") and outbox["platform_time"]
    kinds = [entry.get("kind") for entry in report["timeline"]]
    assert kinds[0] is None and report["timeline"][0]["text"].startswith("First negative message")
    assert kinds[1:5] == ["incident.opened", "step.done", "draft.rendered", "draft.approved"]
    assert kinds.count("delivery.delivered") == 2
    approved = next(entry for entry in report["timeline"] if entry.get("kind") == "draft.approved")
    assert approved["actor"] == "ana" and approved["at"].startswith("2026-11-20T13:00:00")
    assert report["drafts"][0]["approvals"] == [{"by": "ana", "at": approved["at"], "proof": "unsigned, self-declared"}]
    verified = json.loads(cabinet.ok("log", "verify", "--json").output)
    incident_rows = len(json.loads(cabinet.ok("log", "--incident", "1", "--json").output))
    assert report["log"] == {"ok": True, "scope": "incident", "rows": incident_rows, "head": verified["head"],
                             "verified_head": verified["head"], "problem": None}
    full = json.loads(cabinet.ok("report", "1", "--format", "json", "--verify", "full").output)
    assert full["log"] == {**report["log"], "scope": "full", "rows": verified["rows"]}


def test_late_and_missing_deadlines_fail(workspace):
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    pending = json.loads(cabinet.at(3).ok("report", "1", "--format", "json").output)
    assert pending["prepared"]["verdict"] == "PENDING" and pending["published"]["verdict"] == "PENDING"
    missed = json.loads(cabinet.at(49).ok("report", "1", "--format", "json").output)
    assert missed["prepared"]["verdict"] == "FAIL" and {row["verdict"] for row in missed["channels"]} == {"FAIL"}
    draft = cabinet.render("--case", "2", "--template", "apology")
    cabinet.at(50).ok("approve", draft, "--as", "luis")
    late = json.loads(cabinet.ok("report", "1", "--format", "json").output)
    assert late["prepared"]["verdict"] == "FAIL" and late["published"]["verdict"] == "FAIL"
    assert late["prepared"]["after_hours"] == 50


def test_markdown_report_states_verdicts_channels_and_log(workspace):
    cabinet = _case_2(workspace, approve_at=13)
    text = cabinet.at(14).ok("report", "1").output
    assert text.startswith(PRACTICE + "\n\n# Incident 1: case 2 (technical fault, clearly ours)")
    assert "| prepared (approved) within 12 h | 2026-11-20 20:00 UTC | 2026-11-20 21:00 UTC +13.0 h | **FAIL** |" in text
    assert re.search(r"\| web \| site \| \*\*PASS\*\* \| 2026-11-20 21:00 UTC \|", text)
    assert "| trace-source — Trace the source" in text and "| marta | forum thread, then a blog post |" in text
    assert "Draft" in text and "approved by ana at" in text
    assert "Verification: PASS" in text and "Head hash: `" in text


def test_report_shows_a_decision_not_to_answer(workspace):
    workspace.write_config(extra=CABINET_CHANNEL)
    cabinet = Cabinet(workspace)
    cabinet.open(4)
    cabinet.at(2).ok("decide", "ignore", "--reason", "a provocation best left alone", "--as", "luis")
    report = json.loads(cabinet.at(50).ok("report", "1", "--format", "json").output)
    assert report["decision"]["by"] == "luis" and report["decision"]["decision"] == "ignore"
    assert report["published"]["verdict"] == "WAIVED" and report["published"]["waived"]["by"] == "luis"
    assert {row["verdict"] for row in report["channels"]} == {"WAIVED"}
    text = cabinet.ok("report", "1").output
    assert "The publish requirement is waived by decision: luis decided at 2026-11-20 10:00 UTC" in text


def test_report_to_a_file_and_bad_paths(workspace, tmp_path):
    cabinet = _case_2(workspace)
    target = tmp_path / "evidence.md"
    written = cabinet.ok("report", "1", "-o", str(target))
    assert f"Wrote the md report of incident 1 to {target}." in written.output
    assert target.read_text(encoding="utf-8").startswith(PRACTICE + "\n\n# Incident 1")
    bad = cabinet.run("report", "1", "-o", str(tmp_path / "missing" / "dir" / "x.md"))
    assert bad.exit_code == 2 and "cannot write it" in bad.output
    unknown = cabinet.run("report", "9")
    assert unknown.exit_code == 2 and "no incident '9'" in unknown.output
    wrong = cabinet.run("report", "1", "--format", "pdf")
    assert wrong.exit_code == 2 and "'pdf' is not one of" in wrong.output


def test_a_tampered_log_is_reported_and_exits_1(workspace):
    cabinet = _case_2(workspace)
    db = workspace.db()
    body = db.execute("SELECT body FROM events WHERE seq = 2").fetchone()[0]
    db.execute("UPDATE events SET body = ? WHERE seq = 2", (body.replace("forum thread", "nothing"),))
    db.close()
    result = cabinet.run("report", "1", "--format", "json")
    assert result.exit_code == 1 and "the log does not verify: row 2" in result.output
    report = json.loads(result.output[:result.output.rindex("}") + 1])
    assert report["log"]["ok"] is False and "row 2" in report["log"]["problem"]
