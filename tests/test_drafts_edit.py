"""`publish drafts edit`: $EDITOR on the payloads; saving makes a new draft (new hash,
approvals start again) that supersedes the old one; the log keeps the diff."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

SCRIPT = """import pathlib, sys
path = pathlib.Path(sys.argv[1])
path.write_text(path.read_text(encoding="utf-8").replace({old!r}, {new!r}), encoding="utf-8")
"""


def editor(tmp_path: Path, old: str, new: str) -> dict[str, str]:
    script = tmp_path / "edit.py"
    script.write_text(SCRIPT.format(old=old, new=new), encoding="utf-8")
    return {"EDITOR": f"{sys.executable} {script}", "VISUAL": ""}


@pytest.fixture
def approved_once(workspace):
    workspace.write_config(required=2)
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
    return draft


def test_saving_makes_a_new_draft_that_supersedes_the_old_one(workspace, tmp_path, approved_once):
    old = approved_once
    result = workspace.run("drafts", "edit", old, "--channel", "outbox", "--json",
                           env=editor(tmp_path, "The Acme team", "The Acme crisis team"))
    assert result.exit_code == 0, result.output
    new = json.loads(result.output)["draft"]
    assert new != old
    shown = json.loads(workspace.run("drafts", "show", new, "--json").output)
    assert shown["status"] == "awaiting approval" and shown["approved_by"] == []
    assert "The Acme crisis team" in "".join(shown["draft"]["payloads"]["outbox"]["parts"])
    assert "The Acme crisis team" not in "".join(shown["draft"]["payloads"]["web"]["parts"])
    assert json.loads(workspace.run("drafts", "show", old, "--json").output)["status"] == f"superseded by {new}"
    refused = workspace.run("approve", old, "--as", "luis")
    assert refused.exit_code == 2 and new in refused.output
    log = json.loads(workspace.run("log", "--json").output)
    edited = [event for event in log if event["kind"] == "draft.edited"]
    assert len(edited) == 1 and edited[0]["data"]["from"] == old and edited[0]["data"]["channels"] == ["outbox"]
    assert "-The Acme team" in edited[0]["data"]["diff"] and "+The Acme crisis team" in edited[0]["data"]["diff"]
    assert workspace.run("log", "verify").exit_code == 0


def test_an_unchanged_file_changes_nothing(workspace, tmp_path, approved_once):
    result = workspace.run("drafts", "edit", approved_once, env=editor(tmp_path, "no such text", "x"))
    assert result.exit_code == 0 and "Nothing changed" in result.output
    assert "draft.edited" not in [kind for _, kind in workspace.events()]


def test_an_edit_over_the_limit_is_split_or_refused_like_a_render(workspace, tmp_path):
    workspace.write_config(extra='[channels.short]\ntype = "outbox"\npath = "var/s"\nvariant = "short"\n'
                                 'max_length = 280\ncounting = "x"\noverflow = "reject"\n')
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    result = workspace.run("drafts", "edit", draft, "--channel", "short",
                           env=editor(tmp_path, "We apologize", "We apologize " + "really " * 60))
    assert result.exit_code == 2 and "over the limit of 280" in result.output
    assert "draft.edited" not in [kind for _, kind in workspace.events()]


def test_a_delivered_draft_and_an_unknown_channel_are_refused(workspace, tmp_path):
    workspace.write_config(required=0)
    workspace.open_incident(case=2)
    result = workspace.run("--case", "2", "--template", "apology", "--channel", "outbox")
    draft = result.output.split("Draft ", 1)[1].split(":", 1)[0]
    unknown = workspace.run("drafts", "edit", draft, "--channel", "web", env=editor(tmp_path, "a", "b"))
    assert unknown.exit_code == 2
    sent = workspace.run("drafts", "edit", draft, env=editor(tmp_path, "a", "b"))
    assert sent.exit_code == 2 and "delivered" in sent.output
