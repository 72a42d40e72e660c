"""The console's incident page names the statement each verdict rests on, as `publish
status` and the report do (issue 21 item 5): the draft with its kind and signature
state, or the kinds that would satisfy the clock."""
from __future__ import annotations

import pytest

from tests.console.test_console_basics import https_console

pytestmark = pytest.mark.servers


def test_the_incident_page_names_the_draft_each_verdict_rests_on(workspace):
    console = https_console(workspace)
    incident = workspace.open_incident(case=2)
    notice = workspace.render("--case", "2", "--template", "notice")
    assert workspace.run("approve", notice, "--as", "ana").exit_code == 0
    client = console.login("vera")
    page = client.get(f"/incidents/{incident}").text
    assert f"Prepare: rests on draft {notice} (notice), unsigned, self-declared by ana" in page
    assert "Publish: no draft satisfies it yet; only drafts of kind apology count" in page
    spanish = client.get(f"/incidents/{incident}?lang=es").text
    assert f"se basa en: borrador {notice} (notice), sin firmar, autodeclarada por ana" in spanish
