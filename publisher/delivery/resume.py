"""Resuming the delivery of an approved draft (after a freeze was lifted, a retry was
authorised, an outcome was found unknown): the one way both faces do it.

Guarantees: only channels not yet delivered are tried (`send_draft`); a draft that may
not be sent now (rejected, superseded, frozen, void) is refused in one sentence before
anything is sent; when a worker is live and the caller does not `wait`, the draft is
left to it (True: queued), else it is sent by `run` (the command line runs it in place,
the console on a thread of its own while the page polls the log)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from publisher.delivery.engine import no_progress, refuse_unsendable, send_draft
from publisher.delivery.worker import hand_to_worker
from publisher.drafting.drafts import load_draft, waiting_drafts

if TYPE_CHECKING:
    from publisher.workspace.app import App


def in_place(job: Callable[[], Any]) -> None:
    job()


def in_background(job: Callable[[], Any]) -> None:
    import threading

    threading.Thread(target=job, name="resume", daemon=True).start()


def resume(app: App, draft_id: str, actor: str, *, wait: bool = False,
           run: Callable[[Callable[[], Any]], None] = in_place) -> bool:
    """Send what is left of `draft_id`; True when a live worker took it instead."""
    record = load_draft(app, draft_id)
    if not wait and hand_to_worker(app, record):
        return True
    refuse_unsendable(app, record)
    run(lambda: send_draft(app, draft_id, actor, progress=no_progress, record=record))
    return False


def resume_waiting(app: App, actor: str, run: Callable[[Callable[[], Any]], None] = in_place) -> list[str]:
    """Resume every approved draft a freeze held back; their ids."""
    waiting = [record.draft.id for record in waiting_drafts(app)]
    for draft_id in waiting:
        resume(app, draft_id, actor, run=run)
    return waiting
