"""The outside time witness (RFC 3161): a real TSA (OpenSSL `ts -reply`) on 127.0.0.1
time-stamps the log's head after each approval and delivery; `log verify` and the
report check every token offline; an unreachable TSA never blocks a send."""
from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta, timezone

import pytest

from publisher.log.store import Store
from publisher.workspace.witness import head_message
from tests.channels.case_table import refused_url
from tests.fakes.tsa import TimeStampAuthority, make_authority

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory):
    return make_authority(tmp_path_factory.mktemp("tsa"))


@pytest.fixture
def tsa(authority):
    with TimeStampAuthority(authority) as running:
        yield running


def closed_port_url() -> str:
    return refused_url("/tsr")


def use_witness(workspace, authority, url: str) -> None:
    (workspace.path / "config" / "tsa.pem").write_bytes(authority.bundle())
    workspace.write_config()
    config = workspace.path / "config" / "publisher.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace('path = "var/publisher.db"\n',
                        f'path = "var/publisher.db"\nwitness = "{url}"\nwitness_certificate = "config/tsa.pem"\n', 1)
    config.write_text(text, encoding="utf-8")


def approve_and_send(workspace) -> str:
    workspace.open_incident()
    draft = workspace.render("--case", "2", "--template", "apology")
    result = workspace.run("approve", draft, "--as", "ana")
    assert result.exit_code == 0, result.output
    workspace.last_output = result.output
    return draft


def events(workspace, kind: str) -> list[dict]:
    result = workspace.run("log", "--json")
    return [event for event in json.loads(result.output) if event["kind"] == kind]


def report(workspace) -> dict:
    result = workspace.run("report", "1", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_head_is_witnessed_after_the_approval_and_after_the_delivery(workspace, authority, tsa):
    use_witness(workspace, authority, tsa.url)
    approve_and_send(workspace)
    witnessed = events(workspace, "log.witnessed")
    assert [event["data"]["for"] for event in witnessed] == ["approval", "delivery"]
    kinds = dict(workspace.events())
    covered = [kinds[event["data"]["seq"]] for event in witnessed]
    assert covered[0] == "draft.approved" and covered[1] == "delivery.delivered"
    assert len(events(workspace, "log.witnessed")) == 2
    verified = workspace.run("log", "verify")
    assert verified.exit_code == 0, verified.output
    assert "2 time-stamps" in verified.output

    data = report(workspace)
    prepared, published = data["witness"]["prepared"], data["witness"]["published"]
    assert prepared["witness"]["tsa"] == tsa.url and prepared["witness"]["verified"]
    assert published["witness"]["tsa"] == tsa.url and published["witness"]["row"] >= published["row"]
    markdown = workspace.run("report", "1", "--format", "md").output
    assert "Prepared at " in markdown and "witnessed by 127.0.0.1" in markdown
    assert "Published at " in markdown


def test_an_unreachable_tsa_never_blocks_a_send_and_is_retried_later(workspace, authority, tsa):
    use_witness(workspace, authority, closed_port_url())
    draft = approve_and_send(workspace)
    shown = json.loads(workspace.run("drafts", "show", draft, "--json").output)
    assert shown["status"] == "delivered"
    missed = events(workspace, "log.witness_missed")
    assert [event["data"]["for"] for event in missed] == ["approval", "delivery"]
    assert "could not be reached" in missed[0]["data"]["reason"]
    assert "WARNING: the log's head is not time-stamped yet: the TSA could not be reached" in workspace.last_output
    assert events(workspace, "log.witnessed") == []
    data = report(workspace)
    prepared = data["witness"]["prepared"]
    assert prepared["witness"] is None and "could not be reached" in prepared["witness_note"]
    retry = workspace.run("log", "witness")
    assert retry.exit_code == 1 and "could not be reached" in retry.output
    status = json.loads(workspace.run("status", "1", "--json").output)
    assert any("not time-stamped by the TSA since row" in warning for warning in status[0]["warnings"])

    use_witness(workspace, authority, tsa.url)
    later = workspace.run("log", "witness")
    assert later.exit_code == 0, later.output
    witnessed = events(workspace, "log.witnessed")
    assert len(witnessed) == 1 and witnessed[0]["data"]["for"] == "catch-up"
    data = report(workspace)
    assert data["witness"]["prepared"]["witness"]["verified"] and data["witness"]["published"]["witness"]["verified"]
    assert workspace.run("log", "witness").output.splitlines()[-1].startswith("Nothing to witness")
    status = json.loads(workspace.run("status", "1", "--json").output)
    assert not any("time-stamped" in warning for warning in status[0]["warnings"])


def test_a_tsa_that_never_answers_is_given_up_after_witness_timeout(workspace, authority):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        use_witness(workspace, authority, f"http://127.0.0.1:{silent.getsockname()[1]}/tsr")
        config = workspace.path / "config" / "publisher.toml"
        config.write_text(config.read_text().replace("witness_certificate", "witness_timeout = 0.3\nwitness_certificate"))
        draft = approve_and_send(workspace)
    assert json.loads(workspace.run("drafts", "show", draft, "--json").output)["status"] == "delivered"
    assert "timed out" in events(workspace, "log.witness_missed")[0]["data"]["reason"]


def test_the_next_command_that_writes_retries_a_missing_witness(workspace, authority, tsa):
    use_witness(workspace, authority, closed_port_url())
    approve_and_send(workspace)
    use_witness(workspace, authority, tsa.url)
    assert workspace.run("status", "1").exit_code == 0
    assert events(workspace, "log.witnessed") == []
    opened = workspace.run("incident", "open", "--case", "1", "--first-seen",
                           (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="seconds"))
    assert opened.exit_code == 0, opened.output
    assert [event["data"]["for"] for event in events(workspace, "log.witnessed")] == ["catch-up"]


def test_verify_refuses_a_token_from_an_authority_the_config_does_not_trust(workspace, authority, tsa, tmp_path):
    use_witness(workspace, authority, tsa.url)
    approve_and_send(workspace)
    stranger = make_authority(tmp_path / "stranger", "Stranger TSA")
    with TimeStampAuthority(stranger) as other:
        store = Store(workspace.path / "var" / "publisher.db")
        seq, digest = store.head()
        from publisher.workspace.config import WitnessSettings
        from publisher.workspace.witness import Trust, request_token

        (tmp_path / "stranger.pem").write_bytes(stranger.bundle())
        settings = WitnessSettings(other.url, tmp_path / "stranger.pem", "stranger.pem")
        reply, moment = request_token(settings, Trust(settings), head_message(seq, digest))
        import base64

        forged = store.append("log.witnessed", data={"seq": seq, "hash": digest, "tsa": tsa.url, "for": "approval",
                                                     "time": moment.isoformat(), "token": base64.b64encode(reply).decode()})
        store.close()
    result = workspace.run("log", "verify")
    assert result.exit_code == 1
    assert f"row {forged.seq}" in result.output and "does not verify" in result.output


def test_a_clock_set_back_is_named_by_the_witness(workspace, authority, tsa):
    use_witness(workspace, authority, tsa.url)
    behind = lambda: datetime.now(timezone.utc) - timedelta(hours=55)  # noqa: E731
    first_seen = (datetime.now(timezone.utc) - timedelta(hours=60)).isoformat(timespec="seconds")
    opened = workspace.run("incident", "open", "--case", "2", "--first-seen", first_seen, "--summary", "an outage",
                           "--what", "the outage",
                           clock=behind)
    assert opened.exit_code == 0, opened.output
    draft = workspace.render("--case", "2", "--template", "apology", clock=behind)
    assert workspace.run("approve", draft, "--as", "ana", clock=behind).exit_code == 0
    result = workspace.run("log", "verify", clock=behind)
    assert result.exit_code == 1
    assert "the local clock was 55 h" in result.output and "behind the TSA's time" in result.output


def test_a_witness_without_its_certificate_file_is_a_config_error(workspace, authority, tsa):
    use_witness(workspace, authority, tsa.url)
    (workspace.path / "config" / "tsa.pem").unlink()
    result = workspace.run("status")
    assert result.exit_code == 2
    assert "witness_certificate" in result.output and "config/tsa.pem does not exist" in result.output


def test_a_witness_that_is_not_an_http_url_is_a_config_error(workspace, authority):
    use_witness(workspace, authority, "ftp://tsa.example/")
    result = workspace.run("status")
    assert result.exit_code == 2 and "[store] witness" in result.output


def test_the_report_flags_a_delivery_whose_platform_time_is_far_from_the_local_time(workspace):
    """The cabinet's clock says 20 November; the site and the outbox stamp their files with
    the real time: the report compares both for every delivery and flags the gap."""
    from tests.test_cases_flow import Cabinet

    cabinet = Cabinet(workspace)
    cabinet.open(2)
    draft = cabinet.at(2).render("--case", "2", "--template", "apology")
    cabinet.at(3).ok("approve", draft, "--as", "ana")
    checks = json.loads(cabinet.ok("report", "1", "--format", "json").output)["clock_checks"]
    assert {item["channel"] for item in checks} == {"web", "outbox"}
    assert all(item["flagged"] and item["difference_seconds"] < -300 for item in checks)
    assert "over 5 min: FLAGGED" in cabinet.ok("report", "1", "--format", "md").output

    workspace.write_config()
    (workspace.path / "var").rename(workspace.path / "old")
    approve_and_send(workspace)
    checks = report(workspace)["clock_checks"]
    assert checks and not any(item["flagged"] for item in checks)


def test_without_a_key_a_whole_chain_rewrite_is_caught_by_the_time_stamps(workspace, authority, tsa):
    """The limit tests/test_tamper.py pins (no hmac_key: a rewritten chain verifies) no
    longer holds once a TSA has signed the old head: the rewritten row is named."""
    import shutil
    import sqlite3

    from publisher.log.store import GENESIS, canonical, chain_hash

    use_witness(workspace, authority, tsa.url)
    approve_and_send(workspace)
    for folder in ("site", "outbox"):
        shutil.rmtree(workspace.path / "var" / folder)
    db = sqlite3.connect(workspace.path / "var" / "publisher.db", isolation_level=None)
    prev = GENESIS
    for seq, body in db.execute("SELECT seq, body FROM events ORDER BY seq").fetchall():
        body = body.replace('"actor":"ana"', '"actor":"luis"')
        digest = chain_hash(prev, body)
        db.execute("UPDATE events SET body = ?, prev = ?, hash = ? WHERE seq = ?", (body, prev, digest, seq))
        prev, last = digest, seq
    db.close()
    head = {"seq": last, "hash": prev, "mac": chain_hash("head", f"{last}:{prev}")}
    (workspace.path / "var" / "publisher.db.head").write_text(canonical(head))
    result = workspace.run("log", "verify")
    assert result.exit_code == 1
    assert "that row is no longer the same" in result.output
