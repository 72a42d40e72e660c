"""Times one `send_draft` of an approved draft in-process and prints JSON: the wall
time of the whole fan-out and each channel's own time (from its progress events)."""
from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(workspace: str, draft: str) -> None:
    from publisher.delivery.engine import send_draft
    from publisher.workspace.app import App

    app = App(Path(workspace))
    for name in app.config.channels:  # like Apprise's add(): load the channel code before the clock starts
        app.channel(name)
    for module in ("requests", "tenacity"):
        importlib.import_module(module)
    began: dict[str, float] = {}
    took: dict[str, float] = {}

    def progress(channel: str, state: str, detail: str) -> None:
        now = time.perf_counter()
        if state == "sending":
            began[channel] = now
        elif state in ("delivered", "failed", "unknown") and channel in began:
            took[channel] = now - began[channel]

    started = time.perf_counter()
    outcomes = send_draft(app, draft, "luis", progress=progress)
    wall = time.perf_counter() - started
    print(json.dumps({"wall": wall, "delivered": sum(o.state == "delivered" for o in outcomes),
                      "slowest_channel": max(took.values()) if took else None}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
