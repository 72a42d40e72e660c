"""The HTML report on a 390 px phone (issue 13 item 12), measured in headless Chromium:
the page does not scroll sideways, the verdicts stay on screen after scrolling, the
timeline's labels never overlap (their drawn boxes, from the browser), and each
channel's published text is there. The screenshots stay in the test's folder (and in
$PUBLISH_SCREENSHOTS when set) for a person to look at."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from publisher.evidence.report_html import html_report, label_rows, text_width
from tests.test_report import _case_2
from tests.test_report_html import CHROMIUM, _ink

pytestmark = pytest.mark.servers

PHONE = 390
FRAME = """<!DOCTYPE html><html><body style="margin:0;background:#888">
<iframe id="phone" style="width:{width}px;height:{height}px;border:0;display:block" srcdoc="{page}"></iframe>
{script}</body></html>"""
PROBE = """<script>
addEventListener("load", () => {
  const frame = document.getElementById("phone"), win = frame.contentWindow, doc = frame.contentDocument;
  const texts = [...doc.querySelectorAll("svg text")].map(t => {
    const b = t.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom, t.textContent]; });
  win.scrollTo(0, 2000);
  const pinned = doc.querySelector(".verdicts").getBoundingClientRect();
  const out = {scrollWidth: doc.documentElement.scrollWidth, innerWidth: win.innerWidth, scrolled: win.scrollY,
               barTop: pinned.top, barBottom: pinned.bottom, texts: texts,
               tables: [...doc.querySelectorAll("table")].map(t => t.getBoundingClientRect().right),
               cut: [...doc.querySelectorAll("td, .post, h1, .verdicts")].filter(e => e.scrollWidth > e.clientWidth + 1)
                      .map(e => e.textContent.slice(0, 60)),
               scrolling: [...doc.querySelectorAll(".wrap")].filter(e => e.scrollWidth > e.clientWidth + 1).length};
  document.body.insertAdjacentHTML("beforeend", "<pre id=probe>" + JSON.stringify(out) + "</pre>");
});
</script>"""


def _report_data(workspace) -> dict:
    cabinet = _case_2(workspace)
    return json.loads(cabinet.at(7).ok("report", "1", "--format", "json").output)


def _overlaps(boxes: list[tuple[float, float, float, float, str]]) -> list[tuple[str, str]]:
    found = []
    for index, (l1, t1, r1, b1, text1) in enumerate(boxes):
        for l2, t2, r2, b2, text2 in boxes[index + 1:]:
            if l1 < r2 and l2 < r1 and t1 < b2 and t2 < b1:
                found.append((text1, text2))
    return found


def _measure(page: str, tmp_path: Path, name: str) -> dict:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (/usr/bin/chromium is missing); `make test` installs it")
    from html import escape

    probe = tmp_path / f"{name}-probe.html"
    probe.write_text(FRAME.format(width=PHONE, height=844, page=escape(page), script=PROBE), encoding="utf-8")
    framed = tmp_path / f"{name}-framed.html"
    framed.write_text(FRAME.format(width=PHONE, height=2400, page=escape(page), script=""), encoding="utf-8")
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
              "--force-device-scale-factor=1"]
    dom = subprocess.run([*common, "--window-size=500,844", "--dump-dom", probe.as_uri()], capture_output=True,
                         text=True, timeout=120)
    found = re.search(r"<pre id=\"probe\">(.*?)</pre>", dom.stdout, re.S)
    assert found, dom.stderr[-2000:]
    shot = tmp_path / f"{name}-390px.png"
    subprocess.run([*common, "--window-size=500,2400", f"--screenshot={shot}", framed.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert _ink(shot) > 0.02
    keep = os.environ.get("PUBLISH_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<")
                      .replace("&gt;", ">"))


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_report_reads_on_a_390px_phone(workspace, tmp_path, monkeypatch, language):
    monkeypatch.setenv("PUBLISH_LANG", language)
    data = _report_data(workspace)
    page = html_report(data)
    assert f'<html lang="{language}">' in page
    measured = _measure(page, tmp_path, f"report-{language}")
    assert measured["innerWidth"] == PHONE and measured["scrolled"] > 0
    assert measured["scrollWidth"] <= PHONE, "the page scrolls sideways"
    assert all(right <= PHONE for right in measured["tables"]), measured["tables"]
    assert measured["cut"] == [] and measured["scrolling"] == 0, "a cell is wider than the phone"
    assert measured["barTop"] == 0 and measured["barBottom"] > 0, "the verdicts left the screen"
    assert _overlaps(measured["texts"]) == []


def test_timeline_labels_never_overlap_even_when_the_deadlines_are_close(workspace, tmp_path):
    data = _report_data(workspace)
    data["generated_at"] = "2026-12-20T08:00:00Z"
    page = html_report(data)
    labels = re.findall(r'<text x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)" font-size="(\d+)"[^>]*>([^<]*)</text>',
                        page)
    assert any(text.endswith("h prepare") for *_ignored, text in labels)
    boxes = []
    for x, y, anchor, size, text in labels:
        width = text_width(text, float(size))
        left = float(x) - {"start": 0, "middle": width / 2, "end": width}[anchor]
        boxes.append((left, float(y) - float(size), left + width, float(y), text))
    assert _overlaps(boxes) == []
    rows = {text: y for x, y, anchor, size, text in labels if text.endswith(("h prepare", "h publish"))}
    assert len(rows) == 2 and len(set(rows.values())) == 2, "12 h and 48 h share a row"
    assert _overlaps(_measure(page, tmp_path, "month")["texts"]) == []


def test_label_rows_put_a_colliding_label_on_the_next_row():
    assert label_rows([(100, "12 h prepare", "start"), (110, "48 h publish", "start"),
                       (400, "far away", "start")], 12) == [0, 1, 0]


def test_the_report_shows_each_channels_published_text_and_local_times(workspace, tmp_path):
    workspace.write_config(extra='')
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace('language = "en"', 'language = "en"\ntimezone = "Europe/Madrid"'))
    data = _report_data(workspace)
    assert data["timezone"] == "Europe/Madrid" and data["generated_at"].endswith("Z")
    outbox = next(row for row in data["channels"] if row["channel"] == "outbox")
    page = html_report(data)
    assert "Published text per channel" in page and outbox["text"][0][:40].replace("'", "&#x27;") in page
    assert "2026-11-20 09:00 CET (UTC+01:00)" in page and "2026-11-20T08:00:00Z" not in page
