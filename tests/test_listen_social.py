"""The X and Facebook sources run by listening (`listen_once`) from a workspace's config,
reusing their channels' credentials: items stored once, the X budget and X's 402 stopping
the source and telling the cabinet once, no secret in the log."""
from __future__ import annotations

import pytest

from publisher.delivery.listening import listen_once
from publisher.workspace.app import App
from tests.fakes.graph_api import FakeGraph
from tests.fakes.x_api import FakeX, credits_depleted

pytestmark = pytest.mark.servers

X_KEYS = ("CANARY-lx-key-77", "CANARY-lx-secret-77", "CANARY-lx-token-77", "CANARY-lx-tokensecret-77")
FB_TOKEN = "CANARY-lfb-token-77"
PAGE = "104857600123456"


def x_config(url: str, budget: float) -> str:
    return f"""
[channels.x]
type = "x"
api_key = "${{X_KEY}}"
api_secret = "${{X_SECRET}}"
access_token = "${{X_TOKEN}}"
access_token_secret = "${{X_TOKEN_SECRET}}"
username = "acme_es"
api_url = "{url}"
timeout = 3

[listen.x]
type = "x"
channel = "x"
user_id = "1580661436132757506"
monthly_budget = {budget}
"""


@pytest.fixture
def x_workspace(workspace, monkeypatch):
    for name, value in zip(("X_KEY", "X_SECRET", "X_TOKEN", "X_TOKEN_SECRET"), X_KEYS, strict=True):
        monkeypatch.setenv(name, value)
    with FakeX(*X_KEYS) as fake:
        yield workspace, fake


def log_text(workspace) -> str:
    db = workspace.db()
    try:
        return "\n".join(str(row) for row in db.execute("SELECT * FROM events").fetchall())
    finally:
        db.close()


def test_x_mentions_are_stored_once_and_a_spent_budget_stops_the_source_once(x_workspace):
    workspace, fake = x_workspace
    workspace.write_config(extra=x_config(fake.url, 0.2))
    for n in range(6):
        fake.mention(f"@acme_es queja {n}", handle=f"user{n}", user_id=str(900 + n))
    result = listen_once(App(workspace.path), "x")
    assert (result.outcome, result.read, result.new) == ("ok", 6, 6)
    for n in range(6):
        fake.mention(f"@acme_es otra {n}", handle=f"user{n}", user_id=str(900 + n))
    asked = len(fake.requests)
    stopped = listen_once(App(workspace.path), "x")
    assert (stopped.outcome, stopped.new) == ("stopped", 6) and "monthly budget" in stopped.reason
    assert len(fake.requests) == asked + 1
    again = listen_once(App(workspace.path), "x")
    assert again.outcome == "stopped" and len(fake.requests) == asked + 1
    store = App(workspace.path).store
    assert len(store.heard()) == 12 and fake.posts_read == 12
    assert {event.data["source"] for event in store.events(kind="listen.stopped")} == {"x"}
    text = log_text(workspace)
    assert all(secret not in text for secret in X_KEYS)


def test_x_402_stops_the_source_and_tells_the_cabinet(x_workspace):
    workspace, fake = x_workspace
    workspace.write_config(extra=x_config(fake.url, 20))
    fake.queue(credits_depleted())
    result = listen_once(App(workspace.path), "x")
    assert result.outcome == "stopped" and "no credits left" in result.reason
    assert len(fake.requests) == 1
    [event] = App(workspace.path).store.events(kind="listen.stopped")
    assert "HTTP 402" in event.data["reason"]


def test_facebook_comments_are_polled_with_the_channels_token(workspace, monkeypatch):
    monkeypatch.setenv("FB_TOKEN", FB_TOKEN)
    with FakeGraph(page_id=PAGE, token=FB_TOKEN) as fake:
        workspace.write_config(extra=f"""
[channels.facebook]
type = "facebook"
page_id = "{PAGE}"
token = "${{FB_TOKEN}}"
api_url = "{fake.url}"

[listen.facebook]
type = "facebook"
channel = "facebook"
posts = 5
""")
        post = fake.add_post("Aviso: corte de agua")
        made = [fake.add_comment(post, f"queja {n}") for n in range(3)]
        result = listen_once(App(workspace.path), "facebook")
        assert (result.outcome, result.new) == ("ok", 3)
        assert listen_once(App(workspace.path), "facebook").new == 0
        assert [event.data["id"] for event in App(workspace.path).store.heard()] == made
        assert FB_TOKEN not in log_text(workspace)


def test_publish_listen_once_x_says_why_it_stopped_in_one_sentence_without_a_secret(x_workspace):
    workspace, fake = x_workspace
    workspace.write_config(extra=x_config(fake.url, 20))
    fake.mention("@acme_es ¿y el agua?")
    done = workspace.run("listen", "--once", "x")
    assert done.exit_code == 0 and "read" in done.output
    fake.queue(credits_depleted(account=X_KEYS[2]))
    stopped = workspace.run("listen", "--once", "x")
    assert stopped.exit_code != 0 and "no credits left" in stopped.output
    assert all(secret not in stopped.output for secret in X_KEYS)
