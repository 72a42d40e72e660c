"""Helpers shared by the benchmark steps: the project's Python, the bench environment
(apprise lives only there), running a command and timing it, workspaces."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BENCH_VENV = ROOT / "bench" / ".venv"
RESULTS = ROOT / "bench" / "results"


def bench_python() -> Path:
    """A Python with apprise: $BENCH_PYTHON, else this one when the `bench` extra is
    installed, else bench/.venv (created with apprise on first use), so apprise never
    has to enter the project's own environment."""
    if os.environ.get("BENCH_PYTHON"):
        return Path(os.environ["BENCH_PYTHON"])
    if subprocess.run([sys.executable, "-c", "import apprise"], capture_output=True).returncode == 0:
        return Path(sys.executable)
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import apprise"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "apprise"], check=True)
    return python


def publish(workspace: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PUBLISH_WORKSPACE": str(workspace), "PUBLISH_USER": "marta"}
    result = subprocess.run([PYTHON, "-m", "publisher", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"publish {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return result


def timed(command: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> tuple[float, int, str]:
    """Wall seconds, peak memory (KB, from /usr/bin/time when present) and output."""
    wrapper = ["/usr/bin/time", "-f", "__MAXRSS__ %M"] if Path("/usr/bin/time").exists() else []
    started = time.perf_counter()
    result = subprocess.run(wrapper + command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True,
                            text=True)
    wall = time.perf_counter() - started
    peak = 0
    for line in result.stderr.splitlines():
        if line.startswith("__MAXRSS__"):
            peak = int(line.split()[1])
    return wall, peak, result.stdout + result.stderr


def median_wall(command: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    timed(command, env)
    return statistics.median(timed(command, env)[0] for _ in range(runs))


CONFIG = """
[workspace]
practice = true

[organisation]
name = "Acme"
language = "en"

[approvals]
required = {required}
approvers = ["ana", "luis"]
operators = ["marta"]
signing = "none"

[delivery]
workers = {workers}
{store}{channels}
"""


def webhook_workspace(folder: Path, urls: list[str], workers: int, summary: str, store_url: str | None = None,
                      approved: bool = True) -> str:
    """A workspace sending to one webhook channel per URL (each URL a secret, in the
    secrets file), one approval required, with an approved draft nobody has sent yet
    (`approved=False`: not yet approved); returns the draft id. `store_url`: its log on PostgreSQL."""
    store = f'\n[store]\nurl = "{store_url}"\n' if store_url else ""
    (folder / "config").mkdir(parents=True, exist_ok=True)
    secrets = folder / "config" / "secrets.toml"
    secrets.write_text("".join(f'BENCH_HOOK{index:02d} = "{url}"\n' for index, url in enumerate(urls)),
                       encoding="utf-8")
    secrets.chmod(0o600)
    channels = "".join(f'\n[channels.hook{index:02d}]\ntype = "webhook"\nurl = "${{BENCH_HOOK{index:02d}}}"\n'
                       for index in range(len(urls)))
    (folder / "config").mkdir(parents=True, exist_ok=True)
    config = folder / "config" / "publisher.toml"
    config.write_text(CONFIG.format(required=1, workers=workers, channels=channels, store=store), encoding="utf-8")
    first_seen = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 3600))
    publish(folder, "incident", "open", "--case", "2", "--first-seen", first_seen, "--summary", summary,
            "--what", "the payment system outage")
    draft = json.loads(publish(folder, "--case", "2", "--template", "apology", "--json").stdout)["draft"]["id"]
    if approved:
        approve_unsent(folder, draft)
    return draft


def approve_unsent(folder: Path, draft: str) -> None:
    """Approve `draft` without sending it: a worker's heartbeat is recorded for the
    approval (so it is queued for a worker), then that worker is recorded as stopped (so
    the next `publish send` delivers in the foreground)."""
    from publisher.workspace.app import App

    app = App(folder)
    try:
        app.store.beat("bench-approval", "bench", os.getpid(), "running")
        publish(folder, "approve", draft, "--as", "ana")
        app.store.beat("bench-approval", "bench", os.getpid(), "stopped")
    finally:
        app.store.close()


class Postgres:
    """A throwaway PostgreSQL server started the way the tests start theirs
    (tests/pg_cluster.py: Debian's initdb and pg_ctl, SCRAM password logins over TCP);
    `database()` is a fresh database's `[store] url` (its password a `${...}` reference,
    set in this process's environment for the children)."""

    def __init__(self) -> None:
        from tests.pg_cluster import PASSWORD, Cluster

        self.cluster = Cluster.start()
        self.password = PASSWORD
        os.environ["PUBLISH_PG_PASSWORD"] = PASSWORD

    def database(self) -> str:
        return self.cluster.url(self.cluster.new_database())

    def direct(self, url: str) -> str:
        return url.replace("${PUBLISH_PG_PASSWORD}", self.password)

    def stop(self) -> None:
        self.cluster.destroy()


def moved_to_postgres(big: Path, folder: Path, url: str) -> Path:
    """A copy of workspace `big` whose log was copied (`publish store copy`) to `url`."""
    import shutil

    publish(big, "store", "copy", "--to", url)
    shutil.copytree(big / "config", folder / "config")
    config = folder / "config" / "publisher.toml"
    config.write_text(config.read_text() + f'\n[store]\nurl = "{url}"\n', encoding="utf-8")
    (folder / "var").mkdir(mode=0o700)
    shutil.copy(big / "var" / "postgresql.head", folder / "var" / "postgresql.head")
    return folder
