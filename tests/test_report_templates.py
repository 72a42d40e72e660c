"""The reports are Jinja2 templates (issue 20 item 6) and print exactly what the
hand-written report printed: `tests/report_golden/` holds one incident's report data
(every section: a freeze, decisions, corrections, a waived requirement, a severity
single note, confirmed and platform deliveries, a signed action that does not count, an
internal brief) with every free-text value hostile (`<b>`, quotes, `|`, Markdown
punctuation, a line break, braces), and the Markdown and HTML reports the f-string code
rendered from it, in English and Spanish. Issue 21 item 5 added the verdicts' "statement"
column (the draft each verdict rests on): data.json gained `kinds` and `rests_on` for both
clocks and the four reports were rendered again from it by the templates, that column the
only change. Issue 22 item 6-7 rendered them again: the Spanish verdicts are words (CUMPLE,
PENDIENTE...) and the timeline's scroll region is reachable by keyboard (tabindex, label)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from publisher.evidence.report_html import html_report
from publisher.evidence.report_markdown import markdown_report

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "report_golden"


def _data() -> dict:
    return json.loads((GOLDEN / "data.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(("fmt", "render"), [("md", markdown_report), ("html", html_report)], ids=["md", "html"])
def test_the_template_prints_byte_for_byte_what_the_hand_written_report_printed(monkeypatch, language, fmt, render):
    monkeypatch.setenv("PUBLISH_LANG", language)
    expected = (GOLDEN / f"report.{language}.{fmt}").read_text(encoding="utf-8")
    assert render(_data()) == expected


def test_no_hostile_value_reaches_either_report_unescaped():
    data = _data()
    page, text = html_report(data), markdown_report(data)
    assert "<b>&amp;" not in page and "<b>&amp;" not in text
    assert "&lt;b&gt;&amp;amp;&quot;&#x27;|`*_[x](y)~\\ \n next {x}" in page
    assert "&lt;b&gt;&amp;amp;\"'\\|\\`\\*\\_\\[x\\](y)\\~\\\\ next {x}" in text
    assert not any(line.startswith(" next") for line in text.splitlines())


def _one_line(value):
    if isinstance(value, dict):
        return {key: _one_line(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_one_line(item) for item in value]
    return value.replace("\n", " ") if isinstance(value, str) else value


def test_the_template_writes_the_page_on_one_line_but_its_style_sheet():
    page = html_report(_one_line(_data()))
    head, style, rest = page.partition("<style>")[0], *page.partition("<style>")[2].split("</style>")
    assert head.startswith("<!DOCTYPE html>\n<html") and head.count("\n") == 1
    assert style.startswith("\n*{box-sizing:border-box}") and style.endswith("}\n")
    assert rest.count("\n") == 1 and rest.endswith("</html>\n")


def test_the_templates_load_only_for_a_report_that_needs_them(workspace):
    workspace.open_incident()
    probe = ("import sys\nfrom publisher.cli import cli\ntry:\n    cli(sys.argv[1:], prog_name='publish')\n"
             "except SystemExit:\n    pass\nprint('JINJA', 'jinja2' in sys.modules)")
    env = {**os.environ, "PUBLISH_WORKSPACE": str(workspace.path), "PUBLISH_USER": "marta"}

    def loads_jinja(*args: str) -> bool:
        result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=ROOT,
                                env=env)
        assert "Traceback" not in result.stderr, result.stderr
        return result.stdout.splitlines()[-1] == "JINJA True"

    assert loads_jinja("report", "1", "--format", "html")
    assert not loads_jinja("status")
