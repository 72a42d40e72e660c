"""Run with the bench environment's Python (apprise installed there only): times one
`Apprise.notify()` to the given json:// URLs and prints JSON."""
from __future__ import annotations

import json
import sys
import time


def main(urls: list[str]) -> None:
    import apprise

    notifier = apprise.Apprise()
    for url in urls:
        notifier.add(url)
    started = time.perf_counter()
    ok = notifier.notify(title="Service incident", body="We apologise: a payment outage blocked card purchases.")
    wall = time.perf_counter() - started
    print(json.dumps({"wall": wall, "ok": bool(ok), "version": apprise.__version__}))


if __name__ == "__main__":
    main(sys.argv[1:])
