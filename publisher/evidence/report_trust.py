"""What the report says about trusting its own times and verdicts.

Guarantees:
- Prepared and published each name the outside time witness that covers them: the first
  RFC 3161 time-stamp of the log's head taken at or after the approval or delivery,
  verified offline against the configured TSA certificates ("prepared at T, witnessed
  by TSA at G"), or why there is none (the TSA could not be reached, a token that does
  not verify, no witness configured).
- Where the witness bounds the approval or delivery only after its deadline (or none
  covers it once the deadline has passed), the witness entry says NOT PROVEN beside
  both times, as the verdict does (`publisher.evidence.status`).
- Every delivery's local time is compared with the platform's own time (the receipt's
  `platform_time`); a difference over `CLOCK_TOLERANCE` is flagged.
- On PostgreSQL every row records the server's clock beside the machine's: each row of
  the incident where the two differ by more than `CLOCK_TOLERANCE` is named
  (`server_clock`).
- The public channels the 48 h verdict was judged against are listed, with when they
  were recorded (or that they come from the config, for an incident older than that).
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from publisher.errors import BadInput
from publisher.evidence.report_words import NOT_PROVEN, verdict_word
from publisher.i18n import _
from publisher.workspace import witness
from publisher.timeparse import from_iso, human_hours, iso
from publisher.workspace.witness import trust

if TYPE_CHECKING:
    from publisher.evidence.status import Status
    from publisher.evidence.view import IncidentView
    from publisher.workspace.app import App

CLOCK_TOLERANCE = timedelta(minutes=5)


def trust_facts(seen: IncidentView, status: Status) -> dict[str, Any]:
    """The report's `witness`, `clock_checks` and `judged_against` entries."""
    app, unreadable = seen.app, None
    try:
        checker = trust(app)
    except BadInput as error:
        checker, unreadable = None, str(error)
    prepared = _witnessed(app, checker, status.prepared.done_at, status.prepared.row, unreadable)
    published = _witnessed(app, checker, status.published.done_at, status.published.row, unreadable)
    for entry, clock in ((prepared, status.prepared), (published, status.published)):
        entry["deadline"], entry["verdict"] = iso(clock.deadline), clock.verdict
    return {"witness": {"prepared": prepared, "published": published},
            "clock_checks": clock_checks(status),
            "server_clock": server_clock(seen),
            "judged_against": seen.judged.as_dict()}


def _witnessed(app: App, checker: witness.Trust | None, done: Any, seq: int | None,
               unreadable: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"at": iso(done) if done else None, "row": seq, "witness": None, "witness_note": None}
    if seq is None:
        return entry
    token, why = witness.witness_of(app.store, checker, seq)
    if token is not None:
        entry["witness"] = {"tsa": token.tsa, "time": iso(token.time), "row": token.seq, "record": token.event_seq,
                            "verified": checker is not None}
        if checker is None:
            entry["witness_note"] = unreadable or _("not verified: no [store] witness is configured to check it")
    else:
        entry["witness_note"] = why or (_("not witnessed: no [store] witness is configured")
                                        if app.config.witness is None else _("not witnessed yet"))
    return entry


def clock_checks(status: Status) -> list[dict[str, Any]]:
    """Each delivery's local time against the platform's own."""
    checks = []
    for record in status.drafts:
        for name, delivery in record.deliveries.items():
            if delivery.state != "delivered" or not delivery.at:
                continue
            platform = (delivery.receipt or {}).get("platform_time")
            row: dict[str, Any] = {"draft": record.draft.id, "channel": name, "local_time": delivery.at,
                                   "platform_time": platform, "difference_seconds": None, "flagged": False}
            try:
                gap = from_iso(delivery.at) - from_iso(str(platform)) if platform else None
            except (TypeError, ValueError):
                gap = None
            if gap is not None:
                row["difference_seconds"] = round(gap.total_seconds(), 3)
                row["flagged"] = abs(gap) > CLOCK_TOLERANCE
            checks.append(row)
    return checks


def server_clock(seen: IncidentView) -> list[dict[str, Any]]:
    """The incident's rows whose time differs from the PostgreSQL server's clock,
    recorded with the row, by more than `CLOCK_TOLERANCE`."""
    found = []
    for event in seen.rows.incident:
        if not event.server_time:
            continue
        try:
            gap = from_iso(event.ts) - from_iso(event.server_time)
        except (TypeError, ValueError):
            continue
        if abs(gap) > CLOCK_TOLERANCE:
            found.append({"row": event.seq, "kind": event.kind, "local_time": event.ts,
                          "server_time": event.server_time, "difference_seconds": round(gap.total_seconds(), 3)})
    return found


def trust_sections(data: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, headers, rows) for the Markdown and HTML reports."""
    sections = []
    stated = data.get("witness")
    if stated:
        rows = [[_("Prepared at {at}").format(at=stated["prepared"]["at"] or "—"), _witness_words(stated["prepared"])],
                [_("Published at {at}").format(at=stated["published"]["at"] or "—"),
                 _witness_words(stated["published"])]]
        sections.append((_("Time witness (RFC 3161)"), [_("moment (local clock)"), _("outside witness")], rows))
    checks = data.get("clock_checks") or []
    if checks:
        sections.append((_("Clock check: local time against the platform's"),
                         [_("draft"), _("channel"), _("local time"), _("platform time"), _("difference")],
                         [[item["draft"], item["channel"], item["local_time"], item["platform_time"] or "—",
                           _difference_words(item)] for item in checks]))
    server = data.get("server_clock") or []
    if server:
        sections.append((_("Clock check: this machine against the PostgreSQL server"),
                         [_("row"), _("event"), _("local time"), _("server time"), _("difference")],
                         [[str(item["row"]), item["kind"], item["local_time"], item["server_time"],
                           _("{gap} — over 5 min: FLAGGED").format(gap=human_hours(item["difference_seconds"] / 3600))]
                          for item in server]))
    judged = data.get("judged_against")
    if judged:
        source = (_("recorded in the log at {at}").format(at=judged["recorded_at"]) if judged["source"] == "log"
                  else _("from the config (not recorded for this incident)"))
        sections.append((_("Public channels the 48 h verdict is judged against"), [_("channel"), _("type"),
                                                                                    _("recorded")],
                         [[item["name"], item["type"], source] for item in judged["channels"]]))
    return sections


def _witness_words(entry: dict[str, Any]) -> str:
    found = entry.get("witness")
    if not found:
        note = entry.get("witness_note") or "—"
        return f"{note}; {verdict_word(NOT_PROVEN)}" if entry.get("verdict") == NOT_PROVEN else note
    words = _("witnessed by {tsa} at {time} (log row {row})").format(
        tsa=urlsplit(found["tsa"]).netloc or found["tsa"], time=found["time"], row=found["row"])
    if entry.get("verdict") == NOT_PROVEN:
        words += "; " + _("after the deadline {deadline}: {verdict}").format(deadline=entry["deadline"],
                                                                             verdict=verdict_word(NOT_PROVEN))
    return words + (f"; {entry['witness_note']}" if entry.get("witness_note") else "")


def _difference_words(item: dict[str, Any]) -> str:
    seconds = item.get("difference_seconds")
    if seconds is None:
        return _("the platform gave no time") if not item.get("platform_time") else _("unreadable platform time")
    words = human_hours(seconds / 3600)
    return _("{gap} — over 5 min: FLAGGED").format(gap=words) if item["flagged"] else words
