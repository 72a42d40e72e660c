"""LinkedIn and Threads end to end through `publish`: one approved draft reaches both
fakes exactly once with the platform's id, URL and time in the log; `channels list` and
`channels check` show them (Threads' quota, LinkedIn's days left); no secret leaks."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.fakes.linkedin_api import ORGANIZATION, FakeLinkedIn
from tests.fakes.threads_api import USER_ID, FakeThreads

pytestmark = pytest.mark.servers

SECRETS = {"LINKEDIN_TOKEN": "CANARY-li-e2e-3f9a", "LINKEDIN_CLIENT_SECRET": "CANARY-li-secret-e2e-71c0",
           "THREADS_TOKEN": "CANARY-threads-e2e-0b6d"}


@pytest.fixture
def fakes(workspace):
    linkedin = FakeLinkedIn(SECRETS["LINKEDIN_TOKEN"], "app-123", SECRETS["LINKEDIN_CLIENT_SECRET"]).start()
    threads = FakeThreads(SECRETS["THREADS_TOKEN"]).start()
    workspace.write_config(extra=f"""
[channels.linkedin]
type = "linkedin"
organization = "{ORGANIZATION}"
token = "${{LINKEDIN_TOKEN}}"
client_id = "app-123"
client_secret = "${{LINKEDIN_CLIENT_SECRET}}"
api_url = "{linkedin.url}"
oauth_url = "{linkedin.url}"
timeout = 0.5

[channels.threads]
type = "threads"
user_id = "{USER_ID}"
token = "${{THREADS_TOKEN}}"
api_url = "{threads.url}"
timeout = 0.5
""")
    try:
        yield linkedin, threads
    finally:
        linkedin.stop()
        threads.stop()


def _approve(workspace, env=SECRETS):
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology", env=env)
    return draft, workspace.run("approve", draft, "--as", "ana", env=env)


def test_one_draft_reaches_linkedin_and_threads_once(workspace, fakes):
    linkedin, threads = fakes
    draft, result = _approve(workspace)
    assert result.exit_code == 0, result.output
    [post] = linkedin.posts.values()
    [media] = threads.media.values()
    delivered = {event["channel"]: event["data"] for event in json.loads(workspace.run("log", "--json").output)
                 if event["kind"] == "delivery.delivered"}
    assert delivered["linkedin"]["id"] == post["id"]
    assert delivered["linkedin"]["url"] == f"https://www.linkedin.com/feed/update/{post['id']}/"
    assert delivered["threads"]["id"] == media["id"] and delivered["threads"]["url"] == media["permalink"]
    assert "We apologize" in post["commentary"] and "We apologize" in media["text"]
    again = workspace.run("send", draft, env=SECRETS)
    assert again.exit_code == 0
    assert (len(linkedin.posts), len(threads.media)) == (1, 1)


def test_channels_list_and_check(workspace, fakes):
    listed = workspace.run("channels", "list", env=SECRETS).output
    assert "linkedin" in listed and "threads" in listed
    checked = workspace.run("channels", "check", env=SECRETS)
    assert checked.exit_code == 0, checked.output
    assert "expires in 45 days" in checked.output and "246 of 250 posts" in checked.output


def test_channels_check_refuses_an_expired_linkedin_token(workspace, fakes):
    linkedin, _ = fakes
    linkedin.token_expires_at = time.time() - 5
    checked = workspace.run("channels", "check", env=SECRETS)
    assert checked.exit_code == 1 and "linkedin" in checked.output and "expired" in checked.output


def test_no_secret_leaks_through_publish(workspace, fakes):
    outputs = []
    draft, result = _approve(workspace)
    outputs.append(result.output)
    wrong = {key: value.replace("CANARY", "CANARY-wrong-") for key, value in SECRETS.items()}
    workspace.run("incident", "resolve", "1")
    failing, result = _approve(workspace, wrong)
    assert result.exit_code == 1
    outputs.append(result.output)
    for args in (["log"], ["log", "--json"], ["channels", "list", "--json"], ["channels", "check"],
                 ["drafts", "show", failing], ["status", "--json"], ["report", "2", "--format", "json"]):
        outputs.append(workspace.run(*args, env=wrong).output)
    values = [*SECRETS.values(), *wrong.values()]
    found = [index for index, text in enumerate(outputs) for value in values if value in text]
    for path in Path(workspace.path, "var").rglob("*"):
        if path.is_file():
            found += [str(path) for value in values if value.encode() in path.read_bytes()]
    assert found == []


def test_a_resend_after_a_lost_answer_finds_the_posts_and_does_not_post_again(workspace, fakes):
    linkedin, threads = fakes
    linkedin.lose_next_answer = True
    threads.lose_next_publish = True
    draft, result = _approve(workspace)
    assert result.exit_code == 1 and "unknown" in result.output
    assert (len(linkedin.posts), len(threads.media)) == (1, 1)
    resent = workspace.run("send", draft, "--resend", "linkedin", "--resend", "threads", env=SECRETS)
    assert resent.exit_code == 0, resent.output
    assert (len(linkedin.posts), len(threads.media)) == (1, 1)
    delivered = {event["channel"]: event["data"] for event in json.loads(workspace.run("log", "--json").output)
                 if event["kind"] == "delivery.delivered"}
    assert delivered["linkedin"]["id"] == next(iter(linkedin.posts))
    assert delivered["threads"]["id"] == next(iter(threads.media))
