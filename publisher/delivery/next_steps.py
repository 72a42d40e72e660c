"""What a person runs next for a channel that has not got its post, said the same way
by `publish send`, `publish status` and the console.

Guarantees: "`publish send` resumes" is said only where a plain `publish send` does
send again (a retryable failure, a channel never tried, another process that held it,
an unknown outcome where a resend is safe). A permanent failure needs the cause fixed
and an approver's `--retry`; an unknown outcome elsewhere needs a person to look at the
platform; while frozen, nothing moves until an approver lifts the freeze.
"""
from __future__ import annotations

from publisher.i18n import _

RESUMABLE = ("failed-retryable", "pending", "not sent", "busy", "held")


def next_step(draft_id: str, channel: str, state: str, *, frozen: bool = False, resend_safe: bool = False) -> str:
    if state == "failed-permanent":
        retry = _("fix the cause, then an approver runs `publish send {draft} --retry {channel} --reason TEXT`").format(
            draft=draft_id, channel=channel)
        return _("once the freeze is lifted, {step}").format(step=retry) if frozen else retry
    if frozen:
        return _("an approver lifts the freeze: `publish unfreeze --reason TEXT --send`")
    if state in ("unknown", "sending") and not resend_safe:
        return _("check the platform, then `publish confirm {draft} {channel} --url URL` or "
                 "`publish send {draft} --resend {channel}`").format(draft=draft_id, channel=channel)
    return _("`publish send {draft}` resumes").format(draft=draft_id)


def not_delivered_sentence(draft_id: str, states: dict[str, str], *, frozen: bool = False) -> str:
    """One sentence for every channel left without its post, grouped by what to run."""
    left = [channel for channel, state in states.items() if state != "delivered"]
    unconfirmed = [channel for channel in left if states[channel] == "unknown"]
    permanent = [channel for channel in left if states[channel] == "failed-permanent"]
    resumable = [channel for channel in left if channel not in unconfirmed + permanent]
    parts = []
    if frozen and left:
        parts.append(_("not delivered on {channels}: {hint}").format(
            channels=", ".join(left), hint=next_step(draft_id, left[0], states[left[0]], frozen=True)))
        return "; ".join(parts) + "."
    if resumable:
        parts.append(_("not delivered on {channels}; `publish send {draft}` resumes").format(
            channels=", ".join(resumable), draft=draft_id))
    if permanent:
        retries = " ".join(f"--retry {channel}" for channel in permanent)
        parts.append(_("not delivered on {channels}, a permanent failure: fix the cause, then an approver runs "
                       "`publish send {draft} {retries} --reason TEXT`").format(
            channels=", ".join(permanent), draft=draft_id, retries=retries))
    if unconfirmed:
        parts.append(_("unconfirmed on {channels} (see above)").format(channels=", ".join(unconfirmed)))
    return "; ".join(parts) + "."
