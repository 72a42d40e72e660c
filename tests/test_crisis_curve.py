"""The crisis curve: hourly mentions and negative share against the 7-day baseline, kept
incrementally, and its spike and dip alerts with their cooldown and suggested source."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from publisher.evidence.crisis_curve import DIP, SPIKE, Heard, HourlyTally, curve, detect
from publisher.i18n import speaking

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


def quiet_week(tally: HourlyTally, per_hour: int = 2) -> None:
    """Seven days of ordinary chatter: `per_hour` positive mentions every hour."""
    for hours_back in range(1, 24 * 7 + 1):
        for number in range(per_hour):
            tally.add(NOW - timedelta(hours=hours_back, minutes=number), False, key=f"old-{hours_back}-{number}")


def test_hours_count_mentions_and_negatives_per_scope():
    items = [Heard("a", NOW + timedelta(minutes=5), True, "inc-1"),
             Heard("b", NOW + timedelta(minutes=50), False, "inc-1"),
             Heard("c", NOW + timedelta(minutes=70), True),
             Heard("d", NOW + timedelta(minutes=80), True, "inc-2")]
    tally = HourlyTally.of(items)
    whole = curve(tally, NOW, NOW + timedelta(hours=1))
    assert [(point.mentions, point.negative) for point in whole.points] == [(2, 1), (2, 2)]
    one = curve(tally, NOW, NOW + timedelta(hours=1), "inc-1")
    assert [(point.mentions, point.negative) for point in one.points] == [(2, 1), (0, 0)]
    assert one.points[0].share == 0.5 and (whole.mentions, whole.negative) == (4, 3)


def test_the_baseline_is_the_mean_of_the_7_days_before_and_needs_a_day_of_history():
    tally = HourlyTally()
    tally.add(NOW - timedelta(hours=3), False)
    assert curve(tally, NOW, NOW).points[0].baseline is None
    quiet_week(tally, per_hour=2)
    point = curve(tally, NOW, NOW).points[0]
    assert point.baseline == pytest.approx((2 * 168 - 1 + 1) / 168)
    later = curve(tally, NOW + timedelta(hours=24 * 7), NOW + timedelta(hours=24 * 7)).points[0]
    assert later.baseline == 0


def crisis(tally: HourlyTally, start: datetime, count: int, negative_every: int = 1, incident: str | None = None,
           prefix: str = "c") -> None:
    for number in range(count):
        tally.add(start + timedelta(seconds=30 * (count - number)), number % negative_every == 0, incident,
                  f"{prefix}-{number}")


def test_a_spike_names_the_first_negative_item_as_the_source():
    tally = HourlyTally()
    quiet_week(tally)
    crisis(tally, NOW + timedelta(hours=1), 20, negative_every=4)
    alerts = detect(curve(tally, NOW, NOW + timedelta(hours=3)), spike=3.0, negative_share=0.4, tally=tally)
    assert [alert.kind for alert in alerts] == [SPIKE]
    spike = alerts[0]
    assert spike.hour == NOW + timedelta(hours=1) and spike.mentions == 20
    first_negative = NOW + timedelta(hours=1, seconds=30 * 4)
    assert (spike.source, spike.first_seen) == ("c-16", first_negative)
    assert spike.id == "spike:-:2026-12-06T13"
    speaking("es")
    try:
        assert spike.words().startswith("posible crisis: ¿abrir un incidente?")
    finally:
        speaking(None)
    assert "possible crisis: open an incident?" in spike.words()


def test_a_dip_needs_the_share_and_enough_mentions():
    tally = HourlyTally()
    quiet_week(tally, per_hour=20)
    crisis(tally, NOW + timedelta(hours=1), 12, negative_every=2)
    crisis(tally, NOW + timedelta(hours=2), 5, negative_every=1, prefix="few")
    alerts = detect(curve(tally, NOW, NOW + timedelta(hours=3)), spike=3.0, negative_share=0.4, tally=tally)
    assert [(alert.kind, alert.hour) for alert in alerts] == [(DIP, NOW + timedelta(hours=1))]
    assert alerts[0].share == 0.5


def test_one_alert_per_run_and_a_cooldown_after_it():
    tally = HourlyTally()
    quiet_week(tally)
    for hours in (1, 2, 3, 5, 7):
        crisis(tally, NOW + timedelta(hours=hours), 30, prefix=f"h{hours}")
    drawn = curve(tally, NOW, NOW + timedelta(hours=8))
    hours_of = [alert.hour for alert in detect(drawn, 3.0, 0.99, tally) if alert.kind == SPIKE]
    assert hours_of == [NOW + timedelta(hours=1), NOW + timedelta(hours=5), NOW + timedelta(hours=7)]
    longer = [alert.hour for alert in detect(drawn, 3.0, 0.99, tally, cooldown_minutes=120) if alert.kind == SPIKE]
    assert longer == [NOW + timedelta(hours=1)]


def test_a_person_changing_a_sentiment_and_an_incident_claiming_an_item_move_the_counts():
    tally = HourlyTally()
    tally.add(NOW + timedelta(minutes=1), True, key="first")
    tally.add(NOW + timedelta(minutes=2), True, key="second")
    hour = int(NOW.timestamp() // 3600)
    assert tally.first_negative(hour)[1] == "first"
    tally.set_negative(NOW + timedelta(minutes=1), True, False, key="first")
    assert curve(tally, NOW, NOW).points[0].negative == 1
    assert tally.first_negative(hour) is None
    tally.claim(NOW + timedelta(minutes=2), True, "inc-9", key="second")
    assert (curve(tally, NOW, NOW, "inc-9").points[0].negative, tally.first_negative(hour, "inc-9")[1]) == (1, "second")
    tally.claim(NOW + timedelta(minutes=2), True, None, before="inc-9", key="second")
    assert curve(tally, NOW, NOW, "inc-9").points[0].mentions == 0
    assert curve(tally, NOW, NOW).points[0].mentions == 2


def test_an_incident_curve_alerts_about_the_incident():
    tally = HourlyTally()
    quiet_week(tally)
    crisis(tally, NOW + timedelta(hours=1), 30, incident="inc-1")
    alerts = detect(curve(tally, NOW, NOW + timedelta(hours=2), "inc-1"), 3.0, 0.4, tally)
    assert {alert.incident for alert in alerts} == {"inc-1"}
    assert all(alert.words().startswith("incident inc-1:") for alert in alerts)
    assert alerts[0].source == "c-29"


def test_the_worker_is_told_each_recent_alert_once():
    from publisher.evidence.crisis_curve import pending_alerts

    tally = HourlyTally()
    quiet_week(tally)
    crisis(tally, NOW - timedelta(hours=5), 30, prefix="earlier")
    crisis(tally, NOW + timedelta(minutes=1), 30, incident="inc-1")
    now = NOW + timedelta(minutes=40)
    first = pending_alerts(tally, now, 3.0, 0.4, told=(), incidents=("inc-1",))
    assert sorted(alert.id for alert in first) == ["dip:-:2026-12-06T12", "dip:inc-1:2026-12-06T12",
                                                    "spike:-:2026-12-06T12", "spike:inc-1:2026-12-06T12"]
    assert pending_alerts(tally, now, 3.0, 0.4, told=[alert.id for alert in first], incidents=("inc-1",)) == []
    later = pending_alerts(tally, now + timedelta(hours=1), 3.0, 0.4, told=(), incidents=("inc-1",))
    assert later and all(alert.hour == NOW for alert in later)
    crisis(tally, now + timedelta(hours=1), 30, prefix="next")
    assert pending_alerts(tally, now + timedelta(hours=1), 3.0, 0.4, told=[a.id for a in first]) == []
