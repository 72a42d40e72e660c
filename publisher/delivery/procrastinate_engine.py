"""The worker's engine on PostgreSQL: Procrastinate, on the log's own database.

Why Procrastinate: it needs nothing but the PostgreSQL server the cabinet already runs
for its log (no broker as Celery needs, none of the services Temporal adds, no
control plane as DBOS has in production), it is a library (MIT) with queueing locks,
LISTEN/NOTIFY wake-ups and a worker per machine. Imported only here, and only when
`[store] url` is set.

Guarantees:
- Every job of `publisher.delivery.jobs` is deferred with its key as Procrastinate's
  queueing lock, so one (draft, channel), one round of notices, one witness catch-up
  waits at most once in the queue, whichever machines' workers submit it. Running it
  exactly once rests on the store's locks and the log (see `publisher.delivery.jobs`),
  so a job that is run twice (its worker killed after a delivery, the job then found
  again) still sends nothing twice, and a job lost with its worker is found again by
  any worker's sweep of the log.
- Procrastinate's schema is created once, under a session advisory lock, by the first
  worker that finds it missing.
- A server restarted (or a connection cut) under the worker ends Procrastinate's run;
  it is started again every `RESTART` seconds until it holds, so the worker goes on
  (what was running is found again from the log).
- `stop()` stops the Procrastinate worker gracefully: no new job is fetched, running
  jobs are told to stop waiting (like a freeze) and end; finished jobs are deleted
  (the log is the record, the queue keeps nothing worth reading).
"""
from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from procrastinate import App as Procrastinate
from procrastinate import PsycopgConnector, SyncPsycopgConnector
from procrastinate import worker as procrastinate_worker
from procrastinate.exceptions import AlreadyEnqueued

from publisher.delivery.jobs import Task, report_failure

if TYPE_CHECKING:
    from publisher.workspace.app import App

CONCURRENCY = 8
SCHEMA_LOCK = 0x7075626C697368  # "publish", a session advisory lock key of its own
POLL = 1.0
RESTART = 1.0


def ensure_schema(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as db:
        db.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            row = db.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if row is None or row[0] is None:
                from procrastinate.schema import SchemaManager

                db.execute(SchemaManager.get_schema())
        finally:
            db.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


class ProcrastinateEngine:
    """Defers through a synchronous connection; runs jobs on a Procrastinate worker
    whose event loop lives on a thread of its own."""

    name = "procrastinate"

    def __init__(self, app: App, stopping: threading.Event, tasks: tuple[Task, ...], url: str,
                 once: bool = False):
        self.app, self.stopping, self.once = app, stopping, once
        import logging

        logging.getLogger("procrastinate").addHandler(logging.NullHandler())  # failures are said by report_failure
        ensure_schema(url)
        self._deferrer = Procrastinate(connector=SyncPsycopgConnector(conninfo=url, min_size=1, max_size=2))
        self._deferrer.open()
        self._runner = Procrastinate(connector=PsycopgConnector(conninfo=url, min_size=1, max_size=4))
        self.held = threading.Event()
        self._running = 0
        self._lock = threading.Lock()
        for task in tasks:
            self._register(task)
        self._worker = self._new_worker()
        self._thread: threading.Thread | None = None
        if not once:
            self._thread = threading.Thread(target=self._keep_running, name="procrastinate", daemon=True)
            self._thread.start()

    def _new_worker(self) -> procrastinate_worker.Worker:
        return procrastinate_worker.Worker(
            app=self._runner, concurrency=CONCURRENCY, install_signal_handlers=False, delete_jobs="always",
            name="publish", fetch_job_polling_interval=POLL, wait=not self.once)

    def _keep_running(self) -> None:
        while not self.stopping.is_set():
            try:
                self._run()
            except Exception as error:  # the server went away: start again once it answers
                report_failure(self.app, "procrastinate", "worker", error)
            if self.stopping.wait(RESTART):
                return
            self._worker = self._new_worker()

    def _register(self, task: Task) -> None:
        def job(**arguments: Any) -> None:
            if self.held.is_set():
                return
            with self._lock:
                self._running += 1
            try:
                task.run(self.app, self.stopping.is_set, **arguments)
            except Exception as error:
                report_failure(self.app, task.name, task.key(**arguments), error)
            finally:
                with self._lock:
                    self._running -= 1

        self._runner.task(name=f"publish.{task.name}", pass_context=False)(job)

    def _run(self) -> None:
        async def main() -> None:
            async with self._runner.open_async():
                await self._worker.run()

        asyncio.run(main())

    def submit(self, task: Task, **arguments: Any) -> bool:
        if self.stopping.is_set() and not self.once:
            return False
        try:
            self._deferrer.configure_task(f"publish.{task.name}", queueing_lock=task.key(**arguments)).defer(
                **arguments)
        except AlreadyEnqueued:
            return False
        return True

    def busy(self) -> int:
        with self._lock:
            return self._running

    def drain(self) -> None:
        """`--once`: run what waits in the queue now, then return."""
        self._run()

    def stop(self) -> None:
        self.stopping.set()
        while self._thread is not None and self._thread.is_alive():
            self._worker.stop()  # again until it takes: a stop before the worker started is cleared by its start
            self._thread.join(0.5)
        self._deferrer.close()
