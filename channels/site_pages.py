"""HTML pages and the Atom feed of the statements site, rendered from the manifest.

Every value is escaped by a Jinja2 environment with autoescape on; the only markup not
written by the templates is `paragraphs()`, which escapes the text before adding `<p>`
and `<br>`. The feed carries that HTML as escaped text (`type="html"`), so a statement can
never inject a live tag into the index, its page or a feed reader. The HTML pages link to
each other relatively, so the folder works wherever it is served or opened; the feed's
links are absolute when the public `base_url` is known. A statement's page (a meta tag
and its footer) and its feed entry (`<publish:head seq hash>`, namespace
`urn:publish:log`) carry the log's head at its first publication. A withdrawn statement
(its manifest entry's `withdrawn`: at, reason) stays listed: its page, its index entry and
its feed entry show the notice "Withdrawn on <time>: <reason>" in the statement's language
in place of the text; a corrected one says when it was last corrected.
"""
from __future__ import annotations

import re
import uuid
from typing import Any, Callable

from jinja2 import Environment
from markupsafe import Markup, escape

STYLE = """
body{margin:0;font:1.05rem/1.6 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;background:#fafafa}
main{max-width:42rem;margin:0 auto;padding:2rem 1.25rem 4rem}
h1{font-size:1.7rem;line-height:1.25;margin:0 0 .4rem}
h2{font-size:1.2rem;margin:0 0 .2rem}
a{color:#0b57d0}
time,.meta{color:#5f6368;font-size:.9rem}
article{border-top:1px solid #ddd;padding:1.25rem 0}
article p{margin:.4rem 0}
nav{margin-bottom:1.5rem;font-size:.95rem}
@media (prefers-color-scheme:dark){body{background:#121212;color:#e8e8e8}a{color:#8ab4f8}article{border-color:#333}}
"""

HEAD = """<!doctype html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ page_title }}</title>
{% if log_head %}<meta name="publish-log-head" content="{{ log_head }}">
{% endif %}<link rel="alternate" type="application/atom+xml" title="{{ site_title }}" href="{{ feed_href }}">
<style>{{ style }}</style>
</head>
"""

INDEX = HEAD + """<body>
<main>
<h1>{{ site_title }}</h1>
<nav><a href="{{ feed_href }}">Atom feed</a></nav>
{% for entry in entries %}
<article lang="{{ entry.language }}">
<h2><a href="{{ entry.page }}">{{ entry.title }}</a></h2>
<time datetime="{{ entry.published }}">{{ entry.date }}</time>
{% if entry.notice %}<p class="withdrawn"><strong>{{ entry.notice }}</strong></p>
{% else %}<p>{{ entry.excerpt }}</p>
{% endif %}</article>
{% endfor %}
</main>
</body>
</html>
"""

PAGE = HEAD + """<body>
<main>
<nav><a href="{{ index_href }}">{{ site_title }}</a></nav>
<h1>{{ entry.title }}</h1>
<p class="meta"><time datetime="{{ entry.published }}">{{ entry.date }}</time>{% if entry.corrected_note %} · {{ entry.corrected_note }}{% endif %}</p>
{% if entry.notice %}<p class="withdrawn"><strong>{{ entry.notice }}</strong></p>
{% else %}{{ entry.body }}
{% endif %}
{% if log_head %}<footer class="meta">log {{ log_head }}</footer>
{% endif %}</main>
</body>
</html>
"""

FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:publish="urn:publish:log" xml:lang="{{ lang }}">
<id>{{ feed_id }}</id>
<title>{{ site_title }}</title>
<updated>{{ updated }}</updated>
<author><name>{{ author }}</name></author>
{% if self_href %}<link rel="self" type="application/atom+xml" href="{{ self_href }}"/>
{% endif %}<link rel="alternate" type="text/html" href="{{ index_href }}"/>
{% for entry in entries %}
<entry xml:lang="{{ entry.language }}">
<id>{{ entry.id }}</id>
<title type="text">{{ entry.title }}</title>
<updated>{{ entry.updated }}</updated>
<published>{{ entry.published }}</published>
<link rel="alternate" type="text/html" href="{{ entry.href }}"/>
<content type="html">{{ entry.body_html }}</content>
{% if entry.log_seq %}<publish:head seq="{{ entry.log_seq }}" hash="{{ entry.log_hash }}"/>
{% endif %}</entry>
{% endfor %}
</feed>
"""

XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

ENVIRONMENT = Environment(autoescape=True, keep_trailing_newline=True)
TEMPLATES = {name: ENVIRONMENT.from_string(source) for name, source in
             (("index", INDEX), ("page", PAGE), ("feed", FEED))}
ENTRY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:publish:site:statement")


def paragraphs(text: str) -> Markup:
    """Blank-line separated paragraphs as `<p>`, single newlines as `<br>`, all escaped."""
    blocks = [block.strip("\n") for block in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n"))]
    return Markup("\n").join(Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line) for line in block.split("\n")))
                             for block in blocks if block.strip())


def excerpt(text: str, limit: int = 280) -> str:
    """The first paragraph on one line, cut at `limit` characters."""
    first = " ".join(re.split(r"\n[ \t]*\n", text.strip())[0].split())
    return first if len(first) <= limit else first[:limit - 1].rstrip() + "…"


def xml_text(document: str) -> str:
    """`document` with every character XML 1.0 forbids replaced by U+FFFD: a control
    character from a template or an old manifest never makes the feed unreadable."""
    return XML_FORBIDDEN.sub("\ufffd", document)


def entry_id(draft: str) -> str:
    return f"urn:uuid:{uuid.uuid5(ENTRY_NAMESPACE, draft)}"


def feed_id(location: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, location)}"


def newest_first(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = sorted(enumerate(entries), key=lambda pair: (pair[1]["published"], pair[0]), reverse=True)
    return [entry for _, entry in order]


WITHDRAWN = {"es": "Retirado el {at}. Motivo: {reason}", "en": "Withdrawn on {at}. Reason: {reason}"}
CORRECTED = {"es": "Corregido el {at}", "en": "Corrected on {at}"}


def shown_time(moment: str) -> str:
    return moment[:16].replace("T", " ") + " UTC"


def notices(entry: dict[str, Any]) -> dict[str, Any]:
    """The withdrawal notice and the correction note of a manifest entry, in its language,
    and the time its feed entry was last updated."""
    language = "es" if entry.get("language") == "es" else "en"
    withdrawn = entry.get("withdrawn") if isinstance(entry.get("withdrawn"), dict) else None
    corrected = [str(moment) for moment in entry.get("corrected") or []]
    notice = WITHDRAWN[language].format(at=shown_time(str(withdrawn.get("at") or "")),
                                        reason=withdrawn.get("reason") or "-") if withdrawn else None
    note = CORRECTED[language].format(at=shown_time(corrected[-1])) if corrected else None
    updated = max([entry["published"], *corrected, *([str(withdrawn["at"])] if withdrawn else [])])
    return {"notice": notice, "corrected_note": note, "updated": updated}


def render_site(entries: list[dict[str, Any]], *, title_for: Callable[[str], str], language: str, author: str,
                base_url: str | None, location: str) -> dict[str, str]:
    """Every file of the site as {relative path: content}; `entries` (from the manifest)
    must not be empty. The index and the feed are in `language`, titled `title_for(language)`;
    each statement's page in the statement's own language and title."""
    prefix = base_url or ""
    shown = []
    for entry in newest_first(entries):
        page = f"statements/{entry['slug']}.html"
        marks = notices(entry)
        text = marks["notice"] or entry["text"]
        shown.append({**entry, **marks, "href": prefix + page, "page": page, "id": entry_id(entry["draft"]),
                      "date": shown_time(entry["published"]),
                      "excerpt": excerpt(text), "body": paragraphs(text), "body_html": str(paragraphs(text))})
    site_title = title_for(language)
    common = {"site_title": site_title, "style": Markup(STYLE.strip()), "lang": language}
    files = {
        "index.html": TEMPLATES["index"].render(common, page_title=site_title, entries=shown, feed_href="feed.xml"),
        "feed.xml": xml_text(TEMPLATES["feed"].render(
            common, entries=shown, feed_id=feed_id(base_url or location), author=author or site_title,
            updated=max(entry["updated"] for entry in shown),
            self_href=base_url and base_url + "feed.xml", index_href=prefix + "index.html")),
    }
    for entry in shown:
        own_title = title_for(entry["language"])
        files[entry["page"]] = TEMPLATES["page"].render(
            common, site_title=own_title, lang=entry["language"], page_title=f"{entry['title']} — {own_title}",
            entry=entry,
            log_head=f"{entry['log_seq']} {entry['log_hash']}" if entry.get("log_seq") else None,
            index_href="../index.html", feed_href="../feed.xml")
    return files
