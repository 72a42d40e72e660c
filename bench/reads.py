"""Start-up of whole processes: `publish --help` and the read commands (`status`,
`log -n 20`, `drafts list`, `incident list`) against `apprise --help`, in a workspace
made by `publish init` (its shipped config: two enabled channels, nine disabled) with
one incident and one delivered draft. The commands run interleaved, round after
round, so a busy moment of the machine falls on all of them alike; medians are kept."""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from bench.common import publish
from bench.fanout import measured, publish_command

COMMANDS = {"--help": ["--help"], "status": ["status"], "log -n 20": ["log", "-n", "20"],
            "drafts list": ["drafts", "list"], "incident list": ["incident", "list"]}


def read_workspace(folder: Path) -> None:
    publish(folder, "init", str(folder))
    first_seen = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 3600))
    publish(folder, "incident", "open", "--case", "2", "--first-seen", first_seen, "--summary",
            "a payment outage that blocked card purchases", "--what", "the payment system outage")
    draft = json.loads(publish(folder, "--case", "2", "--template", "apology", "--json").stdout)["draft"]["id"]
    publish(folder, "approve", draft, "--as", "ana")


def start_up(scratch: Path, apprise_cli: Path, rounds: int) -> dict:
    folder = scratch / "reads"
    read_workspace(folder)
    env = {"PUBLISH_WORKSPACE": str(folder), "PUBLISH_USER": "marta"}
    runs: dict[str, list[float]] = {name: [] for name in [*COMMANDS, "apprise --help"]}
    peaks: dict[str, float] = {name: 0.0 for name in runs}
    for _round in range(rounds + 1):
        for name, args in COMMANDS.items():
            run = measured(publish_command() + args, env)
            if run["code"] != 0:
                raise RuntimeError(f"publish {name} failed: {run['output'][-1000:]}")
            runs[name].append(run["wall"])
            peaks[name] = max(peaks[name], run["peak_mb"])
        run = measured([str(apprise_cli), "--help"])
        runs["apprise --help"].append(run["wall"])
        peaks["apprise --help"] = max(peaks["apprise --help"], run["peak_mb"])
    return {name: {"wall_s": statistics.median(walls[1:]), "peak_mb": peaks[name]} for name, walls in runs.items()}
