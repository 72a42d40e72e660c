"""The PostgreSQL store's own edges: bad URLs, refused logins, a missing database, a
server that goes away mid-run (one sentence, exit 2, or 1 for a cut run; nothing lost;
`publish send` resumes), and `publish store copy` moving a SQLite log into PostgreSQL
with the same head."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.server import Reply, Request
from tests.fakes.webhooks import ReceiverFake
from tests.pg_cluster import PASSWORD

pytestmark = pytest.mark.servers

ROOT = Path(__file__).resolve().parent.parent
HOOK = '\n[channels.hook]\ntype = "webhook"\nurl = "${HOOK_URL}"\n'


def _point_at(workspace, url: str) -> None:
    workspace.store_url = url
    workspace.write_config()


def _history(workspace) -> str:
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
    return draft


@pytest.mark.parametrize("url, says", [
    ("postgresql://publish@127.0.0.1:1/publish", "the PostgreSQL server 127.0.0.1:1 does not answer"),
    ("postgresql://publish@127.0.0.1:5432:99/publish", "[store] url is not a valid PostgreSQL URL"),
])
def test_a_wrong_url_is_one_sentence_and_exit_2(workspace, pg_cluster, url, says):
    _point_at(workspace, url)
    result = workspace.run("status")
    assert result.exit_code == 2 and says in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_url_that_is_not_postgresql_names_the_key(workspace):
    _point_at(workspace, "mysql://publish@db.example/publish")
    result = workspace.run("status")
    assert result.exit_code == 2 and "[store] url" in result.output and "line" in result.output


def test_a_refused_login_never_shows_the_password(workspace, pg_cluster, pg_url):
    _point_at(workspace, pg_url.replace("${PUBLISH_PG_PASSWORD}", "${WRONG_PASSWORD}"))
    result = workspace.run("incident", "list", env={"WRONG_PASSWORD": "not-the-Password-9f2"})
    assert result.exit_code == 2
    assert "refused the login of publish" in result.output
    assert "not-the-Password-9f2" not in result.output and PASSWORD not in result.output


def test_a_missing_database_says_how_to_create_it(workspace, pg_cluster):
    _point_at(workspace, pg_cluster.url("no_such_database"))
    result = workspace.run("incident", "list")
    assert result.exit_code == 2 and "does not exist" in result.output and "createdb" in result.output


def test_a_server_gone_mid_run_cuts_the_run_loses_nothing_and_send_resumes(workspace, pg_cluster, pg_url):
    """The webhook's platform stops the database server the moment the post arrives:
    the run cannot record the outcome, says so in one line and exits 1; once the
    server is back, `publish send` resumes and nothing recorded before is lost."""
    def stop_the_server(request: Request) -> Reply:
        if request.method == "POST" and not stopped:
            stopped.append(True)
            pg_cluster.stop("fast")
        return Reply(200, {"ok": True})

    stopped: list[bool] = []
    with ReceiverFake() as receiver:
        receiver.handler = stop_the_server
        workspace.store_url = pg_url
        workspace.write_config(extra=HOOK)
        env = {"HOOK_URL": f"{receiver.url}/hooks/incident"}
        workspace.open_incident(case=2)
        draft = workspace.render("--case", "2", "--template", "apology", "--channel", "hook", env=env)
        try:
            cut = workspace.run("approve", draft, "--as", "ana", env=env)
        finally:
            pg_cluster.restart()
        assert cut.exit_code in (1, 2), cut.output
        assert "PostgreSQL server 127.0.0.1" in cut.output and "does not answer" in cut.output
        assert len(receiver.requests) == 1

        kinds = [kind for _, kind in workspace.events()]
        assert kinds[:5] == ["incident.opened", "draft.rendered", "people.bootstrap", "draft.approved",
                             "delivery.started"]
        resumed = workspace.run("send", draft, env=env)
        assert resumed.exit_code in (0, 1), resumed.output
        assert "hook" in resumed.output
        assert len(receiver.requests) <= 2
        assert workspace.run("log", "verify").exit_code == 0


def test_store_copy_moves_a_sqlite_log_into_postgresql_with_the_same_head(workspace, pg_cluster, pg_url):
    _history(workspace)
    source = json.loads(workspace.run("store", "info", "--json").output)
    copied = workspace.run("store", "copy", "--to", pg_url)
    assert copied.exit_code == 0, copied.output
    assert "Copied 8 events" in copied.output and source["head"]["hash"] in copied.output
    assert PASSWORD not in copied.output

    again = workspace.run("store", "copy", "--to", pg_url)
    assert again.exit_code == 2 and "already holds events" in again.output

    _point_at(workspace, pg_url)
    moved = json.loads(workspace.run("store", "info", "--json").output)
    assert moved["backend"] == "postgresql" and moved["head"] == source["head"]
    verified = workspace.run("log", "verify", "--json")
    assert verified.exit_code == 0 and json.loads(verified.output)["head"] == source["head"]["hash"]


def test_store_copy_back_to_sqlite_verifies_identically(workspace, pg_cluster, pg_url, tmp_path):
    workspace.store_url = pg_url
    workspace.write_config()
    _history(workspace)
    head = json.loads(workspace.run("store", "info", "--json").output)["head"]
    target = tmp_path / "moved" / "publisher.db"
    copied = workspace.run("store", "copy", "--to", str(target))
    assert copied.exit_code == 0, copied.output
    from publisher.log.store import Store

    moved = Store(target)
    assert moved.verify().ok and moved.head() == (head["seq"], head["hash"])


def test_a_broken_log_is_not_copied(workspace, pg_cluster, pg_url):
    _history(workspace)
    db = workspace.db()
    db.execute("UPDATE events SET body = replace(body, 'ana', 'eve') WHERE seq = 3")
    db.close()
    result = workspace.run("store", "copy", "--to", pg_url)
    assert result.exit_code == 1 and "nothing was copied" in result.output
    _point_at(workspace, pg_url)
    assert json.loads(workspace.run("store", "info", "--json").output)["events"] == 0


def test_the_sqlite_store_never_imports_psycopg(workspace):
    workspace.open_incident(case=2)
    probe = ("import sys; from click.testing import CliRunner; from publisher.cli import cli; "
             f"r = CliRunner().invoke(cli, ['status'], env={{'PUBLISH_WORKSPACE': {str(workspace.path)!r}}}); "
             "print(r.exit_code, 'psycopg' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["0", "False"], done.stdout + done.stderr
