"""`make demo`: the main job end to end in a fresh temporary workspace.

A case 2 incident whose first negative message was three hours ago; the community
manager renders the apology, an approver approves it, signed with her own key (which
`publish init` makes in a temporary folder), it is published on the outbox and the
company's statements page; then the log, its verification and the deadlines.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

PUBLISH = str(Path(sys.executable).with_name("publish"))


def run(*args: str, user: str = "marta", show: bool = True) -> str:
    if show:
        prefix = "" if user == "marta" else f"PUBLISH_USER={user} "
        print(f"\n$ {prefix}publish {' '.join(shlex.quote(arg) for arg in args)}", flush=True)
    env = {**os.environ, "PUBLISH_USER": user}
    result = subprocess.run([PUBLISH, *args], env=env, text=True, capture_output=True)
    if show:
        print((result.stdout + result.stderr).rstrip())
    if result.returncode != 0:
        if not show:
            print((result.stdout + result.stderr).rstrip())
        sys.exit(f"demo stopped: `publish {args[0]}` exited {result.returncode}")
    return result.stdout


def main() -> None:
    workspace = Path(tempfile.mkdtemp(prefix="publish-demo-"))
    os.environ["PUBLISH_WORKSPACE"] = str(workspace)
    os.environ["PUBLISH_SSH_KEY"] = str(Path(tempfile.mkdtemp(prefix="publish-demo-key-")) / "ana")
    print(f"Demo workspace: {workspace}\nThe approver ana's signing key: {os.environ['PUBLISH_SSH_KEY']} (made by init)")
    run("init", str(workspace), user="ana")
    first_seen = (datetime.now(timezone.utc) - timedelta(hours=3)).astimezone().isoformat(timespec="seconds")
    run("incident", "open", "--case", "2", "--first-seen", first_seen,
        "--source", "https://x.com/maria_garcia/status/1861234567890123456", "--author", "@maria_garcia",
        "--platform", "x", "--summary", "una caída del sistema de pagos que impidió comprar con tarjeta",
        "--what", "la caída del sistema de pagos")
    run("--case", "2", "--template", "apology")  # the next update: now plus the case's update_every
    draft = json.loads(run("drafts", "list", "--json", show=False))[-1]["id"]
    run("approve", draft, user="ana")

    outbox = workspace / "var" / "outbox" / f"{draft}--outbox.txt"
    print(f"\n--- the outbox file {outbox} ---\n{outbox.read_text(encoding='utf-8').rstrip()}")
    site = workspace / "var" / "site"
    print(f"\n--- the statements page {site / 'index.html'} ---")
    for path in sorted(site.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            print(f"  {path.relative_to(workspace)}  ({path.stat().st_size} bytes)")

    run("log")
    run("log", "verify")
    run("status", "1")
    status = json.loads(run("status", "1", "--json", show=False))[0]
    prepared, published = status["prepared"], status["published"]
    print(f"\nDeadlines: prepared after {prepared['after_hours']:.2f} h (limit {prepared['limit_hours']:g} h, "
          f"{prepared['verdict']}), published after {published['after_hours']:.2f} h "
          f"(limit {published['limit_hours']:g} h, {published['verdict']}).")
    print(f"\nOpen {site / 'index.html'} in a browser to see the statements page.")


if __name__ == "__main__":
    main()
