"""The log's witnesses outside the store: the time-stamping authority (`[store] witness`),
and what `publish log verify` checks beyond the chain (with `publisher.workspace.rollback`).

Guarantees:
- After each approval and after each delivery run that delivered something, the log's
  head is time-stamped (`publisher.log.witness`); after any other command that wrote
  to the log, a head not yet covered is witnessed then.
- None of this can fail or stop the command that called it: a TSA that cannot be
  reached is recorded as a miss (asked once per command; later hooks of the same command
  record the miss without waiting again), said as a warning, and retried later.
- Without `[store] witness` every call here does nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.errors import PublishError
from publisher.log.sightings import contradiction
from publisher.workspace.rollback import sightings

if TYPE_CHECKING:
    from publisher.log import witness
    from publisher.log.store import Event
    from publisher.workspace.app import App


def witness_after(app: App, reason: str) -> None:
    """The hook after an approval (`reason` "approval") or a delivery run ("delivery")."""
    settings = app.config.witness
    if settings is None:
        return
    from publisher.log import witness

    missed = getattr(app, "witness_missed", None)
    try:
        if missed:
            witness.record_miss(app.store, settings, reason, missed)
            return
        event = witness.witness_head(app.store, settings, reason)
    except PublishError:
        return
    if event.kind == witness.MISSED:
        app.witness_missed = event.data.get("reason")


def trust(app: App) -> witness.Trust | None:
    """The configured certificates tokens are checked against (None without a witness)."""
    from publisher.log import witness

    settings = app.config.witness
    return witness.Trust(settings) if settings else None


def witness_now(app: App) -> Event | None:
    """`publish log witness`: witness the head if anything is not yet covered; say why not
    when the TSA cannot be reached."""
    from publisher.errors import BadInput, CheckFailed
    from publisher.i18n import _
    from publisher.log import witness

    settings = app.config.witness
    if settings is None:
        raise BadInput(_("no time witness is configured; set [store] witness = \"https://…\" (an RFC 3161 TSA) "
                         "and [store] witness_certificate in config/publisher.toml."))
    try:
        return witness.catch_up(app.store, settings)
    except witness.WitnessFailed as error:
        raise CheckFailed(_("the log's head was not witnessed: {reason}; try again later.").format(
            reason=error)) from None


def after_command(app: App) -> str | None:
    """The end of every command: when it wrote to the log, witness what is not yet
    covered. Returns a warning to show when the head stays unwitnessed."""
    store = app.__dict__.get("store")
    if app.config.witness is None or store is None or not getattr(store, "wrote", None) or not store.wrote.is_set():
        return None
    from publisher.log import witness

    missed = getattr(app, "witness_missed", None)
    if missed is None:
        try:
            witness.catch_up(store, app.config.witness)
        except witness.WitnessFailed as error:
            missed = str(error)
        except Exception:  # the command is done and has printed its result; a witness is retried later
            return None
    if missed is None:
        return None
    from publisher.i18n import _

    return _("the log's head is not time-stamped yet: {reason}; the next command that writes, or "
             "`publish log witness`, tries again.").format(reason=missed)


def outside_problems(app: App) -> list[str]:
    """What `publish log verify` finds outside the chain: a witness file the store cannot
    account for, and every time-stamp token that does not verify offline."""
    from publisher.log import witness

    problems = []
    rolled_back = contradiction(app.store, sightings(app))
    if rolled_back:
        problems.append(rolled_back)
    problems += [problem.text for problem in witness.check_witnesses(app.store, trust(app))]
    return problems


def verified_words(app: App) -> str:
    """What `publish log verify` adds when it checked time-stamps ("" when none)."""
    if not app.config.witness:
        return ""
    from publisher.i18n import _
    from publisher.log import witness

    count = len(app.store.events(kind=witness.WITNESSED))
    return _("; {count} time-stamps verified offline").format(count=count) if count else ""


def unwitnessed_note(app: App) -> str | None:
    """What `publish status` warns when an approval or delivery is not yet time-stamped."""
    if app.config.witness is None:
        return None
    from publisher.log import witness

    since = witness.pending_since(app.store)
    if since is None:
        return None
    from publisher.i18n import _

    missed = app.store.events(kind=witness.MISSED, after_seq=since, newest_first=True, limit=1)
    why = f" ({missed[0].data.get('reason')})" if missed else ""
    return _("the log is not time-stamped by the TSA since row {row}{why}; `publish log witness` tries again").format(
        row=since, why=why)
