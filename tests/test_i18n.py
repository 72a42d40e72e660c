"""The interface in the user's language (issue 13 item 10): one gettext catalogue per
language (publisher/locale/<lang>/LC_MESSAGES/publish.po), extracted with Babel and
compiled by Babel to the publish.mo beside it that stdlib gettext reads (issue 20 item 6);
every sentence a person reads goes through it; the organisation's `language` chooses it
and PUBLISH_LANG overrides it, for the CLI, its help, the report and the console."""
from __future__ import annotations

import ast
import json
import string
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from publisher.i18n import catalogue, catalogue_path, compiled_path, read_catalogue, translator
from tests.test_cases_flow import Cabinet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import catalogue as catalogue_script  # noqa: E402

SINKS = {"say", "echo", "secho", "BadInput", "Refused", "CheckFailed", "NotDelivered", "ClickException",
         "UsageError", "CommandError", "BadParameter"}
HELP_CALLS = {"option", "argument", "command", "group", "version_option"}
LATER_ARGUMENT = {"fail": 2, "require_reason": 1, "require_approver": 2, "refused": 1}
"""Sinks whose sentence is not the first argument (config errors, "--reason must say why
{what}", "only an approver can {what}", the console's refusals)."""
TRANSLATED = {"_", "N_", "ngettext"}


@pytest.fixture(scope="module")
def template():
    return catalogue_script.extract()


def test_every_sentence_of_the_source_has_a_spanish_translation(template):
    missing = catalogue_script.untranslated(template, "es")
    assert missing == [], f"{len(missing)} sentences have no Spanish translation (run scripts/catalogue.py " \
                          f"and fill publisher/locale/es/LC_MESSAGES/publish.po): {missing[:10]}"


def test_each_translation_keeps_the_placeholders_of_its_source():
    formatter = string.Formatter()
    with open(catalogue_path("es"), "rb") as source:
        entries = [(message.id, message.string) for message in read_po(source) if message.id]
    wrong = []
    for msgid, msgstr in entries:
        if isinstance(msgid, str) and msgstr:
            fields = [sorted(name for _text, name, _spec, _conv in formatter.parse(text) if name is not None)
                      for text in (msgid, msgstr)]
            if fields[0] != fields[1]:
                wrong.append(msgid)
    assert wrong == []


def test_the_runtime_reader_agrees_with_babel_on_the_catalogue():
    with open(catalogue_path("es"), "rb") as source:
        expected = {m.id: m.string for m in read_po(source)
                    if m.id and m.string and not m.fuzzy and isinstance(m.id, str)}
    spanish = catalogue("es")
    assert {msgid: spanish.gettext(msgid) for msgid in expected} == expected and len(expected) > 500


def test_the_compiled_catalogue_is_in_step_with_its_source():
    assert catalogue_script.stale("es") == [], "publish.po was edited without recompiling: " \
                                              "run python scripts/catalogue.py --compile"


def test_an_edit_of_the_po_without_recompiling_is_caught(tmp_path):
    source, target = tmp_path / "publish.po", tmp_path / "publish.mo"
    source.write_bytes(catalogue_path("es").read_bytes())
    assert catalogue_script.out_of_step(source, target, "es") == ["publish.mo is missing"]
    assert catalogue_script.compile_catalogue(source, target, "es")
    assert target.read_bytes() == compiled_path("es").read_bytes()
    assert catalogue_script.out_of_step(source, target, "es") == []
    assert not catalogue_script.compile_catalogue(source, target, "es")
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace('msgstr "Incidencias"', 'msgstr "Incidentes"'), encoding="utf-8")
    assert catalogue_script.out_of_step(source, target, "es") == ["Incidents"]
    source.write_text(text.replace("plural=(n != 1)", "plural=(n > 1)"), encoding="utf-8")
    assert catalogue_script.out_of_step(source, target, "es") == ["Plural-Forms"]


SPANISH_PLURALS = """msgid ""
msgstr ""
"Language: es\\n"
"Plural-Forms: nplurals=3; plural=(n == 1 ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2);\\n"
"Content-Type: text/plain; charset=utf-8\\n"

#, fuzzy
msgid "Old"
msgstr "Viejo"

msgid "a \\"b\\""
msgstr ""
"una \\"b\\"\\n"
"dos"

msgid "{n} day"
msgid_plural "{n} days"
msgstr[0] "{n} día"
msgstr[1] "{n} de días"
msgstr[2] "{n} días"
"""


def test_plural_forms_follow_the_catalogues_own_header(tmp_path):
    """CLDR's Spanish rule has a third form for whole millions: the header says which form
    a count takes, not a built-in "one or other"."""
    source, target = tmp_path / "publish.po", tmp_path / "publish.mo"
    source.write_text(SPANISH_PLURALS, encoding="utf-8")
    catalogue_script.compile_catalogue(source, target, "es")
    spanish = read_catalogue(target)
    assert [spanish.ngettext("{n} day", "{n} days", count) for count in (1, 3, 0, 1000000)] == \
        ["{n} día", "{n} días", "{n} días", "{n} de días"]
    assert spanish.ngettext("{n} hour", "{n} hours", 1) == "{n} hour"
    assert spanish.ngettext("{n} hour", "{n} hours", 1000000) == "{n} hours"
    assert spanish.gettext("Old") == "Old" and spanish.gettext('a "b"') == 'una "b"\ndos'


def test_the_shipped_catalogue_counts_by_its_header():
    with open(catalogue_path("es"), "rb") as source:
        assert read_po(source).plural_forms == "nplurals=2; plural=(n != 1);"
    assert [catalogue("es").plural(count) for count in (0, 1, 2, 1000000)] == [1, 0, 1, 1]


def test_a_language_without_a_compiled_catalogue_is_english(tmp_path):
    english = read_catalogue(tmp_path / "publish.mo")
    assert english.gettext("Incidents") == "Incidents"
    assert english.ngettext("{n} day", "{n} days", 2) == "{n} days"


def _name(node: ast.AST) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _plain_words(node: ast.AST) -> bool:
    """A literal or f-string with words in it (not one already passed through _())."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.Constant) and any(c.isalpha() for c in part.value) for part in node.values)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return any(character.isalpha() for character in node.value)
    if isinstance(node, ast.BinOp):
        return _plain_words(node.left) or _plain_words(node.right)
    if isinstance(node, ast.Call) and _name(node.func) == "format" and isinstance(node.func, ast.Attribute):
        return _plain_words(node.func.value)
    return False


def untranslated_literals(tree: ast.AST) -> list[int]:
    """Lines where a sentence reaches a person without `_()`: the first argument of
    say/echo/the named errors, a table's headers, or a click help text."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        shown = list(node.args[:1]) if name in SINKS else []
        if name in LATER_ARGUMENT and len(node.args) > LATER_ARGUMENT[name]:
            shown.append(node.args[LATER_ARGUMENT[name]])
        if name == "table" and len(node.args) > 1 and isinstance(node.args[1], ast.List):
            shown += node.args[1].elts
        if name in HELP_CALLS:
            shown += [keyword.value for keyword in node.keywords if keyword.arg in ("help", "short_help")]
        lines += [value.lineno for value in shown if _plain_words(value)]
    return lines


def test_no_sentence_reaches_a_person_without_the_catalogue():
    found = {}
    for path in sorted((ROOT / "publisher").rglob("*.py")):
        lines = untranslated_literals(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            found[str(path.relative_to(ROOT))] = lines
    assert found == {}, "wrap these in _(\"...\").format(...) (help texts: N_(\"...\")): " + json.dumps(found)


def test_the_scan_catches_an_unwrapped_sentence():
    tree = ast.parse('say(f"Opened {x}")\nraise BadInput("no such thing")\nsay(_("fine {x}").format(x=1))\n'
                     '@click.option("--a", help="Plain help.")\ndef f(): pass\nsay(f"{x}: {y}")\n'
                     'require_reason(reason, "the freeze is lifted")\n')
    assert untranslated_literals(tree) == [1, 2, 4, 7]


def test_no_sentence_hides_inside_an_f_string():
    """Babel reads an f-string as one token on Python < 3.12: a `_("...")` inside one is
    never extracted, so it would never be translated."""
    hidden = []
    for path in (ROOT / "publisher").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                hidden += [f"{path.name}:{call.lineno}" for call in ast.walk(node) if isinstance(call, ast.Call)
                           and _name(call.func) in TRANSLATED and call.args and isinstance(call.args[0], ast.Constant)]
    assert hidden == []


def test_no_function_shadows_the_translator():
    """`x, _ = ...` in a function that also calls `_()` would make `_` a local there."""
    shadowing = []
    for path in (ROOT / "publisher").rglob("*.py"):
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            nodes = list(ast.walk(function))
            assigns = any(isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store) for n in nodes)
            calls = any(isinstance(n, ast.Call) and _name(n.func) == "_" for n in nodes)
            if assigns and calls:
                shadowing.append(f"{path.name}:{function.name}")
    assert shadowing == []


def _spanish_config(workspace) -> None:
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('language = "en"', 'language = "es"'),
                      encoding="utf-8")


def test_publish_lang_makes_the_cli_speak_spanish(workspace):
    bad = workspace.run("incident", "open", "--case", "2", "--first-seen", "ayer", env={"PUBLISH_LANG": "es"})
    assert bad.exit_code == 2 and "no es una hora ISO 8601" in bad.output
    help_text = workspace.run("incident", "open", "--help", env={"PUBLISH_LANG": "es"}).output
    assert "Hora del primer mensaje negativo" in help_text
    assert "Time of the first negative message" in workspace.run("incident", "open", "--help").output


def test_the_organisations_language_chooses_and_publish_lang_overrides(workspace):
    _spanish_config(workspace)
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    spanish = cabinet.at(3).ok("status").output
    assert "Incidencia 1: caso 2" in spanish and "Lista de tareas:" in spanish and "Primer mensaje negativo" in spanish
    assert "abierta, gravedad crisis" in spanish and "PENDIENTE" in spanish
    assert "(fallo técnico, claramente nuestro)" in spanish and "Rastrear el origen" in spanish
    english = Cabinet(workspace, env={"PUBLISH_LANG": "en"}).at(3).ok("status").output
    assert "Incident 1: case 2" in english and "Checklist:" in english


def test_the_report_speaks_the_organisations_language(workspace, tmp_path):
    _spanish_config(workspace)
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    markdown = cabinet.at(3).ok("report", "1").output
    assert "## Veredictos" in markdown and "| requisito | plazo | hecho el | veredicto |" in markdown
    cabinet.at(3).ok("report", "1", "--format", "html", "-o", str(tmp_path / "r.html"))
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<html lang="es">' in page and "Cronología" in page and "h preparar" in page


def test_the_console_reads_the_same_catalogue():
    assert translator("es")("Incidents") == "Incidencias" and translator("en")("Incidents") == "Incidents"
    assert translator("es") == catalogue("es").gettext
