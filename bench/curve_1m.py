"""The crisis curve over 1,000,000 heard items (goal: it answers in <= 200 ms).

Builds the per-hour tally the worker keeps (`HourlyTally.add`, item by item, as items are
heard: 60 days of chatter with a crisis in the last two days, a fifth of the items claimed
by incidents, a third negative), then times what a report or the console asks of it: the
workspace's curve and an incident's over 48 hours and over 7 days, with spike and dip
detection. Prints one line per figure; medians of 7 runs after a warm-up.
`python bench/curve_1m.py [--items N]`."""
from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from publisher.evidence.crisis_curve import HourlyTally, curve, detect  # noqa: E402

END = datetime(2026, 12, 6, 12, tzinfo=timezone.utc)


def items(count: int) -> list[tuple[float, bool, str | None, str]]:
    rng = random.Random(24)
    start = (END - timedelta(days=60)).timestamp()
    crisis = (END - timedelta(days=2)).timestamp()
    span = END.timestamp() - start
    made = []
    for number in range(count):
        at = start + rng.random() * span if number % 4 else crisis + rng.random() * (END.timestamp() - crisis)
        incident = f"inc-{number % 5}" if number % 5 == 0 else None
        made.append((at, rng.random() < 0.33, incident, f"item-{number}"))
    return made


def median_ms(action, rounds: int = 7) -> float:
    action()
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    count = int(sys.argv[sys.argv.index("--items") + 1]) if "--items" in sys.argv else 1_000_000
    heard = items(count)
    tally = HourlyTally()
    began = time.perf_counter()
    for at, negative, incident, key in heard:
        tally.add(at, negative, incident, key)
    built = time.perf_counter() - began
    print(f"tally of {count:,} items built item by item: {built:.2f} s ({built / count * 1e6:.2f} us an item)")
    for label, hours, incident in (("workspace, 48 h", 48, None), ("incident, 48 h", 48, "inc-0"),
                                   ("workspace, 7 days", 168, None)):
        def ask(hours: int = hours, incident: str | None = incident) -> None:
            drawn = curve(tally, END - timedelta(hours=hours), END, incident)
            detect(drawn, 3.0, 0.4, tally)
        print(f"curve + alerts, {label}: {median_ms(ask):.3f} ms (goal <= 200 ms)")
    alerts = detect(curve(tally, END - timedelta(hours=72), END), 3.0, 0.4, tally)
    print(f"alerts over the last 72 h: {[alert.id for alert in alerts]}")


if __name__ == "__main__":
    main()
