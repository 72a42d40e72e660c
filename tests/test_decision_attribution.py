"""Each decision of the cabinet keeps its own actor and time in the checklist and the
report: `decide ignore` by one approver, then `decide respond` by another."""
from __future__ import annotations

import json

from tests.test_cases_flow import CABINET_CHANNEL, T0, Cabinet

IGNORED_AT = "2026-11-20T09:00:00.000Z"
ANSWERED_AT = "2026-11-21T04:00:00.000Z"


def _two_decisions(workspace) -> Cabinet:
    cabinet = Cabinet(workspace)
    workspace.write_config(extra=CABINET_CHANNEL)
    cabinet.ok("incident", "open", "--case", "4", "--first-seen", T0.isoformat())
    cabinet.at(1).ok("decide", "ignore", "--reason", "advisor: ignore it", "--as", "ana")
    cabinet.at(20).ok("decide", "respond", "--reason", "it reached the press", "--as", "luis")
    return cabinet


def test_the_checklist_names_each_decision_with_its_own_actor_and_time(workspace):
    cabinet = _two_decisions(workspace)
    decide = next(item for item in cabinet.status()["checklist"] if item["id"] == "decide")
    assert decide["done_at"] == IGNORED_AT.replace(".000", "") and decide["by"] == "ana"
    assert f"decided to ignore (ana, {IGNORED_AT})" in decide["note"]
    assert f"decided to respond (luis, {ANSWERED_AT})" in decide["note"]


def test_the_report_lists_every_decision_with_its_own_actor(workspace):
    cabinet = _two_decisions(workspace)
    data = json.loads(cabinet.ok("report", "1", "--format", "json").output)
    assert [(d["decision"], d["by"], d["at"]) for d in data["decisions"]] == [
        ("ignore", "ana", IGNORED_AT), ("respond", "luis", ANSWERED_AT)]
    markdown = cabinet.ok("report", "1").output
    assert "| 2026-11-20 09:00 UTC | ana | not to answer | advisor: ignore it |" in markdown
    assert "| 2026-11-21 04:00 UTC | luis | to answer after all | it reached the press |" in markdown
    html = cabinet.ok("report", "1", "--format", "html").output
    assert "<h2>Decisions</h2>" in html and '<td data-label="time">2026-11-21 04:00 UTC</td><td data-label="who">luis</td>' in html
