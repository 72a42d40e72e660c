"""The playbooks of the four cases, read from `config/playbooks.toml`, the case each
command names, and each incident's checklist.

Guarantees:
- The shipped file is always read; a workspace's own `config/playbooks.toml` replaces
  whole `[cases.N]` tables. A file that does not load is one `BadInput` sentence naming
  the file, the case, the step and the key.
- A case number outside 1-4 and a template its playbook does not name are refused
  with the list of what exists (`get_case`, `check_template`).
- Each case says which template kinds are the response its 12 h and 48 h verdicts
  count (`Playbook.kinds`, read and checked by `publisher.incident.response`); a
  workspace case without its own keeps the shipped one.
- A checklist is derived from the log alone (the facts given to `checklist()`), never
  stored apart: a step is done when its event is in the log, late when its deadline has
  passed without it, due otherwise, waived when the cabinet decided not to answer.
- A `done = "moderated"` step (daily; case 3's moderation) is proven by what listening
  heard when the workspace listens (`Facts.moderation`): each of the incident's days is
  done when every negative item heard that day was answered or handled (at the last of
  those), or when the day ended with none heard; due or late otherwise. Without a
  listening source it is marked by hand (`publish done`), as a manual step.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from publisher.errors import BadInput
from publisher.incident.answer_times import ModerationDay
from publisher.incident.response import Response, inherit, parse_response
from publisher.timeparse import iso
from publisher.workspace.folder import shipped_path
from publisher.workspace.tomlfile import parse_toml
from publisher.i18n import N_, _

PLAYBOOKS_FILE = Path("config") / "playbooks.toml"
DONE_MARKS = ("manual", "prepared", "published", "frozen", "decided", "moderated")
SEVERITIES = ("single", "crisis")
REPEATS = ("daily", "update_every")
STEP_KEYS = ("id", "title", "deadline", "done", "severity", "repeat", "waivable", "ordered")
DAY = timedelta(hours=24)
CASE_HELP = N_("(1 fault not ours, 2 fault ours, 3 reputational risk we caused, 4 attacks or outside circumstances)")
MAX_HOURS = 24 * 366
NAMED_DEADLINES = ("prepare", "publish", "authority")
"""Deadlines a step may name instead of hours: config/publisher.toml's [deadlines] of that name."""


@dataclass(frozen=True)
class Step:
    """One step of a case's playbook."""

    id: str
    title: str
    done: str
    deadline: float | str | None = None
    severity: tuple[str, ...] = ("crisis",)
    repeat: str | None = None
    waivable: bool = False
    ordered: bool = True
    """False: its place among the other steps does not matter (a legal clock of its own)."""

    @property
    def manual(self) -> bool:
        return self.done == "manual"

    def by_hand(self, listening: bool) -> bool:
        """Whether a person marks it done: a manual step, or a moderated one in a workspace
        that listens to nothing."""
        return self.manual or (self.done == "moderated" and not listening)

    @property
    def template(self) -> str | None:
        return self.done.split(":", 1)[1] if self.done.startswith("delivered:") else None

    def hours(self, prepare: float, publish: float, authority: float | None = None) -> float | None:
        if self.deadline is None:
            return None
        named = {"prepare": prepare, "publish": publish, "authority": authority}
        return named[self.deadline] if isinstance(self.deadline, str) else self.deadline


@dataclass(frozen=True)
class Playbook:
    """A case's playbook: its templates and steps."""

    case: int
    title: str
    templates: tuple[str, ...]
    steps: tuple[Step, ...]
    source: str
    response: Response | None = None

    @property
    def number(self) -> int:
        return self.case

    def kinds(self, clock: str, severity: str) -> tuple[str, ...]:
        """The template kinds that are the response `clock` ("prepared", "published") counts."""
        if self.response is None:
            raise BadInput(_("{shown}: [cases.{case}] has no [cases.{case}.response].").format(
                shown=self.source, case=self.case))
        return self.response.kinds(clock, severity)

    def steps_for(self, severity: str) -> list[Step]:
        return [step for step in self.steps if severity in step.severity]

    def step(self, step_id: str) -> Step | None:
        return next((step for step in self.steps if step.id == step_id), None)

    @property
    def waivable(self) -> bool:
        return any(step.waivable for step in self.steps)


def load_playbooks(workspace: Path | None = None) -> dict[int, Playbook]:
    """The shipped playbooks, each case replaced by the workspace's own when it has one
    (the shipped file is not read when the workspace's covers every case)."""
    own: dict[int, Playbook] = {}
    if workspace is not None and (workspace / PLAYBOOKS_FILE).is_file():
        own = _read(workspace / PLAYBOOKS_FILE, str(PLAYBOOKS_FILE))
    if set(own) >= {1, 2, 3, 4} and all(book.response for book in own.values()):
        return own
    shipped = _read(shipped_path("config") / "playbooks.toml", "the shipped config/playbooks.toml")
    for case, book in own.items():
        base = shipped.get(case)
        own[case] = replace(book, response=inherit(book.response, base.response if base else None, case,
                                                   book.templates, book.source))
    return {**shipped, **own}


def playbook(workspace: Path | None, case: int) -> Playbook:
    books = load_playbooks(workspace)
    if case not in books:
        raise BadInput(_("--case {case} has no playbook; config/playbooks.toml defines cases {names}.").format(
                           case=case, names=', '.join(map(str, sorted(books)))))
    return books[case]


_PARSED: dict[tuple[str, int, int], dict[int, Playbook]] = {}


def _read(path: Path, shown: str) -> dict[int, Playbook]:
    """Parsed from the file once per version of it in this process (path, mtime, size): a
    page listing twenty incidents must not parse the playbooks twenty times."""
    try:
        stat = path.stat()
    except OSError:
        return _parse(path, shown)
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _PARSED:
        _PARSED[key] = _parse(path, shown)
    return dict(_PARSED[key])


def _parse(path: Path, shown: str) -> dict[int, Playbook]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(_("cannot read {shown}: {value}.").format(
                           shown=shown, value=getattr(error, 'strerror', None) or error)) from None
    data = parse_toml(text, shown)
    cases = data.get("cases")
    if set(data) - {"cases"} or not isinstance(cases, dict):
        raise BadInput(_("{shown}: expected only [cases.N] tables.").format(shown=shown))
    books = {}
    for key, table in cases.items():
        if key not in ("1", "2", "3", "4") or not isinstance(table, dict):
            raise BadInput(_("{shown}: [cases.{key}]: cases are tables numbered 1 to 4.").format(
                               shown=shown, key=key))
        books[int(key)] = _playbook(int(key), table, shown, text)
    return books


def _playbook(case: int, table: dict[str, Any], shown: str, text: str) -> Playbook:
    where = f"{shown}: [cases.{case}]"
    unknown = set(table) - {"title", "templates", "response", "steps"}
    if unknown:
        raise BadInput(_("{where}: unknown key {value!r}; expected title, templates, response, steps.").format(
                           where=where, value=sorted(unknown)[0]))
    title, templates, steps = table.get("title"), table.get("templates"), table.get("steps", [])
    if not isinstance(title, str) or not title.strip():
        raise BadInput(_("{where} title: expected a string saying what kind of crisis it is.").format(
                           where=where))
    if not isinstance(templates, list) or not all(isinstance(item, str) for item in templates):
        raise BadInput(_("{where} templates: expected a list of template kinds.").format(where=where))
    if not isinstance(steps, list):
        raise BadInput(_("{where} steps: expected [[cases.{case}.steps]] tables.").format(
                           where=where, case=case))
    parsed = [_step(raw, f"{where} step {index + 1}") for index, raw in enumerate(steps)]
    ids = [step.id for step in parsed]
    duplicate = next((step_id for step_id in ids if ids.count(step_id) > 1), None)
    if duplicate:
        raise BadInput(_("{where}: two steps are named {duplicate!r}; step ids must be unique in a case.").format(
                           where=where, duplicate=duplicate))
    response = parse_response(table.get("response"), case, tuple(templates), shown, text)
    return Playbook(case, title.strip(), tuple(templates), tuple(parsed), shown, response)


def _step(raw: Any, where: str) -> Step:
    if not isinstance(raw, dict):
        raise BadInput(_("{where}: expected a table.").format(where=where))
    unknown = set(raw) - set(STEP_KEYS)
    if unknown:
        raise BadInput(_("{where}: unknown key {value!r}; expected {names}.").format(
                           where=where, value=sorted(unknown)[0], names=', '.join(STEP_KEYS)))
    step_id, title, done = raw.get("id"), raw.get("title"), raw.get("done")
    if not isinstance(step_id, str) or not step_id.replace("-", "").replace("_", "").isalnum():
        raise BadInput(_("{where} id: expected a name of letters, digits, - and _.").format(where=where))
    where = f"{where} ({step_id})"
    if not isinstance(title, str) or not title.strip():
        raise BadInput(_("{where} title: expected a sentence saying what has to happen.").format(where=where))
    if not isinstance(done, str) or not (done in DONE_MARKS or (done.startswith("delivered:") and done[10:])):
        raise BadInput(_("{where} done: expected one of {names} or \"delivered:KIND\", got {done!r}.").format(
                           where=where, names=', '.join(DONE_MARKS), done=done))
    deadline = raw.get("deadline")
    if deadline is not None and deadline not in NAMED_DEADLINES and (
            isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or not 0 <= deadline <= MAX_HOURS):
        raise BadInput(_("{where} deadline: expected hours (a number), \"prepare\", \"publish\" or "
                         "\"authority\", got {deadline!r}.").format(where=where, deadline=deadline))
    severity = raw.get("severity", ["crisis"])
    if not isinstance(severity, list) or not severity or not set(severity) <= set(SEVERITIES):
        raise BadInput(_("{where} severity: expected a list of {names}, got {severity!r}.").format(
                           where=where, names=', '.join(SEVERITIES), severity=severity))
    repeat = raw.get("repeat")
    if repeat is not None and repeat not in REPEATS:
        raise BadInput(_("{where} repeat: expected one of {names}, got {repeat!r}.").format(
                           where=where, names=', '.join(REPEATS), repeat=repeat))
    if done == "moderated" and repeat != "daily":
        raise BadInput(_("{where} done: \"moderated\" is proven day by day; add repeat = \"daily\".").format(
                           where=where))
    waivable, ordered = raw.get("waivable", False), raw.get("ordered", True)
    if not isinstance(waivable, bool):
        raise BadInput(_("{where} waivable: expected true or false.").format(where=where))
    if not isinstance(ordered, bool):
        raise BadInput(_("{where} ordered: expected true or false.").format(where=where))
    return Step(step_id, title.strip(), done, deadline, tuple(severity), repeat, waivable, ordered)


# --- the checklist ---------------------------------------------------------------------------------------


@dataclass
class Facts:
    """What the log says about one incident, as the checklist needs it."""

    first_seen: datetime
    now: datetime
    severity: str
    resolved_at: datetime | None = None
    prepared_at: datetime | None = None
    published_at: datetime | None = None
    first_public_at: datetime | None = None
    delivered: dict[str, list[datetime]] = field(default_factory=dict)
    manual: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    frozen_at: datetime | None = None
    decision: dict[str, Any] | None = None
    decided_at: datetime | None = None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    prepare_hours: float = 12
    publish_hours: float = 48
    authority_hours: float | None = 72
    """[deadlines] authority: hours to notify the data-protection authority (None: off)."""
    update_every: float = 6
    moderation: list[ModerationDay] | None = None
    """The incident's days that heard a negative item, when the workspace listens (None: it does not)."""

    @property
    def ignored(self) -> bool:
        return bool(self.decision and self.decision.get("decision") == "ignore")


@dataclass
class Item:
    """One checklist line: a playbook step and where it stands."""

    id: str
    title: str
    state: str
    deadline: datetime | None = None
    done_at: datetime | None = None
    by: str | None = None
    note: str | None = None
    manual: bool = False
    remark: str | None = None
    """Why this step's place in time differs from the playbook's order, when it does."""

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "state": self.state,
                "deadline": iso(self.deadline) if self.deadline else None,
                "done_at": iso(self.done_at) if self.done_at else None, "by": self.by, "note": self.note,
                "manual": self.manual, "remark": self.remark}


def checklist(book: Playbook, facts: Facts) -> list[Item]:
    """The case's steps for this incident, in the playbook's order, each with its state;
    a step whose deadline is off for this workspace ([deadlines] authority = false) is
    left out; steps done out of order carry a remark (`order_remarks`)."""
    items: list[Item] = []
    once: list[tuple[Step, Item]] = []
    for step in book.steps_for(facts.severity):
        if step.deadline == "authority" and facts.authority_hours is None:
            continue
        if step.repeat == "daily":
            items.extend(_daily(step, facts))
        elif step.repeat == "update_every":
            items.append(_every(step, facts))
        else:
            items.append(_once(step, facts))
            once.append((step, items[-1]))
    order_remarks(once, facts)
    return items


ORDERED = ("manual", "decided")
"""Steps a person marks (by hand, or by a decision): their order against the others is
the cabinet's to keep, so doing one out of order is remarked."""


def order_remarks(once: list[tuple[Step, Item]], facts: Facts) -> None:
    """Remark each step done after the incident was resolved, and each pair of steps done
    in the reverse of the playbook's order where one is marked by a person and the other
    seen by the tool (a source traced after the response went out; a decision taken
    before the advisor's brief): the remark goes on the step the person marked. Steps
    with `ordered = false` are never compared."""
    for index, (step, item) in enumerate(once):
        if item.done_at is None or not step.ordered:
            continue
        if facts.resolved_at is not None and item.done_at > facts.resolved_at and step.template != "resolution":
            item.remark = _("done after the incident was resolved ({at})").format(at=iso(facts.resolved_at))
            continue
        for later_step, later in once[index + 1:]:
            if later.done_at is None or later.done_at >= item.done_at or not later_step.ordered:
                continue
            if (step.done in ORDERED) == (later_step.done in ORDERED):
                continue
            if step.done in ORDERED:
                item.remark = _("done after «{title}», which the playbook puts after it").format(title=later.title)
                break
            if later_step.done in ORDERED and later.remark is None:
                later.remark = _("done before «{title}», which the playbook puts first").format(title=item.title)


def _state(deadline: datetime | None, done_at: datetime | None, now: datetime) -> str:
    if done_at is not None:
        return "done late" if deadline is not None and done_at > deadline else "done"
    return "late" if deadline is not None and now > deadline else "due"


def _once(step: Step, facts: Facts) -> Item:
    hours = step.hours(facts.prepare_hours, facts.publish_hours, facts.authority_hours)
    deadline = facts.first_seen + timedelta(hours=hours) if hours is not None else None
    done_at, by, note = _done(step, facts)
    item = Item(step.id, _(step.title), _state(deadline, done_at, facts.now), deadline, done_at, by, note, step.manual)
    if step.waivable and facts.ignored and done_at is None:
        decision = facts.decision or {}
        item.state = "waived"
        item.by = decision.get("by")
        item.note = _("waived by decision not to answer ({at}): {reason}").format(
            at=decision.get("at"), reason=decision.get("reason"))
    return item


def _done(step: Step, facts: Facts) -> tuple[datetime | None, str | None, str | None]:
    if step.manual:
        marks = facts.manual.get(step.id) or []
        return (marks[0]["at"], marks[0]["by"], marks[0].get("note")) if marks else (None, None, None)
    if step.template:
        times = facts.delivered.get(step.template) or []
        return (min(times) if times else None), None, None
    if step.done == "decided":
        candidates = [moment for moment in (facts.prepared_at, facts.decided_at) if moment]
        if not candidates:
            return None, None, None
        first = min(candidates)
        if first == facts.decided_at and facts.decisions:
            return first, facts.decisions[0].get("by"), decisions_note(facts.decisions)
        return first, None, _("a response was approved")
    moment = {"prepared": facts.prepared_at, "published": facts.published_at, "frozen": facts.frozen_at}[step.done]
    return moment, None, None


def decisions_note(decisions: list[dict[str, Any]]) -> str:
    """Every decision in order, each with its own actor and time."""
    return "; then ".join(f"decided to {item.get('decision')} ({item.get('by')}, {item.get('at')})"
                          for item in decisions)


def _daily(step: Step, facts: Facts) -> list[Item]:
    end = min(facts.now, facts.resolved_at) if facts.resolved_at else facts.now
    marks = facts.manual.get(step.id) or []
    heard = step.done == "moderated" and facts.moderation is not None
    items = []
    day = 0
    while facts.first_seen + day * DAY <= end:
        start, deadline = facts.first_seen + day * DAY, facts.first_seen + (day + 1) * DAY
        title = _("{title} (day {day})").format(title=_(step.title), day=day + 1)
        if heard:
            items.append(_moderated(step, facts, title, day + 1, deadline))
        else:
            mark = next((m for m in marks if start <= m["at"] < deadline), None)
            done_at = mark["at"] if mark else None
            items.append(Item(step.id, title, _state(deadline, done_at, facts.now), deadline, done_at,
                              mark["by"] if mark else None, mark.get("note") if mark else None,
                              step.by_hand(facts.moderation is not None)))
        day += 1
    return items


def _moderated(step: Step, facts: Facts, title: str, number: int, deadline: datetime) -> Item:
    """One day of a moderated step, from the negative items heard that day."""
    found = next((day for day in facts.moderation or [] if day.number == number), None)
    if found is None:
        over = facts.now >= deadline
        return Item(step.id, title, "done" if over else "due", deadline, None, None,
                    _("no negative item heard") if over else _("no negative item heard so far"))
    note = _("{negative} negative items: {answered} answered, {handled} handled, {open} open").format(
        negative=found.negative, answered=found.answered, handled=found.handled, open=found.open)
    if found.open:
        return Item(step.id, title, "late" if facts.now > deadline else "due", deadline, None, None, note)
    return Item(step.id, title, _state(deadline, found.done_at, facts.now), deadline, found.done_at, None, note)


def _every(step: Step, facts: Facts) -> Item:
    title = _("{title}, every {hours:g} h").format(title=_(step.title), hours=facts.update_every)
    times = sorted(facts.delivered.get(step.template or "", [])) if step.template else [
        mark["at"] for mark in facts.manual.get(step.id, [])]
    last = times[-1] if times else None
    base = last or facts.first_public_at
    if base is None:
        return Item(step.id, title, "due", None, None, None, _("starts once a first statement is published"),
                    step.manual)
    if facts.resolved_at is not None:
        return Item(step.id, title, "done", None, last, None, _("the incident is resolved"), step.manual)
    deadline = base + timedelta(hours=facts.update_every)
    state = "late" if facts.now > deadline else ("done" if last else "due")
    note = _("next update by {deadline}").format(deadline=iso(deadline))
    return Item(step.id, title, state, deadline, last, None, note, step.manual)


def shipped_cases() -> dict[int, Playbook]:
    """The four shipped playbooks, by case number."""
    return load_playbooks(None)


def get_case(number: int, workspace: Path | None = None) -> Playbook:
    if number not in (1, 2, 3, 4):
        raise BadInput(_("--case {number} does not exist; cases are 1 to 4 {CASE_HELP}.").format(
                           number=number, CASE_HELP=_(CASE_HELP)))
    return playbook(workspace, number)


def check_template(case: Playbook, template: str) -> None:
    if template not in case.templates:
        raise BadInput(_("--template {template!r} is not part of case {number} ({title}); its templates "
                         "are {names}.").format(
                           template=template, number=case.number, title=case.title,
                           names=', '.join(case.templates)))


def freezes_on_open(app: Any, case: int) -> bool:
    """Whether opening an incident of `case` freezes everything ([cases.N] freeze_on_open;
    by default case 3 only, as its playbook says)."""
    return bool(app.config.case_setting(case, "freeze_on_open", case == 3))
