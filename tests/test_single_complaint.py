"""Severity single (an isolated complaint): the reply is addressed to one person, so it
is never posted on the public statements page, and the 48 h proof is the reply on the
source post's own platform, never every public channel for want of one there."""
from __future__ import annotations

import json

from tests.test_cases_flow import SOURCE, Cabinet


def _single(workspace) -> Cabinet:
    cabinet = Cabinet(workspace)
    cabinet.open(1, "--source", SOURCE, "--author", "@maria_garcia", "--severity", "single")
    return cabinet


def test_a_single_complaints_reply_is_never_posted_on_the_statements_page(workspace):
    cabinet = _single(workspace)
    refused = cabinet.run("--case", "1", "--template", "reply", "--channel", "web", "--dry-run")
    assert refused.exit_code == 2
    assert "a reply to a single complaint is addressed to one person and is never posted on the public statements " \
           "page" in refused.output
    mixed = cabinet.run("--case", "1", "--template", "reply", "--channel", "outbox", "--channel", "web")
    assert mixed.exit_code == 2 and not (workspace.path / "var" / "site").exists()
    assert cabinet.run("--case", "1", "--template", "reply", "--channel", "outbox", "--dry-run").exit_code == 0


def test_without_a_channel_on_the_source_platform_the_proof_is_not_every_public_channel(workspace):
    cabinet = _single(workspace)
    status = cabinet.at(1).status()
    assert status["channels"] == []
    assert any("the 48 h proof is the reply on the source post's platform" in warning
               for warning in status["warnings"])
    statement = cabinet.render("--case", "1", "--template", "external-causes")
    cabinet.ok("approve", statement, "--as", "ana")
    assert json.loads(cabinet.ok("drafts", "show", statement, "--json").output)["status"] == "delivered"
    after = cabinet.status()
    assert after["published"]["verdict"] == "DUE" and after["published"]["done_at"] is None
    report = json.loads(cabinet.ok("report", "1", "--format", "json").output)
    assert report["published"]["verdict"] == "PENDING" and report["channels"] == []
