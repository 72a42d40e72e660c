"""The worker's jobs, behind one small interface: the task functions, and the engine
that runs them (here, in threads of one process, for the embedded SQLite log; on
PostgreSQL, `publisher.delivery.procrastinate_engine`, on any number of machines).

Guarantees:
- A job is a task's name and its arguments; its `key` names the work it does (the
  delivery of one draft to one channel, one round of notices, one witness catch-up).
  An engine runs at most one job per key at a time and drops a job submitted while one
  with its key is waiting or running: both engines run the same task functions.
- A job's effect is in the log (each attempt, outcome and notice is appended as ever),
  never in the engine: an engine that loses a job loses nothing, since the worker's
  sweep (`publisher.delivery.worker`) finds the work again from the log.
- Exactly once does not rest on the engine either: a delivery takes the store's
  (draft, channel) lock and re-reads the channel's state under it
  (`publisher.delivery.engine`), a notice its key's lock (`publisher.delivery.notify`).
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    from publisher.workspace.app import App


@dataclass(frozen=True)
class Task:
    """A task function `run(app, stopping, **arguments)` and how its jobs are keyed."""

    name: str
    run: Callable[..., Any]
    key: Callable[..., str]


class Engine(Protocol):
    """Where the worker's jobs run."""

    name: str
    held: threading.Event
    """Set while this worker may not do work (its clock is off): a job it is given
    returns at once, and the work stays due in the log for another worker."""

    def submit(self, task: Task, **arguments: Any) -> bool:
        """Queue one job unless one with its key is waiting or running; say whether it was queued."""

    def busy(self) -> int:
        """How many jobs this process runs now."""

    def drain(self) -> None:
        """Run what was submitted until none is left, then return (`publish worker --once`)."""

    def stop(self) -> None:
        """Take no new job; return once the running ones have ended (each told to stop
        waiting: what it has not done stays due in the log)."""


class ThreadEngine:
    """Jobs run on a pool of threads of this process (the SQLite worker)."""

    name = "threads"

    def __init__(self, app: App, stopping: threading.Event, threads: int = 8):
        self.app, self.stopping = app, stopping
        self.held = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="job")
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def submit(self, task: Task, **arguments: Any) -> bool:
        key = task.key(**arguments)
        with self._lock:
            if key in self._keys or self.stopping.is_set():
                return False
            self._keys.add(key)
        self._pool.submit(self._run, task, key, arguments)
        return True

    def _run(self, task: Task, key: str, arguments: dict[str, Any]) -> None:
        try:
            if not self.held.is_set():
                task.run(self.app, self.stopping.is_set, **arguments)
        except Exception as error:  # one job's bug never stops the worker; the sweep finds the work again
            report_failure(self.app, task.name, key, error)
        finally:
            with self._lock:
                self._keys.discard(key)

    def busy(self) -> int:
        with self._lock:
            return len(self._keys)

    def drain(self) -> None:
        while self.busy() and not self.stopping.is_set():
            time.sleep(0.05)

    def stop(self) -> None:
        self.stopping.set()
        self._pool.shutdown(wait=True)


def report_failure(app: App, task: str, key: str, error: BaseException) -> None:
    """One line on stderr, secrets masked."""
    import sys

    from publisher.errors import PublishError

    detail = str(error) if isinstance(error, PublishError) else f"unexpected {type(error).__name__}: {error}"
    detail = (detail.strip().splitlines() or [""])[0]
    print(f"publish worker: {task} {key}: {app.redact.scrub(detail)}", file=sys.stderr, flush=True)
