"""`incident list` prints its table and its JSON as the incidents stream from the log
(issue 15: constant memory at 1,000,000 events), and prints exactly what the table and
JSON of the whole list print: same widths, wrapping, order, final states, corrections."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from publisher.cli import streamed, terminal
from publisher.workspace.practice import notice

LONG = "an outage of the payment system that blocked card purchases for two hours in {}"


@pytest.fixture
def three(workspace):
    """Three incidents: the second resolved, the third's summary corrected."""
    first_seen = (datetime.now(timezone.utc) - timedelta(hours=3)).isoformat(timespec="seconds")
    for city in ("Lima", "Quito", "Cusco"):
        opened = workspace.run("incident", "open", "--case", "2", "--first-seen", first_seen,
                               "--summary", LONG.format(city))
        assert opened.exit_code == 0, opened.output
    assert workspace.run("incident", "resolve", "2").exit_code == 0
    edited = workspace.run("incident", "edit", "3", "--summary", "card payments failed", "--reason", "typo",
                           "--as", "ana")
    assert edited.exit_code == 0, edited.output
    return workspace


def _shown(workspace, number: str) -> dict:
    return json.loads(workspace.run("incident", "show", number, "--json").output)


def _first_seen(workspace, number: str) -> str:
    lines = workspace.run("incident", "show", number).output.splitlines()
    return next(line.split(": ", 1)[1] for line in lines if line.startswith("first seen: "))


@pytest.mark.parametrize("columns", ("200", "50"))
def test_the_table_is_the_whole_lists_table_printed_row_by_row(three, monkeypatch, columns):
    monkeypatch.setattr(streamed, "BATCH", 1)
    rows = [[item["id"], str(item["case"]), item["state"], item["severity"], _first_seen(three, item["id"]),
             item["summary"]] for item in (_shown(three, number) for number in ("1", "2", "3"))]
    assert [row[2] for row in rows] == ["open", "resolved", "open"] and rows[2][5] == "card payments failed"
    headers = ["id", "case", "state", "severity", "first seen", "summary"]
    result = three.run("incident", "list", env={"COLUMNS": columns})
    assert result.exit_code == 0
    practice = terminal.wrap(notice(), int(columns))
    assert result.output == "\n".join(practice + terminal.table_lines(rows, headers, int(columns))) + "\n"


def test_the_json_is_the_whole_lists_json_written_item_by_item(three, monkeypatch):
    monkeypatch.setattr(streamed, "BATCH", 2)
    whole = [_shown(three, number) for number in ("1", "2", "3")]
    result = three.run("incident", "list", "--json")
    assert result.output == json.dumps(whole, indent=2, ensure_ascii=False) + "\n"


def test_an_empty_log_lists_nothing_both_ways(workspace):
    assert workspace.run("incident", "list", "--json").output == "[]\n"
    assert "No incidents." in workspace.run("incident", "list").output


def test_the_stream_holds_only_what_changed_incidents_after_they_opened(three):
    from publisher.incident.incidents import IncidentStream
    from publisher.workspace.app import App

    stream = IncidentStream(App(three.path))
    assert sorted(stream.later) == ["2", "3"]
    assert [item.id for item in stream] == [item.id for item in stream] == ["1", "2", "3"]
