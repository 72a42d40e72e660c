"""`publish --help` printed from the copy the last rendering kept (publisher/cli/quick_help.py):
the same text click renders, used only while everything it was made from is unchanged."""
from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from publisher.cli import quick_help

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import sys
from publisher.cli import main
sys.argv = ["publish", *sys.argv[1:]]
main()
sys.stdout.flush()
print("CLICK LOADED" if "click" in sys.modules else "CLICK NOT LOADED", file=sys.stderr)
"""


def _help(*args: str, **env: str) -> tuple[str, bool]:
    environment = {**os.environ, **env}
    for name in quick_help.ENVIRONMENT:
        if name not in env:
            environment.pop(name, None)
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT,
                            env=environment)
    assert result.returncode == 0, result.stderr
    return result.stdout, "CLICK LOADED" in result.stderr


def _rendered_by_click(*args: str, **env: str) -> str:
    Path(quick_help.KEPT).unlink(missing_ok=True)
    text, click_loaded = _help(*args, **env)
    assert click_loaded
    return text


@pytest.mark.parametrize("args, env", [(("--help",), {}), (("-h",), {"PUBLISH_LANG": "es"}),
                                       (("--help",), {"COLUMNS": "60"})])
def test_the_kept_help_is_what_click_renders_and_spares_loading_it(args, env):
    rendered = _rendered_by_click(*args, **env)
    kept, click_loaded = _help(*args, **env)
    assert kept == rendered and not click_loaded


def test_another_language_or_width_is_rendered_again():
    english = _rendered_by_click("--help")
    spanish, click_loaded = _help("--help", PUBLISH_LANG="es")
    assert click_loaded and spanish != english and "Publicador de respuesta a crisis" in spanish
    narrow, click_loaded = _help("--help", PUBLISH_LANG="es", COLUMNS="50")
    assert click_loaded and narrow != spanish


def _tampered(text: str, stale_file: bool) -> None:
    with open(quick_help.KEPT, "rb") as kept:
        inputs, files, _text = marshal.load(kept)
    if stale_file:
        path, (size, mtime) = files[0]
        files[0] = (path, (size, mtime - 1))
    with open(quick_help.KEPT, "wb") as kept:
        marshal.dump((inputs, files, text), kept)


def test_a_copy_is_used_only_while_every_file_it_was_made_from_is_unchanged():
    rendered = _rendered_by_click("--help")
    try:
        _tampered("THE KEPT COPY\n", stale_file=False)
        assert _help("--help") == ("THE KEPT COPY\n", False)
        _tampered("THE KEPT COPY\n", stale_file=True)
        assert _help("--help") == (rendered, True)
    finally:
        Path(quick_help.KEPT).unlink(missing_ok=True)


def test_an_unreadable_copy_only_means_click_renders():
    rendered = _rendered_by_click("--help")
    try:
        Path(quick_help.KEPT).write_bytes(b"not marshal")
        assert _help("--help") == (rendered, True)
    finally:
        Path(quick_help.KEPT).unlink(missing_ok=True)


def test_a_reader_that_leaves_early_ends_the_help_quietly():
    for kept in (False, True):
        if not kept:
            Path(quick_help.KEPT).unlink(missing_ok=True)
        reader, writer = os.pipe()
        os.close(reader)
        result = subprocess.run([sys.executable, "-c", PROBE, "--help"], stdout=writer, stderr=subprocess.PIPE,
                                text=True, cwd=ROOT)
        os.close(writer)
        assert result.returncode == 1 and "Traceback" not in result.stderr and "Error" not in result.stderr
        assert Path(quick_help.KEPT).exists()
