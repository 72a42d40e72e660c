"""The README's "A cabinet on several machines", followed step by step: the PostgreSQL
server the tests start, the role and its database made with the README's own commands,
a first workspace whose log `publish store copy` moves there (its printed config line
used as printed), a second folder with the files the README says to copy, `publish
serve` on the first machine and `publish worker` on both (subprocesses), one incident
played by marta on the first machine and approved by ana on the second. Also: the
systemd units in deploy/ say what the README says they do.

The workspace is a practice one (unsigned approvals), so no key has to be enrolled."""
from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import Workspace
from tests.pg_cluster import PASSWORD as ADMIN_PASSWORD
from tests.worker_support import ROOT, WorkerProcess, channel_states, until

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## A cabinet on several machines"):README.index("\n## People and roles")]
ROLE_PASSWORD = "a-long-random-password"


def _blocks() -> list[str]:
    return re.findall(r"```[a-z]*\n(.*?)```", SECTION, re.S)


def _lines(prefix: str) -> list[str]:
    return [line.split("#", 1)[0].strip() for block in _blocks() for line in block.splitlines()
            if line.strip().startswith(prefix)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _publish(folder: Path, *args: str, user: str = "marta") -> subprocess.CompletedProcess:
    env = {**os.environ, "PUBLISH_WORKSPACE": str(folder), "PUBLISH_USER": user}
    return subprocess.run([sys.executable, "-m", "publisher", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def cabinet_database(pg_cluster):
    """The README's step 1 on the test server: its commands, run by the server's
    administrator over TCP instead of `sudo -u postgres`, for a role and a database of
    this test's own name (the test server's administrator is already called publish)."""
    # letters only: a database or user name with digits is masked like a secret in output
    name = "cabinet_" + "".join(chr(ord("a") + int(digit)) for digit in str(os.getpid()))
    commands = _lines("sudo -u postgres ")
    assert len(commands) == 2, commands
    env = {**os.environ, "PGPASSWORD": ADMIN_PASSWORD}
    connect = ["-h", "127.0.0.1", "-p", str(pg_cluster.port), "-U", "publish"]
    for line in commands:
        program, *arguments = shlex.split(line)[3:]
        arguments = [re.sub(r"\bpublish\b", name, argument) for argument in arguments]
        if program == "psql":
            arguments = ["-d", "postgres", *arguments]
        done = subprocess.run([str(pg_cluster.bindir / program), *connect, *arguments], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    yield name
    pg_cluster.drop(name)
    subprocess.run([str(pg_cluster.bindir / "psql"), *connect, "-d", "postgres", "-c", f"DROP ROLE {name}"],
                   env=env, capture_output=True, timeout=60)


@pytest.mark.servers
def test_the_readme_cabinet_on_two_machines(pg_cluster, cabinet_database, tmp_path, monkeypatch):
    # step 2: the package from the repository, with the postgresql extra (installed in this venv)
    assert "pip install '.[postgresql]'" in SECTION
    assert "postgresql = [" in (ROOT / "pyproject.toml").read_text()
    __import__("procrastinate"), __import__("psycopg_pool")

    monkeypatch.setenv("PG_PASSWORD", ROLE_PASSWORD)
    monkeypatch.setenv("PUBLISH_SSH_KEY", str(tmp_path / "no-ssh-key"))
    first, second = tmp_path / "laptop" / "cabinet", tmp_path / "workstation" / "cabinet"
    first.parent.mkdir()
    # step 3: the first machine's workspace, its log copied into the database
    made = _publish(first.parent, "init", "--practice", str(first))
    assert made.returncode == 0, made.stderr
    copy = [line for line in _lines("publish store copy") if "--to" in line]
    assert len(copy) == 1
    target = shlex.split(copy[0])[-1].replace("db.acme.internal", f"127.0.0.1:{pg_cluster.port}").replace(
        "/publish", f"/{cabinet_database}").replace("publish:", f"{cabinet_database}:")
    copied = _publish(first, "store", "copy", "--to", target)
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert ROLE_PASSWORD not in copied.stdout
    line = re.search(r"\[store\] (url = \".*\")$", copied.stdout, re.M)
    assert line and "${PG_PASSWORD}" in line.group(1), copied.stdout
    config = first / "config" / "publisher.toml"
    # the test server runs with fsync off: the README's allow_unsafe_commit accepts that here
    config.write_text(config.read_text().replace('path = "var/publisher.db"\n', 'path = "var/publisher.db"\n'
                                                 f"{line.group(1)}\nallow_unsafe_commit = true\n", 1))
    # step 4: the second machine gets config/ and templates/, not var/
    assert "config" in SECTION and "templates" in SECTION and "Do not copy\n   `var/`" in SECTION
    second.mkdir(parents=True)
    for name in ("config", "templates"):
        shutil.copytree(first / name, second / name)
    assert not (second / "var").exists()
    laptop, workstation = (Workspace(folder, CliRunner(), []) for folder in (first, second))
    info = workstation.run("store", "info", "--json")
    assert json.loads(info.output[info.output.index("{"):])["backend"] == "postgresql", info.output

    # step 5: serve on the first machine, a worker on both
    port = _free_port()
    env = {**os.environ, "PUBLISH_WORKSPACE": str(first), "PUBLISH_USER": "marta"}
    serve = subprocess.Popen([sys.executable, "-m", "publisher", "serve", "--no-worker", "--port", str(port)],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    workers = [WorkerProcess(folder) for folder in (first, second)]
    try:
        assert until(lambda: _answers(port), timeout=30)
        incident = laptop.open_incident(case=2, lang="es")
        assert until(lambda: _live(workstation) == 2, timeout=30)
        draft = laptop.render("--case", "2", "--template", "apology", "--incident", incident)
        approved = workstation.run("approve", draft, "--as", "ana", user="ana")
        assert approved.exit_code == 0, approved.output
        assert "publish status" in approved.output
        assert until(lambda: _states(laptop, draft) == {"delivered"}, timeout=60), _states(laptop, draft)
        # each worker keeps its own machine's statements page: the same bytes on both
        assert until(lambda: _site(first) and _site(first) == _site(second), timeout=30)
        assert any(draft in name for name in _site(first))
    finally:
        results = [worker.stop() for worker in workers]
        serve.send_signal(signal.SIGTERM)
        said, _ = serve.communicate(timeout=60)
    assert all(code == 0 for code, _output in results), results
    assert "Traceback" not in said
    assert workstation.run("log", "verify").exit_code == 0 and laptop.run("log", "verify").exit_code == 0


def _live(workspace: Workspace) -> int:
    status = json.loads(workspace.run("status", "--json").output)
    return sum(worker["live"] for worker in status[0]["workers"]) if status else 0


def _answers(port: int) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def _states(workspace: Workspace, draft: str) -> set[str]:
    return set(channel_states(workspace, draft).values())


def _site(folder: Path) -> dict[str, bytes]:
    site = folder / "var" / "site"
    return {str(path.relative_to(site)): path.read_bytes() for path in sorted(site.rglob("*"))
            if path.is_file() and path.name != ".lock"} if site.is_dir() else {}


@pytest.mark.parametrize("unit", ["publish-serve.service", "publish-worker.service"])
def test_the_systemd_units_restart_run_as_their_own_user_and_read_secrets_from_a_file(unit):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "deploy" / unit)
    service = parser["Service"]
    assert service["Restart"] == "always" and service["User"] == "publish" != "root"
    assert service["EnvironmentFile"] == "/etc/publish/publish.env"
    assert service["KillSignal"] == "SIGTERM" and parser["Install"]["WantedBy"] == "multi-user.target"
    command = shlex.split(service["ExecStart"])
    assert command[0] == "/opt/publish/bin/publish" and command[1] in ("serve", "worker")
    helped = subprocess.run([sys.executable, "-m", "publisher", *command[1:], "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0, helped.stderr
    assert f"deploy/{unit}" in README
