"""Hostile input (issue 10, items 8 and 13): text that would forge evidence or break a
file, and values that used to escape as exit 1 "unexpected". Each is refused with exit 2
and one sentence, and the log is unchanged; the Markdown report shows user text as text;
the feed never holds a character XML 1.0 forbids."""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

FAKE_TABLE = ("a payment outage\n\n| requirement | deadline | done at | verdict |\n|---|---|---|---|\n"
              "| prepared (approved) within 12 h | — | — | **PASS** |\n<img src=x onerror=alert(1)>")


def _refused(workspace, *args: str, **kwargs) -> str:
    before = workspace.events() if (workspace.path / "var" / "publisher.db").exists() else []
    result = workspace.run(*args, **kwargs)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert "unexpected" not in result.output
    after = workspace.events() if (workspace.path / "var" / "publisher.db").exists() else []
    assert after == before
    return result.output


# --- item 8: injection into evidence ----------------------------------------------------------


def test_a_summary_cannot_draw_a_fake_table_or_raw_html_in_the_markdown_report(workspace):
    workspace.open_incident(summary=FAKE_TABLE, author="<b>pablo</b>|x", source="https://e.example/[a](b)")
    assert workspace.run("done", "trace-source", "--note", "line\n| fake | row |").exit_code == 0
    report = workspace.run("report", "1").output
    rows = [line for line in report.splitlines() if line.startswith("| prepared")]
    assert len(rows) == 1 and "PENDING" in rows[0]
    assert "<img" not in report and "<b>" not in report
    assert "&lt;img src=x onerror=alert\\(1)&gt;" in report or "&lt;img src=x onerror=alert(1)&gt;" in report
    assert not any(line.startswith("| fake") for line in report.splitlines())
    summary = next(line for line in report.splitlines() if line.startswith("- Summary:"))
    assert "\\*\\*PASS\\*\\*" in summary and "\\|" in summary


@pytest.mark.parametrize("character", ["\x1b", "\x0b", "\x00", "\x7f", "\x85", "\ufffe"])
def test_control_characters_in_a_summary_are_refused(workspace, iso_hours_ago, character):
    message = _refused(workspace, "incident", "open", "--case", "2", "--first-seen", iso_hours_ago(2),
                       "--summary", f"outage{character}[2J")
    assert "--summary" in message and f"U+{ord(character):04X}" in message


def test_control_characters_are_refused_in_every_input(workspace, iso_hours_ago):
    _refused(workspace, "incident", "open", "--case", "2", "--first-seen", iso_hours_ago(2), "--author", "pa\x0bblo")
    incident = workspace.open_incident()
    _refused(workspace, "--case", "2", "--template", "apology", "--var", "x=\x1b[31m")
    _refused(workspace, "done", "trace-source", "--note", "ok\x1b")
    _refused(workspace, "freeze", "--reason", "stop\x07")
    _refused(workspace, "incident", "resolve", incident, "--note", "fixed\x08")
    draft = workspace.render("--case", "2", "--template", "apology", "--var", "contact=line one\n\tline two")
    _refused(workspace, "reject", draft, "--reason", "no\x1b")
    _refused(workspace, "approve", draft, user="an\x1ba")


def test_a_solutions_file_with_a_control_character_is_refused(workspace, tmp_path):
    workspace.open_incident()
    listed = tmp_path / "solutions.txt"
    listed.write_bytes(b"refunds\r\nnew card reader\x1b[2J\n")
    message = _refused(workspace, "--case", "2", "--template", "resolution", "--solutions-file", str(listed))
    assert "--solutions-file" in message and "U+001B" in message


def test_a_control_character_escaped_in_the_config_is_refused(workspace):
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace('name = "Acme"', 'name = "Ac\\u001bme"'))
    assert "organisation.name" in _refused(workspace, "status")


def _write_template(workspace, text: str) -> None:
    folder = workspace.path / "templates" / "en"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "apology.long.j2").write_text(text, encoding="utf-8")


def _feed_is_well_formed(workspace) -> str:
    feed = workspace.path / "var" / "site" / "feed.xml"
    ElementTree.parse(feed)
    return feed.read_text(encoding="utf-8")


def test_the_feed_never_holds_a_character_xml_forbids(workspace):
    workspace.open_incident()
    _write_template(workspace, "We apologise.\x0b\x1b[1m Details follow.\x0c")
    first = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("approve", first, "--as", "ana").exit_code == 0
    feed = _feed_is_well_formed(workspace)
    assert "\x0b" not in feed and "\x1b" not in feed and "\ufffd" in feed
    _write_template(workspace, "A clean update.")
    second = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("approve", second, "--as", "ana").exit_code == 0
    assert "A clean update." in _feed_is_well_formed(workspace)


# --- item 13: bad input that used to escape as "unexpected" ---------------------------------------


CONFIG_ATTACKS = [
    ("prepare = 12", "prepare = nan", "[deadlines] prepare"),
    ("prepare = 12", "prepare = inf", "[deadlines] prepare"),
    ("publish = 48", "publish = 1e300", "[deadlines] publish"),
    ("publish = 48", "publish = -inf", "[deadlines] publish"),
    ("[store]", "[delivery]\nbudget = nan\n\n[store]", "[delivery] budget"),
    ("[store]", "[delivery]\nbudget = -5\n\n[store]", "[delivery] budget"),
    ("[store]", "[delivery]\nbudget = 1e308\n\n[store]", "[delivery] budget"),
    ("[store]", "[delivery]\nworkers = 100000000000\n\n[store]", "[delivery] workers"),
    ("[store]", "[cases.2]\nupdate_every = -1\n\n[store]", "[cases.2] update_every"),
    ("[store]", "[cases.2]\nupdate_every = nan\n\n[store]", "[cases.2] update_every"),
    ("[store]", "[cases.2]\nupdate_every = 0\n\n[store]", "[cases.2] update_every"),
    ("[store]", "[cases.2]\nupdate_every = 1e300\n\n[store]", "[cases.2] update_every"),
    ('path = "var/outbox"', 'path = "var/outbox"\n[channels.hook]\ntype = "webhook"\nurl = "${U}"\ntimeout = nan',
     "[channels.hook] timeout"),
]


@pytest.mark.parametrize("old, new, named", CONFIG_ATTACKS)
def test_absurd_numbers_in_the_config_are_refused(workspace, old, new, named):
    workspace.open_incident()
    config = workspace.path / "config" / "publisher.toml"
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new, 1))
    assert named in _refused(workspace, "status", "1")


@pytest.mark.parametrize("deadline", ["nan", "inf", "-1", "1e300"])
def test_absurd_step_deadlines_in_a_playbook_are_refused(workspace, deadline):
    workspace.open_incident()
    (workspace.path / "config" / "playbooks.toml").write_text(
        '[cases.2]\ntitle = "ours"\ntemplates = ["apology"]\n'
        f'[[cases.2.steps]]\nid = "x"\ntitle = "do x"\ndone = "manual"\ndeadline = {deadline}\n')
    assert "deadline" in _refused(workspace, "status", "1")


@pytest.mark.parametrize("relative", ["config/publisher.toml", "config/secrets.toml", "config/playbooks.toml"])
@pytest.mark.parametrize("bomb", ["x = " + "[" * 5000 + "]" * 5000, "x = " + "{a = " * 400 + "1" + "}" * 400,
                                  "[" + ".".join(["a"] * 100) + "]"])
def test_deeply_nested_toml_is_refused(workspace, relative, bomb):
    workspace.write_config(extra='[channels.hook]\ntype = "webhook"\nenabled = false\nurl = "${HOOK_URL}"\n')
    workspace.open_incident()
    target = workspace.path / relative
    existing = target.read_text() if target.exists() else ""
    target.write_text(existing + "\n" + bomb + "\n")
    target.chmod(0o600)
    assert relative in _refused(workspace, "status", "1")


def test_a_huge_log_count_is_refused(workspace):
    workspace.open_incident()
    result = workspace.run("log", "-n", "99999999999999999999")
    assert result.exit_code == 2 and "-n" in result.output and "unexpected" not in result.output
    assert workspace.run("log", "-n", "9223372036854775807").exit_code == 0


@pytest.mark.parametrize("args, named", [(("log", "-n", "99999999999999999999"), "'-n'"), (("--bogus",), "--bogus"),
                                         (("nosuchcommand",), "nosuchcommand"), (("drafts", "show"), "DRAFT")])
def test_a_bad_flag_or_command_is_one_sentence_without_usage_lines(workspace, args, named):
    result = workspace.run(*args)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and named in lines[0], result.output


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                                    "0001-01-01T00:00:00Z", "1900-01-01T00:00:00Z"])
def test_a_first_seen_out_of_any_sensible_range_is_refused(workspace, moment):
    assert "--first-seen" in _refused(workspace, "incident", "open", "--case", "2", "--first-seen", moment)


def test_a_solutions_file_that_never_ends_is_refused(workspace):
    workspace.open_incident()
    message = _refused(workspace, "--case", "2", "--template", "resolution", "--solutions-file", "/dev/zero")
    assert "--solutions-file /dev/zero" in message


def test_a_control_character_typed_into_an_edited_draft_is_refused(workspace, tmp_path):
    from tests.test_drafts_edit import editor

    workspace.open_incident()
    draft = workspace.render("--case", "2", "--template", "apology")
    message = _refused(workspace, "drafts", "edit", draft, env=editor(tmp_path, "Acme", "Ac\x1b[2Jme"))
    assert "edited draft" in message and "U+001B" in message


def test_a_deeply_nested_variables_declaration_is_refused(workspace):
    workspace.open_incident()
    folder = workspace.path / "templates" / "en"
    folder.mkdir(parents=True)
    (folder / "variables.toml").write_text("[apology]\nrequired = " + "[" * 3000 + "]" * 3000 + "\n")
    assert "variables.toml" in _refused(workspace, "--case", "2", "--template", "apology")


def test_the_core_refuses_control_characters_whichever_face_calls_it(workspace, iso_hours_ago):
    """The console calls the same core functions as the CLI, without the CLI's argument check."""
    from publisher.errors import BadInput
    from publisher.incident.authority import require_reason
    from publisher.incident.decisions import mark_done
    from publisher.incident.incidents import open_incident, resolve_incident
    from publisher.workspace.app import App

    app = App(workspace.path)
    with pytest.raises(BadInput, match="--summary contains the control character U\\+001B"):
        open_incident(app, case=2, first_seen=iso_hours_ago(2), actor="marta", summary="out\x1bage")
    with pytest.raises(BadInput, match="--reason"):
        require_reason("legal\x0b", "the freeze")
    incident = open_incident(app, case=2, first_seen=iso_hours_ago(2), actor="marta")
    with pytest.raises(BadInput, match="--note"):
        mark_done(app, incident.id, "trace-source", "marta", "forum\x1b")
    with pytest.raises(BadInput, match="--note"):
        resolve_incident(app, incident.id, "marta", "fixed\x00")
    assert [kind for _, kind in workspace.events()] == ["incident.opened"]
