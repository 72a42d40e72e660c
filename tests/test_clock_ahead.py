"""Attack 4 of issue 21: one command run with the clock a day ahead wrote an event dated
tomorrow, and afterwards every write was refused ("the clock went back by 23 h 59 min")
until the wall clock passed it, while `log verify` said intact. Now the outside clock (the
time-stamp authority on SQLite, asked before a command's first write; the server's own
clock on PostgreSQL) decides: the event is refused when written; a log that already holds
such an event (written while the outside clock could not be reached) does not block the
cabinet (the next write says so, records it and continues from the later time) and `log
verify` names the row. A real RFC 3161 TSA (OpenSSL) and a real PostgreSQL server."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.test_witness import authority, closed_port_url, events, tsa, use_witness  # noqa: F401 (fixtures)

pytestmark = pytest.mark.servers


def ahead() -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=1)


def behind() -> datetime:
    return datetime.now(timezone.utc) - timedelta(hours=1)


def log_rows(workspace) -> list[dict]:
    result = workspace.run("log", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def open_second(workspace, **obj):
    first_seen = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat(timespec="seconds")
    return workspace.run("incident", "open", "--case", "2", "--first-seen", first_seen, "--summary", "another",
                         **obj)


def test_sqlite_refuses_an_event_dated_ahead_of_the_time_stamp_authoritys_clock(workspace, authority, tsa):  # noqa: F811
    use_witness(workspace, authority, tsa.url)
    workspace.open_incident(case=1)
    before = workspace.events()
    refused = workspace.run("done", "trace-source", clock=ahead)
    assert refused.exit_code == 2
    assert re.search(r"This machine's clock is (23 h 59|24 h 00) min ahead of the time-stamp authority's clock",
                     refused.output), refused.output
    assert "nothing was written" in refused.output
    assert workspace.events() == before


def written_ahead_while_the_tsa_was_down(workspace, authority, tsa, *args: str) -> dict:
    """A row dated a day ahead, written while the TSA could not be reached to tell the time."""
    use_witness(workspace, authority, closed_port_url())
    done = workspace.run(*args, "--json", clock=ahead)
    assert done.exit_code == 0, done.output
    use_witness(workspace, authority, tsa.url)
    return json.JSONDecoder().raw_decode(done.output)[0]


def test_a_day_ahead_does_not_block_the_cabinet_and_verify_names_the_row(workspace, authority, tsa):  # noqa: F811
    use_witness(workspace, authority, tsa.url)
    workspace.open_incident(case=1)
    future = written_ahead_while_the_tsa_was_down(workspace, authority, tsa, "done", "trace-source")

    later = open_second(workspace)
    assert later.exit_code == 0, later.output
    assert f"WARNING: the log holds an event dated {future['ts']} (row {future['seq']})" in later.output
    assert "ahead of the time-stamp authority's clock" in later.output
    continued = log_rows(workspace)[-1]
    assert continued["kind"] == "incident.opened" and continued["ts"] == future["ts"]
    assert continued["clock"]["after"] == future["seq"] and continued["clock"]["by"] == "tsa"
    assert open_second(workspace).exit_code == 0

    verified = workspace.run("log", "verify")
    assert verified.exit_code == 1, verified.output
    assert f"row {future['seq']}: dated {future['ts']}" in verified.output
    assert "ahead of the time-stamp authority's clock" in verified.output


def test_without_a_reachable_outside_clock_a_clock_behind_the_log_is_still_refused(workspace, authority):  # noqa: F811
    """Nothing can tell a clock set back from a last event dated ahead: refused as before."""
    use_witness(workspace, authority, closed_port_url())
    workspace.open_incident(case=1)
    assert workspace.run("done", "trace-source", clock=ahead).exit_code == 0
    refused = open_second(workspace)
    assert refused.exit_code == 2
    assert re.search(r"The clock went back by (23 h 59|24 h 00) min", refused.output), refused.output


def test_a_clock_set_back_is_still_refused_when_the_tsa_agrees_with_the_log(workspace, authority, tsa):  # noqa: F811
    use_witness(workspace, authority, tsa.url)
    workspace.open_incident(case=1)
    refused = open_second(workspace, clock=behind)
    assert refused.exit_code == 2
    assert "The clock went back by" in refused.output and "nothing was written" in refused.output


def test_a_row_dated_after_the_time_stamp_that_covers_it_is_named(workspace, authority, tsa):  # noqa: F811
    """A draft rendered a day ahead while the TSA was down, then time-stamped: the TSA's
    time proves the row existed before the time it claims."""
    use_witness(workspace, authority, tsa.url)
    workspace.open_incident()
    use_witness(workspace, authority, closed_port_url())
    draft = workspace.render("--case", "2", "--template", "apology", clock=ahead)
    assert workspace.run("approve", draft, "--as", "ana", clock=ahead).exit_code == 0
    use_witness(workspace, authority, tsa.url)
    assert workspace.run("log", "witness").exit_code == 0
    soon = datetime.now(timezone.utc) + timedelta(hours=1)
    first = next(row for row in log_rows(workspace) if datetime.fromisoformat(row["ts"]) > soon)
    verified = workspace.run("log", "verify", "--json", clock=ahead)
    assert verified.exit_code == 1
    named = json.JSONDecoder().raw_decode(verified.output)[0]["outside_problems"]
    assert any(problem.startswith(f"row {first['seq']}: dated {first['ts']}") and
               "after the time-stamp authority's time" in problem for problem in named), named


def test_postgresql_refuses_an_event_dated_ahead_of_its_clock(workspace, pg_url):
    workspace.store_url = pg_url
    workspace.write_config()
    workspace.open_incident(case=1)
    before = workspace.events()
    refused = workspace.run("done", "trace-source", clock=ahead)
    assert refused.exit_code == 2
    assert re.search(r"This machine's clock is (23 h 59|24 h 00) min ahead of the PostgreSQL server's clock",
                     refused.output), refused.output
    assert "nothing was written" in refused.output and len(refused.output.strip().splitlines()) == 1
    assert workspace.events() == before
    assert all(row.get("server_time") for row in log_rows(workspace))


def test_postgresql_names_a_machine_clock_behind_the_servers_in_the_report(workspace, pg_url):
    workspace.store_url = pg_url
    workspace.write_config()
    late = lambda: datetime.now(timezone.utc) - timedelta(minutes=30)  # noqa: E731
    first_seen = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat(timespec="seconds")
    assert workspace.run("incident", "open", "--case", "2", "--first-seen", first_seen, "--summary", "outage",
                         clock=late).exit_code == 0
    data = json.loads(workspace.run("report", "1", "--format", "json").output)
    flagged = data["server_clock"]
    assert "incident.opened" in {item["kind"] for item in flagged}
    assert all(-1900 < item["difference_seconds"] < -1700 for item in flagged)
    markdown = workspace.run("report", "1", "--format", "md").output
    assert "Clock check: this machine against the PostgreSQL server" in markdown and "FLAGGED" in markdown


def test_a_postgresql_log_that_already_holds_a_future_event_blocks_no_machine(workspace, pg_url, tmp_path):
    """The future-dated row came with a SQLite log copied in (`store copy`); two workspace
    folders on the one database both go on writing, and `log verify` names the row."""
    workspace.open_incident(case=1)
    done = workspace.run("done", "trace-source", "--json", clock=ahead)
    future = json.loads(done.output)
    assert workspace.run("store", "copy", "--to", pg_url).exit_code == 0
    workspace.store_url = pg_url
    workspace.write_config()
    from tests.conftest import Workspace

    other = Workspace(tmp_path / "other", workspace.runner, [], pg_url)
    (other.path / "config").mkdir(parents=True)
    other.write_config()
    for machine in (workspace, other):
        written = open_second(machine)
        assert written.exit_code == 0, written.output
        assert "ahead of the PostgreSQL server's clock" in written.output
    rows = log_rows(other)
    assert rows[-2]["clock"]["after"] == future["seq"] and rows[-1]["clock"]["after"] == rows[-2]["seq"]
    assert rows[-1]["ts"] == future["ts"] and rows[-1]["server_time"] < future["ts"]
    verified = other.run("log", "verify")
    assert verified.exit_code == 1
    assert f"row {future['seq']}: dated {future['ts']}" in verified.output
    assert f"row {rows[-1]['seq'] - 1}: dated" not in verified.output
