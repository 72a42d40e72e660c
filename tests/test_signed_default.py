"""Signed by default (issue 21 item 3, attack 3): `publish init` makes or finds the
person's SSH key and enrols it, so approvals are signed from the first one; only a
practice workspace may leave signing off, and it says so first in every output."""
from __future__ import annotations

import json
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.trust_support import turn_signing_on

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (OpenSSH) is not installed")


def _fingerprint(key: Path) -> str:
    return subprocess.run(["ssh-keygen", "-lf", f"{key}.pub"], capture_output=True, text=True,
                          check=True).stdout.split()[1]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A person's own HOME with no SSH key and an empty config folder."""
    monkeypatch.delenv("PUBLISH_SSH_KEY", raising=False)

    def person(name: str) -> dict[str, str]:
        folder = tmp_path / f"home-{name}"
        folder.mkdir(exist_ok=True)
        return {"HOME": str(folder), "XDG_CONFIG_HOME": str(folder / "xdg"), "PUBLISH_LANG": "en"}
    return person


def _draft(ws, env: dict[str, str]) -> str:
    """Open a case 2 incident and render its apology, as marta."""
    opened = ws.run("incident", "open", "--case", "2", "--first-seen", "2026-01-01T00:00:00Z", "--confirm",
                    "--summary", "card payments fail", "--what", "la caída de los pagos con tarjeta", env=env)
    assert opened.exit_code == 0, opened.output
    result = ws.run("--case", "2", "--template", "apology", "--json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["draft"]["id"]


def test_init_makes_a_key_in_the_config_folder_enrols_it_and_the_approval_is_signed(workspace, home, tmp_path):
    ana = home("ana")
    target = tmp_path / "crisis"
    result = workspace.run("init", str(target), user="ana", env=ana)
    assert result.exit_code == 0, result.output
    key = Path(ana["XDG_CONFIG_HOME"]) / "publish" / "id_ed25519"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert Path(f"{key}.pub").read_text().split()[2] == "ana@publish"
    fingerprint = _fingerprint(key)
    assert f"Made your signing key {key} ({fingerprint})" in result.output
    assert 'signing = "ssh"' in (target / "config" / "publisher.toml").read_text()
    env = {**ana, "PUBLISH_WORKSPACE": str(target), "PUBLISH_LANG": "en"}
    keys = json.loads(workspace.run("keys", "list", "--json", env=env).output)
    assert [(item["name"], item["fingerprint"]) for item in keys["keys"]] == [("ana", fingerprint)]

    draft = _draft(workspace, env)
    approved = workspace.run("approve", draft, user="ana", env=env)
    assert approved.exit_code == 0, approved.output
    report = json.loads(workspace.run("report", "1", "--format", "json", env=env).output)
    assert "practice" not in report
    assert report["drafts"][0]["approvals"][0]["by"] == "ana"
    assert report["drafts"][0]["approvals"][0]["proof"] == "signed (ssh)"
    text = workspace.run("report", "1", env=env).output
    assert "approved by ana" in text and "signed (ssh)" in text and "unsigned" not in text
    assert workspace.run("log", "verify", env=env).output.count("every signature") == 1


def test_a_second_init_finds_the_same_key(workspace, home, tmp_path):
    ana = home("ana")
    assert workspace.run("init", str(tmp_path / "one"), user="ana", env=ana).exit_code == 0
    key = Path(ana["XDG_CONFIG_HOME"]) / "publish" / "id_ed25519"
    before = key.read_bytes()
    again = workspace.run("init", str(tmp_path / "two"), user="ana", env=ana)
    assert again.exit_code == 0, again.output
    assert f"Your signing key: {key} ({_fingerprint(key)})." in again.output and "Made" not in again.output
    assert key.read_bytes() == before


def test_init_finds_the_ssh_key_the_person_already_has(workspace, home, tmp_path):
    ana = home("ana")
    own = Path(ana["HOME"]) / ".ssh" / "id_ed25519"
    own.parent.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mine", "-f", str(own)], check=True)
    result = workspace.run("init", str(tmp_path / "crisis"), user="ana", env=ana)
    assert result.exit_code == 0, result.output
    assert f"Your signing key: {own} ({_fingerprint(own)})." in result.output
    assert not (Path(ana["XDG_CONFIG_HOME"]) / "publish").exists()


def test_init_by_someone_who_is_not_an_approver_says_who_can_enrol_the_others(workspace, home, tmp_path):
    result = workspace.run("init", str(tmp_path / "crisis"), user="marta", env=home("marta"))
    assert result.exit_code == 0, result.output
    assert "WARNING: marta is not in [approvals] approvers (ana, luis): only an approver can enrol" in result.output


def test_without_a_signing_line_approvals_must_be_signed(workspace, tmp_path):
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace('signing = "none"\n', "").replace("[workspace]\npractice = true\n",
                                                                                    ""))
    draft = _draft(workspace, {})
    before = workspace.events()
    result = workspace.run("approve", draft, user="ana")
    assert result.exit_code == 2 and "'ana' has no key enrolled in the log" in result.output
    assert workspace.events() == before


def test_signing_none_outside_a_practice_workspace_is_refused_naming_the_line(workspace):
    config = workspace.path / "config" / "publisher.toml"
    text = config.read_text().replace("[workspace]\npractice = true\n", "")
    config.write_text(text)
    line = text.splitlines().index('signing = "none"') + 1
    sentence = (f'config/publisher.toml line {line}: [approvals] signing: "none" is only for a practice workspace '
                "([workspace] practice = true, which `publish init --practice` writes), so remove this line to sign "
                "approvals with SSH keys.")
    for args in (("status",), ("approve", "abc")):
        result = workspace.run(*args)
        assert result.exit_code == 2 and result.output == f"Error: {sentence}\n"
    result = workspace.run("incident", "list", "--json")
    assert result.exit_code == 2 and json.loads(result.output) == {"error": sentence, "exit": 2}
    assert not (workspace.path / "var" / "publisher.db").exists()


def test_an_approval_as_ana_by_marta_is_refused_in_a_signed_workspace(workspace, home, tmp_path):
    ana, marta = home("ana"), home("marta")
    target = tmp_path / "crisis"
    assert workspace.run("init", str(target), user="ana", env=ana).exit_code == 0
    own = Path(marta["XDG_CONFIG_HOME"]) / "publish" / "id_ed25519"
    own.parent.mkdir(parents=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "marta", "-f", str(own)], check=True)
    env = {"PUBLISH_WORKSPACE": str(target), "PUBLISH_LANG": "en"}
    draft = _draft(workspace, {**marta, **env})
    for person in (marta, {**marta, "HOME": str(tmp_path / "nobody"), "XDG_CONFIG_HOME": str(tmp_path / "none")}):
        refused = workspace.run("approve", draft, "--as", "ana", user="marta", env={**person, **env})
        assert refused.exit_code == 2, refused.output
        assert "is not 'ana''s key" in refused.output or "this action must be signed" in refused.output
    log = json.loads(workspace.run("log", "--json", env={**marta, **env}).output)
    assert not [event for event in log if event["kind"] == "draft.approved"]
    assert workspace.run("approve", draft, user="ana", env={**ana, **env}).exit_code == 0


def test_init_practice_writes_the_marker_and_says_so_first(workspace, home, tmp_path):
    ana = home("ana")
    target = tmp_path / "drill"
    result = workspace.run("init", "--practice", str(target), user="ana", env={**ana, "PUBLISH_LANG": "en"})
    assert result.exit_code == 0, result.output
    assert result.output.startswith("PRACTICE: a practice workspace ([workspace] practice = true)")
    text = (target / "config" / "publisher.toml").read_text()
    assert "\n[workspace]\npractice = true" in text and '\nsigning = "none"' in text
    assert not (Path(ana["XDG_CONFIG_HOME"]) / "publish").exists()
    assert not (target / "var" / "publisher.db").exists() or not json.loads(
        workspace.run("keys", "list", "--json", env={"PUBLISH_WORKSPACE": str(target)}).output)["keys"]


FIRST = {"en": "PRACTICE: a practice workspace", "es": "PRÁCTICA: un espacio de práctica"}


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_output_of_a_practice_workspace_says_so_first(workspace, language):
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    env = {"PUBLISH_LANG": language}
    approved = workspace.run("approve", draft, "--as", "ana", env=env)
    assert approved.output.splitlines()[0].startswith(FIRST[language]), approved.output
    assert ("practice" if language == "en" else "práctica") in approved.output.splitlines()[0]
    for args in (("status",), ("status", "1"), ("incident", "list"), ("incident", "show", "1"), ("drafts", "list"),
                 ("drafts", "show", draft), ("log",), ("log", "verify"), ("keys", "list"), ("channels", "list"),
                 ("report", "1"), ("templates", "list"), ("--case", "2", "--template", "update", "--dry-run"),
                 ("done", "trace-source", "--note", "found")):
        result = workspace.run(*args, env=env)
        assert result.exit_code == 0, (args, result.output)
        first = result.output.splitlines()[0]
        assert first.lstrip("*").startswith(FIRST[language]), (args, result.output)
        assert result.output.count(FIRST[language]) == 1, (args, result.output)
    page = workspace.run("report", "1", "--format", "html", env=env).output
    body = page.split("<body><main>", 1)[1]
    assert body.lstrip().startswith('<p class="note void" role="note"><strong>' + FIRST[language])
    for args in (("report", "1", "--format", "json"), ("incident", "show", "1", "--json"),
                 ("drafts", "show", draft, "--json"), ("keys", "list", "--json")):
        data = json.loads(workspace.run(*args, env=env).output)
        assert next(iter(data)) == "practice" and data["practice"] is True, args
    for args in (("status", "--json"), ("drafts", "list", "--json"), ("log", "--json"), ("incident", "list", "--json")):
        rows = json.loads(workspace.run(*args, env=env).output)
        assert rows and all(next(iter(row)) == "practice" and row["practice"] is True for row in rows), args


def test_a_signed_workspace_says_nothing_of_practice(workspace):
    turn_signing_on(workspace)
    workspace.open_incident(case=2)
    for args in (("status",), ("incident", "list"), ("report", "1"), ("report", "1", "--format", "json"),
                 ("status", "--json")):
        result = workspace.run(*args)
        assert result.exit_code == 0 and "practice" not in result.output.lower(), (args, result.output)
