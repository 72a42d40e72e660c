"""Issue 26, items 4 and 5: the seed's missing case 3 steps (suspend collaboration with
platforms and communities; notify the data-protection authority on its own legal clock,
72 h by default, set per jurisdiction or off), every published text as sent in the
Markdown and JSON reports, and a step done out of the playbook's order remarked in
`status` and every report format."""
from __future__ import annotations

import json

from tests.test_cases_flow import Cabinet


def checklist(cabinet: Cabinet) -> dict[str, dict]:
    return {item["id"]: item for item in cabinet.status()["checklist"]}


def test_case_3_has_the_seeds_suspension_and_the_authoritys_72_h_clock(workspace):
    cabinet = Cabinet(workspace)
    cabinet.at(0).open(3)
    steps = checklist(cabinet.at(2))
    assert list(steps)[:4] == ["freeze", "suspend-collaboration", "leak-origin", "notify-authority"]
    assert steps["suspend-collaboration"]["state"] == "due" and steps["suspend-collaboration"]["manual"]
    authority = steps["notify-authority"]
    assert authority["deadline"] == "2026-11-23T08:00:00Z" and authority["state"] == "due"
    assert checklist(cabinet.at(73))["notify-authority"]["state"] == "late"
    cabinet.at(5).ok("done", "notify-authority", "--note", "AEPD, registro 2026/0412")
    done = checklist(cabinet.at(6))["notify-authority"]
    assert done["state"] == "done" and done["note"] == "AEPD, registro 2026/0412" and done["by"] == "marta"


def test_the_authoritys_clock_is_set_per_jurisdiction_or_off(workspace):
    workspace.write_config(extra="")
    config = workspace.path / "config" / "publisher.toml"
    base = config.read_text(encoding="utf-8")
    config.write_text(base.replace("publish = 48\n", "publish = 48\nauthority = 24\n"), encoding="utf-8")
    cabinet = Cabinet(workspace)
    cabinet.at(0).open(3)
    assert checklist(cabinet.at(1))["notify-authority"]["deadline"] == "2026-11-21T08:00:00Z"
    config.write_text(base.replace("publish = 48\n", "publish = 48\nauthority = false\n"), encoding="utf-8")
    assert "notify-authority" not in checklist(cabinet)
    refused = cabinet.run("done", "notify-authority")
    assert refused.exit_code == 2
    config.write_text(base.replace("publish = 48\n", "publish = 48\nauthority = true\n"), encoding="utf-8")
    wrong = cabinet.run("status")
    assert wrong.exit_code == 2 and "[deadlines] authority" in wrong.output and "Traceback" not in wrong.output


def published_apology(cabinet: Cabinet) -> str:
    cabinet.at(0).open(2)
    draft = cabinet.at(1).render("--case", "2", "--template", "apology", "--channel", "web", "--channel", "outbox")
    cabinet.at(2).ok("approve", draft, "--as", "ana", "--wait", user="ana")
    return draft


def test_a_source_traced_after_the_response_went_out_is_remarked_everywhere(workspace):
    cabinet = Cabinet(workspace)
    published_apology(cabinet)
    cabinet.at(3).ok("done", "trace-source", "--note", "the payment provider's certificate")
    remark = checklist(cabinet.at(4))["trace-source"]["remark"]
    assert remark and remark.startswith("done after «")
    assert "out of order: done after «" in cabinet.ok("status").output
    markdown = cabinet.ok("report", "1", "--format", "md").output
    assert "out of order: done after «" in markdown
    html = cabinet.ok("report", "1", "--format", "html").output
    assert "out of order: done after «" in html
    data = json.loads(cabinet.ok("report", "1", "--format", "json").output)
    assert next(item for item in data["checklist"] if item["id"] == "trace-source")["remark"] == remark
    assert all(item["remark"] is None for item in data["checklist"] if item["id"] != "trace-source")


def test_steps_in_the_playbooks_order_carry_no_remark(workspace):
    cabinet = Cabinet(workspace)
    cabinet.at(0).open(2)
    cabinet.at(0.5).ok("done", "trace-source")
    draft = cabinet.at(1).render("--case", "2", "--template", "apology", "--channel", "web")
    cabinet.at(2).ok("approve", draft, "--as", "ana", "--wait", user="ana")
    assert all(item["remark"] is None for item in checklist(cabinet.at(3)).values())
    assert "out of order" not in cabinet.ok("status").output


def test_the_markdown_and_json_reports_carry_every_text_as_sent(workspace):
    cabinet = Cabinet(workspace)
    draft = published_apology(cabinet)
    shown = json.loads(cabinet.ok("drafts", "show", draft, "--json").output)
    sent = {name: payload["parts"] for name, payload in shown["draft"]["payloads"].items()}
    data = json.loads(cabinet.at(3).ok("report", "1", "--format", "json").output)
    deliveries = next(item for item in data["drafts"] if item["id"] == draft)["deliveries"]
    assert {item["channel"]: item["text"] for item in deliveries} == sent
    markdown = cabinet.ok("report", "1", "--format", "md").output
    assert f"## Texts as sent: draft {draft} (apology, en)" in markdown
    for parts in sent.values():
        for line in "\n\n".join(parts).splitlines():
            assert (f"> {line}".rstrip() in markdown) if line.strip() else True
