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
