"""Declared template variables (publisher/drafting/variables.py) and `publish templates list|show`:
every declaration matches what its templates use; an unknown --var is refused with the closest
name; a missing required one is named before anything is rendered or stored."""
from __future__ import annotations

import json

import pytest
from jinja2 import meta

from publisher.drafting.rendering import Renderer
from publisher.drafting.variables import declaration
from publisher.incident.playbooks import shipped_cases
from publisher.workspace.folder import shipped_path

ALWAYS = {"organisation", "website", "ustedes", "case", "incident_id", "language", "first_seen", "update_number",
          "what_plural", "what_feminine"}
PAIRS = [(number, kind) for number, case in shipped_cases().items() for kind in case.templates]


def used_names(path) -> set[str]:
    env = Renderer({}).env
    return meta.find_undeclared_variables(env.parse(path.read_text(encoding="utf-8"))) - ALWAYS


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("case, kind", PAIRS)
def test_each_declaration_lists_exactly_what_every_variant_uses(language, case, kind):
    """Every declared variable is in the short and the long variant (the title may use fewer):
    no platform's statement can go out without a value the others carry."""
    root = shipped_path("templates") / language
    found = declaration(None, language, case, kind)
    used = {}
    for variant in ("short", "long", "title"):
        path = root / f"case{case}" / f"{kind}.{variant}.j2"
        used[variant] = used_names(path if path.exists() else root / f"{kind}.{variant}.j2")
    assert used["short"] == used["long"] == set(found.names), (used["short"], used["long"])
    assert used["title"] <= set(found.names)
    assert all(found.help.get(name) for name in found.names)


def test_an_unknown_var_is_refused_with_the_closest_name(workspace):
    workspace.open_incident(case=2)
    before = workspace.events()
    result = workspace.run("--case", "2", "--template", "apology", "--var", "etaa=today")
    assert result.exit_code == 2
    assert "--var etaa" in result.output and "did you mean --var eta=...?" in result.output
    assert workspace.events() == before


def test_a_missing_required_variable_is_named_before_rendering(workspace):
    workspace.write_config(extra="[cases.3]\nfreeze_on_open = false\n")
    workspace.open_incident(case=3, what="the leak of customer data")
    before = workspace.events()
    result = workspace.run("--case", "3", "--template", "apology", "--var", "advice=change your password")
    assert result.exit_code == 2
    assert "case 3 apology (en) needs 'affected': give it with --var affected=VALUE." in result.output
    assert workspace.events() == before


def test_templates_list_and_show(workspace):
    listed = json.loads(workspace.run("templates", "list", "--json").output)
    row = next(r for r in listed if (r["kind"], r["case"], r["language"]) == ("apology", 3, "es"))
    assert row["required"] == ["what", "affected", "since", "advice", "notified_authority", "contact"]
    assert row["version"] == "case3"
    shown = workspace.run("templates", "show", "reply")
    assert shown.exit_code == 0
    assert "reply · case 1 · es (case1)" in shown.output and "solved" in shown.output
    assert "--var affected=..." in shown.output
    table = workspace.run("templates", "list").output
    assert "affected, since, advice" in table
    wrong = workspace.run("templates", "show", "updte")
    assert wrong.exit_code == 2 and "did you mean update?" in wrong.output
