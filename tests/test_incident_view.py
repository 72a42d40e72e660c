"""One view of an incident: `publish status`, the report (every format) and the
console's incident page read the incident's events from the log once, check each
signature once, and say the same thing about the same incident."""
from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from html import unescape

import pytest

from publisher.evidence.report import build_report, render
from publisher.evidence.status import incident_status
from publisher.log import signatures
from publisher.log.sqlite_backend import SQLiteBackend
from publisher.log.store import Store
from publisher.workspace.app import App
from publisher.workspace.rollback import guard_writes
from tests.console.support import HttpConsole, configure, free_port
from tests.test_cases_flow import CABINET_CHANNEL, Cabinet
from tests.trust_support import allowed_signers, make_keys, turn_signing_on

needs_ssh = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed")


class CountingBackend(SQLiteBackend):
    """The SQLite backend, keeping every query read through it."""

    def __init__(self, path):
        super().__init__(path)
        self.reads: list = []

    def select(self, query):
        self.reads.append(query)
        return super().select(query)


def counted_app(workspace, clock) -> tuple[App, CountingBackend]:
    """The workspace's App with its store opened as `open_store` opens it, on a
    backend that counts its reads."""
    app = App(workspace.path, clock=clock)
    path = app.config.store_path
    backend = CountingBackend(path)
    store = Store(backend=backend, head_path=path.with_name(path.name + ".head"), anchor=app.config.store_anchor,
                  redact=app.redact.scrub, clock=app.clock)
    app.__dict__["store"] = guard_writes(app, store)
    return app, backend


@pytest.fixture
def checks():
    """How many times each signed message is checked, through the registered ssh scheme."""
    seen: Counter = Counter()
    real = signatures.SCHEMES["ssh"]

    def counting(message, signature, key):
        seen[message] += 1
        return real(message, signature, key)

    signatures.register_scheme("ssh", counting)
    yield seen
    signatures.register_scheme("ssh", real)


def _signed_incident(workspace, tmp_path) -> Cabinet:
    """Case 4 with signed decisions, a signed correction, two drafts approved with
    signatures (the first superseded by an edit), and a signed freeze lifted."""
    keys = make_keys(tmp_path / "keys", "ana", "luis")
    workspace.write_config(extra=CABINET_CHANNEL)
    allowed_signers(workspace, keys, "ana", "luis")
    turn_signing_on(workspace)
    cabinet = Cabinet(workspace)
    cabinet.open(4, "--source", "https://forum.example.org/t/77", "--author", "rival")
    ana, luis = ["--as", "ana", "--key", str(keys["ana"])], ["--as", "luis", "--key", str(keys["luis"])]
    cabinet.at(1).ok("decide", "ignore", "--reason", "advisor: ignore it", *ana)
    cabinet.at(2).ok("incident", "edit", "1", "--summary", "a rival's smear", "--reason", "clearer", *luis)
    cabinet.at(3).ok("decide", "respond", "--reason", "it reached the press", *luis)
    cabinet.at(4).ok("freeze", "--reason", "legal review", "--incident", "1", *ana)
    draft = cabinet.render("--case", "4", "--template", "reply", "--channel", "outbox",
                           "--var", "facts=our prices are audited by the regulator")
    cabinet.at(5).ok("approve", draft, *ana)
    cabinet.at(6).ok("unfreeze", "--reason", "legal says go", *luis)
    cabinet.ok("send", draft)
    return cabinet


def _signed_messages(app: App) -> set[bytes]:
    """What the incident's signed actions (its freeze aside) and every unfreeze signed."""
    events = app.store.events(incident="1") + app.store.events(kind="unfreeze")
    return {signatures.event_message(event) for event in events
            if isinstance(event.data.get("signature"), dict) and event.kind != "freeze"}


@needs_ssh
def test_a_report_reads_the_incident_once_and_checks_each_signature_once(workspace, tmp_path, checks):
    cabinet = _signed_incident(workspace, tmp_path)
    app, backend = counted_app(workspace, cabinet.at(7).clock)
    wanted = _signed_messages(app)
    assert len(wanted) == 5
    backend.reads.clear()
    checks.clear()
    data = build_report(app, "1")
    incident_reads = [query for query in backend.reads if query.incident == "1"]
    assert len(incident_reads) == 1 and incident_reads[0].kinds is None
    assert not [query for query in backend.reads if query.draft]
    assert set(checks) == wanted and set(checks.values()) == {1}
    reads = len(backend.reads)
    assert {fmt: bool(render(data, fmt)) for fmt in ("json", "md", "html")} == {"json": True, "md": True,
                                                                              "html": True}
    assert len(backend.reads) == reads and sum(checks.values()) == len(wanted)
    assert data["log"]["ok"] and [d["by"] for d in data["decisions"]] == ["ana", "luis"]
    assert data["corrections"][0]["to"] == "a rival's smear" and data["incident"]["summary"] == "a rival's smear"
    assert [a["proof"] for d in data["drafts"] for a in d["approvals"]] == ["signed (ssh)"]


@needs_ssh
def test_status_reads_the_incident_once_and_checks_each_signature_once(workspace, tmp_path, checks):
    cabinet = _signed_incident(workspace, tmp_path)
    app, backend = counted_app(workspace, cabinet.at(7).clock)
    wanted = _signed_messages(app)
    backend.reads.clear()
    checks.clear()
    status = incident_status(app, "1")
    assert [query.incident for query in backend.reads].count("1") == 1
    assert not [query for query in backend.reads if query.draft]
    assert set(checks) == wanted and set(checks.values()) == {1}
    assert status.frozen is None and status.decision.actor == "luis"
    assert [record.status for record in status.drafts][-1] == "delivered"


@needs_ssh
def test_a_forged_approval_is_checked_once_and_never_counts(workspace, tmp_path, checks):
    from tests.trust_support import forged_signature, rewrite_log

    keys = make_keys(tmp_path / "keys", "ana", "luis", "mallory")
    workspace.write_config(required=2)
    allowed_signers(workspace, keys, "ana", "luis")
    turn_signing_on(workspace)
    cabinet = Cabinet(workspace)
    cabinet.open(2)
    draft = cabinet.at(1).render("--case", "2", "--template", "apology")
    cabinet.ok("approve", draft, "--as", "ana", "--key", str(keys["ana"]))
    digest = json.loads(cabinet.ok("drafts", "show", draft, "--json").output)["draft"]["hash"]
    forged = {"kind": "draft.approved", "actor": "luis", "incident": "1", "draft": draft,
              "data": {"hash": digest, "signature": forged_signature("approve", draft, digest, "luis",
                                                                     keys["mallory"])}}
    rewrite_log(workspace, append=(forged,))
    app, backend = counted_app(workspace, cabinet.at(2).clock)
    checks.clear()
    data = build_report(app, "1")
    (record,) = data["drafts"]
    assert [item["by"] for item in record["approvals"]] == ["ana"] and record["status"] == "awaiting approval"
    assert [item["by"] for item in record["not_counted"]] == ["luis"]
    assert len(checks) == 2 and set(checks.values()) == {1}


def test_status_the_report_and_the_console_page_agree(workspace):
    configure(workspace, free_port())
    path = workspace.path / "config" / "publisher.toml"
    path.write_text(re.sub(r'base_url = "http://localhost:\d+"', 'base_url = "https://console.test"',
                           path.read_text(encoding="utf-8")), encoding="utf-8")
    cabinet = Cabinet(workspace)
    cabinet.open(2, "--source", "https://forum.example.org/t/4411")
    cabinet.at(1).ok("done", "trace-source", "--note", "forum thread")
    first = cabinet.at(2).render("--case", "2", "--template", "apology")
    cabinet.at(3).render("--case", "2", "--template", "update")
    cabinet.at(4).ok("approve", first, "--as", "ana")
    cabinet.at(14)
    status = cabinet.status()
    report = json.loads(cabinet.ok("report", "1", "--format", "json").output)
    console = HttpConsole(workspace, clock=cabinet.clock)
    client = console.login("vera")
    page = unescape(client.get("/incidents/1").text)
    assert [d["status"] for d in report["drafts"]] == [d["status"] for d in status["drafts"]]
    for record in status["drafts"]:
        assert f"<code>{record['id']}</code></a> — {record['status']}" in page
    assert report["checklist"] == status["checklist"]
    for item in status["checklist"]:
        assert f'<li class="{item["state"]}"><strong>{item["state"]}</strong> {item["title"]}' in page
    assert [(row["channel"], row["state"]) for row in report["channels"]] == [
        (row["name"], row["state"]) for row in status["channels"]]
    for row in status["channels"]:
        assert f'<td>{row["name"]}</td><td class="state {row["state"]}">{row["state"]}</td>' in page
    for clock in ("prepared", "published"):
        assert report[clock]["status_verdict"] == status[clock]["verdict"]
        assert report[clock]["done_at"] == status[clock]["done_at"]
    assert report["warnings"] == status["warnings"]
    assert client.get("/incidents/1/report").text == cabinet.ok("report", "1", "--format", "html").output
