"""Listening ingest: heard items per second into the SQLite log, with deduplication.

A `publish init` workspace with one open incident listening for two rules; items arrive
in pages of 200 as a source hands them to the worker (`publisher.delivery.listening.record`:
each item claimed by the incidents' rules, its payload built, the page and the source's
cursor appended in one transaction, every row hash-chained, `synchronous=FULL`). One item
in ten was already heard (a mention also found by a keyword search) and must be skipped.
Goal (issue 24): at least 500 items/s sustained. Run alone: `python bench/listen_ingest.py [ITEMS]`.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import publish  # noqa: E402

PAGE = 200
GOAL = 500.0


def main(total: int = 20_000) -> float:
    from channels.sources import Heard
    from publisher.delivery.listening import record
    from publisher.workspace.app import App

    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder) / "ws"
        publish(workspace, "init", str(workspace))
        publish(workspace, "incident", "open", "--case", "2", "--first-seen", "2026-12-05T08:00:00Z", "--what",
                "the card payment outage", "--listen", "Acme", "--listen", "@acme_soporte", "--confirm")
        app = App(workspace)
        sent = stored = 0
        started = time.perf_counter()
        page_number = 0
        while sent < total:
            items = []
            for index in range(PAGE):
                number = sent + index
                item_id = str(number - 5 if number % 10 == 9 else number)
                items.append(Heard(platform="mastodon", id=item_id, author=f"user{number % 977}@social.example",
                                   text=f"Acme lleva {number % 60} minutos sin funcionar, qué desastre #AcmeCaido",
                                   url=f"https://social.example/@u/{item_id}", platform_time="2026-12-05T09:00:00Z"))
            page_number += 1
            stored += record(app, "menciones", items, f"cursor-{page_number}")
            sent += PAGE
        took = time.perf_counter() - started
        heard = len(app.store.heard())
        assert heard == stored, (heard, stored)
        rate = sent / took
        print(f"listen ingest: {sent} items ({stored} new, {sent - stored} already heard) in {took:.2f} s: "
              f"{rate:,.0f} items/s (goal {GOAL:.0f}) {'met' if rate >= GOAL else 'NOT met'}")
        verified = app.store.verify()
        print(f"log verify: {'intact' if verified.ok else verified.problem}, {verified.rows} events")
        return rate


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
