"""The Markdown report: the same data as the JSON report, as tables a person reads; the
template `templates/report.md.j2`, rendered by Jinja2 without autoescape.
Every value from the log, the config or a platform goes through the template's `|md`
(`_md` here): it stays on its line and shows as text, so no summary, name, reason or
platform answer can draw a fake row or table, a link, or raw HTML. Jinja2 is imported on a
process's first Markdown report (read commands never load it; compiling the template:
about 40 ms of CPU, measured as in `report_html`)."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from publisher.evidence.report_words import (approval_words, draft_warnings, local_time, receipt_words,
                                             statement_words, verdict_word)
from publisher.evidence.state_words import state_word
from publisher.i18n import _
from publisher.timeparse import from_iso, hours

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _hours_after(data: dict[str, Any], at: str | None) -> str:
    if not at:
        return ""
    first = from_iso(data["incident"]["first_seen"])
    return f"+{hours(from_iso(at) - first):.1f} h"


MARKDOWN_ACTIVE = re.compile(r"([\\`*_\[\]|~])")
HTML_ACTIVE = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _md(text: Any) -> str:
    """A value shown as text wherever it sits (a table cell, a list item, a sentence):
    on one line, HTML and Markdown punctuation escaped, so it can draw no row, link,
    emphasis or tag."""
    flat = " ".join(str(text if text is not None else "").split())
    flat = "".join(HTML_ACTIVE.get(character, character) for character in flat)
    return MARKDOWN_ACTIVE.sub(r"\\\1", flat)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Markdown report's Jinja2 environment, made on the first Markdown report:
    autoescape off (it is not HTML), every value escaped by the template's `|md`."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False, undefined=StrictUndefined,
                            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    templates.filters["md"] = _md
    return templates


def verified_what(log: dict[str, Any]) -> str:
    if log.get("scope") == "full":
        return _("the whole chain of {rows} events verified").format(rows=log["rows"])
    return _("the incident's {rows} events, their links and the head anchor verified; "
             "`publish log verify` walks the whole chain").format(rows=log["rows"])


def practice_line(data: dict[str, Any]) -> str:
    """The report's first line when its workspace is a practice one, else nothing."""
    from publisher.workspace.practice import notice

    return notice() if data.get("practice") else ""


def unsafe_line(data: dict[str, Any]) -> str:
    """What the report's log section says when deliveries ran on a server that does not
    keep every commit durable (`[store] allow_unsafe_commit`), else nothing."""
    from publisher.delivery.durability import unsafe_words

    return unsafe_words(data["unsafe_commit"]) if data.get("unsafe_commit") else ""


def markdown_report(data: dict[str, Any]) -> str:
    from publisher.evidence.report_sections import extra_sections

    return environment().get_template("report.md.j2").render(
        _=_, data=data, incident=data["incident"], prepared=data["prepared"], published=data["published"],
        case_title=_(data["case_title"]), extra_sections=extra_sections(data), state_word=state_word,
        receipt_words=receipt_words, statement_words=statement_words, draft_warnings=draft_warnings, verified_what=verified_what,
        verdict_word=verdict_word, local=lambda value: local_time(data, value), after=lambda at: _hours_after(data, at),
        approval_words=lambda approval: approval_words(approval, data), practice=practice_line(data),
        listening=_listening(data),
        unsafe=unsafe_line(data))


def _listening(data: dict[str, Any]) -> str:
    """The listening section (`report_listening`), when the report carries one."""
    if not data.get("listening"):
        return ""
    from publisher.evidence.report_listening import listening_markdown

    return listening_markdown(data, data["listening"], _md)
