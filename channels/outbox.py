"""Outbox: one file per delivery, for rehearsals and for tools that pick files up.

A delivery writes `<path>/<draft>--<channel>.txt` atomically (temporary file, fsync,
rename), so a reader never sees half a statement. Sending the same draft again finds the
same file with the same content and answers with the same receipt: the outbox is
idempotent by name.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from channels.base import Channel, Message, Permanent, Receipt
from channels.files import write_atomically
from channels.schemas import OPTIONS

SEPARATOR = "\n\n-----\n\n"


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
        target = self.folder / f"{message.draft_id}--{message.channel}.txt"
        content = SEPARATOR.join(message.parts) + "\n"
        try:
            if target.exists() and target.read_text(encoding="utf-8") == content:
                written = target.stat().st_mtime
            else:
                write_atomically(target, content.encode("utf-8"), mode=0o644)
                written = target.stat().st_mtime
        except OSError as error:
            raise Permanent(f"cannot write {target}: {error.strerror}") from None
        stamp = datetime.fromtimestamp(written, timezone.utc).isoformat(timespec="seconds")
        return Receipt(id=target.name, url=target.resolve().as_uri(), platform_time=stamp)

    def check(self) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        if not os.access(self.folder, os.W_OK):
            raise Permanent(f"{self.folder} is not writable")
        return f"{self.folder} is writable"
