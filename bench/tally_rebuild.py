"""What the worker's crisis-curve tally costs at its start: `LogTally.catch_up` folds every
`item.heard` of a SQLite log (and the sentiment, attach and detach events) into the
per-hour counters, then a caught-up tally reads only what is new. Prints the rebuild's
wall time per item, the memory the tally holds per item (tracemalloc), and a catch-up
with nothing new. `python bench/tally_rebuild.py [--items N]` (default 50,000)."""
from __future__ import annotations

import random
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from publisher.incident.heard_tally import LogTally  # noqa: E402
from publisher.log.store import Store, open_store  # noqa: E402

END = datetime(2026, 12, 6, 12, tzinfo=timezone.utc)
PAGE = 500


def fill(store: Store, count: int) -> None:
    rng = random.Random(24)
    for start in range(0, count, PAGE):
        page = []
        for number in range(start, min(count, start + PAGE)):
            said = END - timedelta(seconds=rng.uniform(0, 7 * 86400))
            page.append((None if rng.random() > 0.2 else "1", {
                "key": f"bench:{number}", "source": "bench", "platform": "mastodon", "id": str(number),
                "text": "texto de prueba", "author": "@someone", "url": None, "platform_time": said.isoformat(),
                "read_at": said.isoformat(), "sentiment": "negative" if rng.random() < 0.3 else "neutral"}))
        store.append_heard("bench", page, f"cursor-{start}")


def main() -> None:
    count = int(sys.argv[sys.argv.index("--items") + 1]) if "--items" in sys.argv else 50_000
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(path=Path(folder) / "bench.db")
        fill(store, count)
        tracemalloc.start()
        began = time.perf_counter()
        tally = LogTally()
        tally.catch_up(store)
        took = time.perf_counter() - began
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        began = time.perf_counter()
        tally.catch_up(store)
        again = time.perf_counter() - began
    print(f"rebuild of {count} items: {took:.2f} s ({took / count * 1e6:.0f} us an item); "
          f"tally holds {held / count:.0f} bytes an item; a catch-up with nothing new: {again * 1000:.1f} ms")


if __name__ == "__main__":
    main()
