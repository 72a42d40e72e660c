"""Read commands load only what they use: no channel module (enabled, disabled or of a
type nobody configured), no template engine, HTTP client, terminal UI or asyncio; the
config is still validated in full, from the declared option schemas."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from channels import REGISTRY, channel_class, channel_options

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("jinja2", "requests", "urllib3", "rich", "asyncio", "tenacity", "tweepy", "facebook", "telegram", "httpx",
         "atproto", "atproto_client", "pydantic", "pywebpush", "py_vapid", "http_ece")
DISABLED = """
[channels.x]
type = "x"
enabled = false
api_key = "${X_KEY}"
api_secret = "${X_SECRET}"
access_token = "${X_TOKEN}"
access_token_secret = "${X_TOKEN_SECRET}"

[channels.tg]
type = "telegram"
enabled = false
token = "${TG_TOKEN}"
chat = "@acme"

[channels.bsky]
type = "bluesky"
enabled = false
handle = "acme.bsky.social"
app_password = "${BLUESKY_APP_PASSWORD}"

[channels.press]
type = "email"
enabled = false
host = "smtp.example.org"
sender = "press@example.org"
recipients = ["news@example.org"]
"""
PROBE = """
import sys
from publisher.cli import cli
try:
    cli(sys.argv[1:], prog_name="publish")
except SystemExit as done:
    code = done.code
print("MODULES", sorted(m for m in sys.modules if m.startswith("channels.") or m.split(".")[0] in {heavy!r}))
"""


def loaded_by(workspace, *args: str) -> list[str]:
    env = {**os.environ, "PUBLISH_WORKSPACE": str(workspace.path), "PUBLISH_USER": "marta"}
    result = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], capture_output=True,
                            text=True, cwd=ROOT, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    line = [line for line in result.stdout.splitlines() if line.startswith("MODULES")][-1]
    return eval(line.removeprefix("MODULES "))


@pytest.mark.parametrize("command", [("status",), ("log", "-n", "20"), ("drafts", "list"), ("incident", "list"),
                                     ("awaiting",)],
                         ids=" ".join)
def test_read_commands_import_no_channel_module_nor_heavy_library(workspace, command):
    workspace.write_config(extra=DISABLED)
    workspace.open_incident()
    workspace.render("--case", "2", "--template", "apology")
    loaded = loaded_by(workspace, *command)
    channel_code = {entry.split(":")[0] for entry in REGISTRY.values()} | {"channels.site_pages", "channels.http",
                                                                           "channels.hooks", "channels.httpx_bridge",
                                                                           "channels.bluesky_records"}
    assert [name for name in loaded if name in channel_code or not name.startswith("channels.")] == []


def test_disabled_channel_is_still_validated_without_its_module(workspace):
    workspace.write_config(extra=DISABLED.replace('chat = "@acme"', 'chat = "@acme"\nparse_mode = "BBCode"'))
    result = workspace.run("incident", "list")
    assert result.exit_code == 2
    assert "[channels.tg] parse_mode: expected one of 'HTML', 'MarkdownV2', 'Markdown'" in result.output


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_declared_schema_is_the_one_the_channel_validates_with(type_name):
    assert channel_class(type_name).all_options() == channel_options(type_name)
