"""`make bench`: publish against Apprise and against the bare loop, every figure in one table.

1. Fan-out, whole process: `publish send` of one approved draft to N loopback webhooks
   against `apprise -t -b json://...` to the same receiver (bench/fanout.py), for N in
   10, 50, 200, 500 and answers after 0 and 250 ms: wall time, CPU per channel, peak RSS.
2. Start-up: `publish --help`, `status`, `log -n 20`, `drafts list`, `incident list`
   against `apprise --help`, whole processes (bench/reads.py).
3. In-process fan-out to 20 channels x 250 ms against the slowest channel, and retry
   precision (a 429 asking for 2 s is retried 2.0-2.5 s later, server-side).
4. A log of 1,000,000 events: `publish log verify` against a bare loop reading and
   hashing the same rows (bench/bare_verify.py); `incident list`, `status ID`,
   `report ID`, each a whole process with its peak memory. The log is built once per
   size and builder code (bench/bigstore.py, publisher/log/store.py) under bench/.cache/
   and copied fresh for each run (the console step appends to it).
5. The two stores (bench/stores.py): appends per second and `log verify` on the big
   log against the bare loop, SQLite beside PostgreSQL.

The table goes to stdout and bench/results/ (summary.md, a dated copy, results.json);
`--readme` also rewrites the README's Performance table. `--events N` shrinks the big
log for a quick run; `--skip-big` leaves it out; `--sizes`/`--delays` pick the fan-outs.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, RESULTS, ROOT, bench_python, webhook_workspace  # noqa: E402
from bench.fanout import fan_out as fan_out_whole  # noqa: E402
from bench.fanout import measured, publish_command  # noqa: E402
from bench import console as console_pages  # noqa: E402
from bench.loopback import Receiver  # noqa: E402
from bench.reads import start_up  # noqa: E402
from bench import stores  # noqa: E402
from bench.table import header, machine, markdown, update_readme  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
BIG_LOG_CODE = (ROOT / "bench" / "bigstore.py", ROOT / "publisher" / "log" / "store.py")
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


def cached_big_log(folder: Path, events: int) -> dict:
    """The big log, built once per (events, builder code) under bench/.cache and copied
    fresh to `folder` for each run: the console step appends to it. A build cut short
    leaves no `built.json`, so it is built again; older builds are removed."""
    from bench.bigstore import build

    code = hashlib.sha256(b"".join(path.read_bytes() for path in BIG_LOG_CODE)).hexdigest()[:16]
    cached = CACHE / f"big-{events}-{code}"
    if not (cached / "built.json").exists():
        for old in CACHE.glob(f"big-{events}-*"):
            shutil.rmtree(old)
        building = CACHE / f"building-{events}-{code}"
        shutil.rmtree(building, ignore_errors=True)
        built = build(building / "workspace", events)
        (building / "built.json").write_text(json.dumps(built), encoding="utf-8")
        building.rename(cached)
    shutil.copytree(cached / "workspace", folder)
    return json.loads((cached / "built.json").read_text(encoding="utf-8"))


def big_log(scratch: Path, events: int) -> dict:
    folder = scratch / "big"
    built = cached_big_log(folder, events)
    env = {"PUBLISH_WORKSPACE": str(folder), "PUBLISH_USER": "marta"}
    incident = str(built["incidents"] // 2)
    result = {"events": events, "incidents": built["incidents"], "db_mb": built["bytes"] / 1e6,
              "build_s": built["build_s"]}
    bare = [PYTHON, str(ROOT / "bench" / "bare_verify.py"), str(folder / "var" / "publisher.db")]
    commands = {"verify": publish_command() + ["log", "verify"], "bare": bare,
                "status": publish_command() + ["status", incident],
                "report": publish_command() + ["report", incident, "--format", "json"],
                "list": publish_command() + ["incident", "list"]}
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    for _round in range(4):  # interleaved, so a load on the machine weighs on both sides of the ratio
        for name in ("verify", "bare"):
            runs[name].append(measured(commands[name], env))
    for name in ("status", "report", "list"):
        runs[name] = [measured(commands[name], env) for _ in range(4)]
    for name, done in runs.items():
        kept = done[1:]
        result[f"{name}_s"] = statistics.median(run["wall"] for run in kept)
        result[f"{name}_peak_mb"] = max(run["peak_mb"] for run in kept)
        if kept[0]["code"] != 0:
            raise RuntimeError(f"{name} failed on the big log: {kept[0]['output'][-1000:]}")
    return result


def cpu_per_channel(rows: list[dict]) -> dict:
    """The CPU one more channel costs, for each delay: the least-squares slope of CPU time
    over every N measured (each point a median), so no single noisy size decides it; the
    two-point difference between the smallest and largest N is kept beside it."""
    figures = {}
    for delay in sorted({row["delay_ms"] for row in rows}):
        same = sorted((row for row in rows if row["delay_ms"] == delay), key=lambda row: row["channels"])
        if len(same) < 2:
            continue
        figure = {}
        for side in ("publish", "apprise"):
            points = [(row["channels"], row[f"{side}_cpu_s"]) for row in same]
            figure[f"{side}_ms"] = _slope(points) * 1000
            span = same[-1]["channels"] - same[0]["channels"]
            figure[f"{side}_two_point_ms"] = (points[-1][1] - points[0][1]) / span * 1000
        figures[str(delay)] = figure
    return figures


def _slope(points: list[tuple[int, float]]) -> float:
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    return (sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--sizes", default="10,50,200,500", help="webhook counts of the whole-process fan-out")
    parser.add_argument("--delays", default="0,0.25", help="answer delays (s) of the whole-process fan-out")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--readme", action="store_true", help="rewrite the README's Performance table")
    options = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "publisher"), str(ROOT / "channels")],
                   capture_output=True)
    apprise_python = bench_python()
    apprise_cli = apprise_python.parent / "apprise"
    scratch = Path(tempfile.mkdtemp(prefix="publish-bench-"))
    results: dict = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
                     "apprise_version": apprise_version(apprise_python)}
    try:
        sizes = tuple(int(n) for n in options.sizes.split(","))
        delays = tuple(float(d) for d in options.delays.split(","))
        whole = fan_out_whole(scratch, apprise_cli, sizes, delays, options.rounds)
        results["fan_out_whole"] = whole
        results["cpu_per_channel"] = cpu_per_channel(whole)
        largest = [row for row in whole if row["channels"] == max(sizes)]
        results["peak_memory"] = {"channels": max(sizes), "publish_mb": max(r["publish_peak_mb"] for r in largest),
                                  "apprise_mb": max(r["apprise_peak_mb"] for r in largest)}
        results["start_up"] = start_up(scratch, apprise_cli, 15)
        results["fan_out"] = fan_out(scratch, apprise_python)
        results["retry"] = retry_precision(scratch)
        if not options.skip_big:
            results["big_log"] = big_log(scratch, options.events)
            for name, step in (("console", lambda: console_pages.measure(scratch / "big")),
                               ("stores", lambda: stores.measure(scratch / "big", scratch))):
                try:
                    results[name] = step()
                except Exception as error:  # a broken extra step must not lose the table
                    results[f"{name}_error"] = f"{type(error).__name__}: {error}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    table = f"{header(results)}\n\n{markdown(results)}\n"
    stamp = results["when"].replace(":", "").replace("-", "")
    (RESULTS / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (RESULTS / "summary.md").write_text(table, encoding="utf-8")
    (RESULTS / f"summary-{stamp}.md").write_text(table, encoding="utf-8")
    print(table)
    for name in ("console", "stores"):
        if results.get(f"{name}_error"):
            print(f"the {name} step failed: {results[f'{name}_error']}")
    if results.get("console"):
        print("\n".join(console_pages.summary(results["console"])))
    if results.get("stores"):
        print("\n".join(stores.summary(results["stores"])))
    if options.readme and not update_readme(ROOT / "README.md", results):
        print("README.md has no bench:begin/bench:end markers; its Performance table was not rewritten.")
    return 0


def apprise_version(python: Path) -> str:
    probe = subprocess.run([str(python), "-c", "import apprise; print(apprise.__version__)"], capture_output=True,
                           text=True)
    return probe.stdout.strip() or "?"


if __name__ == "__main__":
    raise SystemExit(main())
