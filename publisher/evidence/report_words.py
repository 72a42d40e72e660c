"""How the report states who acted: an approval's proof (signed, or unsigned and
self-declared), the draft each verdict rests on (its kind and how its approvals are
proven) or the kinds that would satisfy it, and a delivery confirmed by a person, never
shown as a platform's receipt;
and the verdict words people read (the JSON keeps the English tokens: PASS, FAIL, ...;
people read every verdict in the interface's language: in Spanish CUMPLE, NO CUMPLE,
NO PROBADO, VENCIDO, EN PLAZO, PENDIENTE, DISPENSADO, ANULADO, the words a compliance officer uses)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from publisher.i18n import N_, _

if TYPE_CHECKING:
    from publisher.log.store import Event


NOT_PROVEN = "NOT PROVEN"
VERDICT_WORDS = {"PASS": N_("PASS"), "FAIL": N_("FAIL"), NOT_PROVEN: N_("NOT PROVEN"), "LATE": N_("LATE"),
                 "DUE": N_("DUE"), "PENDING": N_("PENDING"), "WAIVED": N_("WAIVED"), "VOID": N_("VOID")}


def verdict_word(verdict: str) -> str:
    """A verdict as people read it, in the interface's language (PASS is "CUMPLE" in
    Spanish); a token it does not know is shown as the JSON has it."""
    return _(VERDICT_WORDS[verdict]) if verdict in VERDICT_WORDS else verdict


def proof(event: Event) -> str:
    """What proves who approved: the signature's scheme, or that nothing does."""
    signature = event.data.get("signature")
    if isinstance(signature, dict) and signature.get("scheme"):
        return _("signed ({scheme})").format(scheme=signature["scheme"])
    return _("unsigned, self-declared")


def statement_words(clock: dict[str, Any]) -> str:
    """The statement a verdict rests on, in one phrase: each draft with its template kind
    and how its approvals are proven; with none, the kinds that would satisfy it (nothing
    for a waived or void clock)."""
    rests = clock.get("rests_on") or []
    if rests:
        return _("rests on {drafts}").format(drafts="; ".join(
            _("draft {id} ({kind}), {signatures}").format(id=basis["draft"], kind=basis["template"],
                                                          signatures=signature_words(basis)) for basis in rests))
    kinds = list(clock.get("kinds") or [])
    if not kinds or clock.get("verdict") in ("WAIVED", "VOID") or clock.get("waived"):
        return ""
    listed = kinds[0] if len(kinds) == 1 else _("{first} or {last}").format(first=", ".join(kinds[:-1]),
                                                                           last=kinds[-1])
    return _("no draft satisfies it yet; only drafts of kind {kinds} count").format(kinds=listed)


def signature_words(basis: dict[str, Any]) -> str:
    """How the approvals of a draft a verdict rests on are proven: signed by whom, or
    unsigned and self-declared."""
    approvals = basis.get("approvals") or []
    if not approvals:
        return _("no approval required") if not basis.get("approvals_required") else _("no approval")
    return ", ".join(_("signed by {who} ({scheme})").format(who=item["by"], scheme=item["scheme"])
                     if item.get("scheme") else _("unsigned, self-declared by {who}").format(who=item["by"])
                     for item in approvals)


def confirmation(receipt: dict[str, Any]) -> dict[str, Any]:
    """A delivery a person confirmed is not a platform's receipt: it carries no platform
    id, and says who confirmed it and whether the platform was asked."""
    if not receipt.get("confirmed_by"):
        return {}
    return {"platform_id": None, "confirmed_by": receipt["confirmed_by"],
            "checked_with_platform": bool(receipt.get("checked"))}


def receipt_words(row: dict[str, Any]) -> str | None:
    """The "platform id" cell: the platform's id, or who confirmed the delivery by hand."""
    if not row.get("confirmed_by"):
        return row.get("platform_id")
    checked = _("checked with the platform") if row.get("checked_with_platform") else _("not checked with the platform")
    return _("confirmed by {who} ({checked})").format(who=row["confirmed_by"], checked=checked)


def approval_words(approval: dict[str, Any], data: dict[str, Any] | None = None) -> str:
    at = local_time(data, approval["at"]) if data is not None else approval["at"]
    return _("{who} at {at} ({proof})").format(who=approval["by"], at=at,
                                               proof=approval.get("proof") or _("unsigned, self-declared"))


def local_time(data: dict[str, Any], value: Any) -> str:
    """A time of the report as people read it: in the report's `timezone`, with its
    offset (the JSON keeps UTC); a value that is not ISO 8601 is shown as given."""
    from zoneinfo import ZoneInfo

    from publisher.timeparse import for_people

    name = data.get("timezone")
    try:
        return for_people(value, ZoneInfo(name) if name and name != "UTC" else None) if value else ""
    except (ValueError, TypeError):
        return str(value)


def draft_warnings(draft: dict[str, Any]) -> str:
    """What the report must say against a draft: its payloads changed after rendering,
    signed actions recorded for it that do not count."""
    said = [] if draft.get("payloads_match_hash", True) else [_("ITS PAYLOADS NO LONGER MATCH ITS HASH")]
    said += [_("#{seq} {kind} by {by} does not count ({reason})").format(
                 seq=item["seq"], kind=item["kind"], by=item["by"], reason=item["reason"])
             for item in draft.get("not_counted", [])]
    return "; ".join(said)


def how_words(how: Any) -> str:
    """How a correction or a withdrawal reached the platform, in words."""
    words = {"edit": _("edited in place"), "reply": _("posted as a reply to the original post"),
             "deleted": _("deleted on the platform"),
             "cannot": _("the platform cannot delete it: to be removed by hand"),
             "failed": _("failed; `publish withdraw` again takes it up"),
             "started": _("begun, no outcome recorded; `publish withdraw` again takes it up")}
    return words.get(str(how), str(how))
