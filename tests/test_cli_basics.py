"""The command line as a whole: help everywhere, documented commands, fast start,
no traceback, the right exit codes."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from publisher.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SDK_MODULES = ("tweepy", "facebook", "telegram", "httpx", "requests", "urllib3", "tenacity", "jinja2")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
    return found


def test_help_imports_no_platform_sdk():
    code = ("import sys; from publisher.cli import cli\n"
            "try:\n    cli(['--help'], prog_name='publish')\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {SDK_MODULES!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("name,command", _commands(cli), ids=lambda value: str(value))
def test_every_command_has_help_and_a_readme_mention(name, command):
    assert command.help or command.short_help, f"`publish {name}` has no help text"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"publish {name}" in readme, f"`publish {name}` is not mentioned in README.md"


def test_root_help_names_the_main_job(workspace):
    result = workspace.run("--help")
    assert result.exit_code == 0
    assert "publish --case 2 --template apology" in result.output


def test_case_without_template_is_a_usage_error(workspace):
    result = workspace.run("--case", "2")
    assert result.exit_code == 2 and "give both --case N and --template KIND" in result.output


def test_non_numeric_case_is_a_usage_error(workspace):
    result = workspace.run("--case", "two", "--template", "apology")
    assert result.exit_code == 2 and "'two' is not a valid integer" in result.output


def test_init_creates_a_working_workspace(tmp_path, workspace):
    target = tmp_path / "fresh"
    result = workspace.run("init", str(target))
    assert result.exit_code == 0, result.output
    assert (target / "config" / "publisher.toml").exists()
    listed = workspace.run("channels", "list", env={"PUBLISH_WORKSPACE": str(target)})
    assert listed.exit_code == 0 and "web" in listed.output
    again = workspace.run("init", str(target))
    assert again.exit_code == 2 and "already exists" in again.output


def test_the_repository_root_is_a_working_workspace(tmp_path):
    result = subprocess.run([sys.executable, "-m", "publisher", "channels", "list", "--json"], cwd=ROOT,
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert '"web"' in result.stdout and "Traceback" not in result.stderr
