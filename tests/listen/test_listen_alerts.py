"""A spike or a dip tells the cabinet once: `publish listen --once` and `publish worker
--once` check the crisis curve after reading ([listen] spike, negative_share) and page a
"possible crisis: open an incident?" notice naming the first negative item as the
suggested source with its platform time as first_seen; again and again, across runs and
processes, it is told once."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from tests.fakes.feeds import FeedSite, rss
from tests.worker_support import run_once

pytestmark = pytest.mark.servers
NOW = datetime.now(timezone.utc).replace(microsecond=0)
FIRST = NOW - timedelta(minutes=20)


def _wave(count: int, negative: int) -> list[dict[str, str]]:
    """`count` entries said at the same minute, the first `negative` of them complaints."""
    return [{"title": (f"Acme no funciona, qué desastre {number}" if number < negative
                       else f"Acme abre tienda {number}"),
             "slug": f"w{number}", "guid": f"w{number}",
             "date": format_datetime(FIRST + timedelta(seconds=number), usegmt=True),
             "body": "Horrible, una vergüenza." if number < negative else "El lunes."} for number in range(count)]


@pytest.fixture
def site():
    with FeedSite() as served:
        yield served


def _configure(workspace, site, wave: list[dict[str, str]], share: float = 0.4) -> None:
    news = site.put("/search.rss", rss(wave))
    workspace.write_config(extra=f"""
[listen]
keywords = ["Acme"]
negative_share = {share}

[listen.prensa]
type = "feed"
urls = ["{news}"]
""")


def _crisis_notices(workspace) -> list[dict]:
    log = json.loads(workspace.run("log", "--json").output)
    return [event for event in log if event["kind"] == "notice.sent"
            and str(event["data"].get("key", "")).startswith("crisis:")]


def test_a_dip_tells_the_cabinet_once_with_the_suggested_source(workspace, site):
    _configure(workspace, site, _wave(12, 8))
    result = workspace.run("listen", "--once")
    assert result.exit_code == 0, result.output
    assert "crisis:dip:-:" in result.output
    told = _crisis_notices(workspace)
    assert len(told) == 1
    data = told[0]["data"]
    assert data["key"] == f"crisis:dip:-:{FIRST.strftime('%Y-%m-%dT%H')}"
    assert "possible crisis: open an incident?" in data["text"]
    first_seen = FIRST.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "https://news.example/w0" in data["text"] and f"--first-seen {first_seen}" in data["text"]
    assert set(data["people"]) == {"ana", "luis", "marta"}

    assert workspace.run("listen", "--once").exit_code == 0
    done = run_once(workspace.path)
    assert done.returncode == 0, done.stderr
    assert len(_crisis_notices(workspace)) == 1
    assert workspace.run("log", "verify").exit_code == 0


def test_the_worker_tells_what_it_heard_and_a_calm_hour_tells_nothing(workspace, site):
    _configure(workspace, site, _wave(12, 2))
    done = run_once(workspace.path)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(workspace.run("inbox", "--json", "--all").output)) == 12
    assert _crisis_notices(workspace) == []

    site.put("/search.rss", rss(_wave(12, 2) + [
        {"title": f"Acme nos ha estafado {number}", "slug": f"x{number}", "guid": f"x{number}",
         "date": format_datetime(FIRST + timedelta(seconds=30 + number), usegmt=True),
         "body": "Un timo vergonzoso."} for number in range(8)]))
    done = run_once(workspace.path)
    assert done.returncode == 0, done.stderr
    told = _crisis_notices(workspace)
    assert [event["data"]["key"] for event in told] == [f"crisis:dip:-:{FIRST.strftime('%Y-%m-%dT%H')}"]
    run_once(workspace.path)
    assert len(_crisis_notices(workspace)) == 1


def test_a_person_s_sentiment_counts_in_the_alert(workspace, site):
    _configure(workspace, site, _wave(12, 4))
    assert workspace.run("listen", "--once").exit_code == 0
    assert _crisis_notices(workspace) == []
    calm = [item for item in json.loads(workspace.run("inbox", "--json", "--all").output)
            if item["sentiment"] != "negative"]
    for item in calm[:2]:
        assert workspace.run("inbox", "sentiment", f"#{item['seq']}", "negative", "--reason", "sarcasm").exit_code == 0
    assert workspace.run("listen", "--once").exit_code == 0
    assert len(_crisis_notices(workspace)) == 1


def test_a_spike_over_the_week_s_baseline_tells_the_cabinet(workspace, site):
    week = [{"title": f"Acme abre tienda {number}", "slug": f"o{number}", "guid": f"o{number}",
             "date": format_datetime(NOW - timedelta(hours=4 * number + 2), usegmt=True), "body": "El lunes."}
            for number in range(1, 42)]
    wave = _wave(15, 1)
    _configure(workspace, site, week + wave)
    result = workspace.run("listen", "--once", "--json")
    assert result.exit_code == 0, result.output
    told = _crisis_notices(workspace)
    assert [event["data"]["key"] for event in told] == [f"crisis:spike:-:{FIRST.strftime('%Y-%m-%dT%H')}"]
    assert "times the 7-day hourly baseline" in told[0]["data"]["text"]
    assert "https://news.example/w0" in told[0]["data"]["text"]


def test_a_running_worker_s_tally_follows_what_is_stored_after_it_started(workspace, site):
    from publisher.delivery.listening import ListenSchedule
    from publisher.workspace.app import App

    _configure(workspace, site, _wave(12, 2))
    app = App(workspace.path)
    schedule = ListenSchedule(app)
    schedule.run(app, lambda: False, "prensa")
    assert _crisis_notices(workspace) == []
    calm = [item for item in json.loads(workspace.run("inbox", "--json", "--all").output)
            if item["sentiment"] != "negative"]
    for item in calm[:4]:  # another process (a person) changes what the tally counts
        assert workspace.run("inbox", "sentiment", f"#{item['seq']}", "negative", "--reason", "irony").exit_code == 0
    assert schedule.tell(app) == [f"crisis:dip:-:{FIRST.strftime('%Y-%m-%dT%H')}"]
    schedule.run(app, lambda: False, "prensa")
    assert len(_crisis_notices(workspace)) == 1
