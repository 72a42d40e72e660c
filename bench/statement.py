"""A statement as a crisis sends it: one approved draft to 12 webhook channels whose
platforms answer after 80 to 800 ms, one of which first answers 429 with
`Retry-After: 2`, `publish send` as a whole process.

The limit is the slowest channel's own total: the longest answer, or for the throttled
channel its answer, the 2 s it asked for and its second answer. The goal is the whole
process within 1.3x of that limit. Apprise posts the same 12 URLs (`json://`) beside it;
it does not honour `Retry-After`, so its figure is shown with how many of the 12 it
delivered, as the receiver counted them."""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import webhook_workspace  # noqa: E402
from bench.fanout import BODY, TITLE, LoopbackReceiver, measured, publish_command  # noqa: E402

CHANNELS = 12
THROTTLED = 5
RETRY_AFTER = 2.0
DELAYS = {f"{index:04d}": round(0.08 + index * (0.8 - 0.08) / (CHANNELS - 1), 3) for index in range(CHANNELS)}


def limit_s() -> float:
    throttled = DELAYS[f"{THROTTLED:04d}"]
    return max(max(DELAYS.values()), 2 * throttled + RETRY_AFTER)


def statement(scratch: Path, apprise_cli: Path, rounds: int) -> dict:
    receiver = LoopbackReceiver({"delays": DELAYS, "throttled": [f"{THROTTLED:04d}"],
                                 "retry_after": str(int(RETRY_AFTER))})
    try:
        ours, theirs, delivered = [], [], []
        for number in range(rounds):
            folder = scratch / f"statement-{number}"
            draft = webhook_workspace(folder, [receiver.url(i, prefix=f"/p{number}") for i in range(CHANNELS)],
                                      workers=32, summary=f"a payment outage, statement {number}")
            run = measured(publish_command() + ["send", draft],
                           {"PUBLISH_WORKSPACE": str(folder), "PUBLISH_USER": "luis"})
            if run["code"] != 0 or receiver.accepted(f"/p{number}/") != CHANNELS:
                raise RuntimeError(f"publish send did not deliver all {CHANNELS}: {run['output'][-2000:]}")
            ours.append(run["wall"])
            run = measured([str(apprise_cli), "-t", TITLE, "-b", BODY,
                            *[receiver.url(i, "json", prefix=f"/a{number}") for i in range(CHANNELS)]])
            theirs.append(run["wall"])
            delivered.append(receiver.accepted(f"/a{number}/"))
    finally:
        receiver.stop()
    limit = limit_s()
    wall = statistics.median(ours)
    return {"channels": CHANNELS, "limit_s": limit, "publish_wall_s": wall, "ratio_vs_limit": wall / limit,
            "apprise_wall_s": statistics.median(theirs), "apprise_delivered": min(delivered)}
