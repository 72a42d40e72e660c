"""A freeze set while a retry waits out a long Retry-After aborts the wait: the run
ends held, well before the wait would have ended, and nothing more is sent."""
from __future__ import annotations

import json
import threading
import time

import pytest

from publisher.workspace.app import App
from tests.fakes.server import Reply
from tests.fakes.webhooks import ReceiverFake

pytestmark = [pytest.mark.servers, pytest.mark.both_stores]

RETRY_AFTER = 60


def test_a_freeze_aborts_a_retry_waiting_for_its_turn(workspace):
    with ReceiverFake() as receiver:
        receiver.queue(Reply(503, {"error": "busy"}, {"Retry-After": str(RETRY_AFTER)}))
        workspace.write_config(extra='[channels.hook]\ntype = "webhook"\nurl = "${HOOK_URL}"\n')
        env = {"HOOK_URL": f"{receiver.url}/hooks/incident"}
        workspace.open_incident(case=2)
        draft = workspace.render("--case", "2", "--template", "apology", "--channel", "hook", env=env)

        def freeze_once_the_retry_waits() -> None:
            store = App(workspace.path).store
            while not store.events(kind="delivery.failed"):
                time.sleep(0.05)
            store.append("freeze", actor="ana", data={"reason": "a leak: stop everything"})
            store.close()

        freezer = threading.Thread(target=freeze_once_the_retry_waits)
        freezer.start()
        started = time.monotonic()
        result = workspace.run("approve", draft, "--as", "ana", "--json", env=env, sleep=None)
        elapsed = time.monotonic() - started
        freezer.join()

    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert [item["state"] for item in summary["deliveries"]] == ["held"]
    assert elapsed < RETRY_AFTER / 2
    assert len([r for r in receiver.requests if r.method == "POST"]) == 1
    kinds = [kind for _, kind in workspace.events()]
    assert kinds.count("delivery.started") == 1 and kinds[-1] == "freeze"
