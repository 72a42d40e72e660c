"""Hermetic tests: every test gets its own workspace in tmp_path, drives the real CLI
with CliRunner, and asserts on exit codes, output, files and log rows. The default
workspace is a practice one (`[workspace] practice = true`, `signing = "none"`); a test of
signing turns it into a signed one (`tests.trust_support.turn_signing_on`)."""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner, Result

from publisher.cli import cli

BASE_CONFIG = """
[workspace]
practice = true

[organisation]
name = "Acme"
language = "en"

[deadlines]
prepare = 12
publish = 48

[approvals]
required = {required}
approvers = ["ana", "luis"]
operators = ["marta"]
self_approval = {self_approval}
signing = "none"

[store]
path = "var/publisher.db"

[channels.web]
type = "site"
path = "var/site"

[channels.outbox]
type = "outbox"
path = "var/outbox"
{extra}
"""


@dataclass
class Workspace:
    path: Path
    runner: CliRunner
    sleeps: list[float]
    store_url: str | None = None
    """PostgreSQL: the `[store] url` every config written here points at."""

    def write_config(self, required: int = 1, self_approval: bool = False, extra: str = "") -> None:
        config = BASE_CONFIG.format(required=required, self_approval=str(self_approval).lower(), extra=extra)
        if self.store_url:
            # the test server runs with fsync and synchronous_commit off (tests/pg_cluster.py)
            store = 'path = "var/publisher.db"\n'
            config = config.replace(store, f'{store}url = "{self.store_url}"\nallow_unsafe_commit = true\n', 1)
        (self.path / "config" / "publisher.toml").write_text(config, encoding="utf-8")

    def run(self, *args: str, user: str = "marta", env: dict[str, str] | None = None, **obj: Any) -> Result:
        result = self.runner.invoke(
            cli, list(args), obj={"sleep": self.sleeps.append, **obj},
            env={"PUBLISH_WORKSPACE": str(self.path), "PUBLISH_USER": user, **(env or {})})
        assert "Traceback" not in result.output, result.output
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    def open_incident(self, case: int = 2, hours_ago: float = 3, **flags: str) -> str:
        first_seen = (datetime.now(timezone.utc) - timedelta(hours=hours_ago)).isoformat(timespec="seconds")
        args = ["incident", "open", "--case", str(case), "--first-seen", first_seen,
                "--summary", flags.pop("summary", "a payment outage that blocked card purchases"),
                "--json"]
        if flags.get("what", "") is None:
            del flags["what"]  # an incident that does not say what happened
        elif not {"what", "what_en", "what_es"} & set(flags):
            # a statement says what happened (--what); the summary is never published
            flags["what"] = "la caída de los pagos con tarjeta" if flags.get("lang") == "es" else \
                "the card payment outage"
        for key, value in flags.items():
            args += [f"--{key.replace('_', '-')}", value]
        result = self.run(*args)
        assert result.exit_code == 0, result.output
        import json

        return json.loads(result.output)["id"]

    def render(self, *args: str, **kwargs: Any) -> str:
        """Render and store a draft; return its id."""
        import json

        result = self.run(*args, "--json", **kwargs)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)["draft"]["id"]

    def events(self) -> list[tuple[int, str]]:
        db = self.db()
        try:
            return [tuple(row) for row in db.execute("SELECT seq, kind FROM events ORDER BY seq").fetchall()]
        finally:
            db.close()

    def db(self) -> Any:
        """The log's database, directly (sqlite3, or a sqlite3-shaped PostgreSQL connection)."""
        if self.store_url:
            from tests.pg_cluster import PgConnection, direct_url

            return PgConnection(direct_url(self.store_url))
        return sqlite3.connect(self.path / "var" / "publisher.db", isolation_level=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_stores: run the test on SQLite and on PostgreSQL")
    config.addinivalue_line("markers", "sqlite_only: about the SQLite file itself (in a both_stores module)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    definition = metafunc.definition
    if ("store_backend" in metafunc.fixturenames and definition.get_closest_marker("both_stores")
            and not definition.get_closest_marker("sqlite_only")):
        metafunc.parametrize("store_backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.servers)],
                             indirect=True)


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def synapse():
    """One Synapse homeserver for the session (tests/synapse_server.py); skips saying why
    when none can be started, fails instead under CI."""
    from tests.synapse_server import Homeserver, Unavailable

    try:
        server = Homeserver.start()
    except Unavailable as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the Matrix tests, but Synapse could not be started: {error}")
        pytest.skip(f"Matrix tests skipped: {error}")
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def dovecot():
    """One dovecot IMAP server for the session (tests/dovecot_server.py); skips saying why
    when none can be started, fails instead under CI."""
    from tests.dovecot_server import Dovecot, Unavailable

    try:
        server = Dovecot.start()
    except Unavailable as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the IMAP tests, but dovecot could not be started: {error}")
        pytest.skip(f"IMAP tests skipped: {error}")
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def pg_cluster():
    """One PostgreSQL server for the session (tests/pg_cluster.py); skips saying why
    when none can be started, fails instead under CI."""
    import os

    from tests.pg_cluster import PASSWORD, Cluster, Unavailable

    try:
        cluster = Cluster.start()
    except Unavailable as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the PostgreSQL tests, but no server could be started: {error}")
        pytest.skip(f"PostgreSQL half skipped: {error}")
    os.environ["PUBLISH_PG_PASSWORD"] = PASSWORD
    yield cluster
    cluster.destroy()


@pytest.fixture
def pg_url(pg_cluster) -> Any:
    """A fresh database of its own, as a `[store] url`."""
    name = pg_cluster.new_database()
    yield pg_cluster.url(name)
    pg_cluster.drop(name)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_backend: str,
              request: pytest.FixtureRequest) -> Workspace:
    monkeypatch.delenv("PUBLISH_WORKSPACE", raising=False)
    monkeypatch.setenv("PUBLISH_SSH_KEY", str(tmp_path / "no-ssh-key"))  # init makes its key here, never the tester's
    root = tmp_path / "ws"
    (root / "config").mkdir(parents=True)
    ws = Workspace(root, CliRunner(), [])
    if store_backend == "postgresql":
        ws.store_url = request.getfixturevalue("pg_url")
    ws.write_config()
    return ws


@pytest.fixture
def iso_hours_ago() -> Callable[[float], str]:
    return lambda hours: (datetime.now(timezone.utc) - timedelta(hours=hours)).isoformat(timespec="seconds")
