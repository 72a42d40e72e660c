"""The Markdown report: the same data as the JSON report, as tables a person reads.
Every value from the log, the config or a platform goes through `_md`: it stays on its
line and shows as text, so no summary, name, reason or platform answer can draw a fake
row or table, a link, or raw HTML."""
from __future__ import annotations

import re
from typing import Any

from publisher.evidence.report_words import approval_words, draft_warnings, local_time, receipt_words
from publisher.evidence.state_words import state_word
from publisher.i18n import _
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
        return _("the whole chain of {rows} events verified").format(rows=log["rows"])
    return _("the incident's {rows} events, their links and the head anchor verified; "
             "`publish log verify` walks the whole chain").format(rows=log["rows"])


def markdown_report(data: dict[str, Any]) -> str:
    incident, case_title = data["incident"], data["case_title"]
    lines = [_("# Incident {id}: case {case} ({title})").format(
                 id=_md(incident["id"]), case=incident["case"], title=_md(_(case_title))), "",
             _("{organisation} · severity {severity} · {state} · report generated {at}").format(
                 organisation=_md(data["organisation"]), severity=state_word(incident["severity"]),
                 state=state_word(incident["state"]),
                 at=local_time(data, data["generated_at"])), "",
             _first_message(data), "- " + _("Summary: {summary}").format(summary=_md(incident.get("summary") or "—")),
             "", *_verdicts(data), *_channels(data), *_checklist(data), *_extra_sections(data), *_timeline(data),
             *_drafts(data), *_log(data)]
    return "\n".join(lines)


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _head(headers: list[str]) -> list[str]:
    return [_row(headers), "|" + "---|" * len(headers)]


def _first_message(data: dict[str, Any]) -> str:
    incident = data["incident"]
    line = "- " + _("First negative message: {at}").format(at=local_time(data, incident["first_seen"]))
    if incident.get("source"):
        line += f" — {_md(incident['source'])}"
    if incident.get("author"):
        line += " " + _("by {who}").format(who=_md(incident["author"]))
    return line


def _verdicts(data: dict[str, Any]) -> list[str]:
    incident, prepared, published = data["incident"], data["prepared"], data["published"]
    lines = ["## " + _("Verdicts"), "", *_head([_("requirement"), _("deadline"), _("done at"), _("verdict")])]
    for clock, words in ((prepared, _("prepared (approved) within {hours:g} h")),
                         (published, _("published on every required public channel within {hours:g} h"))):
        done = f"{local_time(data, clock['done_at']) or '—'} {_hours_after(data, clock['done_at'])}"
        lines.append(_row([words.format(hours=clock["limit_hours"]), local_time(data, clock["deadline"]), done,
                           f"**{clock['verdict']}**"]))
    lines.append("")
    if incident["severity"] == "single":
        lines += [_("Severity single (an isolated complaint): the public reply on the source's platform is what is "
                    "required, so the 48 h proof covers its channel(s) only."), ""]
    if published.get("waived"):
        waived = published["waived"]
        lines += [_("The publish requirement is waived by decision: {who} decided at {at} not to answer ({why}).").format(
            who=_md(waived["by"]), at=local_time(data, waived["at"]), why=_md(waived["reason"])), ""]
    return lines


def _channels(data: dict[str, Any]) -> list[str]:
    lines = ["## " + _("Public channels (48 h)"), "",
             *_head([_("channel"), _("type"), _("verdict"), _("delivered at"), _("platform id"), _("URL"),
                     _("platform time"), _("attempts")])]
    for row in data["channels"]:
        lines.append(_row([_md(row["channel"]), _md(row["type"]), f"**{row['verdict']}**",
                           local_time(data, row["delivered_at"]) or state_word(row["state"]), _md(receipt_words(row)),
                           _md(row["url"]), _md(local_time(data, row["platform_time"])), row["attempts"]]))
    return lines


def _checklist(data: dict[str, Any]) -> list[str]:
    lines = ["", "## " + _("Checklist"), "",
             *_head([_("step"), _("state"), _("deadline"), _("done at"), _("by"), _("note")])]
    for item in data["checklist"]:
        lines.append(_row([f"{_md(item['id'])} — {_md(item['title'])}", state_word(item["state"]),
                           local_time(data, item["deadline"]) or "—", local_time(data, item["done_at"]) or "—",
                           _md(item["by"]), _md(item["note"])]))
    return lines


def _timeline(data: dict[str, Any]) -> list[str]:
    lines = ["", "## " + _("Timeline"), "", *_head([_("time"), _("after first message"), _("who"), _("event")])]
    for entry in data["timeline"]:
        text = entry["text"]
        if entry.get("kind") == "delivery.delivered":
            text += " — " + _("id {id}, {url}, platform time {time}").format(
                id=entry.get("platform_id"), url=entry.get("url") or _("no URL"),
                time=local_time(data, entry.get("platform_time")) or "—")
        lines.append(_row([local_time(data, entry["at"]), _hours_after(data, entry["at"]), _md(entry["actor"]),
                           _md(text)]))
    return lines


def _drafts(data: dict[str, Any]) -> list[str]:
    lines = ["", "## " + _("Drafts and approvals"), ""]
    for draft in data["drafts"]:
        approvals = ", ".join(_md(approval_words(item, data)) for item in draft["approvals"]) or (
            _("none") if draft["approvals_required"] else _("nobody: an internal brief needs no approval"))
        lines.append("- " + _("`{id}` {template} ({language}) by {author} at {at}: {status}; approved by "
                              "{approvals}").format(
            id=draft["id"], template=_md(draft["template"]), language=_md(draft["language"]),
            author=_md(draft["author"]), at=local_time(data, draft["created_at"]), status=state_word(draft["status"]),
            approvals=approvals))
        if draft_warnings(draft):
            lines[-1] += "; " + _md(draft_warnings(draft))
    return lines


def _log(data: dict[str, Any]) -> list[str]:
    log = data["log"]
    outcome = (_("PASS — no event edited, deleted or reordered") if log["ok"]
               else _("FAIL — {problem}").format(problem=_md(log["problem"])))
    return ["", "## " + _("Log"), "",
            "- " + _("Head hash: `{head}` ({what})").format(head=log["head"], what=verified_what(log)),
            "- " + _("Verification: {outcome}").format(outcome=outcome), ""]


def _extra_sections(data: dict[str, Any]) -> list[str]:
    from publisher.evidence.report_sections import extra_sections

    lines: list[str] = []
    for title, headers, rows in extra_sections(data):
        lines += ["", f"## {title}", "", *_head(headers)]
        lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows]
    return lines
