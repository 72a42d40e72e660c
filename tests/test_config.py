"""Config validation: every error names the file, the line or key, and what was expected."""
from __future__ import annotations

import os

import pytest


def test_bad_toml_names_the_line(workspace):
    config = workspace.path / "config" / "publisher.toml"
    config.write_text('[organisation]\nname = "Acme"\n\n[approvals]\nrequired = = 1\n', encoding="utf-8")
    result = workspace.run("incident", "list")
    assert result.exit_code == 2
    assert "config/publisher.toml is not valid TOML" in result.output
    assert "line 5" in result.output


def test_wrong_type_names_file_line_table_and_key(workspace):
    config = workspace.path / "config" / "publisher.toml"
    text = config.read_text().replace("required = 1", 'required = "two"')
    config.write_text(text)
    result = workspace.run("incident", "list")
    assert result.exit_code == 2
    line = text.splitlines().index('required = "two"') + 1
    assert f"config/publisher.toml line {line}: [approvals] required: expected a whole number" in result.output


def test_unknown_key_lists_the_expected_ones(workspace):
    workspace.write_config(extra='[channels.x2]\ntype = "outbox"\npaht = "var/x"\n')
    result = workspace.run("channels", "list")
    assert result.exit_code == 2
    assert "[channels.x2] paht: unknown key; expected one of" in result.output


def test_unknown_channel_type(workspace):
    workspace.write_config(extra='[channels.fax]\ntype = "fax"\n')
    result = workspace.run("channels", "list")
    assert result.exit_code == 2
    assert "[channels.fax] type: expected one of" in result.output and "'fax'" in result.output


def test_missing_config_says_how_to_create_one(tmp_path, workspace):
    result = workspace.run("incident", "list", env={"PUBLISH_WORKSPACE": str(tmp_path / "empty")})
    assert result.exit_code == 2
    assert "publish init" in result.output


def test_literal_secret_in_config_is_refused(workspace):
    workspace.write_config(extra='[channels.chat]\ntype = "slack"\nwebhook_url = "https://hooks.slack.com/services/T/B/raw"\n')
    result = workspace.run("channels", "list")
    assert result.exit_code == 2
    assert "[channels.chat] webhook_url: is a secret" in result.output
    assert "T/B/raw" not in result.output


def test_missing_secret_says_how_to_set_it(workspace):
    workspace.write_config(extra='[channels.chat]\ntype = "slack"\nwebhook_url = "${SLACK_URL_UNSET}"\n')
    workspace.open_incident()
    result = workspace.run("--case", "2", "--template", "apology", env={"SLACK_URL_UNSET": None})
    assert result.exit_code == 2
    assert "${SLACK_URL_UNSET}" in result.output and "export SLACK_URL_UNSET" in result.output


def test_group_readable_secrets_file_is_refused(workspace):
    workspace.write_config(extra='[channels.chat]\ntype = "slack"\nwebhook_url = "${SLACK_URL}"\n')
    workspace.open_incident()
    secrets = workspace.path / "config" / "secrets.toml"
    secrets.write_text('SLACK_URL = "https://hooks.slack.com/services/T/B/secret"\n')
    os.chmod(secrets, 0o640)
    result = workspace.run("--case", "2", "--template", "apology")
    assert result.exit_code == 2
    assert "config/secrets.toml is readable by others (mode 0640)" in result.output
    assert "chmod 600" in result.output


def test_secrets_file_0600_is_used_and_never_printed(workspace):
    workspace.write_config(extra='[channels.chat]\ntype = "slack"\nwebhook_url = "${SLACK_URL}"\nenabled = false\n')
    secrets = workspace.path / "config" / "secrets.toml"
    secrets.write_text('SLACK_URL = "https://hooks.slack.com/services/T/B/CANARY-secret-7f3a"\n')
    os.chmod(secrets, 0o600)
    result = workspace.run("channels", "list", "--json")
    assert result.exit_code == 0
    assert "CANARY-secret-7f3a" not in result.output
    assert "chat" in result.output


def test_approvers_fewer_than_required(workspace):
    workspace.write_config(required=3)
    result = workspace.run("incident", "list")
    assert result.exit_code == 2
    assert "[approvals] approvers: names 2 approver(s) but required = 3" in result.output


def test_unknown_timezone(workspace):
    config = workspace.path / "config" / "publisher.toml"
    config.write_text(config.read_text().replace('language = "en"', 'language = "en"\ntimezone = "Mars/Olympus"'))
    result = workspace.run("incident", "list")
    assert result.exit_code == 2
    assert "[organisation] timezone: unknown time zone 'Mars/Olympus'" in result.output


def _base_url_options():
    from channels.schemas import OPTIONS

    return [(kind, key) for kind, options in OPTIONS.items() for key, option in options.items() if option.url]


@pytest.mark.parametrize("kind, key", _base_url_options())
@pytest.mark.parametrize("bad", ["ftp://api.example.org", "https:///no-host", "api.example.org"])
def test_every_base_url_option_must_be_an_http_url(kind, key, bad):
    """One check for every channel's base URLs (api_url, instance, homeserver, oauth_url)."""
    from channels.options import COMMON_OPTIONS, SettingError, validate_settings
    from channels.schemas import OPTIONS

    options = {**COMMON_OPTIONS, **OPTIONS[kind]}
    raw = {name: _example(option) for name, option in options.items() if option.required}
    raw.update({"type": kind, key: bad})
    with pytest.raises(SettingError) as refused:
        validate_settings(options, raw)
    assert str(refused.value).startswith(f"{key}: an http(s) URL like http")
    assert repr(bad) in str(refused.value)


def _example(option):
    kinds = option.kind if isinstance(option.kind, tuple) else (option.kind,)
    return "https://ok.example" if str in kinds else (["x"] if list in kinds else 1)


def test_a_channels_base_url_that_is_not_http_is_one_sentence(workspace):
    workspace.write_config(extra='[channels.masto]\ntype = "mastodon"\ninstance = "mastodon.social"\n'
                                 'token = "${MASTODON_TOKEN}"\n')
    result = workspace.run("channels", "list", env={"MASTODON_TOKEN": "t"})
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "[channels.masto] instance: an http(s) URL like https://mastodon.social, got 'mastodon.social'" \
        in result.output
