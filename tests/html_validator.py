"""The Nu HTML Checker (vnu, `make a11y`: the npm package vnu-jar, run with java), for tests
that check pages or mail parts are valid HTML."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VNU = ROOT / ".tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def vnu_missing() -> str | None:
    """Why vnu cannot run here, or None."""
    if not VNU.exists():
        return "vnu-jar is missing (make a11y)"
    if not shutil.which("java"):
        return "java is missing (make a11y)"
    return None


def vnu_errors(pages: dict[str, str], folder: Path) -> list[str]:
    """Every error vnu reports, one line each: page, line, message."""
    files = []
    for number, (name, html) in enumerate(pages.items()):
        path = folder / f"{number:02d}.html"
        path.write_text(html, encoding="utf-8")
        files.append((str(path), name))
    done = subprocess.run(["java", "-jar", str(VNU), "--format", "json", "--stdout", *[f for f, _ in files]],
                          capture_output=True, text=True, timeout=300)
    named = {Path(f).as_uri(): name for f, name in files} | {f: name for f, name in files}
    return [f"{named.get(m.get('url'), m.get('url'))}:{m.get('lastLine')}: {m.get('message')}"
            for m in json.loads(done.stdout)["messages"] if m.get("type") == "error"]
