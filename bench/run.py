"""`make bench`: publish against Apprise and against the bare loop, every figure in one table.

1. A statement (bench/statement.py): one approved draft to 12 webhooks answering after
   80 to 800 ms, one of them 429 `Retry-After: 2` first, `publish send` as a whole
   process against the slowest channel's own total; Apprise beside it with what it
   delivered.
2. Fan-out, whole process (bench/fanout.py): one draft to 50 webhooks answering after
   250 ms and to 500 answering at once, against `apprise -t -b json://...` to the same
   receiver: wall time, peak RSS.
3. Start-up: `publish --help`, `status`, `log -n 20`, `drafts list`, `incident list`
   against `apprise --help`, whole processes (bench/reads.py).
4. A log of 1,000,000 events: `publish log verify` against a bare loop reading and
   hashing the same rows (bench/bare_verify.py); `incident list`, `status ID`,
   `report ID`, each a whole process with its peak memory. The log is built once per
   size and builder code (bench/bigstore.py, publisher/log/store.py) under bench/.cache/
   and copied fresh for each run (the console step appends to it).
5. The two stores (bench/stores.py): appends per second and `log verify` on the big
   log against the bare loop, SQLite beside PostgreSQL.

The table goes to stdout and bench/results/ (summary.md, a dated copy, results.json);
`--readme` also rewrites the README's Performance table. `--events N` shrinks the big
log for a quick run; `--skip-big` leaves it out; `--rounds 1` for a quick look.
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

from bench.common import PYTHON, RESULTS, ROOT, bench_python  # noqa: E402
from bench.fanout import fan_out, measured, publish_command  # noqa: E402
from bench import console as console_pages  # noqa: E402
from bench.reads import start_up  # noqa: E402
from bench.statement import statement  # noqa: E402
from bench import stores  # noqa: E402
from bench.table import header, machine, markdown, update_readme  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
BIG_LOG_CODE = (ROOT / "bench" / "bigstore.py", ROOT / "publisher" / "log" / "store.py")
FAN_OUTS = ((50, 0.25), (500, 0.0))


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--skip-big", action="store_true")
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
        results["statement"] = statement(scratch, apprise_cli, options.rounds)
        whole = fan_out(scratch, apprise_cli, FAN_OUTS, options.rounds)
        results["fan_out_whole"] = whole
        largest = max(whole, key=lambda row: row["channels"])
        results["peak_memory"] = {"channels": largest["channels"], "publish_mb": largest["publish_peak_mb"],
                                  "apprise_mb": largest["apprise_peak_mb"]}
        results["start_up"] = start_up(scratch, apprise_cli, 15)
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
