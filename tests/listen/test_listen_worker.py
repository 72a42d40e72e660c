"""The worker listens: `publish worker --once` reads every source, during a case 3 freeze
too; a source that fails for good stops alone and the cabinet is told."""
from __future__ import annotations

import json

import pytest

from tests.fakes.feeds import FeedSite, rss
from tests.worker_support import run_once

pytestmark = pytest.mark.servers

NEWS = [{"title": "Acme filtra datos", "slug": "n1", "guid": "n1", "date": "Sat, 05 Dec 2026 09:00:00 GMT",
         "body": "Una fuga de datos de Acme."}]


@pytest.fixture
def site():
    with FeedSite() as served:
        yield served


def test_the_worker_listens_during_a_freeze_and_stops_a_broken_source_alone(workspace, site):
    news = site.put("/search.rss", rss(NEWS))
    workspace.write_config(extra=f"""
[listen.prensa]
type = "feed"
urls = ["{news}"]

[listen.roto]
type = "feed"
urls = ["{site.url}/gone.rss"]
""")
    workspace.open_incident(case=3, listen="Acme")
    assert "freeze" in [kind for _seq, kind in workspace.events()]  # case 3 freezes on opening
    done = run_once(workspace.path)
    assert done.returncode == 0, done.stderr
    items = json.loads(workspace.run("inbox", "--json").output)
    assert [(item["source"], item["incident"], item["rule"]) for item in items] == [("prensa", "1", "Acme")]
    kinds = [kind for _seq, kind in workspace.events()]
    assert kinds.count("listen.stopped") == 1 and "notice.sent" in kinds

    run_once(workspace.path)
    kinds = [kind for _seq, kind in workspace.events()]
    assert kinds.count("listen.stopped") == 1 and kinds.count("item.heard") == 1
    gone = [request for request in site.requests if request.path == "/gone.rss"]
    assert len(gone) == 1, "a stopped source is not read again by the worker"

    site.put("/gone.rss", rss([]))
    result = workspace.run("listen", "--once", "roto")
    assert result.exit_code == 0, result.output
    assert [kind for _seq, kind in workspace.events()][-1] == "listen.resumed"
    assert workspace.run("log", "verify").exit_code == 0


def test_two_processes_hearing_the_same_items_at_once_store_them_once(workspace, site):
    import os
    import subprocess
    import sys

    many = [{"title": f"Acme noticia {n}", "slug": f"m{n}", "guid": f"m{n}",
             "date": "Sat, 05 Dec 2026 09:00:00 GMT", "body": "texto"} for n in range(60)]
    news = site.put("/search.rss", rss(many))
    workspace.write_config(extra=f"""
[listen.uno]
type = "feed"
urls = ["{news}"]

[listen.dos]
type = "feed"
urls = ["{news}"]
""")
    env = {**os.environ, "PUBLISH_WORKSPACE": str(workspace.path), "PUBLISH_USER": "marta"}
    runs = [subprocess.Popen([sys.executable, "-m", "publisher", "listen", "--once", name], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("uno", "dos")]
    for run in runs:
        _out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    kinds = [kind for _seq, kind in workspace.events()]
    assert kinds.count("item.heard") == 60 and kinds.count("listen.cursor") == 2
    assert workspace.run("log", "verify").exit_code == 0


def test_the_schedule_reads_every_n_seconds_and_waits_out_a_retry_after(workspace, site):
    from publisher.delivery.listening import ListenSchedule
    from publisher.workspace.app import App
    from tests.fakes.server import Reply

    news = site.put("/search.rss", rss(NEWS))
    workspace.write_config(extra=f"""
[listen.prensa]
type = "feed"
urls = ["{news}"]
every = 60
""")
    now = [1000.0]
    app = App(workspace.path)
    schedule = ListenSchedule(app, clock=lambda: now[0])
    assert schedule.due() == ["prensa"] and schedule.due() == []
    site.queue(Reply(429, "slow down", {"Retry-After": "600"}))
    schedule.run(app, lambda: False, "prensa")
    now[0] += 61
    assert schedule.due() == [], "a Retry-After of 600 s outlasts every = 60"
    now[0] += 600
    assert schedule.due() == ["prensa"]
    schedule.run(app, lambda: False, "prensa")
    assert len(app.store.heard()) == 1
