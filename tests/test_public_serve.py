"""`publish serve --public`: /statements/ and /statements/feed.xml (and the statements'
own pages) from the log without a login, the same bytes `publish site build` writes;
nothing else is served (no console, no login page, no static file)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.worker_support import ROOT, until

pytestmark = pytest.mark.servers


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def _up(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_public_serves_the_statements_from_the_log_and_nothing_else(workspace, tmp_path):
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    assert workspace.run("approve", draft, "--as", "ana").exit_code == 0
    assert workspace.run("site", "build", str(tmp_path / "built")).exit_code == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PUBLISH_WORKSPACE": str(workspace.path), "PUBLISH_USER": "marta"}
    serve = subprocess.Popen([sys.executable, "-m", "publisher", "serve", "--public", "--port", str(port)], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert until(lambda: _up(port), timeout=30)
        status, body, headers = _get(base + "/statements/")
        assert status == 200 and body == (tmp_path / "built" / "index.html").read_bytes()
        assert "set-cookie" not in {key.lower() for key in headers}
        assert "default-src 'none'" in headers["content-security-policy"]
        status, body, headers = _get(base + "/statements/feed.xml")
        assert status == 200 and body == (tmp_path / "built" / "feed.xml").read_bytes()
        assert headers["content-type"].startswith("application/atom+xml")
        page = next((tmp_path / "built" / "statements").glob("*.html"))
        assert _get(f"{base}/statements/statements/{page.name}")[1] == page.read_bytes()
        for hidden in ("/", "/login", "/incidents", "/static/console.css", "/statements/statements.json",
                       "/statements/statements/../../login", "/drafts/" + draft):
            assert _get(base + hidden)[0] == 404, hidden
    finally:
        serve.send_signal(signal.SIGTERM)
        output, _ = serve.communicate(timeout=60)
    assert "nothing else is served" in output, output
    assert "Traceback" not in output


def test_public_receives_facebooks_signed_webhook_and_refuses_a_forged_one(workspace):
    """The public face is where Facebook can reach: /hooks/facebook is one of its routes."""
    import requests

    from publisher.workspace.app import App
    from tests.console.test_facebook_hook import APP_SECRET, SOURCES, TOKEN, VERIFY, comment, delivery, signature

    workspace.write_config(extra=SOURCES)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PUBLISH_WORKSPACE": str(workspace.path), "PUBLISH_USER": "marta", "FB_TOKEN": TOKEN,
           "FB_APP_SECRET": APP_SECRET, "FB_VERIFY_TOKEN": VERIFY}
    serve = subprocess.Popen([sys.executable, "-m", "publisher", "serve", "--public", "--port", str(port)], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    hook = f"http://127.0.0.1:{port}/hooks/facebook"
    try:
        assert until(lambda: _up(port), timeout=30)
        challenge = requests.get(hook, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                               "hub.challenge": "1158201444"}, timeout=10)
        assert challenge.status_code == 200 and challenge.text == "1158201444"
        body = delivery(comment(1, "Tres días sin agua y nadie contesta"))
        forged = requests.post(hook, data=body, timeout=10, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": signature(body, "not-the-secret")})
        assert forged.status_code == 403 and App(workspace.path).store.heard() == []
        signed = requests.post(hook, data=body, timeout=10, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": signature(body)})
        assert signed.status_code == 200, signed.text
        assert [item.data["text"] for item in App(workspace.path).store.heard()] == \
            ["Tres días sin agua y nadie contesta"]
        for answer in (challenge, forged, signed):
            assert APP_SECRET not in answer.text and VERIFY not in answer.text
    finally:
        serve.send_signal(signal.SIGTERM)
        output, _ = serve.communicate(timeout=60)
    assert "Traceback" not in output
