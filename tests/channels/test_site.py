"""The site channel writing a real folder: pages, index, Atom feed, manifest, locking."""
from __future__ import annotations

import json
import multiprocessing
import os
import re
import stat
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlparse

import pytest

from channels.base import Message, Permanent, SettingError
from channels.site import SiteChannel

BASE = "https://acme.example/press/"
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
TITLE = 'Outage update <script>alert(1)</script> & "quotes"'
TEXT = ('We are aware of the outage affecting payments.\n'
        'Engineers are on it <script>alert(1)</script> & "quotes".\n\n'
        'Next update at 14:00 UTC. Café ünïcode.')
T0 = datetime(2024, 5, 1, 9, 30, tzinfo=timezone.utc)


def message(draft_id: str = "a1b2c3d4e5f6", **changes) -> Message:
    fields = dict(draft_id=draft_id, channel="web", parts=(TEXT,), title=TITLE, incident_id="INC-7",
                  template="apology", language="en", case=2, organisation="Acme & Co")
    return Message(**{**fields, **changes})


def site(folder: Path, clock: datetime | None = None, **settings) -> SiteChannel:
    channel = SiteChannel.build("web", {"type": "site", "path": str(folder), "base_url": BASE, **settings})
    if clock is not None:
        channel.clock = lambda: clock
    return channel


def manifest(folder: Path) -> list[dict]:
    return json.loads((folder / "statements.json").read_text(encoding="utf-8"))


def feed(folder: Path) -> ET.Element:
    return ET.parse(folder / "feed.xml").getroot()


def test_send_writes_manifest_page_index_and_feed(tmp_path):
    folder = tmp_path / "site"
    receipt = site(folder, T0).send(message())

    assert receipt.id == "20240501-a1b2c3d4e5f6"
    assert receipt.url == BASE + "statements/20240501-a1b2c3d4e5f6.html"
    assert receipt.platform_time == "2024-05-01T09:30:00+00:00"
    assert manifest(folder) == [{
        "draft": "a1b2c3d4e5f6", "channel": "web", "title": TITLE, "text": TEXT,
        "published": "2024-05-01T09:30:00+00:00", "language": "en", "incident": "INC-7", "case": 2,
        "template": "apology", "slug": "20240501-a1b2c3d4e5f6"}]
    assert sorted(path.name for path in (folder / "statements").iterdir()) == ["20240501-a1b2c3d4e5f6.html"]
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert '<a href="statements/20240501-a1b2c3d4e5f6.html">' in index
    assert "2024-05-01 09:30 UTC" in index and "We are aware of the outage" in index
    for page in ("index.html", "statements/20240501-a1b2c3d4e5f6.html"):
        html = (folder / page).read_text(encoding="utf-8")
        assert '<html lang="en">' in html and '<meta charset="utf-8">' in html and 'name="viewport"' in html
        assert "http" not in html.split("<style>")[1].split("</style>")[0]
    assert "Café ünïcode" in (folder / "statements/20240501-a1b2c3d4e5f6.html").read_text(encoding="utf-8")


def test_index_and_feed_list_newest_first(tmp_path):
    folder = tmp_path / "site"
    site(folder, T0).send(message("older0000001", title="Older statement"))
    site(folder, T0 + timedelta(days=1)).send(message("newer0000002", title="Newer statement"))
    site(folder, T0 + timedelta(days=1)).send(message("newest000003", title="Same second, sent later"))

    index = (folder / "index.html").read_text(encoding="utf-8")
    positions = [index.index(title) for title in ("Same second, sent later", "Newer statement", "Older statement")]
    assert positions == sorted(positions)
    titles = [entry.findtext(f"{ATOM}title") for entry in feed(folder).iter(f"{ATOM}entry")]
    assert titles == ["Same second, sent later", "Newer statement", "Older statement"]
    assert feed(folder).findtext(f"{ATOM}updated") == "2024-05-02T09:30:00+00:00"
    assert sorted(path.name for path in (folder / "statements").iterdir()) == [
        "20240501-older0000001.html", "20240502-newer0000002.html", "20240502-newest000003.html"]


def test_resend_is_idempotent(tmp_path):
    folder = tmp_path / "site"
    first = site(folder, T0).send(message())
    again = site(folder, T0 + timedelta(hours=5)).send(message())

    assert again == first
    assert len(manifest(folder)) == 1
    assert len(feed(folder).findall(f"{ATOM}entry")) == 1
    assert (folder / "index.html").read_text(encoding="utf-8").count("<article") == 1


def test_resend_rebuilds_missing_files(tmp_path):
    folder = tmp_path / "site"
    channel = site(folder, T0)
    receipt = channel.send(message())
    (folder / "index.html").unlink()
    (folder / "statements" / f"{receipt.id}.html").unlink()

    assert channel.send(message()) == receipt
    assert (folder / "index.html").exists() and (folder / "statements" / f"{receipt.id}.html").exists()


def test_title_and_text_are_escaped_everywhere(tmp_path):
    folder = tmp_path / "site"
    receipt = site(folder, T0).send(message())
    page = (folder / "statements" / f"{receipt.id}.html").read_text(encoding="utf-8")
    index = (folder / "index.html").read_text(encoding="utf-8")
    raw_feed = (folder / "feed.xml").read_text(encoding="utf-8")

    for html in (page, index, raw_feed):
        assert "<script>" not in html and "alert(1)</script>" not in html
    for html in (page, index):
        assert "Outage update &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;" in html
        assert 'Engineers are on it &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;.' in html
    assert "Acme &amp; Co" in raw_feed

    entry = feed(folder).find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == TITLE
    content = entry.findtext(f"{ATOM}content")
    assert "<script>" not in content and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;" in content


def test_paragraphs_and_line_breaks(tmp_path):
    folder = tmp_path / "site"
    receipt = site(folder, T0).send(message(parts=("one\ntwo", "three")))
    page = (folder / "statements" / f"{receipt.id}.html").read_text(encoding="utf-8")

    assert "<p>one<br>\ntwo</p>\n<p>three</p>" in page
    assert feed(folder).find(f"{ATOM}entry").findtext(f"{ATOM}content") == "<p>one<br>\ntwo</p>\n<p>three</p>"


def test_feed_has_every_element_rfc4287_requires(tmp_path):
    folder = tmp_path / "site"
    site(folder, T0).send(message("first0000001", language="es", title="Comunicado"))
    site(folder, T0 + timedelta(minutes=5)).send(message())
    root = feed(folder)

    assert root.tag == f"{ATOM}feed" and root.get(XML_LANG) == "es"
    for element in (root, *root.findall(f"{ATOM}entry")):
        for name in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{name}")) == 1, name
        assert urlparse(element.findtext(f"{ATOM}id")).scheme == "urn"
        assert RFC3339.match(element.findtext(f"{ATOM}updated"))
    assert root.find(f"{ATOM}author").findtext(f"{ATOM}name") == "Acme & Co"
    selves = [link for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert [link.get("href") for link in selves] == [BASE + "feed.xml"]
    assert [link.get("href") for link in root.findall(f"{ATOM}link") if link.get("rel") == "alternate"] == [
        BASE + "index.html"]

    entries = root.findall(f"{ATOM}entry")
    assert [entry.get(XML_LANG) for entry in entries] == ["en", "es"]
    for entry in entries:
        assert RFC3339.match(entry.findtext(f"{ATOM}published"))
        assert entry.find(f"{ATOM}content").get("type") == "html"
        link = entry.find(f"{ATOM}link")
        assert link.get("rel") == "alternate" and link.get("href").startswith(BASE + "statements/")
    assert len({entry.findtext(f"{ATOM}id") for entry in entries}) == 2


def test_without_base_url_links_are_relative_and_receipt_is_a_file_uri(tmp_path):
    folder = tmp_path / "site"
    channel = SiteChannel.build("web", {"type": "site", "path": str(folder)})
    receipt = channel.send(message())
    root = feed(folder)

    assert receipt.url == (folder / "statements" / f"{receipt.id}.html").resolve().as_uri()
    assert [link.get("rel") for link in root.findall(f"{ATOM}link")] == ["alternate"]
    assert root.find(f"{ATOM}entry").find(f"{ATOM}link").get("href") == f"statements/{receipt.id}.html"
    assert urlparse(root.findtext(f"{ATOM}id")).scheme == "urn"
    assert root.findtext(f"{ATOM}title") == "Acme & Co — Statements"
    page = (folder / "statements" / f"{receipt.id}.html").read_text(encoding="utf-8")
    assert 'href="../index.html"' in page


def test_entry_and_feed_ids_are_stable(tmp_path):
    folder = tmp_path / "site"
    site(folder, T0).send(message("first0000001"))
    before = feed(folder)
    ids = {entry.findtext(f"{ATOM}title"): entry.findtext(f"{ATOM}id") for entry in before.iter(f"{ATOM}entry")}
    site(folder, T0 + timedelta(hours=1)).send(message("second000002", title="Second"))
    site(tmp_path / "elsewhere", T0).send(message("first0000001"))
    after = feed(folder)

    assert after.findtext(f"{ATOM}id") == before.findtext(f"{ATOM}id")
    assert {entry.findtext(f"{ATOM}title"): entry.findtext(f"{ATOM}id")
            for entry in after.iter(f"{ATOM}entry")}[TITLE] == ids[TITLE]
    assert feed(tmp_path / "elsewhere").find(f"{ATOM}entry").findtext(f"{ATOM}id") == ids[TITLE]


def test_files_are_0644_and_folders_0755(tmp_path):
    previous = os.umask(0o022)
    try:
        folder = tmp_path / "site"
        receipt = site(folder, T0).send(message())
    finally:
        os.umask(previous)
    for name in ("statements.json", "index.html", "feed.xml", f"statements/{receipt.id}.html"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o644, name
    for path in (folder, folder / "statements"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o755
    assert [path.name for path in folder.rglob(".*") if path.name != ".lock"] == []


@pytest.mark.parametrize("content", ["{not json", '{"draft": "x"}', '[{"draft": "x"}]'])
def test_corrupt_manifest_is_permanent_and_names_the_file(tmp_path, content):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "statements.json").write_text(content, encoding="utf-8")

    with pytest.raises(Permanent) as raised:
        site(folder, T0).send(message())
    assert str(folder / "statements.json") in raised.value.reason
    assert "corrupt" in raised.value.reason
    assert (folder / "statements.json").read_text(encoding="utf-8") == content
    assert not (folder / "index.html").exists()
    with pytest.raises(Permanent):
        site(folder).check()


def test_os_error_is_permanent_with_the_reason(tmp_path):
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    with pytest.raises(Permanent) as raised:
        site(tmp_path / "a-file" / "site", T0).send(message())
    assert "Not a directory" in raised.value.reason and raised.value.__cause__ is None
    with pytest.raises(Permanent, match="Not a directory"):
        site(tmp_path / "a-file" / "site").check()


def test_check_creates_the_folder(tmp_path):
    folder = tmp_path / "deep" / "site"
    assert site(folder).check() == f"{folder} is writable"
    assert (folder / "statements").is_dir()


def test_settings(tmp_path):
    channel = site(tmp_path, base_url="https://acme.example/news", title="Comunicados")
    assert channel.send(message()).url.startswith("https://acme.example/news/statements/")
    assert feed(tmp_path).findtext(f"{ATOM}title") == "Comunicados"
    assert channel.describe()["base_url"] == "https://acme.example/news"
    assert (SiteChannel.type, SiteChannel.variant, SiteChannel.max_length, SiteChannel.overflow,
            SiteChannel.idempotent) == ("site", "long", None, "reject", True)
    with pytest.raises(SettingError) as raised:
        site(tmp_path, base_url="acme.example/news")
    assert raised.value.key == "base_url"


def publish_many(folder: str, drafts: list[str], barrier) -> None:
    channel = SiteChannel.build("web", {"type": "site", "path": folder, "base_url": BASE})
    barrier.wait()
    for draft in drafts:
        channel.send(message(draft, title=f"Statement {draft}"))


def test_concurrent_processes_keep_every_statement(tmp_path):
    folder = tmp_path / "site"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    batches = [[f"proc{worker}draft{number}" for number in range(6)] for worker in range(3)]
    workers = [context.Process(target=publish_many, args=(str(folder), batch, barrier)) for batch in batches]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]

    expected = sorted(draft for batch in batches for draft in batch)
    assert sorted(entry["draft"] for entry in manifest(folder)) == expected
    assert len(feed(folder).findall(f"{ATOM}entry")) == len(expected)
    assert (folder / "index.html").read_text(encoding="utf-8").count("<article") == len(expected)
    assert len(list((folder / "statements").iterdir())) == len(expected)


def test_the_default_title_follows_the_statement_language(tmp_path):
    folder = tmp_path / "site"
    SiteChannel.build("web", {"type": "site", "path": str(folder)}).send(message(language="es"))
    assert feed(folder).findtext(f"{ATOM}title") == "Acme & Co — Comunicados"
    titled = tmp_path / "titled"
    SiteChannel.build("web", {"type": "site", "path": str(titled), "title": "Sala de prensa"}).send(message())
    assert feed(titled).findtext(f"{ATOM}title") == "Sala de prensa"


def test_each_statement_keeps_its_language_and_an_english_one_never_retitles_the_spanish_pages(tmp_path):
    folder = tmp_path / "site"
    spanish = site(folder, T0).send(message("es0000000001", language="es", title="Comunicado"))
    english = site(folder, T0 + timedelta(minutes=5)).send(message("en0000000001", language="en"))
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert '<html lang="es">' in index and "<title>Acme &amp; Co — Comunicados</title>" in index
    assert feed(folder).get(XML_LANG) == "es" and feed(folder).findtext(f"{ATOM}title") == "Acme & Co — Comunicados"
    es_page = (folder / "statements" / f"{spanish.id}.html").read_text(encoding="utf-8")
    en_page = (folder / "statements" / f"{english.id}.html").read_text(encoding="utf-8")
    assert '<html lang="es">' in es_page and "Comunicado — Acme &amp; Co — Comunicados</title>" in es_page
    assert '<html lang="en">' in en_page and "— Acme &amp; Co — Statements</title>" in en_page
    langs = {entry.findtext(f"{ATOM}title"): entry.get(XML_LANG) for entry in feed(folder).findall(f"{ATOM}entry")}
    assert langs == {"Comunicado": "es", TITLE: "en"}


def test_the_site_language_can_be_set_and_the_feed_names_itself(tmp_path):
    folder = tmp_path / "site"
    site(folder, T0, language="en").send(message(language="es", title="Comunicado"))
    assert '<html lang="en">' in (folder / "index.html").read_text(encoding="utf-8")
    selves = [link.get("href") for link in feed(folder).findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert selves == [BASE + "feed.xml"]
    unserved = tmp_path / "unserved"
    SiteChannel.build("web", {"type": "site", "path": str(unserved)}).send(message())
    assert [link for link in feed(unserved).findall(f"{ATOM}link") if link.get("rel") == "self"] == []
