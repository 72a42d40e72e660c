"""`publish --help` imports the root command's module and no other command module (nor
any SDK); the root's table of commands says what the commands themselves say."""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from publisher.cli import cli
from publisher.cli.root import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
SDK_MODULES = ("tweepy", "facebook", "telegram", "httpx", "requests", "urllib3", "tenacity", "jinja2", "rich",
               "atproto", "atproto_client", "PIL", "nio", "aiohttp", "pywebpush", "py_vapid", "http_ece")
PROBE = """
import sys
from publisher.cli import cli
try:
    cli(sys.argv[1:], prog_name="publish")
except SystemExit:
    pass
print("MODULES", sorted(m for m in sys.modules if m.startswith(("publisher.cli.", "channels"))
                        or m.split(".")[0] in {sdk!r}))
"""


def loaded_by(*args: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", PROBE.format(sdk=SDK_MODULES), *args], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return eval(result.stdout.splitlines()[-1].removeprefix("MODULES "))


def test_help_imports_no_command_module_but_the_root_and_no_sdk():
    command_modules = {f"publisher.cli.{module}" for module, _kind, _text in COMMANDS.values()}
    loaded = loaded_by("--help")
    assert "publisher.cli.root" in loaded
    assert [name for name in loaded if name in command_modules or not name.startswith("publisher.cli.")] == []


def test_a_command_imports_only_its_own_command_module():
    command_modules = {f"publisher.cli.{module}" for module, _kind, _text in COMMANDS.values()}
    assert [name for name in loaded_by("log", "--help") if name in command_modules] == ["publisher.cli.log_cmds"]


def test_the_table_names_every_command_of_its_module_with_its_own_short_help():
    for name, (module, kind, text) in COMMANDS.items():
        command = {each.name: each for each in importlib.import_module(f"publisher.cli.{module}").COMMANDS}[name]
        assert getattr(command, kind) is not None, name
        assert command.get_short_help_str(10**6) == text, name
    for module in {module for module, _kind, _text in COMMANDS.values()}:
        for command in importlib.import_module(f"publisher.cli.{module}").COMMANDS:
            assert COMMANDS[command.name][0] == module


def test_help_lists_every_command_as_the_loaded_commands_would(workspace):
    lazy = workspace.run("--help").output
    context = click.Context(cli)
    for name in cli.list_commands(context):
        cli.get_command(context, name)
    assert workspace.run("--help").output == lazy
    for name, (_module, _kind, text) in COMMANDS.items():
        assert f"  {name} " in lazy and text.split()[0] in lazy


def test_help_lists_the_commands_in_spanish(workspace):
    result = workspace.run("--help", env={"PUBLISH_LANG": "es"})
    assert "Relojes, plazos, canales y la lista de tareas." in result.output
    assert "Clocks, deadlines" not in result.output


def test_help_in_spanish_translates_the_root_and_its_options(workspace):
    result = workspace.run("--help", env={"PUBLISH_LANG": "es"})
    assert result.exit_code == 0 and "Publicador de respuesta a crisis" in result.output
    assert "Crisis response publisher" not in result.output


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_reader_that_leaves_early_ends_the_help_quietly(language):
    """`publish --help | head -1`: exit 1 without a word, as click does."""
    reader, writer = os.pipe()
    os.close(reader)
    result = subprocess.run([sys.executable, "-m", "publisher", "--help"], stdout=writer, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env={**os.environ, "PUBLISH_LANG": language})
    os.close(writer)
    assert result.returncode == 1 and result.stderr == ""
