"""The worker's faults, for real: killed (`kill -9`) in the middle of a fan-out and
restarted; two workers on two machines racing for the same channels (PostgreSQL);
SIGTERM while a retry waits; a worker silent for more than 2 minutes told to the
cabinet and shown by `publish status`. No statement lost, none sent twice, every
outcome in the log."""
from __future__ import annotations

import time

import pytest

from tests.delivery_support import Fakes, delivery_events, machines
from tests.fakes.mastodon_api import too_many_requests
from tests.worker_support import WorkerProcess, channel_states, run_once, slow_posts, until

pytestmark = [pytest.mark.servers]


@pytest.fixture
def fakes():
    running = Fakes().start()
    try:
        yield running
    finally:
        running.stop()


def _setup(workspace, fakes: Fakes, marker: str) -> str:
    workspace.write_config(extra=fakes.config(timeout=5, slack_timeout=5))
    workspace.open_incident(case=2, summary=f"a payment outage ({marker})", what=f"the payment outage ({marker})")
    return workspace.render("--case", "2", "--template", "apology", env=fakes.env())


def _posts(fakes: Fakes, marker: str) -> dict[str, int]:
    """Statements each platform holds (this test's fakes hold only this test's; the
    cabinet's Slack also gets notices, told apart by the marker)."""
    return {"mastodon": len(fakes.mastodon.statuses), "x": len(fakes.x.tweets),
            "cabinet": fakes.posts(marker)["cabinet"]}


def _settled(workspace, draft: str) -> bool:
    """The idempotent channels delivered; Slack (no idempotency) delivered or left for a person."""
    states = channel_states(workspace, draft)
    return (states["mastodon"] == states["x"] == "delivered"
            and states["cabinet"] in ("delivered", "unknown", "sending"))


def _every_attempt_answered_or_open(events: list[dict]) -> None:
    """Each channel's attempts come in order, and only its last may lack an outcome."""
    for channel in {e["channel"] for e in events}:
        kinds = [e["kind"] for e in events if e["channel"] == channel]
        for before, after in zip(kinds, kinds[1:]):
            assert not (before == "delivery.delivered" and after == "delivery.started"), (channel, kinds)


@pytest.mark.both_stores
def test_a_worker_killed_mid_fan_out_is_restarted_and_nothing_is_sent_twice(workspace, fakes):
    marker = f"kill-9 {workspace.path.name} {time.monotonic_ns()}"
    draft = _setup(workspace, fakes, marker)
    for fake in (fakes.mastodon, fakes.x, fakes.slack):
        slow_posts(fake, 2.0)
    worker = WorkerProcess(workspace.path, fakes.env())
    try:
        assert "Queued" in workspace.run("approve", draft, "--as", "ana", env=fakes.env()).output
        assert until(lambda: sum(_posts(fakes, marker).values()) >= 2, timeout=10)
    finally:
        worker.kill()
    before = channel_states(workspace, draft)
    assert [before[name] for name in ("mastodon", "x", "cabinet")].count("delivered") == 0, before
    restarted = WorkerProcess(workspace.path, fakes.env())
    try:
        assert until(lambda: _settled(workspace, draft), timeout=60), channel_states(workspace, draft)
    finally:
        code, output = restarted.stop()
    assert code == 0, output
    states = channel_states(workspace, draft)
    posts = _posts(fakes, marker)
    assert posts["mastodon"] == 1 and posts["x"] == 1, (posts, states, [(e["kind"], e["channel"], e["data"].get("reason")) for e in delivery_events(workspace)])
    assert states["mastodon"] == states["x"] == "delivered"
    assert posts["cabinet"] <= 1
    assert states["cabinet"] in ("delivered", "sending", "unknown")
    if states["cabinet"] != "delivered":
        assert "UNCONFIRMED" in workspace.run("send", draft, "--wait", env=fakes.env()).output
    _every_attempt_answered_or_open(delivery_events(workspace))
    assert workspace.run("log", "verify").exit_code == 0


def test_two_workers_on_two_machines_race_and_each_channel_is_sent_once(workspace, fakes, pg_url):
    workspace.store_url = pg_url
    marker = f"race {time.monotonic_ns()}"
    draft = _setup(workspace, fakes, marker)
    for fake in (fakes.mastodon, fakes.x, fakes.slack):
        slow_posts(fake, 0.5)
    one, two = machines(workspace, 2)
    workers = [WorkerProcess(one, fakes.env()), WorkerProcess(two, fakes.env())]
    try:
        assert all("running" in worker.first_line for worker in workers), [w.first_line for w in workers]
        assert "Queued" in workspace.run("approve", draft, "--as", "ana", env=fakes.env()).output
        assert until(lambda: set(channel_states(workspace, draft).values()) == {"delivered"}, timeout=60)
        time.sleep(2)  # both keep sweeping: nothing more may go out
    finally:
        results = [worker.stop() for worker in workers]
    assert [code for code, _ in results] == [0, 0], results
    assert _posts(fakes, marker) == {"mastodon": 1, "x": 1, "cabinet": 1}
    started = [e for e in delivery_events(workspace) if e["kind"] == "delivery.started"]
    assert sorted(e["channel"] for e in started) == ["cabinet", "mastodon", "outbox", "web", "x"]


def test_one_of_two_workers_killed_mid_fan_out_the_other_finishes(workspace, fakes, pg_url):
    workspace.store_url = pg_url
    marker = f"kill one {time.monotonic_ns()}"
    draft = _setup(workspace, fakes, marker)
    one, two = machines(workspace, 2)
    first = WorkerProcess(one, fakes.env())
    for fake in (fakes.mastodon, fakes.x):
        slow_posts(fake, 2.0)
    try:
        assert "Queued" in workspace.run("approve", draft, "--as", "ana", env=fakes.env()).output
        assert until(lambda: len([e for e in delivery_events(workspace) if e["kind"] == "delivery.started"]) >= 2)
    finally:
        first.kill()
    second = WorkerProcess(two, fakes.env())
    try:
        assert until(lambda: channel_states(workspace, draft)["mastodon"] == "delivered"
                     and channel_states(workspace, draft)["x"] == "delivered", timeout=90)
    finally:
        second.stop()
    posts = _posts(fakes, marker)
    assert posts["mastodon"] == 1 and posts["x"] == 1 and posts["cabinet"] <= 1, posts


@pytest.mark.both_stores
def test_sigterm_while_a_retry_waits_stops_at_once_and_leaves_the_channel_due(workspace, fakes):
    marker = f"sigterm {time.monotonic_ns()}"
    workspace.write_config(extra=fakes.config(channels=("mastodon",)))
    workspace.open_incident(case=2, summary=f"a payment outage ({marker})")
    draft = workspace.render("--case", "2", "--template", "apology", "--channel", "mastodon", env=fakes.env())
    posting = fakes.mastodon.handler
    fakes.mastodon.handler = lambda request: too_many_requests(120) if request.method == "POST" else posting(request)
    worker = WorkerProcess(workspace.path, fakes.env())
    try:
        workspace.run("approve", draft, "--as", "ana", env=fakes.env())
        assert until(lambda: any(e["kind"] == "delivery.failed" for e in delivery_events(workspace)))
    finally:
        asked = time.monotonic()
        code, output = worker.stop()
    assert time.monotonic() - asked < 10
    assert code == 0, output
    assert channel_states(workspace, draft)["mastodon"] == "failed-retryable"
    assert _posts(fakes, marker)["mastodon"] == 0
    assert "stopped" in workspace.run("status").output


@pytest.mark.both_stores
def test_a_silent_worker_is_told_to_the_cabinet_once_and_shown_by_status(workspace):
    workspace.write_config(extra='\n[channels.cabinet]\ntype = "outbox"\npath = "var/cabinet"\naudience = "internal"\n')
    assert run_once(workspace.path).returncode == 0
    db = workspace.db()
    try:
        if workspace.store_url:
            db.execute("INSERT INTO workers VALUES ('far-away:77', 'far-away', 77, "
                       "extract(epoch FROM now()) - 900, extract(epoch FROM now()) - 300, 'idle')")
        else:
            db.execute("INSERT INTO workers VALUES ('far-away:77', 'far-away', 77, ?, ?, 'idle')",
                       (time.time() - 900, time.time() - 300))
    finally:
        db.close()
    status = workspace.run("status")
    assert "far-away:77" in status.output and "SILENT" in status.output
    assert "WARNING: the worker far-away:77 has shown no heartbeat" in status.output
    for _ in range(2):
        done = run_once(workspace.path)
        assert done.returncode == 0, done.stdout + done.stderr
    notices = [line for line in workspace.run("log", "--json").output.splitlines() if "worker-silent:far-away:77" in line]
    assert len(notices) == 1, notices
    told = list((workspace.path / "var" / "cabinet").iterdir())
    assert any("far-away" in path.read_text() for path in told)


def test_postgresql_restarted_under_the_worker_it_goes_on(workspace, pg_cluster, pg_url):
    workspace.store_url = pg_url
    workspace.write_config()
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    worker = WorkerProcess(workspace.path)
    try:
        assert "running" in worker.first_line, worker.first_line
        pg_cluster.stop("fast")
        time.sleep(2)
        pg_cluster.restart()
        result = workspace.run("approve", draft, "--as", "ana")
        assert "Queued" in result.output, result.output
        assert until(lambda: set(channel_states(workspace, draft).values()) == {"delivered"}, timeout=60), \
            channel_states(workspace, draft)
    finally:
        code, output = worker.stop()
    assert code == 0, output
    assert "Traceback" not in output
    assert len([e for e in delivery_events(workspace) if e["kind"] == "delivery.delivered"]) == 2


def test_a_worker_whose_clock_is_10_minutes_off_takes_no_work_and_is_not_counted(workspace, pg_url):
    """On PostgreSQL the worker's heartbeat compares its clock with the server's (an App
    with a clock 10 minutes ahead stands for that machine)."""
    import threading
    from datetime import datetime, timedelta, timezone

    from publisher.cli.worker_cmds import make_worker
    from publisher.workspace.app import App

    workspace.store_url = pg_url
    workspace.write_config()
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    app = App(workspace.path, clock=lambda: datetime.now(timezone.utc) + timedelta(minutes=10))
    worker = make_worker(app)
    running = threading.Thread(target=worker.run)
    running.start()
    try:
        assert until(lambda: "clock off" in workspace.run("status").output, timeout=30)
        status = workspace.run("status").output
        assert "takes no work: its machine's clock is off (clock off by +600 s" in status, status
        result = workspace.run("approve", draft, "--as", "ana")
        assert "No worker is running: sending it here" in result.output, result.output
        assert set(channel_states(workspace, draft).values()) == {"delivered"}
        time.sleep(1)
    finally:
        worker.stop()
        running.join(30)
    started = [e for e in delivery_events(workspace) if e["kind"] == "delivery.started"]
    assert len(started) == 2 and all(e["actor"] != "worker" for e in started), started
