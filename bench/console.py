"""The console's pages over a log of 1,000,000 events: the server time of each page
(in-process ASGI requests, median of 7 after a warm-up), goal under 100 ms.

The session is a `console.login` event appended to the big log, exactly what a
passkey login records; the pages are the ones a cabinet member opens during a
crisis: the incidents, one incident, one draft, its delivery progress, the log."""
from __future__ import annotations

import secrets
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GOAL_S = 0.1
ROUNDS = 7


def session_for(app, person: str = "ana") -> str:
    from publisher.incident.people import digest
    from publisher.timeparse import iso

    token = secrets.token_urlsafe(32)
    app.store.append("console.login", actor=person, data={
        "session_hash": digest(token), "expires": iso(app.clock() + timedelta(hours=1)), "credential_id": "bench"})
    return token


def pages(app) -> dict[str, str]:
    incident = app.store.events(kind="incident.opened", newest_first=True, limit=1)[0].incident
    draft = app.store.events(kind="draft.rendered", incident=incident, limit=1)[0].draft
    return {"incidents": "/", "incident": f"/incidents/{incident}", "draft": f"/drafts/{draft}",
            "progress": f"/drafts/{draft}/progress", "log": "/log", "report": f"/incidents/{incident}/report"}


def measure(folder: Path) -> dict:
    from starlette.testclient import TestClient

    from publisher.web.server import create_app
    from publisher.workspace.app import App

    app = App(folder)
    token = session_for(app)
    client = TestClient(create_app(app), base_url="https://console.bench")
    client.cookies.set("publish_session", token)
    result: dict = {"events": app.store.head()[0]}
    for name, path in pages(app).items():
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        runs = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            client.get(path)
            runs.append(time.perf_counter() - started)
        result[f"{name}_s"] = statistics.median(runs)
    return result


def summary(result: dict) -> list[str]:
    lines = [f"console pages over a log of {result['events']:,} events (goal < {GOAL_S * 1000:.0f} ms each):"]
    for key, value in result.items():
        if key.endswith("_s"):
            lines.append(f"  {key[:-2]}: {value * 1000:.1f} ms ({'ok' if value < GOAL_S else 'OVER'})")
    return lines


if __name__ == "__main__":
    print("\n".join(summary(measure(Path(sys.argv[1])))))
