"""The Markdown report: the same data as the JSON report, as tables a person reads.
Every value from the log, the config or a platform goes through `_md`: it stays on its
line and shows as text, so no summary, name, reason or platform answer can draw a fake
row or table, a link, or raw HTML."""
from __future__ import annotations

import re
from typing import Any

from publisher.evidence.report_words import approval_words, receipt_words
from publisher.timeparse import from_iso, hours


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


def verified_what(log: dict[str, Any]) -> str:
    if log.get("scope") == "full":
        return f"the whole chain of {log['rows']} events verified"
    return (f"the incident's {log['rows']} events, their links and the head anchor verified; "
            "`publish log verify` walks the whole chain")


def markdown_report(data: dict[str, Any]) -> str:
    incident, prepared, published = data["incident"], data["prepared"], data["published"]
    lines = [f"# Incident {_md(incident['id'])}: case {incident['case']} ({_md(data['case_title'])})", "",
             f"{_md(data['organisation'])} · severity {incident['severity']} · {incident['state']} · "
             f"report generated {data['generated_at']}", "",
             f"- First negative message: {incident['first_seen']}"
             + (f" — {_md(incident['source'])}" if incident.get("source") else "")
             + (f" by {_md(incident['author'])}" if incident.get("author") else ""),
             f"- Summary: {_md(incident.get('summary') or '—')}", "",
             "## Verdicts", "",
             "| requirement | deadline | done at | verdict |", "|---|---|---|---|",
             f"| prepared (approved) within {prepared['limit_hours']:g} h | {prepared['deadline']} | "
             f"{prepared['done_at'] or '—'} {_hours_after(data, prepared['done_at'])} | **{prepared['verdict']}** |",
             f"| published on every required public channel within {published['limit_hours']:g} h | "
             f"{published['deadline']} | {published['done_at'] or '—'} {_hours_after(data, published['done_at'])} | "
             f"**{published['verdict']}** |", ""]
    if incident["severity"] == "single":
        lines += ["Severity single (an isolated complaint): the public reply on the source's platform is what is "
                  "required, so the 48 h proof covers its channel(s) only.", ""]
    if published.get("waived"):
        waived = published["waived"]
        lines += [f"The publish requirement is waived by decision: {_md(waived['by'])} decided at {waived['at']} "
                  f"not to answer ({_md(waived['reason'])}).", ""]
    lines += ["## Public channels (48 h)", "", "| channel | type | verdict | delivered at | platform id | URL | "
              "platform time | attempts |", "|---|---|---|---|---|---|---|---|"]
    for row in data["channels"]:
        lines.append(f"| {_md(row['channel'])} | {_md(row['type'])} | **{row['verdict']}** | "
                     f"{row['delivered_at'] or row['state']} | {_md(receipt_words(row))} | {_md(row['url'])} | "
                     f"{_md(row['platform_time'])} | {row['attempts']} |")
    lines += ["", "## Checklist", "", "| step | state | deadline | done at | by | note |", "|---|---|---|---|---|---|"]
    for item in data["checklist"]:
        lines.append(f"| {_md(item['id'])} — {_md(item['title'])} | {item['state']} | {item['deadline'] or '—'} | "
                     f"{item['done_at'] or '—'} | {_md(item['by'])} | {_md(item['note'])} |")
    lines += _extra_sections(data)
    lines += ["", "## Timeline", "", "| time (UTC) | after first message | who | event |", "|---|---|---|---|"]
    for entry in data["timeline"]:
        extra = ""
        if entry.get("kind") == "delivery.delivered":
            extra = f" — id {entry.get('platform_id')}, {entry.get('url') or 'no URL'}, platform time " \
                    f"{entry.get('platform_time') or '—'}"
        lines.append(f"| {entry['at']} | {_hours_after(data, entry['at'])} | {_md(entry['actor'])} | "
                     f"{_md(entry['text'] + extra)} |")
    lines += ["", "## Drafts and approvals", ""]
    for draft in data["drafts"]:
        approvals = ", ".join(_md(approval_words(item)) for item in draft["approvals"]) or (
            "none" if draft["approvals_required"] else "nobody: an internal brief needs no approval")
        lines.append(f"- `{draft['id']}` {_md(draft['template'])} ({_md(draft['language'])}) by {_md(draft['author'])} at "
                     f"{draft['created_at']}: {draft['status']}; approved by {approvals}")
    log = data["log"]
    lines += ["", "## Log", "",
              f"- Head hash: `{log['head']}` ({verified_what(log)})",
              f"- Verification: {'PASS — no event edited, deleted or reordered' if log['ok'] else 'FAIL — ' + _md(log['problem'])}",
              ""]
    return "\n".join(lines)


def _extra_sections(data: dict[str, Any]) -> list[str]:
    from publisher.evidence.report_sections import extra_sections

    lines: list[str] = []
    for title, headers, rows in extra_sections(data):
        lines += ["", f"## {title}", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows]
    return lines
