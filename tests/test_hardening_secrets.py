"""Secrets that used to leak (issue 10, item 7): short tokens of a secret URL echoed back
by a receiver, a malformed `${` kept as a literal, and literal webhook header values.
Driven through the real CLI against a loopback receiver; every output, the log and the
report are searched for the secret parts."""
from __future__ import annotations

import json
import sqlite3

import pytest

from tests.fakes.server import FakeServer, Reply

pytestmark = pytest.mark.servers

TOKENS = ("T0AB12", "Zx81Qa", "Kq7mW2")
PASSWORD = "pw9xyz"


def _echoing_receiver() -> FakeServer:
    """Answers 404 quoting the path and query it was called at, as many receivers do."""
    return FakeServer(lambda request: Reply(404, f"no hook at {request.path}?{request.query} for you"))


def _everything(workspace, *outputs: str) -> str:
    database = sqlite3.connect(workspace.path / "var" / "publisher.db")
    try:
        rows = database.execute("SELECT * FROM events").fetchall()
    finally:
        database.close()
    report = workspace.run("report", "1", "--format", "json").output
    shown = workspace.run("channels", "list").output + workspace.run("channels", "check").output
    return "\n".join([*outputs, json.dumps(rows, default=str), report, shown,
                      workspace.run("log").output, workspace.run("status", "1").output])


@pytest.mark.parametrize("kind, key", [("webhook", "url"), ("slack", "webhook_url")])
def test_short_tokens_of_a_secret_url_never_come_back(workspace, kind, key):
    with _echoing_receiver() as receiver:
        secret_url = (f"http://hook:{PASSWORD}@127.0.0.1:{receiver.url.rsplit(':', 1)[1]}/services/"
                      f"{TOKENS[0]}/{TOKENS[1]}?team={TOKENS[2]}")
        if kind == "slack":
            secret_url = secret_url.replace("http://hook:pw9xyz@127.0.0.1", "https://hook:pw9xyz@hooks.slack.com")
        extra = f'\n[channels.hook]\ntype = "{kind}"\n{key} = "${{HOOK_URL}}"\naudience = "internal"\n'
        if kind == "slack":
            extra += f'api_url = "{receiver.url}"\n'
        workspace.write_config(extra=extra)
        env = {"HOOK_URL": secret_url}
        workspace.open_incident()
        draft = workspace.render("--case", "2", "--template", "apology", env=env)
        sent = workspace.run("approve", draft, "--as", "ana", env=env)
        assert receiver.requests, "the receiver was called"
        assert TOKENS[0] in receiver.requests[0].path
    seen = _everything(workspace, sent.output)
    assert "no hook at /services/" in seen
    for token in (*TOKENS, PASSWORD):
        assert token not in seen, token


@pytest.mark.parametrize("value", ["${HOOK_URL", "${1BAD}", "https://x.example/${}", "${HOOK-URL}",
                                   "${HOOK_URL}/more/${"])
def test_a_malformed_reference_is_refused_naming_the_key(workspace, value):
    workspace.write_config(extra=f'\n[channels.hook]\ntype = "webhook"\nenabled = false\nurl = "{value}"\n')
    result = workspace.run("status")
    assert result.exit_code == 2, result.output
    assert "[channels.hook] url" in result.output and "malformed secret reference" in result.output
    assert result.output.count("\n") == 1


def test_a_malformed_reference_in_any_setting_and_the_store_key_is_refused(workspace):
    workspace.write_config(extra='\n[channels.tg]\ntype = "telegram"\nenabled = false\nchat = "${CHAT"\n'
                                 'token = "${TG_TOKEN}"\n')
    result = workspace.run("status")
    assert result.exit_code == 2 and "[channels.tg] chat" in result.output
    workspace.write_config()
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace('path = "var/publisher.db"',
                                                 'path = "var/publisher.db"\nhmac_key = "${9KEY}"'))
    result = workspace.run("status")
    assert result.exit_code == 2 and "[store] hmac_key" in result.output


def test_literal_header_values_are_refused_and_references_are_masked(workspace):
    workspace.write_config(extra='\n[channels.hook]\ntype = "webhook"\nurl = "${HOOK_URL}"\n'
                                 'headers = { Authorization = "Bearer sk_live_LITERAL42" }\n')
    result = workspace.run("channels", "list")
    assert result.exit_code == 2, result.output
    assert "[channels.hook] headers" in result.output and "sk_live_LITERAL42" not in result.output
    with FakeServer(lambda request: Reply(201, {"id": "evt_1"})) as receiver:
        workspace.write_config(extra='\n[channels.hook]\ntype = "webhook"\nurl = "${HOOK_URL}"\n'
                                     'headers = { Authorization = "Bearer ${HOOK_AUTH}" }\naudience = "internal"\n')
        env = {"HOOK_AUTH": "sk_live_CANARY77", "HOOK_URL": f"{receiver.url}/hooks/x"}
        listed = workspace.run("channels", "list", "--json", env=env)
        assert listed.exit_code == 0 and "sk_live_CANARY77" not in listed.output
        workspace.open_incident()
        draft = workspace.render("--case", "2", "--template", "apology", env=env)
        sent = workspace.run("approve", draft, "--as", "ana", env=env)
        assert sent.exit_code == 0, sent.output
        assert receiver.requests[0].header("Authorization") == "Bearer sk_live_CANARY77"
    assert "sk_live_CANARY77" not in _everything(workspace, sent.output, listed.output)
