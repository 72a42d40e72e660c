"""The corrections and withdrawals of an incident's statements, as the report and
`publish status` show them next to the statement they changed.

Guarantees: read from the incident's view only (no second read of the log). A correction
is listed once per channel it reached (`statement.corrected`, with how it was applied and
the platform's answer) and only when its draft is one of the incident's; a withdrawal
is listed per channel only when its signed request counts (`DraftRecord` keeps only
those), with who asked, why, when, how (deleted, or the platform cannot) and the
platform's answer. A withdrawal begun and not finished (a crash, a failure) is listed as
"withdrawal unfinished" until it is taken up again.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from publisher.evidence.view import IncidentView


def statement_changes(seen: IncidentView) -> list[dict[str, Any]]:
    """Every correction and withdrawal, oldest first; `draft` is the statement changed."""
    drafts = {record.draft.id: record for record in seen.drafts}
    found: list[dict[str, Any]] = []
    for event in seen.rows.incident:
        data = event.data
        correction = drafts.get(event.draft or "")
        if event.kind != "statement.corrected" or correction is None or not correction.draft.corrects:
            continue
        found.append({"kind": "corrected", "draft": correction.draft.corrects, "correction": correction.draft.id,
                      "channel": event.channel, "how": data.get("how"), "at": event.ts,
                      "by": ", ".join(sorted({approval.actor or "" for approval in correction.approvals})) or None,
                      "reason": None, "url": data.get("url"), "platform_time": data.get("platform_time"),
                      "answer": data.get("answer")})
    for record in seen.drafts:
        for name, delivery in record.deliveries.items():
            withdrawn = delivery.withdrawn
            if withdrawn:
                found.append({"kind": "withdrawn", "draft": record.draft.id, "correction": None, "channel": name,
                              "how": withdrawn.get("how"), "at": withdrawn.get("at"), "by": withdrawn.get("by"),
                              "reason": withdrawn.get("reason"), "url": (delivery.receipt or {}).get("url"),
                              "platform_time": withdrawn.get("platform_time"), "answer": withdrawn.get("answer")})
    found += _unfinished(seen, drafts)
    return sorted(found, key=lambda change: str(change["at"]))


def _unfinished(seen: IncidentView, drafts: dict[str, Any]) -> list[dict[str, Any]]:
    """Channels whose withdrawal began (`withdrawal.started`) and has no outcome that
    counts yet: a crash or a failure; running `publish withdraw` again takes them up."""
    last: dict[tuple[str, str], Any] = {}
    for event in seen.rows.incident:
        if event.kind in ("withdrawal.started", "withdrawal.failed") and event.draft in drafts:
            last[(event.draft or "", event.channel or "")] = event
    found = []
    for (draft, channel), event in last.items():
        delivery = drafts[draft].deliveries.get(channel)
        if delivery is None or delivery.withdrawn:
            continue
        found.append({"kind": "withdrawal unfinished", "draft": draft, "correction": None, "channel": channel,
                      "how": "failed" if event.kind == "withdrawal.failed" else "started", "at": event.ts,
                      "by": None, "reason": event.data.get("reason"), "url": (delivery.receipt or {}).get("url"),
                      "platform_time": None, "answer": None})
    return found
