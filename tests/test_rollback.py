"""Rollback and wipe: the statement pages, feed entries and outbox files carry the log's
head when they were written, so a restored older copy of the log (with or without its
head file) or an emptied one is caught: every command that writes or sends refuses, no
channel is posted twice, and `log verify` fails naming the witness."""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.fakes.webhooks import SlackFake

pytestmark = pytest.mark.servers

SLACK_PATH = "/services/T0001/B0001/abcdefghijklmnopqrstuvwx"
SLACK = '\n[channels.cabinet]\ntype = "slack"\nwebhook_url = "${SLACK_URL}"\n'


@pytest.fixture
def slack(workspace, monkeypatch):
    fake = SlackFake(SLACK_PATH).start()
    monkeypatch.setenv("SLACK_URL", fake.url + SLACK_PATH)
    workspace.write_config(required=2, extra=SLACK)
    try:
        yield fake
    finally:
        fake.stop()


def store_files(workspace) -> list[Path]:
    base = workspace.path / "var" / "publisher.db"
    return [base.with_name(base.name + suffix) for suffix in ("", "-wal", "-shm", ".head")]


def snapshot(workspace, folder: Path) -> None:
    """A consistent copy of the log and its head file, as a backup tool would take it."""
    folder.mkdir()
    source = sqlite3.connect(workspace.path / "var" / "publisher.db")
    target = sqlite3.connect(folder / "publisher.db")
    source.backup(target)
    source.close()
    target.close()
    shutil.copy(workspace.path / "var" / "publisher.db.head", folder / "publisher.db.head")


def restore(workspace, folder: Path, with_head: bool) -> None:
    for path in store_files(workspace)[:3]:
        path.unlink(missing_ok=True)
    shutil.copy(folder / "publisher.db", workspace.path / "var" / "publisher.db")
    if with_head:
        shutil.copy(folder / "publisher.db.head", workspace.path / "var" / "publisher.db.head")


def approved_once(workspace, env) -> str:
    workspace.open_incident()
    draft = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("approve", draft, "--as", "ana", env=env).exit_code == 0
    return draft


@pytest.mark.parametrize("with_head", [True, False], ids=["with-head-file", "without-head-file"])
def test_a_restored_older_log_never_posts_a_channel_twice(workspace, slack, tmp_path, with_head):
    env: dict[str, str] = {}
    draft = approved_once(workspace, env)
    snapshot(workspace, tmp_path / "backup")
    sent = workspace.run("approve", draft, "--as", "luis", env=env)
    assert sent.exit_code == 0, sent.output
    assert len(slack.requests) == 1

    restore(workspace, tmp_path / "backup", with_head)
    for args in (("send", draft), ("approve", draft, "--as", "luis")):
        again = workspace.run(*args, env=env)
        assert again.exit_code == 2, again.output
        assert len(slack.requests) == 1
    if with_head:
        assert re.search(r"var/(site/statements/\S+\.html|outbox/\S+\.txt) records log row \d+, but the log ends at row",
                         again.output), again.output
    verify = workspace.run("log", "verify", env=env)
    assert verify.exit_code == 1


def test_every_command_that_writes_refuses_while_reads_still_work(workspace, slack, tmp_path):
    env: dict[str, str] = {}
    draft = approved_once(workspace, env)
    snapshot(workspace, tmp_path / "backup")
    assert workspace.run("approve", draft, "--as", "luis", env=env).exit_code == 0
    restore(workspace, tmp_path / "backup", with_head=True)
    before = workspace.events()
    refused = workspace.run("incident", "open", "--case", "1", "--first-seen", "2026-01-01T00:00:00Z", "--confirm",
                            env=env)
    assert refused.exit_code == 2 and "records log row" in refused.output
    assert workspace.run("freeze", "--reason", "test", "--as", "ana", env=env).exit_code == 2
    assert workspace.events() == before
    assert workspace.run("status", "1", env=env).exit_code == 0


@pytest.mark.parametrize("keyed", [False, True], ids=["sha256", "hmac"])
def test_an_emptied_log_with_its_head_removed_fails_verify(workspace, keyed, monkeypatch):
    env: dict[str, str] = {}
    if keyed:
        monkeypatch.setenv("LOG_KEY", "k" * 32)
        config = workspace.path / "config" / "publisher.toml"
        config.write_text(config.read_text().replace('path = "var/publisher.db"\n',
                                                     'path = "var/publisher.db"\nhmac_key = "${LOG_KEY}"\n'))
    workspace.open_incident()
    draft = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("approve", draft, "--as", "ana", env=env).exit_code == 0
    for path in store_files(workspace):
        path.unlink(missing_ok=True)
    verify = workspace.run("log", "verify", env=env)
    assert verify.exit_code == 1
    assert "records log row" in verify.output and "the log ends at row 0" in verify.output
    assert workspace.run("incident", "open", "--case", "1", "--first-seen", "2026-01-01T00:00:00Z", "--confirm",
                         env=env).exit_code == 2


def test_pages_feed_entries_and_outbox_files_carry_the_head_they_were_written_at(workspace):
    workspace.open_incident()
    draft = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
    events = json.loads(workspace.run("log", "--json").output)
    started = {event["channel"]: (event["seq"], event["hash"]) for event in events
               if event["kind"] == "delivery.started"}
    site = workspace.path / "var" / "site"
    page = next((site / "statements").glob("*.html")).read_text()
    seq, digest = started["web"]
    assert f'<meta name="publish-log-head" content="{seq} {digest}">' in page
    assert f'<publish:head seq="{seq}" hash="{digest}"/>' in (site / "feed.xml").read_text()
    seq, digest = started["outbox"]
    outbox = (workspace.path / "var" / "outbox" / f"{draft}--outbox.txt").read_text()
    assert outbox.endswith(f"\n-- publish log head {seq} {digest}\n")
    assert workspace.run("send", draft).exit_code == 0
    assert (workspace.path / "var" / "outbox" / f"{draft}--outbox.txt").read_text() == outbox
    assert workspace.run("log", "verify").exit_code == 0


def test_a_long_running_process_checks_again_only_when_the_log_moved_under_it(workspace, slack, tmp_path):
    """The console keeps its store open: after its first checked write it does not check per
    append, but a log restored in place under it is caught at its next write."""
    from publisher.errors import Refused
    from publisher.workspace.app import App

    draft = approved_once(workspace, {})
    snapshot(workspace, tmp_path / "backup")
    store = App(workspace.path).store
    store.append("note", actor="ana")
    store.append("note", actor="ana")
    assert workspace.run("approve", draft, "--as", "luis").exit_code == 0
    backup = sqlite3.connect(tmp_path / "backup" / "publisher.db")
    live = sqlite3.connect(workspace.path / "var" / "publisher.db")
    backup.backup(live)
    backup.close()
    live.close()
    before = store.head()
    with pytest.raises(Refused, match="records log row"):
        store.append("note", actor="ana")
    assert store.head() == before
