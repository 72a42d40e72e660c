"""`publish channels list|check`, a draft and its delivery for an Instagram channel, through
the real CLI against the fake Instagram Graph API (tests/fakes/instagram_graph.py)."""
from __future__ import annotations

import json

import pytest

from channels.cards import CardError, font_file
from tests.channels.case_table import fake_fixtures
from tests.fakes.instagram_graph import FakeInstagram

pytestmark = pytest.mark.servers
try:
    font_file()
except CardError as missing:
    pytest.skip(f"{missing} (make fonts installs it)", allow_module_level=True)

CANARY = "CANARY-ig-cli-2e9d41"
USER = "17841400000000001"
PUBLIC = "https://acme.example/statements/"

server, fake = fake_fixtures(lambda: FakeInstagram(user_id=USER, token=CANARY))


def configure(workspace, fake, base_url: str | None = PUBLIC, site: str = "web") -> None:
    config = workspace.path / "config" / "publisher.toml"
    workspace.write_config(extra=f'[channels.instagram]\ntype = "instagram"\nuser_id = "{USER}"\n'
                                 f'token = "${{INSTAGRAM_TOKEN}}"\napi_url = "{fake.url}"\nsite = "{site}"\n'
                                 'poll_every = 0\n')
    if base_url:
        text = config.read_text()
        config.write_text(text.replace('path = "var/site"\n', f'path = "var/site"\nbase_url = "{base_url}"\n', 1))


def rows(output: str) -> list[dict]:
    """The JSON list a command printed (an error object may follow it, from stderr)."""
    return json.JSONDecoder().raw_decode(output)[0]


def run(workspace, *args, **kwargs):
    return workspace.run(*args, env={"INSTAGRAM_TOKEN": CANARY}, **kwargs)


def test_channels_list_shows_instagram_with_its_token_masked(workspace, fake):
    configure(workspace, fake)
    result = run(workspace, "channels", "list", "--json")
    assert result.exit_code == 0, result.output
    row = next(row for row in rows(result.output) if row["name"] == "instagram")
    assert row["type"] == "instagram" and row["max_length"] == 2200 and row["settings"]["token"] == "****"
    assert CANARY not in result.output


def test_channels_check_reports_the_quota(workspace, fake):
    configure(workspace, fake)
    fake.quota_usage, fake.quota_total = 12, 100
    result = run(workspace, "channels", "check", "--json")
    row = next(row for row in rows(result.output) if row["name"] == "instagram")
    assert row["ok"], row
    assert "12 of 100 posts used in the last 24 h" in row["detail"] and CANARY not in result.output


def test_channels_check_without_a_public_url_fails_in_one_sentence(workspace, fake):
    configure(workspace, fake, base_url=None)
    result = run(workspace, "channels", "check", "--json")
    assert result.exit_code == 1
    row = next(row for row in rows(result.output) if row["name"] == "instagram")
    assert not row["ok"] and "[channels.web] has no base_url" in row["detail"]
    assert fake.requests == []


def test_a_site_that_is_not_configured_is_named(workspace, fake):
    configure(workspace, fake, site="statements")
    result = run(workspace, "channels", "check")
    assert "[channels.instagram] site:" in result.output and "'statements'" in result.output


def test_an_approved_statement_goes_out_as_a_card(workspace, fake):
    configure(workspace, fake)
    workspace.open_incident()
    draft = workspace.render("--case", "2", "--template", "apology", "--channel", "instagram", "--channel", "web",
                             env={"INSTAGRAM_TOKEN": CANARY})
    result = run(workspace, "approve", draft, "--as", "ana", user="ana")
    assert result.exit_code == 0, result.output
    [media] = fake.published()
    cards = media["images"]
    shown = " ".join(card["alt_text"] for card in cards)
    assert shown.split() == media["caption"].split() and len(media["caption"]) > 40
    for number, card in enumerate(cards, start=1):
        assert card["image_url"].startswith(PUBLIC + "cards/") and card["image_url"].endswith(f"-{number}.jpg")
        name = card["image_url"].rsplit("/", 1)[-1]
        assert (workspace.path / "var" / "site" / "cards" / name).read_bytes()[:3] == b"\xff\xd8\xff"
    assert CANARY not in result.output


def test_a_lost_publish_answer_is_unknown_and_confirmed_by_looking_the_post_up(workspace, fake):
    configure(workspace, fake)
    workspace.open_incident()
    draft = workspace.render("--case", "2", "--template", "apology", "--channel", "instagram",
                             env={"INSTAGRAM_TOKEN": CANARY})
    fake.cut_publish = True
    result = run(workspace, "approve", draft, "--as", "ana", user="ana")
    assert result.exit_code == 1 and "cut off" in result.output, result.output
    [media] = fake.published()
    creates = sum(1 for r in fake.requests if r.path.endswith("/media_publish"))
    assert creates == 1
    result = run(workspace, "confirm", draft, "instagram", "--url", "https://www.instagram.com/p/Cnothere1/",
                 "--as", "ana", user="ana")
    assert result.exit_code == 2 and "has no post" in result.output
    result = run(workspace, "confirm", draft, "instagram", "--url", media["permalink"], "--as", "ana", user="ana")
    assert result.exit_code == 0, result.output
    assert sum(1 for r in fake.requests if r.path.endswith("/media_publish")) == 1
    assert CANARY not in result.output
