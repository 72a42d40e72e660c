"""Real-looking feed documents and a loopback server that serves them like a news site
or a blog does: RSS 2.0 and Atom 1.0, declared encodings, ETag/Last-Modified with 304,
a 429 with Retry-After, a broken date and an HTML page where a feed was expected."""
from __future__ import annotations

from email.utils import formatdate

from tests.fakes.server import FakeServer, Reply, Request

RSS = """<?xml version="1.0" encoding="{encoding}"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Noticias de la mañana</title>
  <link>https://news.example/</link>
  <description>Búsqueda: acme</description>
  <language>es-es</language>
  {items}
</channel>
</rss>
"""
RSS_ITEM = """<item>
    <title>{title}</title>
    <link>https://news.example/{slug}</link>
    <guid isPermaLink="false">{guid}</guid>
    <pubDate>{date}</pubDate>
    <dc:creator>{author}</dc:creator>
    <description><![CDATA[{body}]]></description>
  </item>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>El blog de Lucía</title>
  <link href="https://blog.example/"/>
  <updated>2026-12-05T10:00:00Z</updated>
  <id>tag:blog.example,2026:feed</id>
  {entries}
</feed>
"""
ATOM_ENTRY = """<entry>
    <title type="html">{title}</title>
    <link rel="alternate" href="https://blog.example/{slug}"/>
    <id>tag:blog.example,2026:{slug}</id>
    <published>{published}</published>
    <updated>{published}</updated>
    <author><name>{author}</name></author>
    <content type="html">{content}</content>
  </entry>"""


def rss(items: list[dict[str, str]], encoding: str = "utf-8") -> bytes:
    body = "\n  ".join(RSS_ITEM.format(**{"author": "Redacción", **item}) for item in items)
    return RSS.format(encoding=encoding, items=body).encode(encoding, errors="xmlcharrefreplace")


def atom(entries: list[dict[str, str]]) -> bytes:
    return ATOM.format(entries="\n  ".join(ATOM_ENTRY.format(**entry) for entry in entries)).encode()


class FeedSite(FakeServer):
    """Serves `documents[path] = (bytes, content_type)` with an ETag and honours If-None-Match."""

    def __init__(self) -> None:
        self.documents: dict[str, tuple[bytes, str]] = {}
        super().__init__(self._answer)

    def put(self, path: str, body: bytes, content_type: str = "application/rss+xml; charset=utf-8") -> str:
        self.documents[path] = (body, content_type)
        return self.url + path

    def _answer(self, request: Request) -> Reply:
        found = self.documents.get(request.path)
        if found is None:
            return Reply(404, "<html><body>Not Found</body></html>", {"Content-Type": "text/html"})
        body, content_type = found
        etag = '"%x"' % (hash(body) & 0xFFFFFFFF)
        if request.header("If-None-Match") == etag:
            return Reply(304, b"", {"ETag": etag})
        return Reply(200, body, {"Content-Type": content_type, "ETag": etag,
                                 "Last-Modified": formatdate(usegmt=True)})
