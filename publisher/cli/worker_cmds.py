"""`publish worker [--once]`: the worker's entry, and the one `publish serve` runs inside."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from publisher.cli.output import say
from publisher.cli.session import session
from publisher.i18n import N_, _

if TYPE_CHECKING:
    from publisher.delivery.worker import Worker
    from publisher.workspace.app import App


def make_worker(app: App, once: bool = False) -> Worker:
    """The worker over this workspace: jobs on threads of this process with the embedded
    log, on Procrastinate with PostgreSQL."""
    import threading

    from publisher.delivery.jobs import Engine, ThreadEngine
    from publisher.delivery.listening import ListenSchedule
    from publisher.delivery.worker import TASKS, Worker, listen_task
    from publisher.evidence.reminders import REMIND

    schedule = ListenSchedule(app)
    listening = listen_task(schedule)
    tasks = (*TASKS, REMIND, listening)

    def engine(stopping: threading.Event) -> Engine:
        if app.store.backend.name != "postgresql":
            return ThreadEngine(app, stopping)
        try:
            from publisher.delivery.procrastinate_engine import ProcrastinateEngine
        except ImportError:
            from publisher.errors import BadInput

            raise BadInput(_("the worker on a PostgreSQL log needs Procrastinate: install the package with "
                             "pip install '.[postgresql]'.")) from None
        url = app.resolve(app.config.store_url, "[store] url")
        return ProcrastinateEngine(app, stopping, tasks, url, once=once)

    return Worker(app, engine, periodic=(REMIND,), listening=(schedule, listening))


@click.command("worker")
@click.option("--once", is_flag=True, help=N_("Do what is due now, then exit (for a timer, and for tests)."))
def worker(once: bool) -> None:
    """Deliver approved drafts, retry, remind and time-stamp, until stopped (SIGTERM)."""
    import signal

    app = session().app
    running = make_worker(app, once)

    def stop(signum: int, frame: Any) -> None:
        running.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ready = (lambda: None) if once else (lambda: say(_("Worker {name} running on the {backend} log; SIGTERM or "
                                                       "Ctrl-C stops it.").format(name=running.name,
                                                                                  backend=app.store.backend.name)))
    running.run(once=once, ready=ready)
    if not once:
        say(_("Worker {name} stopped.").format(name=running.name))


COMMANDS = [worker]
