"""The wheel carries the shipped templates, the example config and the compiled
catalogue and the report's own templates, so `pip install .` then `publish init DIR`
gives a working workspace anywhere and its reports render;
and running the installed `publish` never writes into its own package (issue 20 item 2):
the package folder may be read-only, shared, or someone else's."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(dist)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    return next(dist.glob("*.whl"))


def installed(wheel: Path, tmp_path: Path):
    """The wheel unpacked as site-packages, and a `publish` that runs from it elsewhere
    (`-B`: Python's own byte-code is not the package writing into itself)."""
    unpacked = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(unpacked)
    workspace = tmp_path / "elsewhere"
    env = {"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PUBLISH_USER": "marta",
           "PUBLISH_WORKSPACE": str(workspace)}

    def publish(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-I", "-B", "-c", "import sys; sys.path.insert(0, sys.argv.pop(1)); "
                               "from publisher.cli import main; main()", str(unpacked), *args],
                              capture_output=True, text=True, env={**env, **extra}, cwd=tmp_path)

    return unpacked, workspace, publish


def test_wheel_ships_templates_and_config_and_works_from_anywhere(wheel, tmp_path):
    names = zipfile.ZipFile(wheel).namelist()
    assert "publisher/_shipped/config/publisher.toml" in names
    assert "publisher/_shipped/templates/es/case2/apology.short.j2" in names
    assert "publisher/_shipped/templates/en/case2/apology.long.j2" in names
    assert "publisher/locale/es/LC_MESSAGES/publish.mo" in names
    assert {f"publisher/evidence/templates/{name}" for name in ("report.html.j2", "report.md.j2", "report.css")} <= set(names)
    assert any(name.startswith("channels/") for name in names)

    _unpacked, workspace, publish = installed(wheel, tmp_path)
    assert publish("init", str(workspace)).returncode == 0
    opened = publish("incident", "open", "--case", "2", "--first-seen", "2026-01-01T10:00:00+01:00", "--confirm",
                     "--what", "la caída de los pagos")
    assert opened.returncode == 0, opened.stderr
    rendered = publish("--case", "2", "--template", "apology", "--dry-run")
    assert rendered.returncode == 0, rendered.stderr
    assert "Pedimos disculpas por la caída de los pagos." in rendered.stdout
    assert str(ROOT) not in rendered.stdout
    spanish = publish("status", PUBLISH_LANG="es")
    assert spanish.returncode == 0 and "Lista de tareas:" in spanish.stdout and "Rastrear el origen" in spanish.stdout
    markdown = publish("report", "1")
    assert markdown.returncode == 0 and "## Veredictos" in markdown.stdout, markdown.stderr
    page = publish("report", "1", "--format", "html")
    assert page.returncode == 0 and page.stdout.startswith("<!DOCTYPE html>") and "<svg" in page.stdout, page.stderr


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
            for path in folder.rglob("*")}


def test_no_command_writes_into_the_installed_package(wheel, tmp_path):
    unpacked, workspace, publish = installed(wheel, tmp_path)
    before = listing(unpacked)
    runs = [publish("--help"), publish("-h"), publish("--help", PUBLISH_LANG="es"), publish("log", "--help"),
            publish("init", str(workspace)),
            publish("incident", "open", "--case", "2", "--first-seen", "2026-01-01T10:00:00+01:00", "--confirm",
                    "--what", "la caída de los pagos"),
            publish("status"), publish("status", PUBLISH_LANG="es"), publish("incident", "list"),
            publish("log", "-n", "5"), publish("drafts", "list"), publish("templates", "list"), publish("channels", "list"),
            publish("report", "1"), publish("--case", "2", "--template", "apology", "--dry-run")]
    assert [run.returncode for run in runs] == [0] * len(runs), [run.stderr for run in runs if run.returncode]
    assert listing(unpacked) == before
