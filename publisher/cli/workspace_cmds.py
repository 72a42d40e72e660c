"""`publish init` and `publish status`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from publisher.cli.output import emit_json, say, table, warn
from publisher.cli.session import session
from publisher.i18n import N_, _
from publisher.evidence.state_words import state_word
from publisher.timeparse import for_people


@click.command("init")
@click.argument("directory", metavar="[DIR]", required=False, default=".")
@click.option("--practice", is_flag=True,
              help=N_('A practice workspace: [approvals] signing = "none", and every output says PRACTICE first.'))
def init(directory: str, practice: bool) -> None:
    """Create a workspace: config/publisher.toml, templates/ for overrides, var/. Signing
    is on: your SSH key (made in your config folder when you have none) is enrolled in
    the log. `--practice` makes a rehearsal workspace whose approvals are unsigned."""
    from publisher.incident.keys import init_signing, signing_key
    from publisher.incident.roster import record_first_people
    from publisher.workspace.app import App, current_user
    from publisher.workspace.folder import create_workspace
    from publisher.workspace.practice import notice

    user = current_user()
    if practice:
        created = create_workspace(Path(directory), practice=True)
        record_first_people(App(created), "publish init")
        say(notice())
        say(_('Created a practice workspace in {created}: [approvals] signing = "none", so approvals are unsigned '
              "and self-declared.").format(created=created))
    else:
        found = signing_key(user)
        created = create_workspace(Path(directory))
        app = App(created)
        init_signing(app, user, found)
        record_first_people(app, "publish init")
        say(_("Created a workspace in {created}.").format(created=created))
        say_signing(app, user, found)
    say(_("Edit {value}, then: publish --workspace {created} incident open ...").format(
            value=created / 'config' / 'publisher.toml', created=created))


def say_signing(app: Any, user: str, found: Any) -> None:
    """What `publish init` says about the key it made or found and enrolled."""
    words = _("Made your signing key {key} ({fingerprint}); keep it private, it proves your approvals.") \
        if found.made else _("Your signing key: {key} ({fingerprint}).")
    say(words.format(key=found.key, fingerprint=found.fingerprint))
    say(_('Signing is on ([approvals] signing = "ssh"): this key is enrolled in the log as {user}.').format(
        user=user))
    say(_("Enrol each other approver's public key (you sign the enrolment): publish keys add NAME THEIR_KEY.pub "
          "--as {user}").format(user=user))
    if user not in app.config.approvers:
        say(_("WARNING: {user} is not in [approvals] approvers ({names}): only an approver can enrol the others' "
              "keys, so add {user} there or run init as an approver (PUBLISH_USER=NAME).").format(
            user=user, names=", ".join(app.config.approvers) or "-"))


@click.command("status", short_help=N_("Clocks, deadlines, channels and the checklist."))
@click.argument("incident_id", metavar="[INCIDENT]", required=False)
@click.option("--json", "as_json", is_flag=True, help=N_("Print JSON."))
def status(incident_id: str | None, as_json: bool) -> None:
    """Clocks, deadlines, public channels and the case's checklist of an incident
    (default: every open one), with warnings when a deadline is less than 2 h away."""
    from publisher.evidence.status import incident_status
    from publisher.incident.incidents import list_incidents

    app = session().app
    ids = [incident_id] if incident_id else [i.id for i in list_incidents(app) if i.state == "open"]
    reports = [incident_status(app, one) for one in ids]
    if as_json:
        workers = _workers_json(app)
        emit_json([{**report.as_dict(), "workers": workers} for report in reports])
        return
    if not reports:
        say(_("No open incident."))
    for report in reports:
        _print_status(report)
    _print_workers(app)


def _print_workers(app) -> None:
    """Each worker's last heartbeat (none shown when no worker ever ran here)."""
    from publisher.delivery.worker import CLOCK_OFF, LIVE_WITHIN, SILENT_AFTER

    known = app.store.workers()
    if not known:
        return
    rows = []
    for worker in known:
        ago = _silence(worker.silent_for)
        if worker.state == "stopped":
            state = _("stopped")
        elif worker.silent_for > SILENT_AFTER:
            state = _("SILENT")
        elif worker.silent_for > LIVE_WITHIN:
            state = _("late")
        else:
            state = worker.state
        rows.append([worker.name, state, _("{ago} ago").format(ago=ago)])
    table(rows, [_("worker"), _("state"), _("last heartbeat")])
    silent = [worker for worker in known if worker.state != "stopped" and worker.silent_for > SILENT_AFTER]
    warn([_("the worker {name} has shown no heartbeat for {ago}: statements, retries and reminders may be "
            "waiting.").format(name=worker.name, ago=_silence(worker.silent_for)) for worker in silent])
    warn([_("the worker {name} takes no work: its machine's clock is off ({state}); set the system clock "
            "right.").format(name=worker.name, state=worker.state)
          for worker in known if worker.state.startswith(CLOCK_OFF) and worker.silent_for <= LIVE_WITHIN])


def _workers_json(app) -> list[dict[str, Any]]:
    """Each worker's last heartbeat, as `status --json` lists it beside every incident."""
    from datetime import datetime, timezone

    from publisher.delivery.worker import LIVE_WITHIN, SILENT_AFTER

    return [{"name": worker.name, "host": worker.host, "pid": worker.pid, "state": worker.state,
             "last_heartbeat": datetime.fromtimestamp(worker.beat, timezone.utc).isoformat(timespec="seconds"),
             "silent_for_seconds": round(worker.silent_for, 1),
             "live": worker.state != "stopped" and worker.silent_for <= LIVE_WITHIN,
             "silent": worker.state != "stopped" and worker.silent_for > SILENT_AFTER}
            for worker in app.store.workers()]


def _silence(seconds: float) -> str:
    from publisher.timeparse import human_hours

    return _("{seconds} s").format(seconds=int(seconds)) if seconds < 120 else human_hours(seconds / 3600)


CHANNEL_WORDS = {"delivered": "delivered", "unknown": "unconfirmed", "sending": "unconfirmed",
                 "failed-permanent": "failing", "failed-retryable": "failing", "pending": "not sent",
                 "not sent": "not sent", "withdrawn": "withdrawn"}


def _print_status(report) -> None:
    from publisher.evidence.report_words import statement_words
    from publisher.incident.playbooks import get_case
    from publisher.timeparse import hours, human_hours

    incident = report.incident
    title = _(get_case(incident.case, session().app.workspace).title)
    say(_("Incident {id}: case {case} ({title}), {state}, severity {severity}").format(
            id=incident.id, case=incident.case, title=title, state=state_word(incident.state),
            severity=state_word(incident.severity)))
    zone = session().app.config.timezone
    seen = _("First negative message {at}, {ago} ago").format(
        at=for_people(incident.first_seen, zone), ago=human_hours(hours(report.now - incident.first_seen)))
    how = _("time from the platform") if incident.first_seen_from == "platform" else _("time declared")
    say(f"{seen} - {incident.source}; {how}" if incident.source else f"{seen}; {how}")
    for clock in (report.prepared, report.published):
        statement = statement_words(clock.as_dict())
        say(_clock_line(clock, zone) + (f"; {statement}" if statement else ""))
    if incident.severity == "single":
        say(_("Severity single (an isolated complaint): the public reply is what is required; the 48 h "
              "proof covers {value}.").format(value=', '.join(c.name for c in report.channels) or _('no channel')))
    if report.channels:
        table([[c.name, c.type, state_word(CHANNEL_WORDS.get(c.state, c.state)), for_people(c.at, zone), c.url or ""]
               for c in report.channels], [_("public channel"), _("type"), _("state"), _("at"), _("url")])
    _print_undelivered(report)
    _print_changes(report)
    _print_approvals(report)
    _print_decision(report)
    _print_checklist(report)
    for warning in report.warnings:
        say(_("WARNING: {warning}").format(warning=warning))
    say(_("Evidence: publish report {id} --format html -o incident-{id}.html").format(id=incident.id))
    say()


def _clock_line(clock, zone) -> str:
    """One clock of `publish status`: its verdict against the deadline."""
    from publisher.evidence.report_words import verdict_word
    from publisher.timeparse import human_hours

    label = (_("Prepared") if clock.name == "prepare" else _("Published")).ljust(len(_("Published")))
    if clock.void:
        return _("{label}: VOID (a void incident has no verdict)").format(label=label)
    if clock.done_at is not None:
        return _("{label}: after {human_hours} (limit {limit_hours:g} h) {verdict}").format(
            label=label, human_hours=human_hours(clock.after_hours), limit_hours=clock.limit_hours,
            verdict=verdict_word(clock.verdict))
    if clock.waived:
        return _("{label}: WAIVED by decision not to answer ({by}, {at})").format(
            label=label, by=clock.waived['by'], at=for_people(clock.waived['at'], zone))
    if clock.verdict == "LATE":
        return _("{label}: not yet, {human_hours} late (limit {limit_hours:g} h) LATE").format(
            label=label, human_hours=human_hours(-clock.hours_left), limit_hours=clock.limit_hours)
    return _("{label}: not yet, {human_hours} left (limit {limit_hours:g} h, deadline {iso})").format(
        label=label, human_hours=human_hours(clock.hours_left), limit_hours=clock.limit_hours,
        iso=for_people(clock.deadline, zone))


def _print_undelivered(report) -> None:
    from publisher.i18n import _

    if not report.undelivered:
        return
    say(_("Approved, not delivered everywhere:"))
    table([[item.draft, item.template, item.channel, item.state + (_(", held by a freeze") if item.held else ""),
            item.reason or ""] for item in report.undelivered],
          [_("draft"), _("template"), _("channel"), _("state"), _("why")])
    steps: dict[tuple[str, str], list[str]] = {}
    for item in report.undelivered:
        steps.setdefault((item.draft, item.next), []).append(item.channel)
    for (draft, step), channels in steps.items():
        say(_("  {draft} on {channels}: {step}").format(draft=draft, channels=", ".join(channels), step=step))


def _print_changes(report) -> None:
    from publisher.evidence.report_words import how_words

    if not report.changes:
        return
    zone = session().app.config.timezone
    say(_("Corrections and withdrawals:"))
    for item in report.changes:
        if item["kind"] == "corrected":
            say(_("  {at} draft {draft} on {channel}: corrected by {correction}, {how}").format(
                at=for_people(item["at"], zone), draft=item["draft"], channel=item["channel"],
                correction=item["correction"], how=how_words(item["how"])))
        elif item["kind"] == "withdrawal unfinished":
            say(_("  {at} draft {draft} on {channel}: withdrawal not finished ({reason}); run `publish withdraw "
                  "{draft} --reason TEXT` again").format(at=for_people(item["at"], zone), draft=item["draft"],
                                                         channel=item["channel"],
                                                         reason=item["reason"] or _("no outcome recorded")))
        else:
            say(_("  {at} draft {draft} on {channel}: withdrawn by {by} ({reason}), {how}").format(
                at=for_people(item["at"], zone), draft=item["draft"], channel=item["channel"], by=item["by"],
                reason=item["reason"], how=how_words(item["how"])))


def _print_approvals(report) -> None:
    from publisher.drafting.approvals import approved_by, not_counted

    app = session().app
    for record in report.drafts:
        if record.approvals or record.unverified:
            say(_("Draft {id} ({template}) approved by: {approved_by}").format(
                    id=record.draft.id, template=record.draft.template, approved_by=approved_by(app, record)))
        for line in not_counted(record):
            say(f"  {line}")


def _print_decision(report) -> None:
    if report.decision is not None:
        event = report.decision
        verb = _("not to answer") if event.data.get("decision") == "ignore" else _("to answer")
        say(_("Decision: {actor} decided {verb} at {ts}: {data}").format(
                actor=event.actor, verb=verb, ts=for_people(event.ts, session().app.config.timezone),
                data=event.data.get('reason')))


def _print_checklist(report) -> None:
    from publisher.timeparse import hours, human_hours

    if not report.checklist:
        return
    say(_("Checklist:"))
    zone = session().app.config.timezone
    rows = []
    last = {item.id: index for index, item in enumerate(report.checklist)}
    for index, item in enumerate(report.checklist):
        if item.done_at is not None:
            when = for_people(item.done_at, zone)
            when = _("{at} by {who}").format(at=when, who=item.by) if item.by else when
        elif item.state == "late":
            when = _("{hours} late ({deadline})").format(
                hours=human_hours(hours(report.now - item.deadline)), deadline=for_people(item.deadline, zone))
        elif item.deadline is not None and item.state == "due":
            when = _("{hours} left ({deadline})").format(
                hours=human_hours(hours(item.deadline - report.now)), deadline=for_people(item.deadline, zone))
        elif item.state == "waived":
            when = _("by {who}").format(who=item.by) if item.by else ""
        else:
            when = _("as soon as possible")
        markable = item.manual and item.done_at is None and item.state != "waived" and last[item.id] == index
        how = f"publish done {item.id}" if markable else ""
        note = item.note or how
        if item.remark:
            note = _("{note} (out of order: {remark})").format(note=note, remark=item.remark) if note else \
                _("out of order: {remark}").format(remark=item.remark)
        rows.append([state_word(item.state).upper(), item.id, item.title, when, note])
    table(rows, [_("state"), _("step"), _("what"), _("when"), _("note / how")])


COMMANDS = [init, status]
