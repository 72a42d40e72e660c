"""`publish confirm` cannot fabricate a delivery (issue 10 item 3): approvers only; on
X, Mastodon, Facebook and Discord the post is looked up with the platform (the fakes
answer the real GET endpoints) and refused when missing or carrying another text; the
report shows a confirmation as made by a person, never as a platform receipt."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest

from publisher.log.store import Store
from tests.test_platforms_e2e import Platforms

CHANNELS = ("x", "mastodon", "facebook", "discord", "cabinet")


@pytest.fixture
def platforms(workspace):
    running = Platforms().start()
    workspace.write_config(extra=running.config())
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def unknown(workspace, platforms):
    """An approved draft whose every channel was sent with an outcome nobody heard."""
    env = platforms.env()
    workspace.open_incident(case=2)
    args = [arg for name in CHANNELS for arg in ("--channel", name)]
    draft = workspace.render("--case", "2", "--template", "apology", *args, env=env)
    assert workspace.run("freeze", "--reason", "hold", env=env).exit_code == 0
    assert workspace.run("approve", draft, "--as", "ana", env=env).exit_code == 0
    store = Store(workspace.path / "var" / "publisher.db")
    for name in CHANNELS:
        store.append("delivery.started", actor="ana", incident="1", draft=draft, channel=name, data={"attempt": 1})
    store.close()
    texts = json.loads(workspace.run("drafts", "show", draft, "--json", env=env).output)["draft"]["payloads"]
    return draft, {name: texts[name]["parts"][0] for name in CHANNELS}


def _confirm(workspace, platforms, draft, channel, url, user="ana"):
    return workspace.run("confirm", draft, channel, "--url", url, "--as", user, env=platforms.env())


def _confirmations(workspace) -> dict[str, dict]:
    return {e["channel"]: e["data"] for e in json.loads(workspace.run("log", "--json").output)
            if e["kind"] == "delivery.confirmed"}


def _x_post(platforms, text: str) -> str:
    post_id = str(((int(time.time() * 1000) - 1288834974657) << 22) | 7)
    platforms.x.tweets[post_id] = {"text": text, "in_reply_to": None, "created_at": "2026-11-25T10:00:00.000Z"}
    return post_id


def test_only_an_approver_may_confirm(workspace, platforms, unknown):
    draft, texts = unknown
    post = _x_post(platforms, texts["x"])
    result = _confirm(workspace, platforms, draft, "x", post, user="marta")
    assert result.exit_code == 2 and "only an approver can confirm a delivery" in result.output
    assert _confirmations(workspace) == {}


def test_each_platform_that_can_look_a_post_up_is_asked(workspace, platforms, unknown):
    draft, texts = unknown
    x_id = _x_post(platforms, texts["x"])
    mastodon_id = platforms.mastodon.seed(texts["mastodon"])
    facebook_id = platforms.graph.add_post(texts["facebook"])
    discord_id = "1190000000000000123"
    platforms.discord.messages.append({"id": discord_id, "content": texts["discord"], "channel_id": "1180000000000000001",
                                       "guild_id": "1170000000000000001",
                                       "timestamp": datetime.now(timezone.utc).isoformat()})
    given = {"x": f"https://x.com/acme_es/status/{x_id}", "mastodon": mastodon_id, "facebook": facebook_id,
             "discord": f"https://discord.com/channels/1170000000000000001/1180000000000000001/{discord_id}"}
    for channel, reference in given.items():
        result = _confirm(workspace, platforms, draft, channel, reference)
        assert result.exit_code == 0, result.output
        assert "confirmed by ana (checked with the platform)" in result.output
    confirmed = _confirmations(workspace)
    assert {name: data["checked"] for name, data in confirmed.items()} == dict.fromkeys(given, True)
    assert confirmed["x"]["id"] == x_id and confirmed["x"]["platform_time"]
    assert any(r.method == "GET" and r.path == f"/2/tweets/{x_id}" for r in platforms.x.requests)
    assert any(r.method == "GET" and r.path == f"/api/v1/statuses/{mastodon_id}" for r in platforms.mastodon.requests)
    assert any(r.method == "GET" and r.path.endswith(f"/{facebook_id}") for r in platforms.graph.requests)
    assert any(r.method == "GET" and r.path.endswith(f"/messages/{discord_id}") for r in platforms.discord.requests)


@pytest.mark.parametrize("channel", ["x", "mastodon", "facebook", "discord"])
def test_a_post_the_platform_does_not_have_is_refused(workspace, platforms, unknown, channel):
    draft, _ = unknown
    missing = {"x": "1861234567890123456", "mastodon": "113456789012345678",
               "facebook": f"{platforms.graph.page_id}_999999", "discord": "1190000000000000999"}[channel]
    result = _confirm(workspace, platforms, draft, channel, missing)
    assert result.exit_code == 2 and f"{channel} has no post {missing}; nothing was recorded" in result.output
    assert _confirmations(workspace) == {}


def test_a_post_with_another_text_is_refused(workspace, platforms, unknown):
    draft, _ = unknown
    other = _x_post(platforms, "An unrelated post about our summer sale.")
    result = _confirm(workspace, platforms, draft, "x", other)
    assert result.exit_code == 2 and f"does not carry the text of draft {draft}" in result.output
    assert _confirmations(workspace) == {}


def test_the_report_shows_a_person_not_a_platform_receipt(workspace, platforms, unknown):
    draft, texts = unknown
    assert _confirm(workspace, platforms, draft, "x", _x_post(platforms, texts["x"])).exit_code == 0
    slack = _confirm(workspace, platforms, draft, "cabinet", "https://acme.slack.com/archives/C1/p1")
    assert slack.exit_code == 0 and "not checked" in slack.output
    report = json.loads(workspace.run("report", "1", "--format", "json", env=platforms.env()).output)
    deliveries = {d["channel"]: d for d in report["drafts"][0]["deliveries"]}
    assert deliveries["x"]["platform_id"] is None and deliveries["x"]["confirmed_by"] == "ana"
    assert deliveries["x"]["checked_with_platform"] is True
    assert deliveries["cabinet"]["checked_with_platform"] is False
    markdown = workspace.run("report", "1", "--format", "md", env=platforms.env()).output
    assert "confirmed by ana (checked with the platform)" in markdown
    assert "confirmed by a person (ana, not checked with the platform)" in markdown


@pytest.mark.parametrize("channel", ["web", "outbox"])
def test_our_own_site_and_outbox_are_looked_up_too(workspace, platforms, channel):
    env = platforms.env()
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", "--channel", channel, env=env)
    assert workspace.run("freeze", "--reason", "hold", env=env).exit_code == 0
    assert workspace.run("approve", draft, "--as", "ana", env=env).exit_code == 0
    store = Store(workspace.path / "var" / "publisher.db")
    store.append("delivery.started", actor="ana", incident="1", draft=draft, channel=channel, data={"attempt": 1})
    store.close()
    result = _confirm(workspace, platforms, draft, channel, f"{draft}--{channel}.txt" if channel == "outbox"
                      else f"statements/20260101-{draft}.html")
    assert result.exit_code == 2 and "has no post" in result.output
    assert _confirmations(workspace) == {}
