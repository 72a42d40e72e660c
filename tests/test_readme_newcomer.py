"""The README holds what a newcomer needs: what `make test` installs on the system (and
that it uses sudo), how to run `publish` after `make demo`, and a first-crisis
walk-through of the four cases whose every command is run here, as written."""
from __future__ import annotations

import itertools
import re
import shlex
import subprocess
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DRAFT_LINE = re.compile(r"^Draft ([0-9a-f]{12}):", re.MULTILINE)
ASSIGNMENT = re.compile(r"^[A-Z_]+=")


def walkthrough() -> list[tuple[dict[str, str], list[str]]]:
    """Each command of the walk-through as (its environment assignments, its words): the
    `publish` and `ssh-keygen` lines, and `export NAME=VALUE` as an empty command."""
    section = README.split("## Your first crisis in 10 minutes", 1)[1]
    block = section.split("```", 2)[1]
    commands = []
    for line in block.splitlines():
        words = shlex.split(line.split(" && ", 1)[0].strip(), comments=True)
        if words[:1] == ["export"]:
            words = words[1:]
        assigned = dict(word.split("=", 1) for word in itertools.takewhile(lambda word: ASSIGNMENT.match(word), words))
        rest = words[len(assigned):]
        if rest[:1] in (["publish"], ["ssh-keygen"]) or (assigned and not rest):
            commands.append((assigned, rest))
    return commands


def test_the_readme_says_what_make_test_installs_and_how_to_run_publish():
    quick = README.split("## Quick start", 1)[1].split("## Your first crisis", 1)[0]
    for needed in ("Chromium", "PostgreSQL", "sudo", "apt-get", ".venv/bin/publish", ". .venv/bin/activate"):
        assert needed in quick, needed
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "test: install chromium hunspell postgresql" in makefile and "echo sudo" in makefile
    assert "hunspell-es" in quick and "hunspell-en-us" in quick


def test_the_walkthrough_covers_the_four_cases():
    opened = [words[words.index("--case") + 1] for _env, words in walkthrough() if words[1:3] == ["incident", "open"]]
    assert sorted(opened) == ["1", "2", "3", "4"]


def test_each_approver_signs_with_their_own_key_and_nobody_acts_as_another():
    """Issue 21 attack 3: the walk-through never approves `--as` someone else."""
    commands = walkthrough()
    assert not [words for _env, words in commands if "--as" in words]
    signed = [(env.get("PUBLISH_USER"), words[1]) for env, words in commands
              if words[1:2] in (["approve"], ["unfreeze"], ["decide"], ["keys"])]
    assert {who for who, _verb in signed} == {"ana", "luis"} and ("ana", "keys") in signed


def test_every_walkthrough_command_runs_signed_as_written(workspace, tmp_path, monkeypatch):
    """Run as written: ana's key is made by `publish init` (where $PUBLISH_SSH_KEY points, in
    this test's temporary folder), luis's by ssh-keygen; every approval is signed."""
    drill = tmp_path / "crisis-drill"
    commands = walkthrough()
    first_env, first = commands[0]
    assert first[1:] == ["init", "~/crisis-drill"] and first_env == {"PUBLISH_USER": "ana"}
    assert workspace.run("init", str(drill), user="ana").exit_code == 0
    monkeypatch.chdir(drill)
    env = {"PUBLISH_WORKSPACE": str(drill), "PUBLISH_LANG": "en"}
    start = datetime.now(timezone.utc) - timedelta(hours=6)
    draft = None
    for index, (assigned, command) in enumerate(commands[1:]):
        if not command:
            env.update(assigned)
            continue
        if command[0] == "ssh-keygen":
            subprocess.run(command, cwd=drill, check=True)
            continue
        args = command[1:]
        if "--first-seen" in args:
            args[args.index("--first-seen") + 1] = (start + timedelta(minutes=10 * index)).isoformat(timespec="seconds")
        if "DRAFT" in args:
            assert draft, f"`publish {' '.join(command)}` comes before any draft"
            args[args.index("DRAFT")] = draft
        user = {**env, **assigned}["PUBLISH_USER"]
        result = workspace.run(*args, user=user, env={**env, **assigned})
        assert result.exit_code == 0, f"{' '.join(command)}\n{result.output}"
        rendered = DRAFT_LINE.findall(result.output)
        if rendered and args[0] not in ("approve", "unfreeze"):
            draft = rendered[-1]
    assert (drill / "incident-1.html").exists()
    report = json.loads(workspace.run("report", "1", "--format", "json", env=env).output)
    approvals = [approval for record in report["drafts"] for approval in record["approvals"]]
    assert [(item["by"], item["proof"]) for item in approvals] == [("ana", "signed (ssh)"), ("luis", "signed (ssh)")]
    assert "practice" not in report
    verified = workspace.run("log", "verify", env=env)
    assert verified.exit_code == 0 and "every signature" in verified.output, verified.output
