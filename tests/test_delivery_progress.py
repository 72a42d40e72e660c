"""The live display: on a terminal, one line per channel updated in place (rich); the
final summary replaces it. Off a terminal, plain lines (tests/test_delivery_recovery.py)."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.both_stores

ROOT = Path(__file__).resolve().parent.parent


def _run_on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "publisher", *args], cwd=ROOT, env=env,
                               stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_gets_the_live_table_then_the_summary(workspace):
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    env = {**os.environ, "PUBLISH_WORKSPACE": str(workspace.path), "PUBLISH_USER": "marta", "TERM": "xterm",
           "COLUMNS": "120"}
    output = _run_on_a_terminal(["approve", draft, "--as", "ana"], env)
    assert "\x1b[" in output, output
    assert f"Sending draft {draft}" in output
    assert "2 of 2 delivered in" in output
    assert "  0.0 s  web:" not in output
    shown = json.loads(workspace.run("drafts", "show", draft, "--json").output)
    assert shown["channels"] == {"web": "delivered", "outbox": "delivered"}


def test_json_prints_no_progress(workspace):
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    result = workspace.run("approve", draft, "--as", "ana", "--json")
    assert result.exit_code == 0
    assert result.output.lstrip().startswith("{") and "sending - attempt" not in result.output


def _arrived(reader: int, within: float) -> bytes:
    import select

    ready, _, _ = select.select([reader], [], [], within)
    return os.read(reader, 65536) if ready else b""


def test_plain_lines_reach_a_pipe_soon_and_a_retry_at_once():
    from publisher.delivery.progress import FLUSH_EVERY, LiveProgress

    reader, writer = os.pipe()
    stream = os.fdopen(writer, "w")
    try:
        with LiveProgress(["hook"], lambda text: text, stream) as progress:
            progress("hook", "sending", "attempt 1")
            assert b"hook: sending - attempt 1" in _arrived(reader, FLUSH_EVERY * 10)
            progress("hook", "retrying", "HTTP 503", retry_in=30.0)
            assert b"hook: retrying - retry in 30.0 s: HTTP 503" in _arrived(reader, 0)
            progress("hook", "delivered", "https://status.example.org/e/1")
        assert b"hook: delivered" in _arrived(reader, 0)
    finally:
        stream.close()
        os.close(reader)


def test_a_live_line_counts_a_retry_down_from_the_wait_it_was_given():
    from publisher.delivery.progress import Line

    line = Line("retrying", "HTTP 429", at=2.0, retry_at=32.0)
    assert line.shown(12.4) == "retry in 20 s: HTTP 429"
    assert line.shown(40.0) == "retry in 0 s: HTTP 429"
    assert Line("sending", "attempt 1").shown(5.0) == "attempt 1"
