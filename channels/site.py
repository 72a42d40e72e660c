"""Site: the company's own statements page, a folder of static HTML and an Atom feed.

- `<path>/statements.json` records each draft once, with the time of its first
  publication. Sending the same draft again adds nothing and answers with the same
  receipt (id = slug, URL, first publication time): the site is idempotent by name.
- Every send regenerates `index.html` (newest first), `feed.xml` (Atom, RFC 4287) and
  the statement pages from the manifest, so a retry after a crash completes whatever
  was missing. Files are written atomically: a reader sees the old site or the new one.
- Processes publishing to the same folder take turns: reading, changing and rewriting
  run under an exclusive `flock` on `<path>/.lock`.
- Languages: each statement's page carries its own language (`lang`, title); the index
  and the feed keep the site's language (`language`, else the first statement's), so an
  English statement never retitles the Spanish pages.
- Every title and text is escaped (see `channels.site_pages`).
- Each statement records the log's head (sequence number, hash) when it was first
  published; its page and its feed entry carry it, a witness of the log kept outside it
  (`log_heads()` reads them back).
- A correction (`edit`) replaces the statement's text and records when
  (`corrected`); a withdrawal (`delete`) keeps the statement listed with a notice
  saying when and why it was withdrawn (`withdrawn`: at, reason) in place of its text,
  on its page, the index and the feed: never a silent removal. Both are idempotent.
- A corrupt manifest or a file system error raises `Permanent` naming the file, and
  nothing is overwritten.
- The files depend only on the manifest and the channel's settings, never on where the
  folder is: `rebuild()` writes the whole site from entries read elsewhere (the shared
  log, `publisher.delivery.site_build`), so every machine of a cabinet serves the same bytes.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from channels.base import Channel, Message, Permanent, Receipt, SettingError, Sighting, write_atomically
from channels.schemas import OPTIONS

MANIFEST = "statements.json"
FIELDS = frozenset({"draft", "title", "text", "published", "language", "slug"})


class SiteChannel(Channel):
    type = "site"
    variant = "long"
    max_length = None
    overflow = "reject"
    idempotent = True
    options = OPTIONS["site"]

    def __init__(self, name, settings, secrets=frozenset()):
        super().__init__(name, settings, secrets)
        self.folder = Path(self.settings["path"])
        self.title = self.settings.get("title")
        self.language = self.settings.get("language")
        base_url = self.settings.get("base_url")
        if base_url is not None and not re.match(r"^https?://[^/?#]+", base_url):
            raise SettingError("base_url", f"expected an absolute http(s) URL, got {base_url!r}")
        self.base_url = base_url if base_url is None or base_url.endswith("/") else base_url + "/"
        self.clock = lambda: datetime.now(timezone.utc)

    def send(self, message: Message) -> Receipt:
        def add(entries: list[dict[str, Any]]) -> dict[str, Any]:
            entry = next((entry for entry in entries if entry["draft"] == message.draft_id), None)
            if entry is None:
                entry = self._entry(message)
                entries.append(entry)
            return entry

        return self._receipt(self._change(add, message.organisation))

    can_edit = True
    can_delete = True

    def edit(self, receipt: Receipt, message: Message) -> Receipt:
        def correct(entries: list[dict[str, Any]]) -> dict[str, Any]:
            entry = self._named(entries, receipt)
            if entry["text"] != message.text:
                entry["text"] = message.text
                entry["title"] = message.title.strip() or entry["title"]
                entry.setdefault("corrected", []).append(self._now())
            return entry

        entry = self._change(correct, message.organisation)
        found = self._receipt(entry)
        return Receipt(found.id, found.url, (entry.get("corrected") or [found.platform_time])[-1])

    def delete(self, receipt: Receipt) -> str | None:
        """Withdraw the statement: its page, the index and the feed keep a notice with the
        time and the reason (`receipt.extra["reason"]`; `extra["organisation"]` titles the
        pages as a send does) instead of the text; never a
        silent removal. A statement already withdrawn keeps its first notice."""
        def withdraw(entries: list[dict[str, Any]]) -> dict[str, Any]:
            entry = self._named(entries, receipt)
            if not entry.get("withdrawn"):
                entry["withdrawn"] = {"at": self._now(), "reason": str((receipt.extra or {}).get("reason") or "")}
            return entry

        return str(self._change(withdraw, str((receipt.extra or {}).get("organisation") or ""))["withdrawn"]["at"])

    def _change(self, change: Callable[[list[dict[str, Any]]], dict[str, Any]], organisation: str) -> dict[str, Any]:
        """Under the folder's lock: load the manifest, apply `change` (which returns the
        entry it touched), write the manifest back when it changed, render every page."""
        try:
            with self._locked():
                entries = self._load()
                entry = change(entries)
                self._write_all(self.folder, entries, organisation)
        except OSError as error:
            raise Permanent(f"cannot write the site in {error.filename or self.folder}: {error.strerror}") from None
        return entry

    def rebuild(self, entries_for: Callable[[list[dict[str, Any]]], list[dict[str, Any]]], organisation: str,
                folder: Path | None = None) -> list[dict[str, Any]]:
        """Write the whole site into `folder` (default the channel's own) from the entries
        `entries_for(manifest found there)` returns, called under the folder's lock (so a
        send in another process is either before it, in the manifest it is given, or
        after it). Returns the entries written."""
        folder = folder or self.folder
        try:
            with self._locked(folder):
                entries = entries_for(self._load(folder))
                self._write_all(folder, entries, organisation)
        except OSError as error:
            raise Permanent(f"cannot write the site in {error.filename or folder}: {error.strerror}") from None
        return entries

    def files(self, entries: list[dict[str, Any]], organisation: str) -> dict[str, str]:
        """Every file of the site ({relative path: content}) for these manifest entries:
        the same bytes wherever the folder is (the feed's id comes from `base_url`, else
        from the channel's name)."""
        from channels.site_pages import render_site  # Jinja2, needed only to write pages

        files = {MANIFEST: json.dumps(entries, ensure_ascii=False, indent=2) + "\n"}
        if entries:
            files.update(render_site(
                entries, title_for=lambda language: self.title or default_title(organisation, language),
                language=self.language or entries[0]["language"], author=organisation, base_url=self.base_url,
                location=self.base_url or f"urn:publish:site:{self.name}"))
        return files

    def _write_all(self, folder: Path, entries: list[dict[str, Any]], organisation: str) -> None:
        for relative, content in self.files(entries, organisation).items():
            self._write(relative, content, folder)

    def _named(self, entries: list[dict[str, Any]], receipt: Receipt) -> dict[str, Any]:
        entry = next((entry for entry in entries if entry.get("slug") == receipt.id), None)
        if entry is None:
            raise Permanent(f"the statements page in {self.folder} has no statement {receipt.id!r}")
        return entry

    def _now(self) -> str:
        return self.clock().astimezone(timezone.utc).replace(microsecond=0).isoformat()

    def check(self) -> str:
        try:
            (self.folder / "statements").mkdir(mode=0o755, parents=True, exist_ok=True)
            self._load()
        except OSError as error:
            raise Permanent(f"cannot create {error.filename or self.folder}: {error.strerror}") from None
        if not os.access(self.folder, os.W_OK):
            raise Permanent(f"{self.folder} is not writable")
        return f"{self.folder} is writable"

    can_look_up = True

    def lookup(self, reference: str) -> Receipt | None:
        slug = reference.strip().rstrip("/").rsplit("/", 1)[-1].removesuffix(".html")
        try:
            entries = self._load()
        except Permanent:
            return None
        entry = next((entry for entry in entries if entry.get("slug") == slug), None)
        if entry is None or not (self.folder / "statements" / f"{slug}.html").is_file():
            return None
        found = self._receipt(entry)
        return Receipt(found.id, found.url, found.platform_time, {"text": str(entry.get("text") or "")})

    def log_heads(self) -> list[Sighting]:
        try:
            entries = self._load()
        except (OSError, Permanent):
            return []
        return [Sighting(int(entry["log_seq"]), str(entry["log_hash"]),
                         str(self.folder / "statements" / f"{entry['slug']}.html"))
                for entry in entries if isinstance(entry.get("log_seq"), int) and entry.get("log_hash")]

    def _entry(self, message: Message) -> dict[str, Any]:
        published = self.clock().astimezone(timezone.utc).replace(microsecond=0)
        slug = published.strftime("%Y%m%d") + "-" + re.sub(r"[^A-Za-z0-9_.-]", "-", message.draft_id)
        title = message.title.strip() or message.text.strip().split("\n", 1)[0]
        return {"draft": message.draft_id, "channel": message.channel, "title": title, "text": message.text,
                "published": published.isoformat(), "language": message.language,
                "incident": message.incident_id, "case": message.case, "template": message.template,
                "slug": slug, **_head(message)}

    def _receipt(self, entry: dict[str, Any]) -> Receipt:
        page = f"statements/{entry['slug']}.html"
        url = self.base_url + page if self.base_url else (self.folder / page).resolve().as_uri()
        return Receipt(id=entry["slug"], url=url, platform_time=entry["published"])

    @contextmanager
    def _locked(self, folder: Path | None = None) -> Iterator[None]:
        folder = folder or self.folder
        (folder / "statements").mkdir(mode=0o755, parents=True, exist_ok=True)
        descriptor = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def _load(self, folder: Path | None = None) -> list[dict[str, Any]]:
        manifest = (folder or self.folder) / MANIFEST
        try:
            entries = json.loads(manifest.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (ValueError, UnicodeDecodeError) as error:
            raise Permanent(f"{manifest} is corrupt (not JSON: {error}); repair it or move it away") from None
        if not isinstance(entries, list) or not all(isinstance(e, dict) and FIELDS <= e.keys() for e in entries):
            raise Permanent(f"{manifest} is corrupt: expected a list of statements, each with "
                            + ", ".join(sorted(FIELDS)))
        return entries

    def _write(self, relative: str, content: str, folder: Path | None = None) -> None:
        target = (folder or self.folder) / relative
        data = content.encode("utf-8")
        try:
            if target.read_bytes() == data:
                return
        except FileNotFoundError:
            pass
        write_atomically(target, data, mode=0o644)


def default_title(organisation: str, language: str) -> str:
    heading = "Comunicados" if language == "es" else "Statements"
    return f"{organisation} — {heading}" if organisation else heading


def _head(message: Message) -> dict[str, Any]:
    return {"log_seq": message.log_head[0], "log_hash": message.log_head[1]} if message.log_head else {}
