"""The HTML report: one self-contained page (inline CSS and SVG, no script, no external
resource) that opens the same anywhere and prints cleanly. Every value from the log is
escaped.

Guarantees: it reads on a 390 px phone: the verdicts stay in a bar pinned to the top,
table rows stack as labelled cards on a narrow screen, the timeline scrolls inside its
own box and its labels never overlap (`label_rows` places each on the first free row).
Times are in the organisation's time zone with their offset; it shows each channel's
published text. Its words are the interface's language (`publisher.i18n`)."""
from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from publisher.evidence.report_markdown import verified_what
from publisher.evidence.report_words import approval_words, draft_warnings, receipt_words
from publisher.evidence.state_words import state_word
from publisher.i18n import N_, _, current_language
from publisher.timeparse import for_people, from_iso, hours

COLOURS = {"message": "#c0392b", "incident": "#2c3e50", "draft": "#7f8c8d", "approval": "#2980b9",
           "delivery": "#27ae60", "failure": "#e67e22", "freeze": "#8e44ad", "step": "#16a085",
           "decision": "#d35400"}
LANES = ["message", "incident", "draft", "approval", "delivery", "failure", "freeze", "step", "decision"]
LANE_WORDS = {"message": N_("message"), "incident": N_("incident"), "draft": N_("draft"),
              "approval": N_("approval"), "delivery": N_("delivery"), "failure": N_("failure"),
              "freeze": N_("freeze"), "step": N_("step"), "decision": N_("decision")}
VERDICT_CLASS = {"PASS": "pass", "FAIL": "fail", "PENDING": "pending", "WAIVED": "waived"}
CHAR_WIDTH = 0.62
"""A text's width in em, per character: wider than system-ui's average, so the label
boxes computed here contain the drawn text."""

CSS = """
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d232a}
main{max-width:1040px;margin:0 auto;padding:0 28px 48px;background:#fff;min-height:100vh}
h1{font-size:24px;margin:16px 0 4px;overflow-wrap:anywhere}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde1e6;padding-bottom:4px}
.meta{color:#5b6570;margin:0 0 12px}
.verdicts{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid #dde1e6;padding:8px 0;
display:flex;flex-wrap:wrap;gap:6px 16px;font-size:14px}
.wrap{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:13.5px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceff2;vertical-align:top;overflow-wrap:break-word}
th{white-space:nowrap;background:#f0f2f5;font-weight:600}td a,.u{word-break:break-all}
.v{font-weight:700;padding:2px 8px;border-radius:4px;white-space:nowrap}
.pass{background:#d8f3dc;color:#1b5e20}.fail{background:#fde2e1;color:#b71c1c}
.pending{background:#fff3cd;color:#7a5b00}.waived{background:#e8e3f3;color:#4a2f80}
code{font:12.5px ui-monospace,Menlo,Consolas,monospace;background:#f0f2f5;padding:1px 4px;border-radius:3px;
overflow-wrap:anywhere}
.timeline{overflow-x:auto;border:1px solid #e3e6ea;border-radius:6px}
.timeline svg{display:block;min-width:760px;width:100%;height:auto;background:#fcfcfd}
.note{background:#f4f0fb;border-left:4px solid #8e44ad;padding:8px 12px}
.post{border:1px solid #dde1e6;border-radius:6px;padding:8px 12px;margin:8px 0}
.post h3{font-size:14px;margin:0 0 4px}.post p{margin:4px 0;white-space:pre-wrap;overflow-wrap:anywhere}
@media (max-width:640px){
main{padding:0 12px 32px}h1{font-size:20px}
table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
table.cards thead{display:none}
table.cards tr{border:1px solid #dde1e6;border-radius:6px;margin:0 0 10px;padding:4px 0}
table.cards td{border:0;padding:3px 10px}
table.cards td::before{content:attr(data-label);display:block;font-size:12px;color:#5b6570;font-weight:600}
}
@media print{body{background:#fff}main{padding:0}.verdicts{position:static}}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _h2(title: str) -> str:
    return f"<h2>{_e(title)}</h2>"


def _verdict(value: str) -> str:
    return f'<span class="v {VERDICT_CLASS.get(value, "pending")}">{_e(value)}</span>'


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """Cells are HTML already; each carries its header so a narrow screen shows it as a card."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td data-label="{_e(h)}">{cell}</td>' for h, cell in zip(headers, row))
                   + "</tr>" for row in rows)
    return f'<div class="wrap"><table class="cards"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _link(url: Any) -> str:
    text = _e(url)
    if str(url or "").startswith(("https://", "http://")):
        return f'<a href="{text}">{text}</a>'
    return f'<span class="u">{text}</span>' if text else ""


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
    incident, case_title = data["incident"], data["case_title"]
    title = _("Incident {id}: case {case} ({title})").format(id=incident["id"], case=incident["case"],
                                                            title=_(case_title))
    parts = [_verdict_bar(data), f"<h1>{_e(title)}</h1>", *_heading(data), *_requirements(data),
             _h2(_("Timeline")), f'<div class="timeline">{timeline_svg(data)}</div>',
             *_channels(data), *_checklist(data), *_extra_sections(data), *_events(data), *_drafts(data),
             *_log(data)]
    return (f"<!DOCTYPE html>\n<html lang=\"{current_language()}\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head>"
            f"<body><main>{''.join(parts)}</main></body></html>\n")


def _verdict_bar(data: dict[str, Any]) -> str:
    prepared, published = data["prepared"], data["published"]
    first = _e(_("Prepared within {hours:g} h").format(hours=prepared["limit_hours"]))
    second = _e(_("Published within {hours:g} h").format(hours=published["limit_hours"]))
    return ('<div class="verdicts" role="status">'
            f"<span>{first} {_verdict(prepared['verdict'])}</span>"
            f"<span>{second} {_verdict(published['verdict'])}</span></div>")


def _heading(data: dict[str, Any]) -> list[str]:
    incident, zone = data["incident"], _zone(data)
    meta = _("{organisation} · severity {severity} · {state} · report generated {at}").format(
        organisation=data["organisation"], severity=state_word(incident["severity"]), state=state_word(incident["state"]),
        at=for_people(data["generated_at"], zone))
    seen = _e(_("First negative message: {at}").format(at=for_people(incident["first_seen"], zone)))
    if incident.get("source"):
        seen += f" — {_link(incident.get('source'))}"
    if incident.get("author"):
        seen += " " + _e(_("by {who}").format(who=incident.get("author")))
    summary = _("Summary: {summary}").format(summary=incident.get("summary") or "—")
    return [f'<p class="meta">{_e(meta)}</p>', f"<p>{seen}</p>", f"<p>{_e(summary)}</p>"]


def _requirements(data: dict[str, Any]) -> list[str]:
    incident, prepared, published, zone = data["incident"], data["prepared"], data["published"], _zone(data)
    rows = [[_e(_("prepared (approved) within {hours:g} h").format(hours=prepared["limit_hours"])),
             _e(for_people(prepared["deadline"], zone)), _e(for_people(prepared["done_at"], zone) or "—"),
             _verdict(prepared["verdict"])],
            [_e(_("published on every required public channel within {hours:g} h").format(
                hours=published["limit_hours"])),
             _e(for_people(published["deadline"], zone)), _e(for_people(published["done_at"], zone) or "—"),
             _verdict(published["verdict"])]]
    parts = [_h2(_("Verdicts")),
             _table([_("requirement"), _("deadline"), _("done at"), _("verdict")], rows)]
    if incident["severity"] == "single":
        parts.append('<p class="note">' + _e(_(
            "Severity single (an isolated complaint): the public reply on the source's platform is what is "
            "required, so the 48 h proof covers its channel(s) only.")) + "</p>")
    if published.get("waived"):
        waived = published["waived"]
        parts.append('<p class="note">' + _e(_(
            "The publish requirement is waived by decision: {who} decided at {at} not to answer ({why}).").format(
            who=waived["by"], at=for_people(waived["at"], zone), why=waived["reason"])) + "</p>")
    return parts


def _channels(data: dict[str, Any]) -> list[str]:
    zone = _zone(data)
    rows = [[_e(r["channel"]), _e(r["type"]), _verdict(r["verdict"]),
             _e(for_people(r["delivered_at"], zone) or state_word(r["state"])), _e(receipt_words(r)), _link(r["url"]),
             _e(_platform_time(r["platform_time"], zone)), _e(r["attempts"])] for r in data["channels"]]
    headers = [_("channel"), _("type"), _("verdict"), _("delivered at"), _("platform id"), _("URL"),
               _("platform time"), _("attempts")]
    return [_h2(_("Public channels (48 h)")), _table(headers, rows), *_published_texts(data)]


def _published_texts(data: dict[str, Any]) -> list[str]:
    """What each channel was given to publish, as it was approved."""
    posts = []
    for row in data["channels"]:
        if not row.get("text"):
            continue
        heading = _("{channel}: draft {draft}").format(channel=row["channel"], draft=row.get("draft"))
        title = f"<p><b>{_e(row['title'])}</b></p>" if row.get("title") else ""
        body = "".join(f"<p>{_e(part)}</p>" for part in row["text"])
        posts.append(f'<div class="post"><h3>{_e(heading)}</h3>{title}{body}</div>')
    if not posts:
        return []
    return [_h2(_("Published text per channel")), *posts]


def _checklist(data: dict[str, Any]) -> list[str]:
    zone = _zone(data)
    rows = [[f"<b>{_e(i['id'])}</b> {_e(i['title'])}", _e(state_word(i["state"])), _e(for_people(i["deadline"], zone) or "—"),
             _e(for_people(i["done_at"], zone) or "—"), _e(i["by"]), _e(i["note"])] for i in data["checklist"]]
    return [_h2(_("Checklist")),
            _table([_("step"), _("state"), _("deadline"), _("done at"), _("by"), _("note")], rows)]


def _events(data: dict[str, Any]) -> list[str]:
    zone = _zone(data)
    rows = [[_e(for_people(t["at"], zone)), _e(_after(data, t["at"])), _e(t["actor"]), _e(t["text"]) + _delivery(t, zone)]
            for t in data["timeline"]]
    return [_h2(_("Events")),
            _table([_("time"), _("after first message"), _("who"), _("event")], rows)]


def _approved_cell(draft: dict[str, Any], data: dict[str, Any]) -> str:
    said = "; ".join(filter(None, [", ".join(approval_words(a, data) for a in draft["approvals"]), draft_warnings(draft)]))
    return said or ("—" if draft["approvals_required"] else _("not needed (internal brief)"))


def _drafts(data: dict[str, Any]) -> list[str]:
    zone = _zone(data)
    rows = [[f"<code>{_e(d['id'])}</code>", _e(d["template"]), _e(d["author"]), _e(for_people(d["created_at"], zone)),
             _e(state_word(d["status"])), _e(_approved_cell(d, data))]
            for d in data["drafts"]]
    headers = [_("draft"), _("template"), _("author"), _("rendered"), _("status"), _("approved by")]
    return [_h2(_("Drafts and approvals")), _table(headers, rows)]


def _log(data: dict[str, Any]) -> list[str]:
    log = data["log"]
    outcome = (_verdict("PASS") + " " + _e(_("no event edited, deleted or reordered")) if log["ok"]
               else _verdict("FAIL") + " " + _e(log["problem"]))
    head, verification = _e(_("Head hash")), _e(_("verification"))
    return [_h2(_("Log")),
            f"<p>{head} <code>{_e(log['head'])}</code> · {_e(verified_what(log))} · {verification} {outcome}</p>"]


def _after(data: dict[str, Any], at: str) -> str:
    return f"+{hours(from_iso(at) - from_iso(data['incident']['first_seen'])):.1f} h"


def _delivery(entry: dict[str, Any], zone: ZoneInfo | None) -> str:
    if entry.get("kind") != "delivery.delivered":
        return ""
    return ("<br><small>" + _e(_("platform id")) + f" <code>{_e(entry.get('platform_id'))}</code> · "
            f"{_link(entry.get('url'))} · " + _e(_("platform time")) + f" {_e(_platform_time(entry.get('platform_time'), zone) or '—')}"
            "</small>")


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


def timeline_svg(data: dict[str, Any]) -> str:
    """Events on a time axis from the first negative message, with the prepare and
    publish deadlines drawn as lines and freezes as shaded spans."""
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
    height = axis_y + 18 + 14 * max(bottom_rows) + 16
    label = _e(_("Timeline of incident {id}").format(id=data["incident"]["id"]))
    frozen, lane_words = _e(_("frozen")), {lane: _e(_(word)) for lane, word in LANE_WORDS.items()}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{label}">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fcfcfd"/>']
    for start, end in _freeze_spans(data, first, now):
        out.append(f'<rect x="{x(start)}" y="{top - 6}" width="{max(2.0, x(end) - x(start))}" '
                   f'height="{lane_h * max(1, len(lanes)) + 6}" fill="#8e44ad" fill-opacity="0.10">'
                   f'<title>{frozen}</title></rect>')
    for index, lane in enumerate(lanes):
        y = top + lane_h * index + lane_h / 2
        out.append(f'<text x="{left - 8}" y="{y + 4}" text-anchor="end" font-size="12" fill="#5b6570">'
                   f'{lane_words[lane]}</text>')
        out.append(f'<line x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" stroke="#eceff2"/>')
    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#5b6570"/>')
    for tick in ticks:
        out.append(f'<line x1="{x(tick)}" y1="{axis_y}" x2="{x(tick)}" y2="{axis_y + 5}" stroke="#5b6570"/>')
    for (label_x, text, anchor), row in zip(bottom, bottom_rows):
        colour = "#1d232a" if text == _("report") else "#5b6570"
        out.append(f'<text x="{label_x}" y="{axis_y + 18 + 14 * row}" text-anchor="{anchor}" font-size="11" '
                   f'fill="{colour}">{_e(text)}</text>')
    for (limit, label, colour), row in zip(deadline_labels, top_rows):
        label_y = 26 + 16 * row
        out.append(f'<line x1="{x(limit)}" y1="{label_y - 10}" x2="{x(limit)}" y2="{axis_y}" stroke="{colour}" '
                   f'stroke-width="2" stroke-dasharray="6 4"/><text x="{x(limit) + 4}" y="{label_y}" text-anchor="start" '
                   f'font-size="12" fill="{colour}">{_e(label)}</text>')
    out.append(f'<line x1="{x(now)}" y1="{top - 6}" x2="{x(now)}" y2="{axis_y}" stroke="#1d232a" stroke-width="1"/>')
    zone = _zone(data)
    for entry, at in zip(data["timeline"], times):
        y = top + lane_h * lanes.index(entry["category"]) + lane_h / 2
        label = f"{for_people(entry['at'], zone)} (+{at:.1f} h) {entry.get('actor') or ''}: {entry['text']}"
        out.append(f'<circle cx="{x(at)}" cy="{y}" r="6" fill="{COLOURS[entry["category"]]}" stroke="#fff" '
                   f'stroke-width="1.5"><title>{_e(label)}</title></circle>')
    out.append("</svg>")
    return "".join(out)


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


def _extra_sections(data: dict[str, Any]) -> list[str]:
    from publisher.evidence.report_sections import extra_sections

    return [f"<h2>{_e(title)}</h2>" + _table(headers, [[_e(cell) for cell in row] for row in rows])
            for title, headers, rows in extra_sections(data)]
