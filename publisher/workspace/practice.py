"""A practice workspace says so, first, wherever it is read.

A workspace is a practice one when its config says `[workspace] practice = true`
(`publish init --practice` writes it); only there may `[approvals] signing = "none"`
stand (`publisher.workspace.config` refuses it elsewhere), so unsigned, self-declared
approvals never pass for evidence.

Guarantees, for a practice workspace: the command line prints `notice()` as the first
line of every human-readable output (`publisher.cli.output`); every JSON object a
command prints, and every object of a top-level JSON array, has `"practice": true` as
its first field (`marked`); every report (Markdown, HTML, JSON) says so before anything
else; and every page of the console shows `notice()` above its header.
"""
from __future__ import annotations

from typing import Any

from publisher.i18n import N_, _

MARKER = "[workspace] practice = true"
NOTICE = N_("PRACTICE: a practice workspace ([workspace] practice = true), a rehearsal whose approvals may be "
            "unsigned and self-declared; nothing it records is evidence.")


def notice() -> str:
    """The practice line, in the interface's language."""
    return _(NOTICE)


def marked(value: Any) -> Any:
    """JSON of a practice workspace: `"practice": true` first in an object, and in each
    object of an array (an array stays an array, so tools still read it as a list)."""
    if isinstance(value, dict):
        return {"practice": True, **{key: item for key, item in value.items() if key != "practice"}}
    if isinstance(value, list):
        return [marked(item) if isinstance(item, dict) else item for item in value]
    return value
