"""Playbooks are parsed from their files on each run (issue 20 item 2: no parsed form is
kept anywhere between runs); within one process a file is parsed once per version of
it, and an edit is seen even when it keeps the file's size."""
from __future__ import annotations

import os

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from publisher.incident.playbooks import load_playbooks
from publisher.workspace.folder import shipped_path

OWN = """[cases.2]
title = "{title}"
templates = ["apology"]

[[cases.2.steps]]
id = "trace-source"
title = "Trace the source"
done = "manual"
"""


def test_an_edit_of_the_same_size_is_seen_in_the_same_process(tmp_path):
    playbooks = tmp_path / "config" / "playbooks.toml"
    playbooks.parent.mkdir()
    playbooks.write_text(OWN.format(title="alpha"), encoding="utf-8")
    assert load_playbooks(tmp_path)[2].title == "alpha"
    stat = playbooks.stat()
    playbooks.write_text(OWN.format(title="omega"), encoding="utf-8")
    os.utime(playbooks, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert playbooks.stat().st_size == stat.st_size
    books = load_playbooks(tmp_path)
    assert books[2].title == "omega" and [step.id for step in books[2].steps] == ["trace-source"]
    assert books[1].title == load_playbooks(None)[1].title


def test_the_shipped_playbooks_are_what_their_file_says():
    with open(shipped_path("config") / "playbooks.toml", "rb") as shipped:
        cases = tomllib.load(shipped)["cases"]
    books = load_playbooks(None)
    for case in (1, 2, 3, 4):
        assert [step.id for step in books[case].steps] == [step["id"] for step in cases[str(case)]["steps"]]
    assert [step.id for step in books[2].steps][:2] == ["trace-source", "notice"]
