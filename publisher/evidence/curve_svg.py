"""The crisis curve as one inline SVG for the HTML report and the console.

Guarantees: the drawing is markup only (no script, no style sheet, no link, no font or
image from anywhere: it opens the same offline and in a strict Content-Security-Policy);
every text in it is escaped. It is accessible: `role="img"` named by its `<title>` and
described by its `<desc>`, which holds `curve_words` (the same sentence the report prints
beside it as its text alternative). Each hour is one bar of all mentions with its negative
part in red on top of the same bar, the 7-day hourly baseline a dashed line, and the hours
that raised an alert marked with a triangle. Hour labels are in the report's time zone.
"""
from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape
from typing import TYPE_CHECKING

from publisher.i18n import _

if TYPE_CHECKING:
    from collections.abc import Iterable

    from publisher.evidence.crisis_curve import Alert, Curve

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 52
ALL, NEGATIVE, BASELINE, ALERT = "#95a5a6", "#c0392b", "#2c3e50", "#e67e22"


def curve_words(drawn: Curve, zone: tzinfo | None = None) -> str:
    """The curve in one sentence: its span, its totals and its busiest hour."""
    points = drawn.points
    if not points:
        return _("No hour to show.")
    total = drawn.mentions
    share = drawn.negative / total if total else 0.0
    busiest = max(points, key=lambda point: point.mentions)
    said = _("From {start} to {end}: {mentions} mentions, {negative} of them negative ({share:.0%}).").format(
        start=_hour(points[0].hour, zone, True), end=_hour(points[-1].hour, zone, True), mentions=total,
        negative=drawn.negative, share=share)
    if busiest.mentions:
        said += " " + _("The busiest hour, from {hour}, had {mentions} mentions ({negative} negative); "
                        "the 7-day hourly baseline then was {baseline}.").format(
            hour=_hour(busiest.hour, zone, True), mentions=busiest.mentions, negative=busiest.negative,
            baseline=f"{busiest.baseline:.1f}" if busiest.baseline is not None else _("not known yet"))
    return said


def curve_svg(drawn: Curve, zone: tzinfo | None = None, alerts: Iterable[Alert] = (), id_prefix: str = "curve",
              title: str | None = None) -> str:
    """The SVG markup (a string to insert as it is)."""
    points = drawn.points
    heading = title or (_("Mentions per hour, incident {id}").format(id=drawn.incident) if drawn.incident
                        else _("Mentions per hour, whole workspace"))
    top = max([point.mentions for point in points] + [point.baseline or 0 for point in points] + [1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(points))
    bar = max(1.0, step * 0.8)

    def y(value: float) -> float:
        return TOP + plot_h - value / top * plot_h

    prefix = escape(id_prefix, quote=True)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
             f'aria-labelledby="{prefix}-title {prefix}-desc" class="curve">',
             f'<title id="{prefix}-title">{escape(heading)}</title>',
             f'<desc id="{prefix}-desc">{escape(curve_words(drawn, zone))}</desc>',
             f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="{BASELINE}"/>',
             f'<text x="{LEFT - 4}" y="{TOP + 4}" font-size="11" text-anchor="end">{top:.0f}</text>',
             f'<text x="{LEFT - 4}" y="{TOP + plot_h}" font-size="11" text-anchor="end">0</text>']
    baseline_points = []
    label_every = max(1, round(len(points) / 8))
    for number, point in enumerate(points):
        x = LEFT + number * step
        if point.mentions:
            parts.append(f'<rect x="{x:.1f}" y="{y(point.mentions):.1f}" width="{bar:.1f}" '
                         f'height="{plot_h - (y(point.mentions) - TOP):.1f}" fill="{ALL}"/>')
        if point.negative:
            parts.append(f'<rect x="{x:.1f}" y="{y(point.negative):.1f}" width="{bar:.1f}" '
                         f'height="{plot_h - (y(point.negative) - TOP):.1f}" fill="{NEGATIVE}"/>')
        if point.baseline is not None:
            baseline_points.append(f"{x + bar / 2:.1f},{y(point.baseline):.1f}")
        if number % label_every == 0:
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10">'
                         f'{escape(_hour(point.hour, zone, False))}</text>')
        if number == 0 or point.hour.astimezone(zone).hour == 0:
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 27}" font-size="10" font-weight="bold">'
                         f'{escape(point.hour.astimezone(zone).strftime("%Y-%m-%d"))}</text>')
    if len(baseline_points) > 1:
        parts.append(f'<polyline points="{" ".join(baseline_points)}" fill="none" stroke="{BASELINE}" '
                     'stroke-dasharray="4 3" stroke-width="1.5"/>')
    hours = {point.hour: number for number, point in enumerate(points)}
    raised: dict[int, list[str]] = {}
    for alert in alerts:
        if alert.hour in hours:
            raised.setdefault(hours[alert.hour], []).append(alert.words())
    for number, said in sorted(raised.items()):
        x = LEFT + number * step + bar / 2
        parts.append(f'<path d="M{x - 5:.1f},{TOP + 8} L{x + 5:.1f},{TOP + 8} L{x:.1f},{TOP - 1} Z" '
                     f'fill="{ALERT}"><title>{escape(" ".join(said))}</title></path>')
    legend_y = HEIGHT - 8
    words = [escape(word) for word in (_("mentions"), _("negative"), _("7-day hourly baseline"))]
    parts += [f'<rect x="{LEFT}" y="{legend_y - 9}" width="10" height="10" fill="{ALL}"/>',
              f'<text x="{LEFT + 14}" y="{legend_y}" font-size="11">{words[0]}</text>',
              f'<rect x="{LEFT + 110}" y="{legend_y - 9}" width="10" height="10" fill="{NEGATIVE}"/>',
              f'<text x="{LEFT + 124}" y="{legend_y}" font-size="11">{words[1]}</text>',
              f'<line x1="{LEFT + 220}" y1="{legend_y - 4}" x2="{LEFT + 240}" y2="{legend_y - 4}" '
              f'stroke="{BASELINE}" stroke-dasharray="4 3"/>',
              f'<text x="{LEFT + 244}" y="{legend_y}" font-size="11">{words[2]}</text>',
              '</svg>']
    return "".join(parts)


def _hour(moment: datetime, zone: tzinfo | None, with_day: bool) -> str:
    local = moment.astimezone(zone) if zone is not None else moment
    return local.strftime("%Y-%m-%d %H:%M" if with_day else "%H:%M")
