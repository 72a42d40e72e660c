"""The README holds what a newcomer needs: what `make test` installs on the system (and
that it uses sudo), how to run `publish` after `make demo`, and a first-crisis
walk-through of the four cases whose every command is run here, as written."""
from __future__ import annotations

import re
import shlex
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DRAFT_LINE = re.compile(r"^Draft ([0-9a-f]{12}):", re.MULTILINE)


def walkthrough() -> list[list[str]]:
    section = README.split("## Your first crisis in 10 minutes", 1)[1]
    block = section.split("```", 2)[1]
    commands = []
    for line in block.splitlines():
        line = line.split(" && ", 1)[0].strip()
        if line.startswith("publish "):
            commands.append(shlex.split(line)[1:])
    return commands


def test_the_readme_says_what_make_test_installs_and_how_to_run_publish():
    quick = README.split("## Quick start", 1)[1].split("## Your first crisis", 1)[0]
    for needed in ("Chromium", "PostgreSQL", "sudo", "apt-get", ".venv/bin/publish", ". .venv/bin/activate"):
        assert needed in quick, needed
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "test: install chromium hunspell postgresql" in makefile and "echo sudo" in makefile
    assert "hunspell-es" in quick and "hunspell-en-us" in quick


def test_the_walkthrough_covers_the_four_cases():
    opened = [command[command.index("--case") + 1] for command in walkthrough() if command[:2] == ["incident", "open"]]
    assert sorted(opened) == ["1", "2", "3", "4"]


def test_every_walkthrough_command_runs_as_written(workspace, tmp_path, monkeypatch):
    drill = tmp_path / "crisis-drill"
    commands = walkthrough()
    assert commands[0][0] == "init"
    assert workspace.run("init", str(drill)).exit_code == 0
    monkeypatch.chdir(drill)
    env = {"PUBLISH_WORKSPACE": str(drill), "PUBLISH_LANG": "en"}
    start = datetime.now(timezone.utc) - timedelta(hours=6)
    draft = None
    for index, command in enumerate(commands[1:]):
        args = list(command)
        if "--first-seen" in args:
            args[args.index("--first-seen") + 1] = (start + timedelta(minutes=10 * index)).isoformat(timespec="seconds")
        if "DRAFT" in args:
            assert draft, f"`publish {' '.join(command)}` comes before any draft"
            args[args.index("DRAFT")] = draft
        result = workspace.run(*args, env=env)
        assert result.exit_code == 0, f"publish {' '.join(command)}\n{result.output}"
        rendered = DRAFT_LINE.findall(result.output)
        if rendered and not args[0] in ("approve", "unfreeze"):
            draft = rendered[-1]
    assert (drill / "incident-1.html").exists()
