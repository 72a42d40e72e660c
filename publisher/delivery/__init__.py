"""Sending approved drafts: the engine (fan-out, retries, locks, unknown outcomes)
and its progress display."""
