"""The report's sections about how the record itself changed: every decision of the
cabinet, each with its own actor, time and reason, and every correction of the incident
(the original value, the correction, who made it, when and why). The same rows serve
the Markdown and the HTML report; each format escapes them its own way."""
from __future__ import annotations

from typing import Any

from publisher.evidence.report_words import local_time
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
    return sections


def _decision_words(decision: str | None) -> str:
    return _("not to answer") if decision == "ignore" else _("to answer after all")


def _shown(value: Any) -> str:
    return "—" if value in (None, "") else str(value)
