"""The console's herald: a background loop, in every server, that tells the cabinet
about new drafts and due reminders (`publisher.evidence.reminders`). Several servers
may run it at once: each notice is still sent once."""
from __future__ import annotations

import threading
from typing import Any

INTERVAL = 30.0


class Herald:
    def __init__(self, app: Any, interval: float = INTERVAL):
        self.app, self.interval = app, interval
        self.position = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[str]:
        from publisher.errors import PublishError
        from publisher.evidence.reminders import tell

        try:
            sent, self.position = tell(self.app, self.position)
        except PublishError:
            return []
        return sent

    def _run(self) -> None:
        while True:
            self.tick()
            if self._stop.wait(self.interval):
                return

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="herald", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
