"""A run of many deliveries starts no thread per request or attempt: the whole-request
timeouts and the freeze checks of every attempt share the process's one watcher thread,
and the requests-based channels share one HTTP session per TLS setting."""
from __future__ import annotations

import json
import sys
import threading

import pytest

from channels import http
from tests.fakes.server import FakeServer, Reply

pytestmark = pytest.mark.servers

CHANNELS = 12
WORKERS = 3


def _hooks() -> str:
    sections = [f'[channels.hook{i}]\ntype = "webhook"\nurl = "${{HOOK_URL}}/{i}"\n' for i in range(CHANNELS)]
    return f"[delivery]\nworkers = {WORKERS}\n\n" + "\n".join(sections)


def _started_during(run) -> list[str]:
    """The names of the threads started while `run()` runs (every thread started through
    `threading` calls the trace function once)."""
    names: list[str] = []

    def seen(frame, event, arg):
        names.append(threading.current_thread().name)
        sys.settrace(None)

    threading.settrace(seen)
    try:
        run()
    finally:
        threading.settrace(None)
    return names


def test_a_run_of_many_deliveries_starts_no_thread_per_attempt(workspace):
    answered = {"n": 0}

    def answer(request):
        answered["n"] += 1
        return Reply(201, {"id": f"evt_{answered['n']}"})

    with FakeServer(answer) as server:
        workspace.write_config(extra=_hooks())
        env = {"HOOK_URL": f"{server.url}/hooks"}
        workspace.open_incident(case=2)
        draft = workspace.render("--case", "2", "--template", "apology", env=env)
        results = []
        names = _started_during(lambda: results.append(workspace.run("approve", draft, "--as", "ana", "--json", env=env)))
    summary = json.loads(results[0].stdout)
    delivered = [item for item in summary["deliveries"] if item["channel"].startswith("hook")]
    assert len(delivered) == CHANNELS and all(item["state"] == "delivered" for item in delivered), summary
    ours = [name for name in names if "process_request" not in name]
    assert len([name for name in ours if name.startswith("deliver")]) <= WORKERS
    assert [name for name in ours if not name.startswith("deliver")] in ([], ["deadline-watcher"]), ours


def test_channels_share_a_session_only_with_the_same_tls_settings():
    plain = http.shared_session()
    assert http.shared_session() is plain
    assert http.shared_session(verify="/etc/ssl/private-ca.pem") is not plain
    assert not plain.headers.get("Authorization") and len(plain.cookies) == 0
    adapter = plain.get_adapter("https://example.org/")
    assert adapter.max_retries.total == 0 and adapter._pool_maxsize >= 256


def test_a_shared_session_follows_the_proxy_environment(monkeypatch):
    direct = http.shared_session()
    assert direct.merge_environment_settings("https://hooks.example/x", {}, None, None, None)["proxies"] == {}
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    proxied = http.shared_session()
    assert proxied is not direct
    assert proxied.merge_environment_settings("https://hooks.example/x", {}, None, None, None)["proxies"]["https"] == \
        "http://proxy.example:3128"
    assert "https" not in proxied.merge_environment_settings("https://127.0.0.1/x", {}, None, None, None)["proxies"]


def test_channels_sharing_a_session_do_not_pass_each_other_headers_or_cookies(workspace):
    def answer(request):
        return Reply(201, {"id": f"evt_{request.path[-1]}"}, {"Set-Cookie": "sid=from-the-platform; Path=/"})

    config = ('[delivery]\nworkers = 1\n\n[channels.hook_a]\ntype = "webhook"\nurl = "${HOOK_URL}/a"\n'
              'headers = { Authorization = "${HOOK_AUTH}" }\n\n'
              '[channels.hook_b]\ntype = "webhook"\nurl = "${HOOK_URL}/b"\n')
    with FakeServer(answer) as server:
        workspace.write_config(extra=config)
        env = {"HOOK_URL": f"{server.url}/hooks", "HOOK_AUTH": "Bearer hook-a-only-secret-771"}
        workspace.open_incident(case=2)
        draft = workspace.render("--case", "2", "--template", "apology", env=env)
        result = workspace.run("approve", draft, "--as", "ana", env=env)
    assert result.exit_code == 0, result.output
    posts = [request for request in server.requests if request.method == "POST"]
    assert sorted(request.path for request in posts) == ["/hooks/a", "/hooks/b"]
    assert all(request.header("Cookie") is None for request in posts)
    assert [request.header("Authorization") for request in posts if request.path == "/hooks/b"] == [None]
    assert [request.header("Authorization") for request in posts if request.path == "/hooks/a"] == \
        ["Bearer hook-a-only-secret-771"]
