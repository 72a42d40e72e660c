"""The words people read for the record's states: an incident's state and severity, a
draft's status and audience, a channel's or a checklist step's state. The log and the JSON keep the
English tokens; what people read goes through the catalogue."""
from __future__ import annotations

from publisher.i18n import N_, _

WORDS = (N_("open"), N_("resolved"), N_("crisis"), N_("single"), N_("done"), N_("late"), N_("due"), N_("waived"),
         N_("delivered"), N_("unconfirmed"), N_("failing"), N_("not sent"), N_("pending"), N_("sending"),
         N_("unknown"), N_("rejected"), N_("partly delivered"), N_("approved, not sent"), N_("awaiting approval"),
         N_("failed-permanent"), N_("failed-retryable"), N_("held"), N_("busy"), N_("withdrawn"), N_("public"),
         N_("internal"))
SUPERSEDED = "superseded by "


def state_word(value: str | None) -> str:
    """`value` as people read it in the interface's language (unknown values unchanged)."""
    if not value:
        return ""
    if value.startswith(SUPERSEDED):
        return _("superseded by {draft}").format(draft=value[len(SUPERSEDED):])
    return _(value)
