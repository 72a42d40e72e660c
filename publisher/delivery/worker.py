"""The worker: the one long-running process that does what is time-driven or slow.

Guarantees:
- What is due is found from the log, never remembered elsewhere: the sweep reads the
  approved drafts not yet delivered everywhere and submits one job per channel that
  may be tried now (pending; failed-retryable once the platform's wait, at least
  `RETRY_PAUSE`, has passed; an unknown outcome only where a resend is safe), leaving
  a channel whose lock another process holds to that process. It runs whenever the
  log's head moves (checked every `POLL` seconds, at most every `SWEEP_GAP`) and every
  `SWEEP` seconds besides, so a job an engine lost is found again, and a worker restarted
  after a crash or `kill -9` carries on where the log says the work stands.
- Nothing is sent while publishing is frozen; a void incident's drafts are never sent
  (the engine refuses them, as it does in the foreground).
- Heartbeats go to the store every `BEAT` seconds, from the loop itself (a worker whose
  loop hangs stops beating); `publish status` shows them. A worker is live when it
  beat within `LIVE_WITHIN` seconds; one silent for more than `SILENT_AFTER` seconds
  (and not stopped cleanly) is told to the cabinet once per silence, by any live worker.
- `stop()` (SIGTERM) takes no new job, tells running deliveries to stop waiting for
  retries (what they have not sent stays due in the log), lets requests already on the
  wire finish and be recorded, beats a last time as `stopped` and returns.
- On PostgreSQL each heartbeat compares this machine's clock with the server's: a
  worker whose clock is off by more than `CLOCK_LIMIT` seconds (its appends would be
  refused, or dated wrong) says so in its heartbeat, is not counted as live (so
  `approve` does not leave a draft to it), submits nothing and does no job it is given
  (the work stays due in the log for another worker) until its clock is right again.
- Listening runs here too: each `[listen.NAME]` source is read every `every` seconds
  (`publisher.delivery.listening.ListenSchedule`), one job per source at a time, and
  goes on during a freeze (reading is not communicating).
- Each site channel's configured `path` is rebuilt from the log on this machine
  (`publisher.delivery.site_build`) whenever the log's head moved (at most every
  `SITE_GAP` seconds) and every `SITE_EVERY` seconds besides (a file removed by hand
  comes back), so every machine of a cabinet keeps the same statements page
  whichever machine sent; this runs in the worker itself, never as a job another
  machine's worker could take.
- With the embedded SQLite log one worker holds the workspace (`Store.worker_slot`); a
  second is refused. On PostgreSQL any number run, on any number of machines.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from functools import partial
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from publisher.delivery.engine import channel_busy, refuse_unsendable, send_draft
from publisher.delivery.jobs import Engine, Task, report_failure
from publisher.delivery.notify import notify
from publisher.drafting.drafts import waiting_drafts
from publisher.errors import Refused
from publisher.i18n import _
from publisher.incident.freeze import freeze_holding
from publisher.timeparse import from_iso

if TYPE_CHECKING:
    from publisher.delivery.listening import ListenSchedule
    from publisher.drafting.drafts import Delivery, DraftRecord
    from publisher.log.store import WorkerBeat
    from publisher.workspace.app import App

POLL = 0.2
SWEEP_GAP = 0.5
SWEEP = 15.0
SITE_GAP = 1.0
SITE_EVERY = 60.0
BEAT = 5.0
PERIODIC = 30.0
LIVE_WITHIN = 60.0
SILENT_AFTER = 120.0
RETRY_PAUSE = 30.0
CLOCK_LIMIT = 60.0
CLOCK_OFF = "clock off"
ACTOR = "worker"


def live_workers(app: App) -> list[WorkerBeat]:
    """Workers that beat in the last `LIVE_WITHIN` seconds and did not stop."""
    return [worker for worker in app.store.workers()
            if worker.silent_for <= LIVE_WITHIN and worker.state != "stopped"
            and not worker.state.startswith(CLOCK_OFF)]


def silent_workers(app: App) -> list[WorkerBeat]:
    """Workers silent for more than `SILENT_AFTER` seconds that never said they stopped."""
    return [worker for worker in app.store.workers()
            if worker.silent_for > SILENT_AFTER and worker.state != "stopped"]


def hand_to_worker(app: App, record: DraftRecord) -> bool:
    """Whether a live worker will send this approved draft: True once it passed the
    checks a run makes (a refusal is raised now, to the person who approved), False
    when no worker is live and the caller must send it itself."""
    if not live_workers(app):
        return False
    refuse_unsendable(app, record)
    return True


def due_deliveries(app: App, now: datetime | None = None) -> list[tuple[str, str]]:
    """(draft, channel) pairs the log says may be tried now."""
    now = now or app.clock()
    due = []
    for record in waiting_drafts(app):
        if freeze_holding(app, record.draft.incident) is not None:
            continue
        for name, delivery in record.deliveries.items():
            if _may_try(app, record.draft.id, name, delivery, now):
                due.append((record.draft.id, name))
    return due


def _may_try(app: App, draft: str, channel: str, delivery: Delivery, now: datetime) -> bool:
    """Whether the sweep hands this channel to a job now (one that is being delivered by
    another process, its lock held, is left to it)."""
    if channel not in app.config.channels:
        return False
    if delivery.state == "pending":
        return True
    if delivery.state == "failed-retryable":
        pause = max(RETRY_PAUSE, float(delivery.retry_after or 0))
        due = delivery.at is None or from_iso(delivery.at) + timedelta(seconds=pause) <= now
        return due and not channel_busy(app, draft, channel)
    if delivery.state in ("unknown", "sending"):
        return app.channel(channel).idempotent and not channel_busy(app, draft, channel)
    return False


def deliver(app: App, stopping: Callable[[], bool], draft: str, channel: str) -> None:
    """Deliver one draft to one channel (the engine's lock makes it exactly once)."""
    try:
        send_draft(app, draft, ACTOR, only=(channel,), stopping=stopping)
    except Refused:
        return


def witness(app: App, stopping: Callable[[], bool]) -> None:
    """Time-stamp what the log holds that no witness covers yet (a missed stamp retried)."""
    from publisher.workspace.witness import WitnessFailed, catch_up

    if app.config.witness is None:
        return
    # a long-running worker asks the TSA again each round, not once per process
    app.witness_missed = app.clock_missed = None
    try:
        catch_up(app.store, app.config.witness)
    except WitnessFailed:
        return


def tell_silent(app: App, stopping: Callable[[], bool]) -> None:
    """Tell the cabinet, once per silence, of each worker silent too long."""
    for worker in silent_workers(app):
        minutes = int(worker.silent_for // 60)
        notify(app, f"worker-silent:{worker.name}:{int(worker.beat)}",
               _("The worker {name} is silent").format(name=worker.name),
               _("The worker {name} on {host} has shown no heartbeat for {minutes} minutes: statements, "
                 "retries and reminders may be waiting. Check it, or run `publish worker` on another "
                 "machine.").format(name=worker.name, host=worker.host, minutes=minutes))


DELIVER = Task("deliver", deliver, key=lambda draft, channel: f"deliver:{draft}:{channel}")
WITNESS = Task("witness", witness, key=lambda: "witness")
SILENT = Task("silent", tell_silent, key=lambda: "silent")
TASKS = (DELIVER, WITNESS, SILENT)


def listen_task(schedule: ListenSchedule) -> Task:
    """The job that reads one source, bound to the schedule it reports a wait to."""
    return Task("listen", schedule.run, key=lambda source: f"listen:{source}")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    """One worker over one workspace: `run()` until `stop()`, or `run(once=True)`."""

    def __init__(self, app: App, make_engine: Callable[[threading.Event], Engine],
                 periodic: tuple[Task, ...] = (), listening: tuple[ListenSchedule, Task] | None = None):
        self.app = app
        self.listening = listening
        self.stopping = threading.Event()
        self.make_engine = make_engine
        self.periodic = (WITNESS, SILENT, *periodic)
        self.name = worker_name()
        self._head: tuple[int, str] | None = None
        self._swept = self._beat_at = self._periodic_at = self._site_at = 0.0
        self._site_head: tuple[int, str] | None = None
        self.engine: Engine | None = None
        self.clock_off: float | None = None

    def stop(self) -> None:
        self.stopping.set()

    def run(self, once: bool = False, ready: Callable[[], Any] = lambda: None) -> None:
        from publisher.delivery.durability import refuse_unsafe_commit

        refuse_unsafe_commit(self.app)
        with self.app.store.worker_slot() as held:
            if not held:
                raise Refused(_("a worker already runs for this workspace (the embedded log takes one); "
                                "`publish status` shows it."))
            self.engine = self.make_engine(self.stopping)
            try:
                self._beat("starting")
                ready()
                self._beat_at = 0.0
                if once:
                    self._round(force=True)
                    self._drain()
                    self._guarded("site", self._sites)
                else:
                    while not self.stopping.wait(POLL):
                        self._round()
            finally:
                self.stopping.set()
                self.engine.stop()
                self._beat("stopped")

    def _round(self, force: bool = False) -> None:
        now = time.monotonic()
        assert self.engine is not None
        if force or now - self._beat_at >= BEAT:
            self._beat(_busy_state(self.engine.busy()))
        if self.clock_off is not None:
            return
        head = self.app.store.head()
        moved = head != self._head and now - self._swept >= SWEEP_GAP
        if force or moved or now - self._swept >= SWEEP:
            self._head, self._swept = head, now
            self._guarded("sweep", self._sweep)
        if self.listening is not None:
            self._guarded("listen", self._listen)
        since = now - self._site_at
        if (head != self._site_head and since >= SITE_GAP) or since >= SITE_EVERY:
            self._guarded("site", self._sites)
        if force or now - self._periodic_at >= PERIODIC:
            self._periodic_at = now
            for task in self.periodic:
                self._guarded(task.name, partial(self.engine.submit, task))

    def _sweep(self) -> None:
        assert self.engine is not None
        for draft, channel in due_deliveries(self.app):
            self.engine.submit(DELIVER, draft=draft, channel=channel)

    def _listen(self) -> None:
        assert self.engine is not None and self.listening is not None
        schedule, task = self.listening
        for source in schedule.due():
            self.engine.submit(task, source=source)
    def _sites(self) -> None:
        from publisher.delivery.site_build import keep_sites_current

        self._site_at, self._site_head = time.monotonic(), self.app.store.head()
        keep_sites_current(self.app)

    def _drain(self) -> None:
        """`--once`: run every job submitted until none is left."""
        assert self.engine is not None
        self.engine.drain()

    def _beat(self, state: str) -> None:
        self._beat_at = time.monotonic()
        host, _sep, pid = self.name.rpartition(":")
        if self.clock_off is not None and state != "stopped":
            state = clock_off_state(self.clock_off)
        offsets: list[float | None] = []
        self._guarded("heartbeat", lambda: offsets.append(self.app.store.beat(self.name, host, int(pid), state)))
        if not offsets or state == "stopped":
            return
        offset = offsets[0]
        off = offset is not None and abs(offset) > CLOCK_LIMIT
        if off != (self.clock_off is not None):
            self.clock_off = offset if off else None
            if self.engine is not None:
                (self.engine.held.set if off else self.engine.held.clear)()
            self._beat(state)

    def _guarded(self, what: str, step: Callable[[], Any]) -> None:
        """A step that fails (the database gone for a moment) is reported and tried at the next round."""
        try:
            step()
        except Exception as error:
            report_failure(self.app, what, self.name, error)


def clock_off_state(offset: float) -> str:
    """The heartbeat state of a worker whose clock is off (it starts with `CLOCK_OFF`)."""
    return f"{CLOCK_OFF} by {offset:+.0f} s; takes no work"


def _busy_state(jobs: int) -> str:
    return f"running {jobs} job(s)" if jobs else "idle"
