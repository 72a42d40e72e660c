"""What the worker does on time, run for real: the cabinet's notices without a console
open, a missed time-stamp caught up with nobody running a command, and a retry that
waits exactly what the platform asked for."""
from __future__ import annotations

import json

import pytest

from tests.delivery_support import Fakes, delivery_events, wait_matches_signal, waits_after_failures
from tests.fakes.mastodon_api import too_many_requests
from tests.fakes.tsa import TimeStampAuthority, make_authority
from tests.test_witness import closed_port_url, use_witness
from tests.worker_support import WorkerProcess, channel_states, run_once, until

pytestmark = [pytest.mark.servers]

CABINET = '\n[channels.cabinet]\ntype = "outbox"\npath = "var/cabinet"\naudience = "internal"\n'


def _kinds(workspace, kind: str) -> list[dict]:
    return [event for event in json.loads(workspace.run("log", "--json").output) if event["kind"] == kind]


@pytest.mark.both_stores
def test_the_worker_tells_the_cabinet_of_a_draft_waiting_once(workspace):
    workspace.write_config(extra=CABINET)
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    for _ in range(2):
        done = run_once(workspace.path)
        assert done.returncode == 0, done.stdout + done.stderr
    told = [event["data"]["key"] for event in _kinds(workspace, "notice.sent")]
    assert told.count(f"rendered:{draft}") == 1, told
    assert any(draft in path.read_text() for path in (workspace.path / "var" / "cabinet").iterdir())


def test_the_worker_catches_up_a_missed_time_stamp(workspace, tmp_path):
    authority = make_authority(tmp_path / "tsa")
    use_witness(workspace, authority, closed_port_url())
    workspace.open_incident()
    draft = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
    assert _kinds(workspace, "log.witness_missed") and not _kinds(workspace, "log.witnessed")
    with TimeStampAuthority(authority) as tsa:
        use_witness(workspace, authority, tsa.url)
        done = run_once(workspace.path)
        assert done.returncode == 0, done.stdout + done.stderr
    assert [event["data"]["for"] for event in _kinds(workspace, "log.witnessed")] == ["catch-up"]


@pytest.mark.both_stores
def test_the_worker_retries_at_the_platforms_signal(workspace):
    fakes = Fakes().start()
    try:
        workspace.write_config(extra=fakes.config(channels=("mastodon",)))
        workspace.open_incident(case=2)
        draft = workspace.render("--case", "2", "--template", "apology", "--channel", "mastodon", env=fakes.env())
        posting, limited = fakes.mastodon.handler, []

        def once_limited(request):
            if request.method == "POST" and not limited:
                limited.append(request)
                return too_many_requests(2)
            return posting(request)

        fakes.mastodon.handler = once_limited
        worker = WorkerProcess(workspace.path, fakes.env())
        try:
            assert "Queued" in workspace.run("approve", draft, "--as", "ana", env=fakes.env()).output
            assert until(lambda: channel_states(workspace, draft)["mastodon"] == "delivered", timeout=30)
        finally:
            worker.stop()
        assert len(fakes.mastodon.statuses) == 1
    finally:
        fakes.stop()
    pairs = waits_after_failures(delivery_events(workspace, "mastodon"))
    assert len(pairs) == 1 and pairs[0][1] >= 1.0
    assert all(wait_matches_signal(failure, waited, 1) for failure, waited in pairs)
