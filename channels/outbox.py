"""Outbox: one file per delivery, for rehearsals and for tools that pick files up.

A delivery writes `<path>/<draft>--<channel>.txt` atomically (temporary file, fsync,
rename), so a reader never sees half a statement. Sending the same draft again finds the
same file with the same statement and answers with the same receipt: the outbox is
idempotent by name. The file's last line, `-- publish log head SEQ HASH`, is the log's
head when the file was written: a witness of the log kept outside it.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

from channels.base import Channel, Message, Permanent, Receipt, Sighting, write_atomically
from channels.schemas import OPTIONS

SEPARATOR = "\n\n-----\n\n"
HEAD_LINE = re.compile(rb"\n-- publish log head (\d+) ([0-9a-f]{64})\n\Z")


class OutboxChannel(Channel):
    type = "outbox"
    idempotent = True
    options = OPTIONS["outbox"]

    def __init__(self, name, settings, secrets=frozenset()):
        super().__init__(name, settings, secrets)
        self.variant = self.settings.get("variant", "long")
        self.max_length = self.settings.get("max_length")
        self.counting = self.settings.get("counting", "chars")
        self.overflow = self.settings.get("overflow", "reject")
        self.folder = Path(self.settings["path"])

    def send(self, message: Message) -> Receipt:
        target = self.write(self.folder, message.draft_id, message.parts, message.log_head)
        try:
            written = target.stat().st_mtime
        except OSError as error:
            raise Permanent(f"cannot write {target}: {error.strerror}") from None
        stamp = datetime.fromtimestamp(written, timezone.utc).isoformat(timespec="seconds")
        return Receipt(id=target.name, url=target.resolve().as_uri(), platform_time=stamp)

    def write(self, folder: Path, draft_id: str, parts: tuple[str, ...], log_head: tuple[int, str] | None) -> Path:
        """Write one statement's file into `folder` (a file already holding the same
        statement keeps its first log head); the path written. `publish outbox build`
        rebuilds a folder from the log with it."""
        target = folder / f"{draft_id}--{self.name}.txt"
        body = (SEPARATOR.join(parts) + "\n").encode("utf-8")
        try:
            if _body(target) != body:
                head = f"\n-- publish log head {log_head[0]} {log_head[1]}\n" if log_head else ""
                folder.mkdir(parents=True, exist_ok=True)
                write_atomically(target, body + head.encode("ascii"), mode=0o644)
        except OSError as error:
            raise Permanent(f"cannot write {target}: {error.strerror}") from None
        return target

    can_look_up = True

    def lookup(self, reference: str) -> Receipt | None:
        name = reference.strip().rstrip("/").rsplit("/", 1)[-1]
        target = self.folder / name
        if not name.endswith(".txt") or target.parent != self.folder or not target.is_file():
            return None
        data = target.read_bytes()
        text = HEAD_LINE.sub(b"\n", data).decode("utf-8", errors="replace")
        stamp = datetime.fromtimestamp(target.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
        return Receipt(id=name, url=target.resolve().as_uri(), platform_time=stamp,
                       extra={"text": text.replace(SEPARATOR, "\n\n")})

    def log_heads(self) -> list[Sighting]:
        found = []
        for path in sorted(self.folder.glob("*.txt")) if self.folder.is_dir() else ():
            try:
                with path.open("rb") as stream:
                    stream.seek(max(0, path.stat().st_size - 120))
                    match = HEAD_LINE.search(stream.read())
            except OSError:
                continue
            if match:
                found.append(Sighting(int(match.group(1)), match.group(2).decode(), str(path)))
        return found

    def check(self) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        if not os.access(self.folder, os.W_OK):
            raise Permanent(f"{self.folder} is not writable")
        return f"{self.folder} is writable"


def _body(target: Path) -> bytes | None:
    """The statement in an existing file, without its log head line (None when absent)."""
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        return None
    match = HEAD_LINE.search(data[-120:])
    return data[:len(data) - len(match.group(0))] if match else data
