"""The console's inbox pages over many heard items: the server time of each page
(in-process ASGI requests, median of 7 after a warm-up).

A `publish init` workspace with one open incident; ITEMS heard items (default 50,000,
in pages of 500, as `publisher.delivery.listening.record` stores them: one in three
claimed by the incident, one in ten answering another item, a few assigned, ignored or
attached by hand). The pages: the inbox, its next page, the incident's inbox, the
unanswered filter, and one item. Goal (issue 24): under 200 ms each.
Run alone: `python bench/console_inbox.py [ITEMS]`.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import publish  # noqa: E402
from bench.console import session_for  # noqa: E402

PAGE = 500
ROUNDS = 7
GOAL_S = 0.2


def fill(app, total: int) -> None:
    from channels.sources import Heard
    from publisher.delivery.listening import record
    from publisher.incident import inbox

    for start in range(0, total, PAGE):
        items = [Heard(platform="mastodon", id=str(number), author=f"user{number % 977}@social.example",
                       text=(f"Acme lleva {number % 60} minutos sin funcionar" if number % 3 == 0
                             else f"otra cosa {number}"),
                       url=f"https://social.example/@u/{number}", platform_time="2026-12-05T09:00:00Z",
                       answers=str(number - 1) if number % 10 == 1 else None)
                 for number in range(start, min(total, start + PAGE))]
        record(app, "menciones", items, f"cursor-{start}")
    for number in range(total - 40, total):
        key = f"mastodon:{number}"
        if number % 4 == 0:
            inbox.assign(app, key, "luis", "marta")
        elif number % 4 == 1:
            inbox.close(app, key, "item.ignored", "not about us", "marta")
        elif number % 4 == 2 and number % 3:
            inbox.attach(app, key, "1", "marta")


def measure(total: int) -> dict:
    from starlette.testclient import TestClient

    from publisher.web.server import create_app
    from publisher.workspace.app import App

    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder) / "ws"
        publish(workspace, "init", "--practice", str(workspace))
        publish(workspace, "incident", "open", "--case", "2", "--first-seen", "2026-12-05T08:00:00Z", "--what",
                "the card payment outage", "--listen", "Acme", "--confirm")
        app = App(workspace)
        started = time.perf_counter()
        fill(app, total)
        result: dict = {"items": total, "fill_s": time.perf_counter() - started}
        client = TestClient(create_app(app), base_url="https://console.bench")
        client.cookies.set("publish_session", session_for(app))
        newest = app.store.heard(newest_first=True, limit=1)[0].seq
        pages = {"inbox": "/inbox", "inbox_older": f"/inbox?before={newest - 400}", "incident_inbox": "/incidents/1/inbox",
                 "unanswered": "/inbox?unanswered=1", "item": f"/inbox/mastodon:{total - 2}"}
        for name, path in pages.items():
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
            runs = []
            for _ in range(ROUNDS):
                began = time.perf_counter()
                client.get(path)
                runs.append(time.perf_counter() - began)
            result[f"{name}_ms"] = statistics.median(runs) * 1000
        return result


if __name__ == "__main__":
    measured = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
    print(f"console inbox over {measured['items']:,} heard items (stored in {measured['fill_s']:.1f} s; "
          f"goal < {GOAL_S * 1000:.0f} ms each):")
    for key, value in measured.items():
        if key.endswith("_ms"):
            print(f"  {key[:-3]}: {value:.1f} ms ({'ok' if value < GOAL_S * 1000 else 'OVER'})")
