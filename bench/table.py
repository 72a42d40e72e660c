"""One table of every benchmark figure (publish, Apprise, the bare loop, the ratio, the
goal, met or not), the machine it ran on, and the README's Performance section made
from it (between the `bench:begin` and `bench:end` markers)."""
from __future__ import annotations

import os
import platform
import re
from pathlib import Path

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def machine() -> str:
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    memory = ""
    try:
        kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
        memory = f", {kb / 1024 / 1024:.1f} GB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return (f"{model}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def _row(what: str, ours: str, theirs: str, ratio: float | None, goal: str, met: bool | None) -> list[str]:
    return [what, ours, theirs, f"{ratio:.2f}x" if ratio is not None else "", goal,
            "" if met is None else ("yes" if met else "**no**")]


GOALS = {(50, 250): 0.5, (500, 0): 1.5}


def rows(results: dict) -> list[list[str]]:
    out: list[list[str]] = []
    said = results.get("statement")
    if said:
        out.append(_row(f"a statement to {said['channels']} webhooks answering after 80-800 ms, one 429 "
                        "`Retry-After: 2`, whole process, vs the slowest channel's own total",
                        f"{said['publish_wall_s']:.2f} s", f"limit {said['limit_s']:.2f} s (Apprise "
                        f"{said['apprise_wall_s']:.2f} s, {said['apprise_delivered']} of {said['channels']} delivered)",
                        said["ratio_vs_limit"], "<= 1.3x", said["ratio_vs_limit"] <= 1.3))
    for fan in results.get("fan_out_whole", []):
        ratio = fan["publish_wall_s"] / fan["apprise_wall_s"]
        goal = GOALS.get((fan["channels"], fan["delay_ms"]))
        out.append(_row(f"one draft to {fan['channels']} webhooks answering after {fan['delay_ms']} ms, whole process",
                        f"{fan['publish_wall_s']:.3f} s", f"Apprise {fan['apprise_wall_s']:.3f} s", ratio,
                        f"<= {goal}x" if goal else "", None if goal is None else ratio <= goal))
    memory = results.get("peak_memory")
    if memory:
        out.append(_row(f"peak memory, {memory['channels']} webhooks", f"{memory['publish_mb']:.0f} MB",
                        f"Apprise {memory['apprise_mb']:.0f} MB", None, "<= Apprise + 10 MB",
                        memory["publish_mb"] <= memory["apprise_mb"] + 10))
    reads = results.get("start_up")
    if reads:
        base = reads["apprise --help"]["wall_s"]
        for name, figures in reads.items():
            if name == "apprise --help":
                continue
            limit = 0.5 if name == "--help" else 0.8
            ratio = figures["wall_s"] / base
            out.append(_row(f"`publish {name}`, whole process", f"{figures['wall_s'] * 1000:.0f} ms",
                            f"`apprise --help` {base * 1000:.0f} ms", ratio, f"<= {limit}x", ratio <= limit))
    big = results.get("big_log")
    if big:
        ratio = big["verify_s"] / big["bare_s"]
        small = (reads or {}).get("incident list", {}).get("peak_mb")
        constant = small is None or big["verify_peak_mb"] <= small + 10
        out.append(_row(f"`publish log verify`, {big['events']:,} events", f"{big['verify_s']:.2f} s, "
                        f"{big['verify_peak_mb']:.0f} MB", f"bare loop {big['bare_s']:.2f} s", ratio,
                        "<= 2.5x, memory constant (<= one incident's + 10 MB)", ratio <= 2.5 and constant))
        out.append(_row(f"`publish incident list`, {big['events']:,} events", f"{big['list_s']:.2f} s, "
                        f"{big['list_peak_mb']:.0f} MB peak", f"one incident: {small:.0f} MB" if small else "", None,
                        "memory constant (<= +10 MB)", None if small is None else big["list_peak_mb"] <= small + 10))
        for name in ("status", "report"):
            out.append(_row(f"`publish {name} ID`, {big['events']:,} events",
                            f"{big[f'{name}_s']:.2f} s, {big[f'{name}_peak_mb']:.0f} MB", "", None, "<= 0.5 s",
                            big[f"{name}_s"] <= 0.5))
    return out


def markdown(results: dict) -> str:
    lines = ["| figure | publish | compared with | ratio | goal | met |", "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows(results)]
    return "\n".join(lines)


def header(results: dict) -> str:
    return (f"Run {results['when']} on {results['machine']}; Apprise {results.get('apprise_version', '?')} "
            "(PyPI, the `bench` extra).")


def update_readme(readme: Path, results: dict) -> bool:
    """Replace the README's table between the markers; False when the markers are missing."""
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        return False
    block = f"{BEGIN}\n{header(results)}\n\n{markdown(results)}\n{END}"
    readme.write_text(pattern.sub(lambda _: block, text, count=1), encoding="utf-8")
    return True
