"""Changing the cabinet: `publish people add|remove|approve|export`.

Guarantees: every change is an approver's action recorded in the log, signed when
signing is on, and checked before it is recorded by the rules the cabinet is replayed
with (`publisher.incident.roster`), so what is recorded is what counts: a change that
adds or removes an approver, or raises someone's role, waits (`people list` shows it)
until as many approvers as the log's quorum (at least one) have signed it, the proposer
first; so does a change of the quorum itself (`publish people quorum N`), which can
never ask for more approvals than the cabinet has approvers. Contacts live only in the
log. The cabinet always keeps at least as many approvers as its quorum (and one). After
every change config/publisher.toml's `[approvals] approvers`, `operators`, `viewers`
and `required` are rewritten from the log (`write_mirror`, also `publish people
export`), so the file stays a mirror that grants nothing.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from publisher.errors import BadInput, Refused
from publisher.i18n import _
from publisher.incident import roster
from publisher.incident.authority import ROLE_WORDS, require_approver
from publisher.incident.identity import append_signed
from publisher.incident.roster import CONFIG_KEYS, ROLES, Change
from publisher.log.store import replace_file
from publisher.workspace.inputs import check_text

if TYPE_CHECKING:
    from publisher.log.store import Event
    from publisher.workspace.app import App

NAME = re.compile(r"[\w.@+-]{1,64}")
EMAIL = re.compile(r"[^@\s\"',;<>]+@[^@\s\"',;<>]+\.[^@\s\"',;<>]+")
TELEGRAM = re.compile(r"-?\d{1,20}")
SLACK_USER = re.compile(r"[UW][A-Z0-9]{6,20}")


@dataclass(frozen=True)
class Outcome:
    """A change recorded: its event, whether it took effect, and what it still waits for."""
    event: Event
    what: str
    waiting: Change | None
    replaced: list[str]


@dataclass(frozen=True)
class Proposal:
    """A change of the cabinet checked and ready to record: the event's kind and data,
    what it does in words, the change it co-signs (None: it is a change of its own) and
    the waiting changes it replaces. Both faces sign exactly `message(proposal, actor)`."""
    kind: str
    data: dict[str, Any]
    what: str
    cosigns: str | None = None
    replaced: tuple[str, ...] = ()


def add(app: App, name: str, role: str | None, actor: str, email: str | None = None, telegram: str | None = None,
        key: Path | None = None, signature: dict[str, Any] | None = None, slack: str | None = None) -> Outcome:
    """Add `name` to the cabinet, or change their role or contact."""
    return record(app, propose_add(app, name, role, actor, email, telegram, slack), actor, key, signature)


def propose_add(app: App, name: str, role: str | None, actor: str, email: str | None = None,
                telegram: str | None = None, slack: str | None = None) -> Proposal:
    require_approver(app, actor, _("change the cabinet"))
    name = _name(name)
    made = roster.cabinet(app)
    old = made.people.get(name)
    if role is not None and role not in ROLES:
        raise BadInput(_("--role must be approver, operator or viewer, not {role!r}.").format(role=role))
    if old is None and role is None:
        raise BadInput(_("{name!r} is not in the cabinet yet: give --role approver, operator or viewer.").format(
            name=name))
    data: dict[str, Any] = {"name": name}
    if old is None or role != old.role and role is not None:
        data["role"] = role
    if email is not None and (old is None or email != old.email):
        data["email"] = _email(email)
    if telegram is not None and (old is None or telegram != old.telegram):
        data["telegram"] = _telegram(telegram)
    if slack is not None and (old is None or slack != old.slack):
        data["slack"] = _slack(slack)
    if old is not None and len(data) == 1:
        raise BadInput(_("{name!r} is already {role} with these contacts; nothing to change.").format(
            name=name, role=_(ROLE_WORDS[old.role])))
    new_role = data.get("role", old.role if old else None)
    if old is not None and old.role == "approver" and new_role != "approver":
        _keeps_enough(made, name)
    return _proposal(made, "person.added" if old is None else "person.changed", actor, data,
                     old.role if old else None, new_role)


def remove(app: App, name: str, actor: str, key: Path | None = None,
           signature: dict[str, Any] | None = None) -> Outcome:
    """Remove `name` from the cabinet: their passkeys, invitations and sessions end."""
    return record(app, propose_remove(app, name, actor), actor, key, signature)


def propose_remove(app: App, name: str, actor: str) -> Proposal:
    require_approver(app, actor, _("change the cabinet"))
    made = roster.cabinet(app)
    old = made.people.get(name)
    if old is None and not any(change.name == name for change in made.pending.values()):
        raise BadInput(_("{name!r} is not in the cabinet (`publish people list`).").format(name=name))
    if old is not None and old.role == "approver":
        _keeps_enough(made, name)
    return _proposal(made, "person.removed", actor, {"name": name}, old.role if old else None, None)


def _keeps_enough(made: roster.Cabinet, name: str) -> None:
    left = len([person for person in made.approvers() if person != name])
    least = max(1, made.required)
    if left < least:
        raise Refused(_("the cabinet would keep {left} approver(s) without {name}, fewer than the {least} it "
                        "needs ([approvals] required); add another approver first.").format(
                            left=left, name=name, least=least))


def _proposal(made: roster.Cabinet, kind: str, actor: str, data: dict[str, Any], was: str | None,
              role: str | None) -> Proposal:
    data["needs"] = max(1, made.required) if roster.needs_quorum(was, role) else 1
    replaced = tuple(change.id for change in made.pending.values() if change.name == data["name"])
    what = describe(Change(0, kind, data["name"], actor, role, was, data["needs"], ""))
    return Proposal(kind, data, what, None, replaced)


def set_quorum(app: App, required: int, actor: str, key: Path | None = None,
               signature: dict[str, Any] | None = None) -> Outcome:
    """Propose that drafts need `required` approvals (and changes of the cabinet as many
    signatures); it takes effect once the quorum in force has signed it."""
    return record(app, propose_quorum(app, required, actor), actor, key, signature)


def propose_quorum(app: App, required: int, actor: str) -> Proposal:
    require_approver(app, actor, _("change the cabinet"))
    roster.settle(app)
    made = roster.cabinet(app)
    approvers = len(made.approvers())
    if required < 0:
        raise BadInput(_("the quorum must be 0 or more approvals, not {required}.").format(required=required))
    if required > approvers:
        raise Refused(_("the cabinet has {approvers} approver(s), so it cannot need {required} approvals; add "
                        "approvers first.").format(approvers=approvers, required=required))
    if required == made.required and made.quorum_recorded:
        raise BadInput(_("the quorum is already {required}; nothing to change.").format(required=required))
    needs = max(1, made.required)
    data: dict[str, Any] = {"name": "", "required": required, "needs": needs}
    replaced = tuple(change.id for change in made.pending.values() if change.kind == roster.QUORUM_KIND)
    what = describe(Change(0, roster.QUORUM_KIND, "", actor, None, None, needs, "", required=required))
    return Proposal(roster.QUORUM_KIND, data, what, None, replaced)


def approve(app: App, change_id: str, actor: str, key: Path | None = None,
            signature: dict[str, Any] | None = None) -> Outcome:
    """Sign a change another approver proposed; it takes effect with the last signature it needs."""
    return record(app, propose_approval(app, change_id, actor), actor, key, signature)


def propose_approval(app: App, change_id: str, actor: str) -> Proposal:
    require_approver(app, actor, _("approve a change of the cabinet"))
    made = roster.cabinet(app)
    change = made.pending.get(change_id.strip().lstrip("#"))
    if change is None:
        waiting = ", ".join(made.pending) or _("none")
        raise BadInput(_("no change {change} is waiting for signatures (waiting: {waiting}).").format(
            change=change_id, waiting=waiting))
    if actor in change.signers:
        raise Refused(_("{actor!r} already signed change {change}; another approver must.").format(
            actor=actor, change=change.id))
    if change.kind == "person.removed" or change.was == "approver" and change.role != "approver":
        _keeps_enough(made, change.name)
    if change.required is not None and change.required > len(made.approvers()):
        raise Refused(_("the cabinet has {approvers} approver(s), so it cannot need {required} approvals; add "
                        "approvers first.").format(approvers=len(made.approvers()), required=change.required))
    data = {"change": change.id, "name": change.name, "proposal": change.digest}
    return Proposal("people.approved", data, describe(change), change.id)


def message(proposal: Proposal, actor: str) -> bytes:
    """The bytes `actor` signs (a passkey on the console) to record `proposal`."""
    from publisher.log import signatures as sig

    return sig.action_message(sig.ACTIONS[proposal.kind][0],
                              sig.event_subject(proposal.kind, None, None, None, proposal.data),
                              sig.event_payload(proposal.kind, proposal.data), actor)


def record(app: App, proposal: Proposal, actor: str, key: Path | None = None,
           signature: dict[str, Any] | None = None) -> Outcome:
    """Record `proposal`, signed by `actor` (with `key`, or the passkey `signature`
    already made over `message`), and rewrite the config's mirror."""
    event = append_signed(app, proposal.kind, actor, dict(proposal.data), key=key, signature=signature)
    write_mirror(app)
    waiting = roster.cabinet(app).pending.get(proposal.cosigns or str(event.seq))
    return Outcome(event, proposal.what, waiting, list(proposal.replaced))


def describe(change: Change) -> str:
    if change.kind == roster.QUORUM_KIND:
        return _("make the quorum {required} approval(s)").format(required=change.required)
    if change.role == change.was:
        return _("change {name}'s contact").format(name=change.name)
    if change.kind == "person.removed":
        return _("remove {name} ({role})").format(name=change.name, role=_(ROLE_WORDS.get(change.was or "", "-")))
    if change.was is None:
        return _("add {name} as {role}").format(name=change.name, role=_(ROLE_WORDS[change.role or "viewer"]))
    return _("make {name} {role} (was {was})").format(name=change.name, role=_(ROLE_WORDS[change.role or "viewer"]),
                                                       was=_(ROLE_WORDS[change.was]))


def _name(name: str) -> str:
    name = check_text(name, "NAME").strip()
    if not NAME.fullmatch(name):
        raise BadInput(_("{name!r} is not a name the cabinet can use: letters, digits and . _ @ + - only, at most "
                         "64.").format(name=name))
    return name


def _email(value: str) -> str:
    value = check_text(value, "--email").strip()
    if value and not EMAIL.fullmatch(value):
        raise BadInput(_("--email {value!r} is not an e-mail address (name@example.org).").format(value=value))
    return value


def _telegram(value: str) -> str:
    value = check_text(value, "--telegram").strip()
    if value and not TELEGRAM.fullmatch(value):
        raise BadInput(_("--telegram {value!r} is not a Telegram chat id (the number the bot sees for that "
                         "person's chat, e.g. 123456789).").format(value=value))
    return value


def _slack(value: str) -> str:
    value = check_text(value, "--slack").strip()
    if value and not SLACK_USER.fullmatch(value):
        raise BadInput(_("--slack {value!r} is not a Slack user id (the member ID in their Slack profile, e.g. "
                         "U012AB3CD).").format(value=value))
    return value


def write_mirror(app: App) -> Path:
    """Rewrite config/publisher.toml's [approvals] lists from the people the log has
    (recording the first people first when the log has none)."""
    from publisher.workspace.config import load_config

    if roster.cabinet(app).bootstrapped is None:
        roster.record_first_people(app, "config/publisher.toml")
    made = roster.cabinet(app)
    lists = {CONFIG_KEYS[role]: sorted(name for name, person in made.people.items() if person.role == role)
             for role in ROLES}
    path = app.workspace / "config" / "publisher.toml"
    text = mirror_text(path.read_text(encoding="utf-8"), lists, made.required if made.quorum_recorded else None)
    replace_file(path, text.encode("utf-8"))
    app.config = load_config(app.workspace)
    return path


def mirror_text(text: str, lists: dict[str, list[str]], required: int | None = None) -> str:
    """`text` (a publisher.toml) with its [approvals] lists replaced by `lists` (and its
    `required` by `required` unless None); every other line, comment and table kept as
    it was."""
    lines = text.splitlines(keepends=True)
    start = next((index for index, line in enumerate(lines) if re.match(r"\s*\[approvals\]\s*(#.*)?$", line)), None)
    if start is None:
        lines += ["\n" if lines and not lines[-1].endswith("\n") else "", "[approvals]\n"]
        start = len(lines) - 1
    end = next((index for index in range(start + 1, len(lines)) if re.match(r"\s*\[", lines[index])), len(lines))
    body, written, out = lines[start + 1:end], set(), []
    index = 0
    while index < len(body):
        if required is not None and re.match(r"\s*required\s*=", body[index]):
            out.append(f"required = {required}\n")
            written.add("required")
            index += 1
            continue
        found = re.match(r"\s*(approvers|operators|viewers)\s*=", body[index])
        if not found:
            out.append(body[index])
            index += 1
            continue
        chunk, last = body[index], index
        while chunk.count("[") > chunk.count("]") and last + 1 < len(body):
            last += 1
            chunk += body[last]
        out.append(f"{found.group(1)} = {_toml_list(lists[found.group(1)])}\n")
        written.add(found.group(1))
        index = last + 1
    extra = [f"{key} = {_toml_list(names)}\n" for key, names in lists.items() if key not in written and names]
    if required is not None and "required" not in written:
        extra.append(f"required = {required}\n")
    return "".join(lines[:start + 1] + extra + out + lines[end:])


def _toml_list(names: list[str]) -> str:
    return "[" + ", ".join(json.dumps(name, ensure_ascii=False) for name in names) + "]"
