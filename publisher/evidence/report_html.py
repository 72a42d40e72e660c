"""The HTML report: one self-contained page (inline CSS and SVG, no script, no external
resource) that opens the same anywhere and prints cleanly. The page is the template
`templates/report.html.j2` (its style sheet `templates/report.css`), rendered by Jinja2
with autoescape: every value from the log is escaped on output (`&`, `<`, `>`, both
quotes), and only the template's own macros write markup.

Guarantees: it reads on a 390 px phone: the verdicts stay in a bar pinned to the top,
table rows stack as labelled cards on a narrow screen, the timeline scrolls inside its
own box and its labels never overlap (`label_rows` places each on the first free row;
the timeline's geometry is computed here, its markup is the template's).
Times are in the organisation's time zone with their offset; it shows each channel's
published text. Its words are the interface's language (`publisher.i18n`).

Jinja2 is imported and the template compiled on a process's first HTML report (read commands
never load either); nothing compiled is kept on disk (measured 2026-12-05 on a loaded 2-core
machine: about 65 ms of CPU to compile, 80 ms to import Jinja2)."""
from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.ext import Extension
from markupsafe import Markup

from publisher.evidence.report_markdown import practice_line, unsafe_line, verified_what
from publisher.evidence.report_words import (approval_words, draft_warnings, receipt_words, statement_words,
                                             verdict_word)
from publisher.evidence.state_words import state_word
from publisher.i18n import N_, _, current_language
from publisher.timeparse import for_people, from_iso, hours

TEMPLATES = Path(__file__).resolve().parent / "templates"
COLOURS = {"message": "#c0392b", "incident": "#2c3e50", "draft": "#7f8c8d", "approval": "#2980b9",
           "delivery": "#27ae60", "failure": "#e67e22", "freeze": "#8e44ad", "step": "#16a085",
           "decision": "#d35400", "notice": "#34495e"}
LANES = ["message", "incident", "draft", "approval", "delivery", "failure", "freeze", "step", "decision", "notice"]
LANE_WORDS = {"message": N_("message"), "incident": N_("incident"), "draft": N_("draft"),
              "approval": N_("approval"), "delivery": N_("delivery"), "failure": N_("failure"),
              "freeze": N_("freeze"), "step": N_("step"), "decision": N_("decision"),
              "notice": N_("notice")}
VERDICT_CLASS = {"PASS": "pass", "FAIL": "fail", "PENDING": "pending", "WAIVED": "waived", "VOID": "waived",
                 "NOT PROVEN": "fail"}
CHAR_WIDTH = 0.62
"""A text's width in em, per character: wider than system-ui's average, so the label
boxes computed here contain the drawn text."""
LINE_BREAK = re.compile(r"[ \t]*\n[ \t]*")


class OneLine(Extension):
    """An HTML template's line breaks and the indentation after them are for its reader:
    the page is written on one line, except where the template writes `{{ "\\n" }}`."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return LINE_BREAK.sub("", source) if name and name.endswith(".html.j2") else source


def escaped(value: Any) -> Any:
    """Every value the template writes, as text: `None` is empty; markup only when a macro
    of the template made it. Escaped as `html.escape` does (quotes as `&quot;`, `&#x27;`)."""
    if hasattr(value, "__html__"):
        return value
    return Markup(escape("" if value is None else str(value)))


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The report's Jinja2 environment, made on the first HTML report."""
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, finalize=escaped,
                       undefined=StrictUndefined, keep_trailing_newline=True, extensions=[OneLine])


def _platform_time(value: Any, zone: ZoneInfo | None) -> str:
    """A platform's own time, shown like ours when it is ISO 8601, else as the platform gave it."""
    try:
        return for_people(value, zone) if isinstance(value, str) else str(value or "")
    except ValueError:
        return str(value)


def _zone(data: dict[str, Any]) -> ZoneInfo | None:
    name = data.get("timezone")
    return ZoneInfo(name) if name and name != "UTC" else None


def html_report(data: dict[str, Any]) -> str:
    from publisher.evidence.report_sections import extra_sections

    zone = _zone(data)
    incident = data["incident"]
    return environment().get_template("report.html.j2").render(
        _=_, data=data, incident=incident, prepared=data["prepared"], published=data["published"],
        case_title=_(data["case_title"]), language=current_language(), verdict_class=VERDICT_CLASS,
        timeline=timeline(data), extra_sections=extra_sections(data), state_word=state_word,
        receipt_words=receipt_words, statement_words=statement_words, verified_what=verified_what, verdict_word=verdict_word,
        local=lambda value: for_people(value, zone),
        platform_time=lambda value: _platform_time(value, zone),
        after=lambda at: _after(data, at),
        approved_cell=lambda draft: _approved_cell(draft, data), practice=practice_line(data),
        listening=_listening(data),
        unsafe=unsafe_line(data))


def _listening(data: dict[str, Any]) -> Markup | str:
    """The listening section (`report_listening`), when the report carries one."""
    if not data.get("listening"):
        return ""
    from publisher.evidence.report_listening import listening_html

    return Markup(listening_html(data, data["listening"]))


def _approved_cell(draft: dict[str, Any], data: dict[str, Any]) -> str:
    said = "; ".join(filter(None, [", ".join(approval_words(a, data) for a in draft["approvals"]), draft_warnings(draft)]))
    return said or ("—" if draft["approvals_required"] else _("not needed (internal brief)"))


def _after(data: dict[str, Any], at: str) -> str:
    return f"+{hours(from_iso(at) - from_iso(data['incident']['first_seen'])):.1f} h"


def text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


def label_rows(labels: list[tuple[float, str, str]], size: float, gap: float = 6.0) -> list[int]:
    """For labels (x, text, anchor "start"|"middle"|"end") of one font size, the row each
    goes on: the first row where its box overlaps no label placed before it."""
    placed: list[list[tuple[float, float]]] = []
    rows = []
    for x, text, anchor in labels:
        width = text_width(text, size)
        start = x - {"start": 0.0, "middle": width / 2, "end": width}[anchor]
        box = (start - gap / 2, start + width + gap / 2)
        row = next((index for index, boxes in enumerate(placed)
                    if all(box[1] <= other[0] or box[0] >= other[1] for other in boxes)), len(placed))
        if row == len(placed):
            placed.append([])
        placed[row].append(box)
        rows.append(row)
    return rows


def timeline(data: dict[str, Any]) -> dict[str, Any]:
    """The timeline's geometry for the template: events on a time axis from the first
    negative message, the prepare and publish deadlines as lines, freezes as shaded spans."""
    first = from_iso(data["incident"]["first_seen"])
    limits = [data["prepared"]["limit_hours"], data["published"]["limit_hours"]]
    times = [hours(from_iso(entry["at"]) - first) for entry in data["timeline"]]
    now = hours(from_iso(data["generated_at"]) - first)
    span = max([limits[1] * 1.08, now, *times]) * 1.02 or 1
    width, left, right, lane_h = 1000, 92, 20, 24
    deadline_labels = [(limits[0], _("{hours:g} h prepare").format(hours=limits[0]), "#2980b9"),
                       (limits[1], _("{hours:g} h publish").format(hours=limits[1]), "#c0392b")]
    plot = width - left - right

    def x(at_hours: float) -> float:
        return round(left + plot * max(0.0, at_hours) / span, 1)

    top_rows = label_rows([(x(limit) + 4, label, "start") for limit, label, _colour in deadline_labels], 12)
    top = 30 + 16 * max(top_rows)
    lanes = [lane for lane in LANES if any(entry["category"] == lane for entry in data["timeline"])]
    axis_y = top + lane_h * max(1, len(lanes)) + 6
    step = next(size for size in (1, 2, 3, 6, 12, 24, 48, 96, 168, 336, 720) if span / size <= 14)
    ticks = [step * index for index in range(int(span // step) + 1)]
    tick_labels = [(x(tick), f"{tick} h", "middle") for tick in ticks]
    bottom = tick_labels + [(x(now) - 4, _("report"), "end")]
    bottom_rows = label_rows(bottom, 11)
    lane_y = {lane: top + lane_h * index + lane_h / 2 for index, lane in enumerate(lanes)}
    zone = _zone(data)
    return {
        "width": width, "height": axis_y + 18 + 14 * max(bottom_rows) + 16, "left": left, "axis_end": width - right,
        "lane_word_x": left - 8, "lanes_top": top - 6, "lanes_height": lane_h * max(1, len(lanes)) + 6,
        "axis_y": axis_y, "tick_end": axis_y + 5, "now": x(now), "ticks": [x(tick) for tick in ticks],
        "freezes": [{"x": x(start), "width": max(2.0, x(end) - x(start))}
                    for start, end in _freeze_spans(data, first, now)],
        "lanes": [{"y": lane_y[lane], "word_y": lane_y[lane] + 4, "word": _(LANE_WORDS[lane])} for lane in lanes],
        "axis_labels": [{"x": label_x, "y": axis_y + 18 + 14 * row, "anchor": anchor, "text": text,
                         "colour": "#1d232a" if text == _("report") else "#5b6570"}
                        for (label_x, text, anchor), row in zip(bottom, bottom_rows, strict=True)],
        "deadlines": [{"x": x(limit), "top": 26 + 16 * row - 10, "label_x": x(limit) + 4, "label_y": 26 + 16 * row,
                       "colour": colour, "label": label}
                      for (limit, label, colour), row in zip(deadline_labels, top_rows, strict=True)],
        "points": [{"x": x(at), "y": lane_y[entry["category"]], "colour": COLOURS[entry["category"]],
                    "title": f"{for_people(entry['at'], zone)} (+{at:.1f} h) {entry.get('actor') or ''}: "
                             f"{entry['text']}"}
                   for entry, at in zip(data["timeline"], times, strict=True)],
    }


def _freeze_spans(data: dict[str, Any], first: datetime, now: float) -> list[tuple[float, float]]:
    spans, start = [], None
    for entry in data["timeline"]:
        kind = entry.get("kind")
        at = hours(from_iso(entry["at"]) - first)
        if kind == "freeze" and start is None:
            start = at
        elif kind == "unfreeze" and start is not None:
            spans.append((start, at))
            start = None
    if start is not None:
        spans.append((start, now))
    return spans
