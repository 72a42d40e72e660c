"""What one invocation shares between its commands: the workspace flag, injected
clock and sleep (tests), the opened App (and whether it is a practice workspace), and the
`--key` option of every command whose action is signed when `[approvals] signing = "ssh"`."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import click

from publisher.i18n import N_
from publisher.timeparse import now as utc_now

key_option = click.option(
    "--key", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
    help=N_('SSH private key to sign with (else $PUBLISH_SSH_KEY, else ~/.ssh/id_ed25519, else the key '
         "`publish init` made in ~/.config/publish)."))


class Session:
    """What one invocation shares: workspace flag, injected clock and sleep, the App."""

    def __init__(self, workspace: str | None = None, clock: Callable[[], datetime] = utc_now,
                 sleep: Callable[[float], None] | None = None):
        self.workspace = workspace
        self.clock = clock
        self.sleep = sleep
        self._app: Any = None
        self.heralded = False
        """Whether this invocation's output has said it is a practice workspace."""

    @property
    def app(self) -> Any:
        if self._app is None:
            from publisher.workspace.app import App, resolve_workspace

            self._app = App(resolve_workspace(self.workspace), clock=self.clock)
        return self._app

    def finish(self) -> None:
        """After the command: a log dated ahead of the outside clock is said on stderr; a
        time witness still owed is asked for again (never fails); one still missing is
        said on stderr. Then the store is closed (SQLite checkpoints its WAL into the file
        now, not whenever the collector reaches the connection)."""
        if self._app is not None:
            from publisher.workspace.witness import after_command, clock_warnings

            try:
                for note in clock_warnings(self._app):
                    click.echo(self.redact(f"WARNING: {note}"), err=True)
                warning = after_command(self._app)
                if warning:
                    click.echo(self.redact(f"WARNING: {warning}"), err=True)
            finally:
                store = vars(self._app).pop("store", None)
                if store is not None:
                    store.close()

    @property
    def practice(self) -> bool:
        """Whether the workspace this invocation opened is a practice one."""
        return self._app is not None and self._app.config.practice

    def redact(self, text: str) -> str:
        return self._app.redact(text) if self._app is not None else text


def session() -> Session:
    found = click.get_current_context().find_object(Session)
    assert found is not None, "every command runs under the root group, which makes the Session"
    return found
