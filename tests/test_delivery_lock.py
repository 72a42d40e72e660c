"""The SQLite store's per-(draft, channel) delivery lock: exclusive between threads and
processes alike, released when its holder dies, and one file per draft however many
channels it goes to."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from publisher.log.sqlite_backend import SQLiteBackend

ROOT = Path(__file__).resolve().parent.parent


def test_a_draft_to_many_channels_leaves_one_lock_file(tmp_path):
    backend = SQLiteBackend(tmp_path / "var" / "publisher.db")
    for index in range(50):
        with backend.delivery_lock("d1a2b3c4d5e6", f"hook{index:02d}") as take:
            assert take()
    backend.close()
    assert [path.name for path in (tmp_path / "var" / "locks").iterdir()] == ["d1a2b3c4d5e6.lock"]


def test_two_holders_of_one_channel_exclude_each_other_and_other_channels_do_not(tmp_path):
    backend = SQLiteBackend(tmp_path / "var" / "publisher.db")
    with backend.delivery_lock("draft", "web") as first, backend.delivery_lock("draft", "web") as second, \
            backend.delivery_lock("draft", "x") as other:
        assert first() and not second() and other()
        assert first() and not second()
    with backend.delivery_lock("draft", "web") as again:
        assert again()
    backend.close()


def test_the_lock_is_exclusive_across_processes_and_dies_with_its_holder(tmp_path):
    path = tmp_path / "var" / "publisher.db"
    backend = SQLiteBackend(path)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from publisher.log.sqlite_backend import SQLiteBackend
        backend = SQLiteBackend(Path({str(path)!r}))
        with backend.delivery_lock("draft", "web") as take:
            assert take()
            print("held", flush=True)
            sys.stdin.read()
        """)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with backend.delivery_lock("draft", "web") as take, backend.delivery_lock("draft", "x") as other:
            assert not take() and other()
    finally:
        holder.kill()
        holder.wait()
    with backend.delivery_lock("draft", "web") as take:
        assert take()
    backend.close()
