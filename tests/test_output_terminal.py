"""Output in pipes and terminals: a reader that stops early (`| head`) ends nothing
badly, tables fit the terminal, colour only on a terminal without NO_COLOR, and with
--json even an error is JSON."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from publisher.cli import cli

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_a_pipe_closed_early_exits_quietly(workspace, tmp_path):
    many = "".join(f'\n[channels.outbox{n}]\ntype = "outbox"\npath = "var/outbox/{"x" * 150}/{n}"\n'
                   for n in range(2500))
    workspace.write_config(extra=many)
    script = f"{sys.executable} -m publisher channels list | head -n 2; exit ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PUBLISH_WORKSPACE": str(workspace.path),
                                 "PYTHONPATH": str(ROOT)})
    practice, header = result.stdout.splitlines()
    assert practice.startswith("PRACTICE") and header.startswith("name")
    assert result.stderr == "" and result.returncode == 0, result.stderr


def test_tables_fit_the_terminal_width_and_lose_nothing(workspace):
    summary = "a payment outage that blocked every card purchase in the shop and the mobile app for two hours"
    workspace.open_incident(summary=summary)
    wide = workspace.run("incident", "list")
    assert any(len(line) > 60 for line in wide.output.splitlines())
    narrow = workspace.run("incident", "list", env={"COLUMNS": "60"})
    assert narrow.exit_code == 0 and max(len(line) for line in narrow.output.splitlines()) <= 60
    assert " ".join(narrow.output.split()).count("card purchase in the shop") == 1
    for word in summary.split():
        assert word in narrow.output


def _status(workspace, color: bool, env: dict[str, str | None]):
    return workspace.runner.invoke(cli, ["status"], color=color,
                                   env={"PUBLISH_WORKSPACE": str(workspace.path), "PUBLISH_USER": "marta", **env})


def test_colour_on_a_terminal_unless_no_color(workspace):
    workspace.open_incident()
    coloured = _status(workspace, True, {"NO_COLOR": None})
    assert coloured.exit_code == 0 and ANSI.search(coloured.output), coloured.output
    assert "not sent" in ANSI.sub("", coloured.output)
    assert not ANSI.search(_status(workspace, True, {"NO_COLOR": "1"}).output)
    assert not ANSI.search(_status(workspace, False, {"NO_COLOR": None}).output)


def test_with_json_errors_are_json_too(workspace):
    missing = workspace.run("incident", "show", "99", "--json")
    assert missing.exit_code == 2 and missing.stdout == ""
    assert json.loads(missing.stderr) == {"error": "no incident '99'; `publish incident list` shows them.", "exit": 2}
    usage = workspace.run("unfreeze", "--json")
    assert usage.exit_code == 2 and json.loads(usage.stderr) == {"error": "Missing option '--reason'.", "exit": 2}
    plain = workspace.run("incident", "show", "99")
    assert plain.exit_code == 2 and plain.stderr.startswith("Error: no incident '99'")
    value = workspace.run("incident", "open", "--case", "2", "--first-seen", "--json")
    assert value.exit_code == 2 and value.stderr.startswith("Error: --first-seen '--json'")
