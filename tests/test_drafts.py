"""Rendering drafts: `publish --case N --template KIND`, previews, limits and storage."""
from __future__ import annotations

import json


def test_main_command_as_typed(workspace):
    workspace.open_incident(case=2)
    result = workspace.run("--case", "2", "--template", "apology")
    assert result.exit_code == 0, result.output
    assert "case 2 apology (en) for incident 1, by marta - new draft" in result.output
    assert "web · site · public · long" in result.output
    assert "outbox · outbox · public · long" in result.output
    assert "We apologize for the card payment outage." in result.output
    assert "A payment outage that blocked card purchases" not in result.output
    assert "publish approve" in result.output
    assert [kind for _, kind in workspace.events()] == ["incident.opened", "draft.rendered"]


def test_dry_run_previews_and_stores_nothing(workspace):
    workspace.open_incident(case=2)
    before = workspace.events()
    result = workspace.run("--case", "2", "--template", "apology", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: nothing stored" in result.output
    assert workspace.events() == before
    assert json.loads(workspace.run("drafts", "list", "--json").output) == []


def test_no_open_incident_says_how_to_open_one(workspace):
    result = workspace.run("--case", "2", "--template", "apology")
    assert result.exit_code == 2
    assert "no open case 2 incident; open one with `publish incident open --case 2" in result.output


def test_unknown_case_and_template(workspace):
    workspace.open_incident(case=2)
    result = workspace.run("--case", "7", "--template", "apology")
    assert result.exit_code == 2 and "--case 7 does not exist" in result.output
    result = workspace.run("--case", "2", "--template", "apologize")
    assert result.exit_code == 2
    assert "--template 'apologize' is not part of case 2" in result.output and "apology" in result.output


def test_template_outside_the_case_playbook(workspace):
    workspace.open_incident(case=2)
    result = workspace.run("--case", "2", "--template", "external-causes")
    assert result.exit_code == 2
    assert "is not part of case 2 (technical fault, clearly ours)" in result.output


def test_missing_variable_names_variable_and_template(workspace):
    workspace.open_incident(case=2)
    override = workspace.path / "templates" / "en" / "case2"
    override.mkdir(parents=True)
    (override / "apology.long.j2").write_text("We expect a fix by {{ eta }}.\n")
    result = workspace.run("--case", "2", "--template", "apology")
    assert result.exit_code == 2
    assert "template workspace/en/case2/apology.long.j2: 'eta' is undefined; pass it with --var eta=VALUE" in result.output
    ok = workspace.run("--case", "2", "--template", "apology", "--var", "eta=18:00")
    assert ok.exit_code == 0 and "We expect a fix by 18:00." in ok.output


def test_template_syntax_error_names_template_and_line(workspace):
    workspace.open_incident(case=2)
    override = workspace.path / "templates" / "en"
    override.mkdir(parents=True)
    (override / "apology.long.j2").write_text("Line one\n{% if %}\n")
    result = workspace.run("--case", "2", "--template", "apology")
    assert result.exit_code == 2
    assert "template workspace/en/apology.long.j2 line 2" in result.output


def test_malformed_var_flag(workspace):
    workspace.open_incident(case=2)
    result = workspace.run("--case", "2", "--template", "apology", "--var", "no-equals-sign")
    assert result.exit_code == 2
    assert "--var 'no-equals-sign' must be KEY=VALUE" in result.output


def test_over_long_payload_for_an_x_like_limit_is_refused(workspace):
    workspace.write_config(extra='[channels.xlike]\ntype = "outbox"\npath = "var/x"\nvariant = "short"\n'
                                 'max_length = 280\ncounting = "x"\n')
    workspace.open_incident(case=2, what="an outage " + "日本語" * 30)
    before = workspace.events()
    result = workspace.run("--case", "2", "--template", "apology")
    assert result.exit_code == 2
    assert "channel 'xlike': the short apology text (X weighted characters) is" in result.output
    assert "over the limit of 280" in result.output
    assert workspace.events() == before


def test_thread_split_is_shown_in_the_preview_and_stored(workspace):
    workspace.write_config(extra='[channels.xlike]\ntype = "outbox"\npath = "var/x"\nvariant = "long"\n'
                                 'max_length = 280\ncounting = "x"\noverflow = "thread"\n')
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    shown = workspace.run("drafts", "show", draft)
    assert "· part 1 of" in shown.output and "1/" in shown.output
    payload = json.loads(workspace.run("drafts", "show", draft, "--json").output)["draft"]["payloads"]["xlike"]
    from publisher.drafting.lengths import x_length

    assert len(payload["parts"]) > 1
    assert all(x_length(part) <= 280 for part in payload["parts"])
    assert payload["parts"][0].startswith(f"1/{len(payload['parts'])} ")


def test_same_text_is_the_same_draft(workspace):
    workspace.open_incident(case=2)
    first = workspace.render("--case", "2", "--template", "apology")
    again = workspace.run("--case", "2", "--template", "apology")
    assert f"Draft {first}" in again.output and "unchanged, already stored" in again.output
    assert [kind for _, kind in workspace.events()].count("draft.rendered") == 1


def test_drafts_list_and_show(workspace):
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", "--channel", "web")
    listed = json.loads(workspace.run("drafts", "list", "--json").output)
    assert [(item["id"], item["status"], list(item["channels"])) for item in listed] == \
        [(draft, "awaiting approval", ["web"])]
    shown = workspace.run("drafts", "show", draft)
    assert shown.exit_code == 0 and "web · site" in shown.output and "outbox" not in shown.output
    missing = workspace.run("drafts", "show", "ffffffffffff")
    assert missing.exit_code == 2 and "no draft 'ffffffffffff'" in missing.output


def test_unknown_and_disabled_channel_flags(workspace):
    workspace.write_config(extra='[channels.off]\ntype = "outbox"\nenabled = false\n')
    workspace.open_incident(case=2)
    result = workspace.run("--case", "2", "--template", "apology", "--channel", "nope")
    assert result.exit_code == 2 and "no channel named 'nope'" in result.output
    result = workspace.run("--case", "2", "--template", "apology", "--channel", "off")
    assert result.exit_code == 2 and "--channel off: the channel is disabled" in result.output


def test_spanish_is_rendered_with_lang(workspace):
    workspace.open_incident(case=2, what="the card payment outage", what_es="la caída de los pagos con tarjeta")
    result = workspace.run("--case", "2", "--template", "apology", "--lang", "es", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "(es)" in result.output and "Pedimos disculpas por la caída de los pagos con tarjeta." in result.output
