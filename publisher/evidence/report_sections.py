"""The report's sections about how the record itself changed: every decision of the
cabinet, each with its own actor, time and reason, and every correction of the incident
(the original value, the correction, who made it, when and why), and every correction
and withdrawal of a statement after it went out. The same rows serve
the Markdown and the HTML report; each format escapes them its own way."""
from __future__ import annotations

from typing import Any

from publisher.evidence.report_words import how_words, local_time
from publisher.i18n import _


def extra_sections(data: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, headers, rows) of each section that has rows."""
    from publisher.evidence.report_trust import trust_sections

    sections = trust_sections(data)
    decisions = data.get("decisions") or []
    if decisions:
        sections.append((_("Decisions"), [_("time"), _("who"), _("decision"), _("why")],
                         [[local_time(data, item["at"]), item["by"] or "", _decision_words(item["decision"]), item["reason"] or ""]
                          for item in decisions]))
    corrections = data.get("corrections") or []
    if corrections:
        sections.append((_("Corrections"),
                         [_("time"), _("who"), _("field"), _("original value"), _("corrected to"), _("why")],
                         [[local_time(data, item["at"]), item["by"] or "", item["field"].replace("_", " "), _shown(item["from"]),
                           _shown(item["to"]), item["reason"] or ""] for item in corrections]))
    changes = data.get("statement_changes") or []
    if changes:
        templates = {draft["id"]: draft.get("template") or "" for draft in data.get("drafts") or []}
        sections.append((_("Corrections and withdrawals of statements"),
                         [_("time"), _("statement"), _("channel"), _("change"), _("how"), _("who"), _("why"),
                          _("platform's answer")],
                         [[local_time(data, item["at"]), f"{item['draft']} ({templates.get(item['draft'], '')})",
                           item["channel"] or "",
                           _change_words(item),
                           how_words(item["how"]), item["by"] or "", item["reason"] or "", _answer(item)]
                          for item in changes]))
    return sections


def _change_words(item: dict[str, Any]) -> str:
    if item["kind"] == "corrected":
        return _("corrected by {draft}").format(draft=item["correction"])
    if item["kind"] == "withdrawal unfinished":
        return _("withdrawal not finished")
    return _("withdrawn")


def _answer(item: dict[str, Any]) -> str:
    """The platform's answer to a correction or a withdrawal, on one line."""
    parts = [str(value) for value in (item.get("url"), item.get("platform_time")) if value]
    answer = item.get("answer")
    if isinstance(answer, dict) and answer:
        parts.append(", ".join(f"{key}={value}" for key, value in sorted(answer.items()) if value not in (None, "")))
    return "; ".join(part for part in parts if part) or "—"


def _decision_words(decision: str | None) -> str:
    return _("not to answer") if decision == "ignore" else _("to answer after all")


def _shown(value: Any) -> str:
    return "—" if value in (None, "") else str(value)
