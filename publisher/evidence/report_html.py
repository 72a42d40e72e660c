"""The HTML report: one self-contained page (inline CSS and SVG, no script, no external
resource) that opens the same anywhere and prints cleanly. Every value from the log is
escaped."""
from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from publisher.evidence.report_markdown import verified_what
from publisher.evidence.report_words import approval_words, receipt_words
from publisher.timeparse import from_iso, hours

COLOURS = {"message": "#c0392b", "incident": "#2c3e50", "draft": "#7f8c8d", "approval": "#2980b9",
           "delivery": "#27ae60", "failure": "#e67e22", "freeze": "#8e44ad", "step": "#16a085",
           "decision": "#d35400"}
LANES = ["message", "incident", "draft", "approval", "delivery", "failure", "freeze", "step", "decision"]
VERDICT_CLASS = {"PASS": "pass", "FAIL": "fail", "PENDING": "pending", "WAIVED": "waived"}

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d232a}
main{max-width:1040px;margin:0 auto;padding:24px 28px 48px;background:#fff;min-height:100vh}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde1e6;padding-bottom:4px}
.meta{color:#5b6570;margin:0 0 12px}table{border-collapse:collapse;width:100%;font-size:13.5px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceff2;vertical-align:top;overflow-wrap:break-word}
th{white-space:nowrap}td a,.u{word-break:break-all}
th{background:#f0f2f5;font-weight:600}.v{font-weight:700;padding:2px 8px;border-radius:4px;white-space:nowrap}
.pass{background:#d8f3dc;color:#1b5e20}.fail{background:#fde2e1;color:#b71c1c}
.pending{background:#fff3cd;color:#7a5b00}.waived{background:#e8e3f3;color:#4a2f80}
code{font:12.5px ui-monospace,Menlo,Consolas,monospace;background:#f0f2f5;padding:1px 4px;border-radius:3px}
svg{width:100%;height:auto;border:1px solid #e3e6ea;border-radius:6px;background:#fcfcfd}
.note{background:#f4f0fb;border-left:4px solid #8e44ad;padding:8px 12px}
@media print{body{background:#fff}main{padding:0}}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _verdict(value: str) -> str:
    return f'<span class="v {VERDICT_CLASS.get(value, "pending")}">{_e(value)}</span>'


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _link(url: Any) -> str:
    text = _e(url)
    if str(url or "").startswith(("https://", "http://")):
        return f'<a href="{text}">{text}</a>'
    return f'<span class="u">{text}</span>' if text else ""


def html_report(data: dict[str, Any]) -> str:
    incident, prepared, published, log = data["incident"], data["prepared"], data["published"], data["log"]
    title = f"Incident {incident['id']}: case {incident['case']} ({data['case_title']})"
    parts = [f"<h1>{_e(title)}</h1>",
             f'<p class="meta">{_e(data["organisation"])} · severity {_e(incident["severity"])} · '
             f'{_e(incident["state"])} · report generated {_e(data["generated_at"])}</p>',
             f"<p>First negative message: <b>{_e(incident['first_seen'])}</b>"
             + (f" — {_link(incident.get('source'))}" if incident.get("source") else "")
             + (f" by {_e(incident.get('author'))}" if incident.get("author") else "") + "</p>",
             f"<p>Summary: {_e(incident.get('summary') or '—')}</p>",
             "<h2>Verdicts</h2>",
             _table(["requirement", "deadline", "done at", "verdict"], [
                 [f"prepared (approved) within {prepared['limit_hours']:g} h", _e(prepared["deadline"]),
                  _e(prepared["done_at"] or "—"), _verdict(prepared["verdict"])],
                 [f"published on every required public channel within {published['limit_hours']:g} h",
                  _e(published["deadline"]), _e(published["done_at"] or "—"), _verdict(published["verdict"])]])]
    if incident["severity"] == "single":
        parts.append('<p class="note">Severity single (an isolated complaint): the public reply on the source\'s '
                     "platform is what is required, so the 48 h proof covers its channel(s) only.</p>")
    if published.get("waived"):
        waived = published["waived"]
        parts.append(f'<p class="note">The publish requirement is <b>waived by decision</b>: {_e(waived["by"])} '
                     f'decided at {_e(waived["at"])} not to answer ({_e(waived["reason"])}).</p>')
    parts += ["<h2>Timeline</h2>", timeline_svg(data),
              "<h2>Public channels (48 h)</h2>",
              _table(["channel", "type", "verdict", "delivered at", "platform id", "URL", "platform time", "attempts"],
                     [[_e(r["channel"]), _e(r["type"]), _verdict(r["verdict"]), _e(r["delivered_at"] or r["state"]),
                       _e(receipt_words(r)), _link(r["url"]), _e(r["platform_time"]), _e(r["attempts"])]
                      for r in data["channels"]]),
              "<h2>Checklist</h2>",
              _table(["step", "state", "deadline", "done at", "by", "note"],
                     [[f"<b>{_e(i['id'])}</b> {_e(i['title'])}", _e(i["state"]), _e(i["deadline"] or "—"),
                       _e(i["done_at"] or "—"), _e(i["by"]), _e(i["note"])] for i in data["checklist"]]),
              *_extra_sections(data),
              "<h2>Events</h2>",
              _table(["time (UTC)", "after first message", "who", "event"],
                     [[_e(t["at"]), _e(_after(data, t["at"])), _e(t["actor"]), _e(t["text"]) + _delivery(t)]
                      for t in data["timeline"]]),
              "<h2>Drafts and approvals</h2>",
              _table(["draft", "template", "author", "rendered", "status", "approved by"],
                     [[f"<code>{_e(d['id'])}</code>", _e(d["template"]), _e(d["author"]), _e(d["created_at"]),
                       _e(d["status"]), _e(", ".join(approval_words(a) for a in d["approvals"])
                                           or ("—" if d["approvals_required"] else "not needed (internal brief)"))]
                      for d in data["drafts"]]),
              "<h2>Log</h2>",
              f"<p>Head hash <code>{_e(log['head'])}</code> · {_e(verified_what(log))} · verification "
              + (_verdict("PASS") + " no event edited, deleted or reordered" if log["ok"]
                 else _verdict("FAIL") + " " + _e(log["problem"])) + "</p>"]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head>"
            f"<body><main>{''.join(parts)}</main></body></html>\n")


def _after(data: dict[str, Any], at: str) -> str:
    return f"+{hours(from_iso(at) - from_iso(data['incident']['first_seen'])):.1f} h"


def _delivery(entry: dict[str, Any]) -> str:
    if entry.get("kind") != "delivery.delivered":
        return ""
    return (f"<br><small>platform id <code>{_e(entry.get('platform_id'))}</code> · {_link(entry.get('url'))} · "
            f"platform time {_e(entry.get('platform_time') or '—')}</small>")


def timeline_svg(data: dict[str, Any]) -> str:
    """Events on a time axis from the first negative message, with the prepare and
    publish deadlines drawn as lines and freezes as shaded spans."""
    first = from_iso(data["incident"]["first_seen"])
    limits = [data["prepared"]["limit_hours"], data["published"]["limit_hours"]]
    times = [hours(from_iso(entry["at"]) - first) for entry in data["timeline"]]
    now = hours(from_iso(data["generated_at"]) - first)
    span = max([limits[1] * 1.08, now, *times]) * 1.02 or 1
    width, left, right, top, lane_h = 1000, 92, 20, 30, 24
    lanes = [lane for lane in LANES if any(entry["category"] == lane for entry in data["timeline"])]
    height = top + lane_h * max(1, len(lanes)) + 46
    plot = width - left - right

    def x(at_hours: float) -> float:
        return round(left + plot * max(0.0, at_hours) / span, 1)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="Timeline of incident {_e(data["incident"]["id"])}">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fcfcfd"/>']
    for start, end in _freeze_spans(data, first, now):
        out.append(f'<rect x="{x(start)}" y="{top - 6}" width="{max(2.0, x(end) - x(start))}" '
                   f'height="{lane_h * max(1, len(lanes)) + 6}" fill="#8e44ad" fill-opacity="0.10">'
                   f'<title>frozen</title></rect>')
    for index, lane in enumerate(lanes):
        y = top + lane_h * index + lane_h / 2
        out.append(f'<text x="{left - 8}" y="{y + 4}" text-anchor="end" font-size="12" fill="#5b6570">{lane}</text>')
        out.append(f'<line x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" stroke="#eceff2"/>')
    axis_y = top + lane_h * max(1, len(lanes)) + 6
    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#5b6570"/>')
    step = next(size for size in (1, 2, 3, 6, 12, 24, 48, 96, 168, 336, 720) if span / size <= 14)
    tick = 0
    while tick <= span:
        out.append(f'<line x1="{x(tick)}" y1="{axis_y}" x2="{x(tick)}" y2="{axis_y + 5}" stroke="#5b6570"/>'
                   f'<text x="{x(tick)}" y="{axis_y + 18}" text-anchor="middle" font-size="11" '
                   f'fill="#5b6570">{tick} h</text>')
        tick += step
    for limit, label, colour in ((limits[0], "prepare", "#2980b9"), (limits[1], "publish", "#c0392b")):
        out.append(f'<line x1="{x(limit)}" y1="{top - 14}" x2="{x(limit)}" y2="{axis_y}" stroke="{colour}" '
                   f'stroke-width="2" stroke-dasharray="6 4"/><text x="{x(limit) + 4}" y="{top - 4}" '
                   f'font-size="12" fill="{colour}">{limit:g} h {label}</text>')
    out.append(f'<line x1="{x(now)}" y1="{top - 6}" x2="{x(now)}" y2="{axis_y}" stroke="#1d232a" '
               f'stroke-width="1"/><text x="{x(now) - 4}" y="{axis_y + 34}" text-anchor="end" font-size="11" '
               f'fill="#1d232a">report</text>')
    for entry, at in zip(data["timeline"], times):
        y = top + lane_h * lanes.index(entry["category"]) + lane_h / 2
        label = f"{entry['at']} (+{at:.1f} h) {entry.get('actor') or ''}: {entry['text']}"
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
