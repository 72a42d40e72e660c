"""InstagramChannel through channels/http.py against a fake Instagram Graph API on loopback
(tests/fakes/instagram_graph.py names the documentation page of every answer)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from channels.cards import CardError, font_file
from channels.base import Message, Permanent, Receipt, Retryable, SettingError
from channels.instagram import InstagramChannel
from channels.site import SiteChannel
from tests.channels import case_table
from tests.channels.case_table import assert_loads_no_sdk, fake_fixtures, refused_url, replay, run_case
from tests.fakes.instagram_graph import FakeInstagram
from tests.fakes.server import Reply

pytestmark = pytest.mark.servers
try:
    font_file()
except CardError as missing:
    pytest.skip(f"{missing} (make fonts installs it)", allow_module_level=True)

CANARY = "CANARY-instagram-4b5c6d"
USER = "17841400000000001"
TEXT = "Hemos restablecido los pagos con tarjeta en todas las tiendas. Gracias por vuestra paciencia."
PUBLIC = "https://acme.example/comunicados/"
LONG = " ".join(["Seguimos revisando cada operación afectada y os iremos informando aquí mismo."] * 24)

server, fake = fake_fixtures(lambda: FakeInstagram(user_id=USER, token=CANARY))


FOLDERS: dict[str, Path] = {}


@pytest.fixture(autouse=True)
def site_folder(tmp_path):
    FOLDERS["site"] = tmp_path / "site"
    return FOLDERS["site"]


def site() -> Path:
    return FOLDERS["site"]


def build(fake, secrets=frozenset({CANARY}), **overrides) -> InstagramChannel:
    base_url = overrides.pop("base_url", PUBLIC)
    raw = {"type": "instagram", "user_id": USER, "token": CANARY, "api_url": fake.url, "timeout": 2,
           "poll_every": 0, **overrides}
    channel = InstagramChannel.build("instagram", raw, secrets=secrets)
    serving = {"type": "site", "path": str(site())} | ({"base_url": base_url} if base_url else {})
    channel.attach("site", SiteChannel.build("web", serving))
    channel.sleep = lambda seconds: None
    return channel


def message(*parts: str) -> Message:
    return Message(draft_id="d-7f3a", channel="instagram", parts=parts or (TEXT,), title="Pagos",
                   incident_id="inc-1", template="resolution", language="es", case=2, organisation="Acme")


def creating(fake) -> list:
    return [r for r in fake.requests if r.method == "POST" and r.path.endswith("/media")]


def rate_limit(code: int, text: str) -> Reply:
    return FakeInstagram.error(400, code, text, is_transient=True, headers=FakeInstagram.usage(7))


@dataclass
class Case(case_table.Case):
    message: Message = field(default_factory=message)


def check_single_post(receipt, fake):
    media = fake.published()[0]
    container = media["images"][0]
    assert media["caption"] == TEXT and container["alt_text"] == TEXT
    assert container["image_url"] == PUBLIC + "cards/d-7f3a-1.jpg"
    assert (site() / "cards" / "d-7f3a-1.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    assert receipt.extra["cards"] == [PUBLIC + "cards/d-7f3a-1.jpg"]


def check_carousel(receipt, fake):
    media = fake.published()[0]
    assert media["media_type"] == "CAROUSEL_ALBUM" and media["caption"] == LONG
    alts = [image["alt_text"] for image in media["images"]]
    assert len(alts) >= 2 and " ".join(alts) == LONG
    assert all(image["is_carousel_item"] == "true" for image in media["images"])
    assert [image["image_url"] for image in media["images"]] == receipt.extra["cards"]


def expired_token(fake):
    fake.token = "another"


# quota, create, status, publish, permalink
CASES = [
    pytest.param(Case(requests=5, check=check_single_post,
                      receipt_fields={"platform_time": "2026-12-05T10:00:00+00:00"}), id="image-post"),
    pytest.param(Case(message=message(LONG), requests=1 + 2 * 4 + 2 + 2, check=check_carousel), id="carousel"),
    pytest.param(Case(prepare=lambda fake: setattr(fake, "statuses", ["IN_PROGRESS", "IN_PROGRESS"]),
                      requests=7, receipt_fields={"url": "https://www.instagram.com/p/C00000002xYz/"}),
                 id="waits-for-finished"),
    pytest.param(Case(prepare=lambda fake: setattr(fake, "statuses", ["IN_PROGRESS"] * 5), settings={"polls": 3},
                      requests=5, error=Retryable, reason="still processing"), id="polling-is-bounded"),
    pytest.param(Case(prepare=lambda fake: setattr(fake, "statuses", ["ERROR"]), requests=3, error=Permanent,
                      reason="container status ERROR: Error: Media download has failed"), id="container-error"),
    pytest.param(Case(prepare=lambda fake: setattr(fake, "statuses", ["EXPIRED"]), requests=3, error=Retryable,
                      reason="expire"), id="container-expired"),
    pytest.param(Case(replies=(rate_limit(4, "(#4) Application request limit reached"),), error=Retryable,
                      reason="rate limiting", retry_after=420), id="rate-limit-4"),
    pytest.param(Case(replies=(None, rate_limit(32, "(#32) Page request limit reached"),), requests=2,
                      error=Retryable, reason="(code 32)", retry_after=420), id="rate-limit-32"),
    pytest.param(Case(replies=(None, FakeInstagram.error(400, 613, "(#613) Calls to this api have exceeded the rate "
                                                                   "limit.", headers=FakeInstagram.usage(0))),
                      requests=2, error=Retryable, reason="(code 613)"), id="rate-limit-613-no-wait"),
    pytest.param(Case(prepare=lambda fake: setattr(fake, "quota_usage", 100), error=Retryable,
                      reason="100 of 100 posts in the last 24 h"), id="quota-read-from-the-api"),
    pytest.param(Case(replies=(None, None, None, FakeInstagram.error(
        400, 9, "Application request limit reached", subcode=2207042,
        error_user_msg="You reached maximum number of posts that is allowed to be published by Content "
                       "Publishing API.")), requests=4, error=Retryable, reason="daily publishing quota"),
                 id="publishing-limit-2207042"),
    pytest.param(Case(prepare=expired_token, error=Permanent, reason="rejected the access token"),
                 id="bad-token-190"),
    pytest.param(Case(replies=(FakeInstagram.error(
        400, 190, "Error validating access token: Session has expired on Friday, 04-Dec-26 10:00:00 PST. The "
                  "current time is Saturday, 05-Dec-26 23:00:00 PST.", subcode=463),), error=Permanent, reason="expired"),
                 id="expired-token-190-463"),
    pytest.param(Case(replies=(None, FakeInstagram.error(400, 10, "(#10) Application does not have permission for "
                                                                  "this action")), requests=2, error=Permanent,
                      reason="lacks a permission"), id="permission-10"),
    pytest.param(Case(replies=(None, FakeInstagram.error(400, 200, "(#200) Permissions error")), requests=2,
                      error=Permanent, reason="lacks a permission"), id="permission-200"),
    pytest.param(Case(replies=(None, FakeInstagram.error(400, -2, "It takes too long to download the media.",
                                                              subcode=2207003)), requests=2, error=Retryable,
                      reason="temporary"), id="download-timeout-2207003"),
    pytest.param(Case(replies=(None, None, None, Reply(200, {"id": "17900000000000009"}, cut_after=8)),
                      requests=4, error=Retryable, reason="cut off", maybe_delivered=True),
                 id="publish-answer-cut-mid-body"),
    pytest.param(Case(replies=(None, Reply(200, {"id": "17900000000000009"}, cut_after=8)), requests=2,
                      error=Retryable, reason="cut off", maybe_delivered=False),
                 id="container-answer-cut-mid-body"),
    pytest.param(Case(replies=(None, None, None, Reply(502, "<html>Bad Gateway</html>")), requests=4,
                      error=Retryable, reason="HTTP 502", maybe_delivered=True), id="publish-502"),
    pytest.param(Case(replies=(None, None, None, None, Reply(500, "oops")), requests=5,
                      receipt_fields={"url": None, "platform_time": None}), id="permalink-unreadable-still-delivered"),
    pytest.param(Case(settings={"api_url": refused_url()}, requests=0, error=Retryable, reason="refused"),
                 id="refused"),
]


@pytest.mark.parametrize("case", CASES)
def test_send(fake, case):
    run_case(fake, case, build)


def test_the_flow_is_the_documented_one(fake):
    build(fake).send(message())
    seen = [(r.method, r.path) for r in fake.requests]
    container, media = "17900000000000001", "17900000000000002"
    assert seen == [("GET", f"/v25.0/{USER}/content_publishing_limit"), ("POST", f"/v25.0/{USER}/media"),
                    ("GET", f"/v25.0/{container}"), ("POST", f"/v25.0/{USER}/media_publish"),
                    ("GET", f"/v25.0/{media}")]
    assert fake.requests[3].form() == {"creation_id": container, "access_token": CANARY}
    assert fake.requests[2].query["fields"] == ["status_code,status"]


def test_no_public_url_refuses_send_and_check_in_one_sentence(fake):
    channel = build(fake, base_url=None)
    for call in (lambda: channel.send(message()), channel.check):
        with pytest.raises(Permanent) as refused:
            call()
        assert refused.value.reason.count(". ") == 0 and "has no base_url" in refused.value.reason
    assert fake.requests == []


def test_check_reports_the_quota_the_api_gives(fake):
    fake.quota_usage, fake.quota_total = 7, 50
    said = build(fake).check()
    assert "@acme" in said and "7 of 50 posts used in the last 24 h" in said and PUBLIC + "cards/" in said
    assert [r.path for r in fake.requests] == [f"/v25.0/{USER}", f"/v25.0/{USER}/content_publishing_limit"]


def test_a_resend_writes_the_same_card_bytes(fake):
    build(fake).send(message())
    first = (site() / "cards" / "d-7f3a-1.jpg").read_bytes()
    fake.reset()
    build(fake).send(message())
    assert (site() / "cards" / "d-7f3a-1.jpg").read_bytes() == first


def test_edit_and_delete_say_instagram_cannot(fake):
    channel = build(fake)
    assert channel.can_edit is False and channel.can_delete is False
    for call in (lambda: channel.edit(Receipt("1"), message()), lambda: channel.delete(Receipt("1"))):
        with pytest.raises(Permanent, match="Instagram's API cannot .* by hand in the Instagram app"):
            call()
    assert fake.requests == []


def test_only_a_site_channel_can_serve_the_cards(fake):
    channel = InstagramChannel.build("instagram", {"type": "instagram", "user_id": USER, "token": CANARY})
    with pytest.raises(SettingError, match="site"):
        channel.attach("site", InstagramChannel.build("other", {"type": "instagram", "user_id": USER,
                                                                "token": CANARY}))


def test_user_id_must_be_numeric():
    with pytest.raises(SettingError, match="user_id"):
        InstagramChannel.build("instagram", {"type": "instagram", "user_id": "@acme", "token": CANARY})


def test_the_token_never_shows(fake, caplog):
    caplog.set_level(logging.DEBUG)
    channel, seen = replay(fake, CASES, build, frozenset({CANARY}), caplog)
    assert CANARY not in channel.describe().values()
    assert not [text for text in seen if CANARY in text]


def test_importing_the_channel_loads_no_sdk_and_no_pillow():
    assert_loads_no_sdk("channels.instagram")
    assert_loads_no_sdk("channels.cards")


def test_cards_live_beside_the_statements_page(fake):
    build(fake).send(message())
    assert sorted(path.relative_to(site()).as_posix() for path in site().rglob("*.jpg")) == \
        ["cards/d-7f3a-1.jpg"]


def test_a_post_is_looked_up_by_its_address_or_its_id(fake):
    channel = build(fake)
    sent = channel.send(message())
    by_address = channel.lookup(sent.url)
    assert (by_address.id, by_address.url, by_address.extra["text"]) == (sent.id, sent.url, TEXT)
    assert channel.lookup(sent.id).extra["text"] == TEXT
    assert channel.lookup("https://www.instagram.com/p/Cnothere1/") is None
    assert channel.lookup("17999999999999999") is None
    with pytest.raises(Permanent, match="cannot tell which Instagram post"):
        channel.lookup("https://example.com/p/abc/")
