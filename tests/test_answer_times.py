"""Time to answer negative items, case 3's `answer_within` verdict, and each day's
moderation proven from the items instead of a checkbox."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from publisher.evidence.answer_times import answer_times, daily_moderation
from publisher.evidence.crisis_curve import Heard
from publisher.workspace.config import CASE_OPTIONS

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_median_worst_unanswered_and_handled():
    items = [Heard("a", at(0), True, answered_at=at(10)),
             Heard("b", at(5), True, answered_at=at(45)),
             Heard("c", at(6), True, answered_at=at(26)),
             Heard("d", at(7), False),
             Heard("e", at(8), True, handled_at=at(9)),
             Heard("f", at(20), True),
             Heard("g", at(15), True, answered_at=at(200))]
    times = answer_times(items, now=at(60), limit_minutes=60)
    assert [item.key for item in times.answered] == ["a", "b", "c"]
    assert times.median_minutes == 20 and (times.worst.key, times.worst.minutes) == ("b", 40)
    assert [item.key for item in times.unanswered] == ["g", "f"]
    assert times.handled == ("e",) and times.others_open == 1
    assert times.verdict == "DUE"
    assert answer_times(items, now=at(80)).verdict == "LATE"
    assert answer_times(items, now=at(300)).verdict == "FAIL"
    assert [item.key for item in answer_times(items, now=at(300)).late] == ["g"]


def test_every_answer_in_time_passes_and_nothing_heard_proves_nothing():
    items = [Heard("a", at(0), True, answered_at=at(59)), Heard("b", at(1), True, handled_at=at(500))]
    assert answer_times(items, now=at(1000)).verdict == "PASS"
    assert answer_times([Heard("x", at(0), False)], now=at(1000)).verdict == "NOT PROVEN"
    assert answer_times([Heard("a", at(10), True, answered_at=at(9))], now=at(20)).answered[0].minutes == 0


def test_answer_within_is_a_case_setting():
    assert "answer_within" in CASE_OPTIONS


def test_each_day_s_moderation_in_the_report_s_time_zone():
    madrid = ZoneInfo("Europe/Madrid")
    day_one = datetime(2026, 12, 5, 22, 30, tzinfo=timezone.utc)
    items = [Heard("a", day_one, True, answered_at=day_one + timedelta(minutes=20)),
             Heard("b", day_one + timedelta(minutes=10), True, handled_at=day_one + timedelta(hours=1)),
             Heard("c", day_one + timedelta(hours=2), True),
             Heard("d", day_one + timedelta(hours=2), False),
             Heard("e", day_one + timedelta(hours=30), True)]
    now = day_one + timedelta(hours=31)
    rows = daily_moderation(items, now, madrid)
    assert [(str(row.day), row.negative, row.answered, row.handled, row.open, row.state) for row in rows] == [
        ("2026-12-05", 2, 1, 1, 0, "done"), ("2026-12-06", 1, 0, 0, 1, "late"), ("2026-12-07", 1, 0, 0, 1, "due")]
    assert rows[0].done_at == day_one + timedelta(hours=1) and rows[1].done_at is None


def test_a_bad_answer_within_is_one_sentence(workspace):
    from publisher.workspace.app import App

    workspace.write_config(extra="[cases.3]\nanswer_within = 0\n")
    result = workspace.run("status")
    assert result.exit_code == 2 and "answer_within" in result.output and "Traceback" not in result.output
    workspace.write_config(extra="[cases.3]\nanswer_within = 15\n")
    assert App(workspace.path).config.case_setting(3, "answer_within", 60) == 15
    assert App(workspace.path).config.case_setting(1, "answer_within", 60) == 60
