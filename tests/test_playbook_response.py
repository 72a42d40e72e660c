"""Which statement is "the response" (issue 21 item 5): each case's `[cases.N.response]`
in `config/playbooks.toml` names the template kinds the 12 h and 48 h verdicts count.
The shipped table follows the seeds; a workspace's own file may change it per case; a
kind that is unknown, not one of the case's templates, or published without being
prepared is refused in one sentence naming the file and the line."""
from __future__ import annotations

import json

import pytest

from publisher.errors import BadInput
from publisher.incident.playbooks import load_playbooks

CASE_2 = """[cases.2]
title = "our own outage"
templates = {templates}
{response}
[[cases.2.steps]]
id = "prepare"
title = "Have a response approved"
deadline = "prepare"
done = "prepared"

[[cases.2.steps]]
id = "publish"
title = "Publish the response on every public channel"
deadline = "publish"
done = "published"
"""


def own_case_2(workspace_path, response: str, templates: str = '["notice", "apology", "update"]') -> None:
    (workspace_path / "config").mkdir(exist_ok=True)
    (workspace_path / "config" / "playbooks.toml").write_text(
        CASE_2.format(templates=templates, response=response), encoding="utf-8")


def test_the_shipped_response_of_each_case_follows_the_seeds():
    books = load_playbooks(None)
    table = {case: (book.kinds("prepared", "crisis"), book.kinds("published", "crisis"))
             for case, book in books.items()}
    assert table == {1: (("external-causes",), ("external-causes",)),
                     2: (("notice", "apology"), ("apology",)),
                     3: (("apology",), ("apology",)),
                     4: (("reassurance", "external-causes"), ("reassurance", "external-causes"))}
    assert all(book.kinds(clock, "single") == ("reply",) for book in books.values()
               for clock in ("prepared", "published"))


@pytest.mark.parametrize(("response", "line", "said"), [
    ('[cases.2.response]\nprepared = ["notice", "apologie"]\npublished = ["apologie"]\n', 5,
     "[cases.2.response] prepared: unknown template kind 'apologie'; the kinds are apology, external-causes"),
    ('[cases.2.response]\nprepared = ["notice",\n  "resolution"]\npublished = ["notice"]\n', 6,
     "[cases.2.response] prepared: 'resolution' is not one of case 2's templates (notice, apology, update)."),
    ('[cases.2.response]\nprepared = ["notice"]\npublished = ["apology"]\n', 6,
     "[cases.2.response] published: 'apology' is not in prepared; a statement that counts as published must "
     "count as prepared too."),
    ('[cases.2.response]\nprepared = ["notice"]\n', 4,
     "[cases.2.response] published: expected a list of the template kinds that count as the response."),
    ('[cases.2.response]\nprepared = ["notice"]\npublished = ["notice"]\nsingle = ["reply"]\n', 7,
     "[cases.2.response]: unknown key 'single'; expected prepared, published."),
], ids=["unknown-kind", "not-a-template", "published-not-prepared", "missing-clock", "unknown-key"])
def test_a_wrong_response_is_refused_naming_the_file_and_line(workspace, response, line, said):
    own_case_2(workspace.path, response)
    result = workspace.run("incident", "open", "--case", "2", "--first-seen", "2026-12-05T08:00:00Z")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"config/playbooks.toml line {line}: {said}" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    store = workspace.path / "var" / "publisher.db"
    assert not store.exists() or "incident.opened" not in [kind for _, kind in workspace.events()]


def test_a_workspace_may_make_a_notice_its_published_response(workspace):
    own_case_2(workspace.path, '[cases.2.response]\nprepared = ["notice", "apology"]\n'
                               'published = ["notice", "apology"]\n')
    workspace.open_incident(case=2)
    notice = workspace.render("--case", "2", "--template", "notice")
    assert workspace.run("approve", notice, "--as", "ana").exit_code == 0
    status = json.loads(workspace.run("status", "1", "--json").output)[0]
    assert status["published"]["verdict"] == "PASS" and status["published"]["kinds"] == ["notice", "apology"]
    assert [basis["draft"] for basis in status["published"]["rests_on"]] == [notice]
    other = workspace.open_incident(case=1)
    assert json.loads(workspace.run("status", other, "--json").output)[0]["published"]["kinds"] == [
        "external-causes"]


def test_a_workspace_case_without_a_response_keeps_the_shipped_one_within_its_templates(tmp_path):
    own_case_2(tmp_path, "", templates='["apology", "update"]')
    book = load_playbooks(tmp_path)[2]
    assert book.kinds("prepared", "crisis") == ("apology",) and book.kinds("published", "crisis") == ("apology",)
    own_case_2(tmp_path, "", templates='["update"]')
    with pytest.raises(BadInput) as refused:
        load_playbooks(tmp_path)
    assert str(refused.value) == (
        "config/playbooks.toml: [cases.2] has no [cases.2.response], and none of the shipped prepared kinds "
        "(notice, apology) is among its templates (update); add [cases.2.response] saying which of its "
        "templates are the response.")
