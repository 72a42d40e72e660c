"""The report's listening section: what the incident heard and how fast it answered.

Fed in two steps. `listening_facts(...)` takes the values computed elsewhere (the source,
a `Curve` with its `Alert`s from `crisis_curve`, an `AnswerTimes` and the
`ModerationDay`s from `answer_times`, and optionally a short description of each item)
and returns one JSON-ready dict: the JSON report keeps it as `data["listening"]`, in UTC
and English tokens. Every face then reads only that dict:
`listening_lines` (sentences: the source with its platform time, labelled "from the
platform" or "declared"; the answer verdict; the curve's text alternative),
`listening_sections` ((title, headers, rows) tables, the shape `report_sections` gives
the Markdown and HTML templates), `listening_svg` (the curve, inline), and
`listening_markdown` (given the Markdown report's escaper) / `listening_html`, the whole
section in each format; `report_markdown` and `report_html` print it after the checklist
when `data["listening"]` is set. Times are
shown in the report's `timezone` (`data["timezone"]`), verdicts in the interface's words;
every value from the log is escaped by the format that prints it.
"""
from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from publisher.evidence.report_words import local_time, verdict_word
from publisher.evidence.state_words import state_word
from publisher.i18n import _
from publisher.timeparse import from_iso, iso

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from publisher.incident.answer_times import AnswerTimes, ModerationDay
    from publisher.incident.crisis_curve import Alert, Curve

FROM_PLATFORM, DECLARED = "platform", "declared"


def listening_facts(curve: Curve, answers: AnswerTimes, moderation: Iterable[ModerationDay],
                    alerts: Iterable[Alert] = (), source: Mapping[str, Any] | None = None,
                    described: Mapping[str, str] | None = None,
                    threads: Mapping[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The section's data. `source`: platform, url, author, platform_time (ISO 8601) and
    `time_from` ("platform" when the platform gave the time, "declared" when typed).
    `described`: item key -> a short description (author, URL) shown beside the key.
    `threads`: item key -> our public answers to it in order (draft, channel, url, at,
    solved), so a reply and its "solved" follow-up read as one thread."""
    names = dict(described or {})
    worst = answers.worst
    return {
        "source": dict(source) if source else None,
        "curve": {"incident": curve.incident, "mentions": curve.mentions, "negative": curve.negative,
                  "hours": [{"hour": iso(point.hour), "mentions": point.mentions, "negative": point.negative,
                             "baseline": None if point.baseline is None else round(point.baseline, 3)}
                            for point in curve.points]},
        "alerts": [{"id": alert.id, "kind": alert.kind, "incident": alert.incident, "hour": iso(alert.hour),
                    "mentions": alert.mentions, "negative": alert.negative,
                    "baseline": None if alert.baseline is None else round(alert.baseline, 3),
                    "source": alert.source, "first_seen": iso(alert.first_seen) if alert.first_seen else None}
                   for alert in alerts],
        "answers": {
            "limit_minutes": answers.limit_minutes, "verdict": answers.verdict,
            "median_minutes": None if answers.median_minutes is None else round(answers.median_minutes, 1),
            "worst_minutes": round(worst.minutes, 1) if worst else None, "worst_item": worst.key if worst else None,
            "answered": [{"item": item.key, "about": names.get(item.key, ""), "platform_time": iso(item.platform_time),
                          "answered_at": iso(item.answered_at), "minutes": round(item.minutes, 1),
                          "verdict": "FAIL" if item.minutes > answers.limit_minutes else "PASS"}
                         for item in answers.answered],
            "unanswered": [{"item": item.key, "about": names.get(item.key, ""),
                            "platform_time": iso(item.platform_time)} for item in answers.unanswered],
            "handled": list(answers.handled), "others_open": answers.others_open},
        "threads": [{"item": key, "about": names.get(key, ""), "answers": list(answers_to)}
                    for key, answers_to in (threads or {}).items()],
        "moderation": [{"day": day.day.isoformat(), "number": day.number, "negative": day.negative,
                        "answered": day.answered, "handled": day.handled, "open": day.open,
                        "done_at": iso(day.done_at) if day.done_at else None, "state": day.state}
                       for day in moderation],
    }


def _minutes(value: float | None) -> str:
    return "—" if value is None else _("{minutes:.0f} min").format(minutes=value)


def listening_lines(data: dict[str, Any], facts: dict[str, Any]) -> list[str]:
    lines = []
    source = facts.get("source")
    if source:
        origin = (_("from the platform") if source.get("time_from") == FROM_PLATFORM else _("declared"))
        lines.append(_("Source: {platform} {url} by {author}, said at {time} ({origin}).").format(
            platform=source.get("platform") or "", url=source.get("url") or "", author=source.get("author") or "—",
            time=local_time(data, source.get("platform_time")) or "—", origin=origin))
    answers = facts["answers"]
    lines.append(_("Answers to negative items: {verdict}, within {limit} minutes asked; median {median}, "
                   "worst {worst}; {answered} answered, {unanswered} unanswered, {handled} handled.").format(
        verdict=verdict_word(answers["verdict"]), limit=f"{answers['limit_minutes']:g}",
        median=_minutes(answers["median_minutes"]), worst=_minutes(answers["worst_minutes"]),
        answered=len(answers["answered"]), unanswered=len(answers["unanswered"]), handled=len(answers["handled"])))
    if answers.get("others_open"):
        lines.append(_("{count} other heard items, not judged negative, were neither answered nor handled; "
                       "a person can mark any of them negative.").format(count=answers["others_open"]))
    lines.append(_curve_words(data, facts))
    return lines


def listening_sections(data: dict[str, Any], facts: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, headers, rows) of each listening table that has rows."""
    sections = []
    hours = [hour for hour in facts["curve"]["hours"] if hour["mentions"]]
    if hours:
        sections.append((_("Items heard per hour"),
                         [_("hour"), _("mentions"), _("negative"), _("share negative"), _("7-day hourly baseline")],
                         [[local_time(data, hour["hour"]), str(hour["mentions"]), str(hour["negative"]),
                           f"{hour['negative'] / hour['mentions']:.0%}",
                           "—" if hour["baseline"] is None else f"{hour['baseline']:.1f}"] for hour in hours]))
    alerts = facts.get("alerts") or []
    if alerts:
        sections.append((_("Alerts"), [_("hour"), _("alert"), _("mentions"), _("negative"), _("suggested source"),
                                       _("first seen")],
                         [[local_time(data, alert["hour"]), _alert_kind(alert["kind"]), str(alert["mentions"]),
                           str(alert["negative"]), alert["source"] or "—",
                           local_time(data, alert["first_seen"]) or "—"] for alert in alerts]))
    answers = facts["answers"]
    if answers["answered"]:
        sections.append((_("Time to answer each negative item"),
                         [_("item"), _("said at"), _("first answer delivered"), _("minutes"), _("verdict")],
                         [[_item(row), local_time(data, row["platform_time"]), local_time(data, row["answered_at"]),
                           f"{row['minutes']:.0f}", verdict_word(row["verdict"])] for row in answers["answered"]]))
    if answers["unanswered"]:
        sections.append((_("Negative items left unanswered"), [_("item"), _("said at")],
                         [[_item(row), local_time(data, row["platform_time"])] for row in answers["unanswered"]]))
    threads = [(thread, answer) for thread in facts.get("threads") or [] for answer in thread["answers"]]
    if threads:
        sections.append((_("Public answers, by thread"),
                         [_("item"), _("answer"), _("delivered"), _("draft"), _("where")],
                         [[_item(thread), _("follow-up: solved") if answer["solved"] else _("reply"),
                           local_time(data, answer["at"]) or "—", str(answer["draft"]), answer["url"] or "—"]
                          for thread, answer in threads]))
    if facts["moderation"]:
        sections.append((_("Daily moderation"),
                         [_("day"), _("negative items"), _("answered"), _("handled"), _("open"), _("state"),
                          _("done at")],
                         [[_day(day), str(day["negative"]), str(day["answered"]), str(day["handled"]),
                           str(day["open"]), state_word(day["state"]), local_time(data, day["done_at"]) or "—"]
                          for day in facts["moderation"]]))
    return sections


def listening_svg(data: dict[str, Any], facts: dict[str, Any]) -> str:
    from publisher.incident.crisis_curve import Alert
    from publisher.evidence.curve_svg import curve_svg

    drawn = _curve(facts)
    alerts = [Alert(alert["kind"], alert["incident"], from_iso(alert["hour"]), alert["mentions"], alert["negative"],
                    alert["baseline"], alert["source"],
                    from_iso(alert["first_seen"]) if alert["first_seen"] else None)
              for alert in facts.get("alerts") or []]
    return curve_svg(drawn, _zone(data), alerts, id_prefix=f"curve-{drawn.incident or 'workspace'}")


def listening_markdown(data: dict[str, Any], facts: dict[str, Any], shown: Callable[[Any], str]) -> str:
    """The section in Markdown; `shown` is the Markdown report's escaper (its `|md`)."""
    out = ["## " + _("Listening"), ""]
    out += [shown(line) + "\n" for line in listening_lines(data, facts)]
    for title, headers, rows in listening_sections(data, facts):
        out += ["", f"### {title}", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        out += ["| " + " | ".join(shown(cell) for cell in cells) + " |" for cells in rows]
    return "\n".join(out) + "\n"


def listening_html(data: dict[str, Any], facts: dict[str, Any]) -> str:
    """The section as HTML markup: every value escaped, the curve inline."""
    out = ['<section class="listening"><h2>' + escape(_("Listening")) + "</h2>"]
    out += [f"<p>{escape(line)}</p>" for line in listening_lines(data, facts)]
    out.append(f'<div class="curve">{listening_svg(data, facts)}</div>')
    for title, headers, rows in listening_sections(data, facts):
        out.append(f'<h3>{escape(title)}</h3><div class="wrap"><table class="cards"><thead><tr>'
                   + "".join(f"<th>{escape(header)}</th>" for header in headers) + "</tr></thead><tbody>")
        out += ["<tr>" + "".join(f"<td data-label=\"{escape(header)}\">{escape(cell)}</td>"
                                 for header, cell in zip(headers, cells, strict=True)) + "</tr>" for cells in rows]
        out.append("</tbody></table></div>")
    out.append("</section>")
    return "".join(out)


def _curve(facts: dict[str, Any]) -> Curve:
    from publisher.incident.crisis_curve import Curve, HourPoint

    return Curve(facts["curve"]["incident"], tuple(
        HourPoint(from_iso(hour["hour"]), hour["mentions"], hour["negative"], hour["baseline"])
        for hour in facts["curve"]["hours"]))


def _curve_words(data: dict[str, Any], facts: dict[str, Any]) -> str:
    from publisher.evidence.curve_svg import curve_words

    return curve_words(_curve(facts), _zone(data))


def _zone(data: dict[str, Any]) -> ZoneInfo | None:
    name = data.get("timezone")
    try:
        return ZoneInfo(name) if name and name != "UTC" else None
    except (ValueError, KeyError):
        return None


def _alert_kind(kind: str) -> str:
    return _("spike") if kind == "spike" else _("dip")


def _item(row: dict[str, Any]) -> str:
    return f"{row['item']} ({row['about']})" if row.get("about") else row["item"]


def _day(row: dict[str, Any]) -> str:
    if row.get("number"):
        return _("day {number} ({date})").format(number=row["number"], date=row["day"])
    return str(row["day"])
