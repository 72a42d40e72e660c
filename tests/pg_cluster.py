"""A real PostgreSQL server for the tests, started by the tests themselves.

`Cluster.start()` runs Debian's `initdb` and `pg_ctl` (package `postgresql`, installed
by `make test`) in a fresh temporary folder, listening on 127.0.0.1 at a free port and
on a private unix socket, with password (SCRAM) logins over TCP. PostgreSQL refuses to
run as root, so under root the folder belongs to the `postgres` system user and the
server commands run through `runuser`. Each test gets a database of its own
(`new_database()`), dropped by `drop()`.

When no server can be started, `Cluster.start()` raises `Unavailable` with the reason:
the tests that need it skip saying why, except under CI (env CI=true), where they fail.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

USER = "publish"
PASSWORD = "pg-test-Secret-7c41"


class Unavailable(Exception):
    pass


def _bindir() -> Path:
    for candidate in [os.environ.get("PG_BINDIR", "")] + sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise Unavailable("no PostgreSQL server programs (initdb, pg_ctl) found; `make test` installs Debian's "
                      "postgresql package")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Cluster:
    folder: Path
    port: int
    bindir: Path
    runas: list[str] = field(default_factory=list)
    counter: int = 0

    @classmethod
    def start(cls) -> "Cluster":
        bindir = _bindir()
        folder = Path(tempfile.mkdtemp(prefix="publish-pg-"))
        runas: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root and there is no `postgres` system user to run the server "
                                  "(Debian's postgresql package creates it)") from None
            os.chown(folder, account.pw_uid, account.pw_gid)
            runas = ["runuser", "-u", "postgres", "--"]
        cluster = cls(folder, _free_port(), bindir, runas)
        cluster._init()
        return cluster

    def _run(self, *command: str, timeout: float = 60) -> None:
        done = subprocess.run([*self.runas, *command], capture_output=True, text=True, timeout=timeout,
                              cwd=self.folder)
        if done.returncode != 0:
            raise Unavailable(f"{Path(command[0]).name} failed: {(done.stderr or done.stdout).strip()[-300:]}")

    def _init(self) -> None:
        password_file = self.folder / "pw"
        password_file.write_text(PASSWORD + "\n")
        if self.runas:
            os.chown(password_file, pwd.getpwnam("postgres").pw_uid, -1)
        data, socket_dir = self.folder / "data", self.folder
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={password_file}",
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        options = (f"-p {self.port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")

    @property
    def admin_url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str, password_reference: str = "${PUBLISH_PG_PASSWORD}") -> str:
        """A `[store] url` for the config: the password as a ${NAME} reference."""
        return f"postgresql://{USER}:{password_reference}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        self.counter += 1
        name = f"t{os.getpid()}_{self.counter}"
        with psycopg.connect(self.admin_url, autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return name

    def drop(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as db:
            db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-l", str(self.folder / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except Unavailable:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


def wait_until_down(port: int, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.05)


class PgConnection:
    """A test's direct connection to its database, shaped like sqlite3's (`?`
    placeholders, `execute().fetchall()`, `with` commits), so a tampering test reads
    the same on both backends."""

    def __init__(self, url: str):
        import psycopg

        self._db = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, params: tuple | list = ()):
        return self._db.execute(sql.replace("?", "%s"), params)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "PgConnection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def direct_url(store_url: str) -> str:
    """A store url with its ${PUBLISH_PG_PASSWORD} reference filled in."""
    return store_url.replace("${PUBLISH_PG_PASSWORD}", PASSWORD)
