"""The wheel carries the shipped templates, the example config and the report's own
templates, so `pip install .` then `publish init DIR` gives a working workspace anywhere,
and its reports render."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_templates_and_config_and_works_from_anywhere(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(tmp_path / "dist")], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "publisher/_shipped/config/publisher.toml" in names
    assert "publisher/_shipped/templates/es/case2/apology.short.j2" in names
    assert "publisher/_shipped/templates/en/case2/apology.long.j2" in names
    assert any(name.startswith("channels/") for name in names)
    assert {f"publisher/evidence/templates/{name}" for name in ("report.html.j2", "report.md.j2", "report.css")} <= set(names)

    unpacked = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(unpacked)
    workspace = tmp_path / "elsewhere"
    env = {"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PUBLISH_USER": "marta",
           "PUBLISH_WORKSPACE": str(workspace)}

    def publish(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv.pop(1)); "
                               "from publisher.cli import main; main()", str(unpacked), *args],
                              capture_output=True, text=True, env=env, cwd=tmp_path)

    assert publish("init", str(workspace)).returncode == 0
    opened = publish("incident", "open", "--case", "2", "--first-seen", "2026-01-01T10:00:00+01:00",
                     "--what", "la caída de los pagos")
    assert opened.returncode == 0, opened.stderr
    rendered = publish("--case", "2", "--template", "apology", "--dry-run")
    assert rendered.returncode == 0, rendered.stderr
    assert "Pedimos disculpas por la caída de los pagos." in rendered.stdout
    assert str(ROOT) not in rendered.stdout
    markdown = publish("report", "1")
    assert markdown.returncode == 0 and "## Veredictos" in markdown.stdout, markdown.stderr
    page = publish("report", "1", "--format", "html")
    assert page.returncode == 0 and page.stdout.startswith("<!DOCTYPE html>") and "<svg" in page.stdout, page.stderr
