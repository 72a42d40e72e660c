"""`make bench`: the delivery engine and the log against their goals, as ratios.

1. Fan-out to 20 loopback channels that each answer after 250 ms: our wall time vs the
   slowest channel, vs sending one by one, vs Apprise (json:// to the same servers;
   Apprise is installed only in bench/.venv, created on first run).
2. `publish --help` vs `apprise --help`, whole processes.
3. Retry precision: a 429 asking for 2 s is retried 2.0-2.5 s later (server-side).
4. A log of 1,000,000 events: `publish log verify`, `publish status ID`,
   `publish report ID`, each a whole process, with its peak memory.

Results go to bench/results/ (gitignored); the summary is printed. `--events N`
shrinks the big log for a quick run; `--skip-big` leaves it out.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, RESULTS, ROOT, bench_python, median_wall, timed, webhook_workspace  # noqa: E402
from bench.loopback import Receiver  # noqa: E402

CHANNELS = 20
DELAY = 0.25
ROUNDS = 5


def fan_out(scratch: Path, apprise_python: Path) -> dict:
    receivers = [Receiver(delay=DELAY) for _ in range(CHANNELS)]
    urls = [receiver.url for receiver in receivers]
    try:
        ours, sequential, apprise, slowest = [], [], [], []
        for round_number in range(ROUNDS):
            folder = scratch / f"fanout-{round_number}"
            draft = webhook_workspace(folder, urls, workers=32, summary=f"a payment outage, round {round_number}")
            run = json.loads(subprocess.run([PYTHON, str(ROOT / "bench" / "ours_fanout.py"), str(folder), draft],
                                            capture_output=True, text=True, check=True).stdout)
            assert run["delivered"] == CHANNELS, run
            ours.append(run["wall"])
            slowest.append(run["slowest_channel"])
            answer = json.loads(subprocess.run([str(apprise_python), str(ROOT / "bench" / "apprise_fanout.py"),
                                                *[url.replace("http://", "json://") for url in urls]],
                                               capture_output=True, text=True, check=True).stdout)
            assert answer["ok"], answer
            apprise.append(answer["wall"])
        for round_number in range(2):
            folder = scratch / f"sequential-{round_number}"
            draft = webhook_workspace(folder, urls, workers=1, summary=f"a payment outage, one by one {round_number}")
            run = json.loads(subprocess.run([PYTHON, str(ROOT / "bench" / "ours_fanout.py"), str(folder), draft],
                                            capture_output=True, text=True, check=True).stdout)
            sequential.append(run["wall"])
    finally:
        for receiver in receivers:
            receiver.stop()
    wall, slow = statistics.median(ours), statistics.median(slowest)
    return {"channels": CHANNELS, "answer_delay_s": DELAY, "ours_s": wall, "slowest_channel_s": slow,
            "sequential_s": statistics.median(sequential), "apprise_s": statistics.median(apprise),
            "ratio_vs_slowest": wall / slow, "ratio_vs_answer_delay": wall / DELAY,
            "ratio_vs_sequential": wall / statistics.median(sequential),
            "ratio_vs_apprise": wall / statistics.median(apprise), "apprise_version": answer.get("version")}


def help_time(apprise_python: Path) -> dict:
    script = Path(PYTHON).parent / "publish"
    ours = median_wall(([str(script)] if script.exists() else [PYTHON, "-m", "publisher"]) + ["--help"], 15)
    apprise_cli = apprise_python.parent / "apprise"
    theirs = median_wall([str(apprise_cli), "--help"], 15)
    return {"publish_help_s": ours, "apprise_help_s": theirs, "ratio": ours / theirs}


def retry_precision(scratch: Path) -> dict:
    gaps = []
    for round_number in range(3):
        receiver = Receiver(first_statuses=(429,), retry_after="2")
        try:
            folder = scratch / f"retry-{round_number}"
            draft = webhook_workspace(folder, [receiver.url], workers=1, summary=f"a rate limit, round {round_number}")
            subprocess.run([PYTHON, str(ROOT / "bench" / "ours_fanout.py"), str(folder), draft],
                           capture_output=True, text=True, check=True)
            gaps.append(receiver.arrivals[1] - receiver.arrivals[0])
        finally:
            receiver.stop()
    return {"asked_s": 2.0, "retried_after_s": gaps, "min_s": min(gaps), "max_s": max(gaps),
            "within_2_0_to_2_5": all(2.0 <= gap <= 2.5 for gap in gaps)}


def big_log(scratch: Path, events: int) -> dict:
    from bench.bigstore import build

    folder = scratch / "big"
    built = build(folder, events)
    env = {"PUBLISH_WORKSPACE": str(folder), "PUBLISH_USER": "marta"}
    incident = str(built["incidents"] // 2)
    result = {"events": events, "incidents": built["incidents"], "db_mb": built["bytes"] / 1e6,
              "build_s": built["build_s"]}
    for name, args in (("verify", ["log", "verify"]), ("status", ["status", incident]),
                       ("report", ["report", incident, "--format", "json"])):
        timed([PYTHON, "-m", "publisher", *args], env)
        runs = [timed([PYTHON, "-m", "publisher", *args], env) for _ in range(3)]
        wall = statistics.median(run[0] for run in runs)
        result[f"{name}_s"] = wall
        result[f"{name}_peak_mb"] = max(run[1] for run in runs) / 1024
        result[f"{name}_ok"] = "Traceback" not in runs[0][2] and "Error" not in runs[0][2][:200]
    return result


def summary(results: dict) -> list[str]:
    lines = []
    fan = results.get("fan_out")
    if fan:
        lines += [f"fan-out, {fan['channels']} channels x {fan['answer_delay_s'] * 1000:.0f} ms: {fan['ours_s']:.3f} s",
                  f"  vs slowest channel ({fan['slowest_channel_s']:.3f} s): {fan['ratio_vs_slowest']:.2f}x "
                  f"(goal <= 1.3x); vs the 250 ms answer: {fan['ratio_vs_answer_delay']:.2f}x",
                  f"  vs one by one ({fan['sequential_s']:.3f} s): {fan['ratio_vs_sequential']:.3f}x",
                  f"  vs Apprise {fan['apprise_version']} ({fan['apprise_s']:.3f} s): {fan['ratio_vs_apprise']:.2f}x "
                  "(goal <= 1.0x)"]
    helps = results.get("help")
    if helps:
        lines.append(f"publish --help {helps['publish_help_s'] * 1000:.0f} ms vs apprise --help "
                     f"{helps['apprise_help_s'] * 1000:.0f} ms: {helps['ratio']:.2f}x (goal <= 0.5x)")
    retry = results.get("retry")
    if retry:
        lines.append(f"429 asking 2 s retried after {retry['min_s']:.3f}-{retry['max_s']:.3f} s "
                     f"(goal 2.0-2.5 s): {'ok' if retry['within_2_0_to_2_5'] else 'MISSED'}")
    big = results.get("big_log")
    if big:
        lines.append(f"log of {big['events']:,} events ({big['db_mb']:.0f} MB, {big['incidents']} incidents):")
        for name, goal in (("verify", 5.0), ("status", 0.5), ("report", 0.5)):
            lines.append(f"  {name}: {big[f'{name}_s']:.2f} s ({big[f'{name}_s'] / goal:.2f}x of the {goal:g} s goal), "
                         f"peak {big[f'{name}_peak_mb']:.0f} MB (goal <= 150 MB)")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--skip-big", action="store_true")
    options = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    apprise_python = bench_python()
    scratch = Path(tempfile.mkdtemp(prefix="publish-bench-"))
    results: dict = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count()}
    try:
        results["fan_out"] = fan_out(scratch, apprise_python)
        results["help"] = help_time(apprise_python)
        results["retry"] = retry_precision(scratch)
        if not options.skip_big:
            results["big_log"] = big_log(scratch, options.events)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    lines = summary(results)
    (RESULTS / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (RESULTS / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
