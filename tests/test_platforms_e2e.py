"""Every platform end to end through `publish`: one approved draft reaches each fake
platform through its real SDK, exactly once, and no secret leaks on any path."""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tests.fakes.bluesky_pds import FakePDS
from tests.fakes.graph_api import FakeGraph
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.smtp_server import SmtpServer
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.webhooks import DiscordFake, ReceiverFake, SlackFake, TeamsFake
from tests.fakes.x_api import FakeX

pytestmark = pytest.mark.servers

SECRETS = {
    "X_API_KEY": "CANARY-xkey-4f1d", "X_API_SECRET": "CANARY-xsecret-9a7b",
    "X_ACCESS_TOKEN": "1580661436132757506-CANARYxtoken", "X_ACCESS_SECRET": "CANARY-xaccess-5e2c",
    "FB_TOKEN": "EAAG-CANARY-fb-77d1", "TG_TOKEN": "7012345678:CANARY-telegram-3b9e",
    "MASTODON_TOKEN": "CANARY-mastodon-c4a2", "SLACK_PATH": "/services/T0001/B0001/CANARYslack8e1f",
    "DISCORD_TOKEN": "CANARY-discord-0d3f", "TEAMS_SIG": "CANARY-teams-sig-6b5a",
    "HOOK_AUTH": "Bearer CANARY-hook-2c8d", "SMTP_PASSWORD": "CANARY-smtp-91aa",
    "BLUESKY_APP_PASSWORD": "CANARY-bsky-5f2e-a7c1",
}
CANARY_MARK = "CANARY"
MATRIX_ACCOUNTS = itertools.count()


class Platforms:
    def __init__(self, synapse=None) -> None:
        """`synapse`: a running homeserver, for a `matrix` channel too (tests/synapse_server.py)."""
        s = SECRETS
        self.synapse = synapse
        self.matrix_token = synapse.register(f"press{next(MATRIX_ACCOUNTS)}") if synapse else ""
        self.matrix_room = synapse.create_room(self.matrix_token) if synapse else ""
        self.x = FakeX(s["X_API_KEY"], s["X_API_SECRET"], s["X_ACCESS_TOKEN"], s["X_ACCESS_SECRET"],
                       username="acme_es")
        self.graph = FakeGraph(token=s["FB_TOKEN"])
        self.telegram = FakeTelegram(token=s["TG_TOKEN"])
        self.mastodon = FakeMastodon(token=s["MASTODON_TOKEN"])
        self.bluesky = FakePDS(app_password=s["BLUESKY_APP_PASSWORD"])
        self.slack = SlackFake(s["SLACK_PATH"])
        self.discord = DiscordFake("1180000000000000099", s["DISCORD_TOKEN"], guild_id="1170000000000000001")
        self.teams = TeamsFake("4b1c0d9e2f3a", s["TEAMS_SIG"])
        self.hook = ReceiverFake(authorization=s["HOOK_AUTH"])
        self.smtp = SmtpServer("none", users={"press": s["SMTP_PASSWORD"]}, auth_require_tls=False)
        self.http = [self.x, self.graph, self.telegram, self.mastodon, self.bluesky, self.slack, self.discord,
                     self.teams, self.hook]

    def start(self) -> "Platforms":
        for fake in self.http:
            fake.start()
        self.smtp.start()
        return self

    def stop(self) -> None:
        for fake in self.http:
            fake.stop()
        self.smtp.stop()

    def env(self) -> dict[str, str]:
        return {**SECRETS, **webhook_urls(self, SECRETS), "HOOK_URL": f"{self.hook.url}/hooks/incident",
                **({"MATRIX_TOKEN": self.matrix_token} if self.synapse else {})}

    def config(self) -> str:
        return f"""
[channels.x]
type = "x"
api_url = "{self.x.url}"
username = "acme_es"
api_key = "${{X_API_KEY}}"
api_secret = "${{X_API_SECRET}}"
access_token = "${{X_ACCESS_TOKEN}}"
access_token_secret = "${{X_ACCESS_SECRET}}"

[channels.facebook]
type = "facebook"
api_url = "{self.graph.url}"
page_id = "{self.graph.page_id}"
token = "${{FB_TOKEN}}"

[channels.telegram]
type = "telegram"
api_url = "{self.telegram.url}"
chat = "@citywater"
token = "${{TG_TOKEN}}"

[channels.mastodon]
type = "mastodon"
instance = "{self.mastodon.url}"
token = "${{MASTODON_TOKEN}}"

[channels.bluesky]
type = "bluesky"
handle = "acme.bsky.social"
app_password = "${{BLUESKY_APP_PASSWORD}}"
api_url = "{self.bluesky.url}"

{self.matrix_config()}
[channels.cabinet]
type = "slack"
audience = "internal"
api_url = "{self.slack.url}"
webhook_url = "${{SLACK_URL}}"

[channels.discord]
type = "discord"
api_url = "{self.discord.url}"
webhook_url = "${{DISCORD_URL}}"

[channels.teams]
type = "teams"
audience = "internal"
api_url = "{self.teams.url}"
webhook_url = "${{TEAMS_URL}}"

[channels.hook]
type = "webhook"
url = "${{HOOK_URL}}"
headers = {{ Authorization = "${{HOOK_AUTH}}" }}

[channels.press]
type = "email"
host = "127.0.0.1"
port = {self.smtp.port}
security = "none"
username = "press"
password = "${{SMTP_PASSWORD}}"
sender = "Acme <press@acme.example>"
recipients = ["newsroom@example.org", "desk@example.net"]
"""

    def matrix_config(self) -> str:
        if not self.synapse:
            return ""
        return (f'[channels.matrix]\ntype = "matrix"\nhomeserver = "{self.synapse.url}"\n'
                f'room = "{self.matrix_room}"\ntoken = "${{MATRIX_TOKEN}}"\n')

    def posts(self) -> dict[str, int]:
        return {"x": len(self.x.tweets), "facebook": len(self.graph.posts), "telegram": len(self.telegram.sent),
                "mastodon": len(self.mastodon.statuses), "bluesky": len(self.bluesky.posts()),
                "cabinet": sum(1 for r in self.slack.requests if r.method == "POST"),
                "discord": len(self.discord.messages),
                "teams": sum(1 for r in self.teams.requests if r.method == "POST"),
                "hook": len(self.hook.seen), "press": len(self.smtp.received),
                **({"matrix": sum(1 for event in self.synapse.room_events(self.matrix_token, self.matrix_room)
                                  if event["type"] == "m.room.message")} if self.synapse else {})}


def webhook_urls(platforms: Platforms, secrets: dict[str, str]) -> dict[str, str]:
    """The real platforms' webhook URLs; `api_url` sends them to the fakes."""
    return {"SLACK_URL": "https://hooks.slack.com" + secrets["SLACK_PATH"],
            "DISCORD_URL": f"https://discord.com/api/webhooks/1180000000000000099/{secrets['DISCORD_TOKEN']}",
            "TEAMS_URL": f"https://prod-12.westeurope.logic.azure.com{platforms.teams.path}?"
                         + platforms.teams.query.replace(SECRETS["TEAMS_SIG"], secrets["TEAMS_SIG"])}


@pytest.fixture
def platforms(workspace, synapse):
    running = Platforms(synapse).start()
    workspace.write_config(extra=running.config())
    try:
        yield running
    finally:
        running.stop()


def _approve(workspace, platforms, summary: str = "a payment outage that blocked card purchases"):
    workspace.open_incident(case=2, summary=summary)
    draft = workspace.render("--case", "2", "--template", "apology", env=platforms.env())
    return draft, workspace.run("approve", draft, "--as", "ana", env=platforms.env())


def test_one_draft_reaches_every_platform_exactly_once(workspace, platforms):
    draft, result = _approve(workspace, platforms)
    assert result.exit_code == 0, result.output
    assert platforms.posts() == {name: 1 for name in platforms.posts()}
    delivered = [event for event in json.loads(workspace.run("log", "--json").output)
                 if event["kind"] == "delivery.delivered"]
    assert {event["channel"] for event in delivered} == {"web", "outbox", "x", "facebook", "telegram", "mastodon",
                                                         "bluesky", "matrix", "cabinet", "discord", "teams", "hook",
                                                         "press"}
    by_channel = {event["channel"]: event["data"] for event in delivered}
    tweet_id = next(iter(platforms.x.tweets))
    assert by_channel["x"]["url"] == f"https://x.com/acme_es/status/{tweet_id}"
    assert by_channel["mastodon"]["url"].startswith(platforms.mastodon.url)
    assert by_channel["telegram"]["url"].startswith("https://t.me/citywater/")
    assert by_channel["facebook"]["id"] == platforms.graph.posts[0]["id"]
    [post] = platforms.bluesky.posts()
    assert by_channel["bluesky"]["id"] == post["uri"] and "We apologize" in post["value"]["text"]
    assert by_channel["bluesky"]["url"].startswith(f"https://bsky.app/profile/{platforms.bluesky.did}/post/")
    assert by_channel["matrix"]["url"].startswith(f"https://matrix.to/#/{platforms.matrix_room}/$")
    short_text = next(iter(platforms.x.tweets.values()))["text"]
    assert "We apologize for the card payment outage." in short_text

    again = workspace.run("send", draft, env=platforms.env())
    assert again.exit_code == 0
    assert platforms.posts() == {name: 1 for name in platforms.posts()}
    assert workspace.run("log", "verify").exit_code == 0
    status = json.loads(workspace.run("status", "1", "--json", env=platforms.env()).output)[0]
    assert status["published"]["verdict"] == "PASS" and status["prepared"]["verdict"] == "PASS"


def test_channels_check_verifies_credentials_without_posting(workspace, platforms):
    result = workspace.run("channels", "check", "--json", env=platforms.env())
    assert result.exit_code == 0, result.output
    assert all(item["ok"] for item in json.loads(result.output))
    assert platforms.posts() == {name: 0 for name in platforms.posts()}


def test_channels_check_fails_on_a_bad_token(workspace, platforms):
    env = {**platforms.env(), "MASTODON_TOKEN": "CANARY-wrong-token-1"}
    result = workspace.run("channels", "check", env=env)
    assert result.exit_code == 1
    assert "mastodon" in result.output and "FAILED" in result.output
    assert "CANARY" not in result.output


def _leaks(workspace, outputs: list[str], issued: tuple[str, ...] = ()) -> list[str]:
    values = [value for value in SECRETS.values()] + ["CANARY-wrong-", *issued]
    found = [f"output {index}" for index, text in enumerate(outputs) for value in values if value in text]
    for path in Path(workspace.path, "var").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [str(path) for value in values if value.encode() in data]
    return found


def test_no_secret_leaks_on_success_or_any_error_path(workspace, platforms):
    outputs = []
    draft, result = _approve(workspace, platforms)
    outputs.append(result.output)
    wrong = {key: value.replace("CANARY", "CANARY-wrong-") for key, value in SECRETS.items()}
    env = {**platforms.env(), **wrong, **webhook_urls(platforms, wrong)}
    workspace.run("incident", "resolve", "1")
    workspace.open_incident(case=2, summary="a second outage of the card terminals")
    failing = workspace.render("--case", "2", "--template", "apology", env=env)
    result = workspace.run("approve", failing, "--as", "ana", env=env)
    assert result.exit_code == 1
    outputs.append(result.output)
    for args in (["log"], ["log", "--json"], ["channels", "list", "--json"], ["channels", "check"],
                 ["drafts", "show", failing], ["drafts", "show", draft, "--json"], ["status", "--json"],
                 ["report", "1", "--format", "md"], ["report", "2", "--format", "json"],
                 ["report", "2", "--format", "html", "-o", str(workspace.path / "report.html")]):
        outputs.append(workspace.run(*args, env=env).output)
    outputs.append((workspace.path / "report.html").read_text(encoding="utf-8"))
    assert "unauthorized" in outputs[1].lower() or "token" in outputs[1].lower()
    assert platforms.bluesky.tokens
    assert _leaks(workspace, outputs, (*platforms.bluesky.tokens, platforms.matrix_token)) == []


def test_a_rate_limited_platform_is_retried_after_exactly_the_delay_it_asked(workspace, platforms):
    platforms.telegram.fail_call(1, FakeTelegram.error(429, "Too Many Requests: retry after 7", retry_after=7))
    draft, result = _approve(workspace, platforms)
    assert result.exit_code == 0, result.output
    assert workspace.sleeps == [7.0]
    assert platforms.posts()["telegram"] == 1
    attempts = [event["data"] for event in json.loads(workspace.run("log", "--json").output)
                if event["channel"] == "telegram" and event["kind"].startswith("delivery.")]
    assert [(item.get("attempt"), item.get("retry_after")) for item in attempts] == \
        [(1, None), (1, 7), (2, None), (2, None)]


def test_a_permanent_refusal_is_not_retried_and_exits_1(workspace, platforms):
    env = {**platforms.env(), "MASTODON_TOKEN": "CANARY-wrong-token-2"}
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", env=env)
    result = workspace.run("approve", draft, "--as", "ana", env=env)
    assert result.exit_code == 1
    assert "not delivered on mastodon" in result.output
    assert workspace.sleeps == []
    assert len([r for r in platforms.mastodon.requests if r.method == "POST"]) == 1
    assert platforms.posts()["x"] == 1


def test_an_unknown_bluesky_outcome_is_resent_under_the_same_record_key_and_posts_once(workspace, platforms):
    from tests.fakes.bluesky_pds import bad_gateway

    platforms.bluesky.answer_next_create(cut_after=20)
    platforms.bluesky.fail("com.atproto.repo.getRecord", bad_gateway())
    draft, result = _approve(workspace, platforms)
    assert result.exit_code == 0, result.output
    assert platforms.posts()["bluesky"] == 1
    creates = [r.json()["rkey"] for r in platforms.bluesky.requests if r.path.endswith("createRecord")]
    assert len(creates) == 2 and creates[0] == creates[1]
    events = [(event["kind"], event["data"]) for event in json.loads(workspace.run("log", "--json").output)
              if event["channel"] == "bluesky" and event["kind"].startswith("delivery.")]
    assert [kind for kind, _ in events] == ["delivery.started", "delivery.failed", "delivery.started",
                                            "delivery.delivered"]
    assert events[1][1]["maybe_delivered"] is True
    assert events[3][1]["id"] == platforms.bluesky.posts()[0]["uri"]
