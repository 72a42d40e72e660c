"""Live progress of a delivery run: one line per channel.

On a terminal the lines update in place (rich, imported only here and only then);
otherwise every change is printed as one plain line, so logs and pipes read well; those
lines reach the stream within `FLUSH_EVERY` seconds (a line that precedes a wait, such
as a retry's, at once), not each in a write of its own.
Each line says what the channel is doing (waiting, sending, retry in N s, delivered
with its URL, failed with the reason) and the time since the run began. Every text
passes through the redactor before it is shown.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, TextIO

FLUSH_EVERY = 0.2
FLUSHED_AT_ONCE = ("retrying", "failed", "unknown", "held")
STYLES = {"waiting": "dim", "sending": "cyan", "retrying": "yellow", "delivered": "green", "failed": "red",
          "unknown": "magenta", "held": "yellow"}


@dataclass
class Line:
    state: str = "waiting"
    detail: str = ""
    at: float = 0.0
    retry_at: float | None = None

    def shown(self, now: float) -> str:
        """The detail, after a retry's wait counting down."""
        if self.retry_at is None:
            return self.detail
        return f"retry in {max(0.0, self.retry_at - now):.0f} s: {self.detail}"


class LiveProgress:
    """Callable as the engine's `progress(channel, state, detail, retry_in)`; use as a
    context manager around the run."""

    def __init__(self, channels: list[str], redact: Callable[[str], str], stream: TextIO,
                 live: bool = False, title: str = ""):
        self.lines = {name: Line() for name in channels}
        self.redact = redact
        self.stream = stream
        self.title = title
        self.live = live
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._display: Any = None
        self._unflushed = False
        self._ticker: int | None = None

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def __call__(self, channel: str, state: str, detail: str, retry_in: float | None = None) -> None:
        detail = self.redact(detail)
        with self._lock:
            line = self.lines.setdefault(channel, Line())
            line.state, line.detail, line.at = state, detail, self.elapsed()
            line.retry_at = line.at + retry_in if retry_in is not None else None
            if self._display is not None:
                self._display.refresh()
            else:
                shown = f"retry in {retry_in:.1f} s: {detail}" if retry_in is not None else detail
                self.stream.write(f"  {line.at:6.1f} s  {channel}: {state} - {shown}\n")
                self._unflushed = True
                if state in FLUSHED_AT_ONCE or (state == "waiting" and detail != "queued"):
                    self._flush()

    def __enter__(self) -> "LiveProgress":
        if self.live:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=self.stream)
            self._display = Live(console=console, refresh_per_second=8, transient=True,
                                 get_renderable=self._renderable)
            self._display.start()
        else:
            from channels.deadline import watcher

            self._ticker = watcher.every(FLUSH_EVERY, self._flush_pending)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._display is not None:
            self._display.stop()
            self._display = None
        else:
            if self._ticker is not None:
                from channels.deadline import watcher

                watcher.cancel(self._ticker)
                self._ticker = None
            with self._lock:
                self._flush()

    def _flush_pending(self) -> bool:
        with self._lock:
            if self._unflushed:
                self._flush()
        return False

    def _flush(self) -> None:
        self._unflushed = False
        self.stream.flush()

    def _renderable(self) -> Any:
        from rich.table import Table

        table = Table(title=f"{self.title} - {self.elapsed():.1f} s", title_justify="left", box=None,
                      show_header=True, pad_edge=False)
        for column in ("channel", "state", "where / why", "s"):
            table.add_column(column, justify="right" if column == "s" else "left")
        now = self.elapsed()
        for name, line in list(self.lines.items()):
            style = STYLES.get(line.state, "")
            table.add_row(name, f"[{style}]{line.state}[/]" if style else line.state,
                          _escape(line.shown(now)), f"{line.at:.1f}")
        return table


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
