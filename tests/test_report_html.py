"""The HTML report: one self-contained file with an inline SVG timeline, opened in
headless Chromium (Debian's `chromium`; `make test` installs it): the screenshot is not
blank and the page logs nothing to the console."""
from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.test_report import _case_2

pytestmark = pytest.mark.servers

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture
def chromium():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (/usr/bin/chromium is missing); `make test` installs it with "
                    "`apt-get install -y chromium`")
    return CHROMIUM


def _html(workspace, tmp_path) -> Path:
    cabinet = _case_2(workspace)
    cabinet.at(5.5).ok("freeze", "--reason", "checking the <leak> & its \"origin\"")
    cabinet.at(6).ok("unfreeze", "--reason", "false alarm", "--as", "luis")
    target = tmp_path / "report.html"
    cabinet.at(7).ok("report", "1", "--format", "html", "-o", str(target))
    return target


def test_the_html_report_is_self_contained_and_escaped(workspace, tmp_path):
    page = _html(workspace, tmp_path).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and not re.search(r"""(src|href)=["'](?!https?://x|file:|https://forum)""", page)
    assert "@import" not in page and "url(" not in page
    assert page.count("<svg") == 1 and "12 h prepare" in page and "48 h publish" in page
    assert "checking the &lt;leak&gt; &amp; its &quot;origin&quot;" in page and "<leak>" not in page
    assert 'class="v pass">PASS' in page and "Head hash <code>" in page


def _console_and_screenshot(chromium: str, page: Path, shot: Path) -> list[str]:
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--window-size=1100,1400", "--enable-logging=stderr", "--v=0", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def _ink(png: Path) -> float:
    """The share of decoded image bytes that are not the background (0 for a blank page)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        if kind == b"IDAT":
            chunks.append(data[position + 8:position + 8 + length])
        position += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    background = max(set(pixels[:4096]), key=pixels[:4096].count)
    return sum(1 for byte in pixels[::7] if byte != background) / len(pixels[::7])


def test_the_html_report_opens_cleanly_in_chromium(workspace, tmp_path, chromium):
    page = _html(workspace, tmp_path)
    shot = tmp_path / "report.png"
    console = _console_and_screenshot(chromium, page, shot)
    assert console == []
    assert shot.exists() and _ink(shot) > 0.02


def test_the_console_check_would_catch_an_error(tmp_path, chromium):
    """The detector itself: a page that logs an error is caught, a blank page has no ink."""
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><script>console.error('boom')</script></body></html>")
    console = _console_and_screenshot(chromium, broken, tmp_path / "broken.png")
    assert any("boom" in line for line in console)
    assert _ink(tmp_path / "broken.png") < 0.01
