"""One workspace opened for one command: its config, log, secrets and channels.

Building a channel resolves its `${NAME}` references strictly (a missing secret is a
`BadInput` saying how to set it); every secret of every configured channel that can be
resolved is given to the redactor first, so no output path can print one. Each channel's
settings are resolved once, when the workspace is opened.
"""
from __future__ import annotations

import getpass
import os
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from channels import channel_class
from channels.options import SettingError, validate_settings
from publisher.errors import BadInput
from publisher.log.store import Store, StoreKeyError, StoreUnavailable, open_store
from publisher.timeparse import now as utc_now
from publisher.workspace.config import Config, load_config
from publisher.workspace.inputs import check_text
from publisher.workspace.folder import enclosing_workspace
from publisher.workspace.secrets import Redactor, SecretSource
from publisher.workspace.rollback import guard_writes
from publisher.i18n import _, use_language

if TYPE_CHECKING:
    from channels.base import Channel

PATH_OPTIONS = ("path", "tls_ca_file", "font")


def resolve_workspace(flag: str | None) -> Path:
    """`--workspace`, else `$PUBLISH_WORKSPACE`, else the workspace holding the current
    folder (found upwards, the way git finds its repository), else the current folder."""
    chosen = flag or os.environ.get("PUBLISH_WORKSPACE")
    if chosen:
        return Path(chosen).expanduser().resolve()
    here = Path(os.getcwd()).resolve()
    return enclosing_workspace(here) or here


def current_user(flag: str | None = None) -> str:
    name = flag or os.environ.get("PUBLISH_USER") or getpass.getuser()
    return check_text(name, "the user name (--as, $PUBLISH_USER)")


class App:
    def __init__(self, workspace: Path, clock: Callable[[], datetime] = utc_now):
        self.workspace = workspace
        self.clock = clock
        self.config: Config = load_config(workspace)
        use_language(self.config.language)
        self.secrets = SecretSource(self.config.secrets_file, self._shown(self.config.secrets_file))
        self.redact = Redactor()
        self.witness_missed: str | None = None
        """Why the TSA could not witness the head during this command (asked once per command)."""
        self.clock_missed: str | None = None
        """Why the TSA could not tell the time before this command's first write."""
        self._resolved: dict[str, Any] = {}
        for name, configured in self.config.channels.items():
            try:
                self._resolved[name] = self.resolve(configured.raw, f"[channels.{name}]")
            except BadInput:
                self.resolve(configured.raw, "", strict=False)
        for value in (self.config.store_key_reference, self.config.store_url):
            self.resolve(value, "", strict=False)

    def resolve(self, value: Any, where: str, strict: bool = True) -> Any:
        """Resolve `${NAME}` references in `value` and remember every secret found."""
        found: set[str] = set()
        resolved = self.secrets.resolve(value, where, found, strict)
        for secret in found:
            self.redact.add(secret)
        return resolved

    def _shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.workspace))
        except ValueError:
            return str(path)

    @cached_property
    def store(self) -> Store:
        key = None
        if self.config.store_key_reference:
            key = self.resolve(self.config.store_key_reference, "[store] hmac_key").encode()
        url = self.resolve(self.config.store_url, "[store] url") if self.config.store_url else None
        try:
            store = open_store(path=self.config.store_path, url=url, anchor=self.config.store_anchor,
                               redact=self.redact.scrub, clock=self.clock, key=key)
        except StoreKeyError as error:
            raise BadInput(f"{self._shown(self.config.store_path)}: {error}.") from None
        except StoreUnavailable as error:
            raise BadInput(self.redact.scrub(str(error))) from None
        if self.config.witness is not None and not url:
            from publisher.workspace.witness import tsa_time

            store.outside_clock = lambda: tsa_time(self)
        return guard_writes(self, store)

    def channel(self, name: str, address: dict[str, Any] | None = None) -> Channel:
        """The configured channel `name`; `address` replaces its recipients (an e-mail
        channel's `recipients`, a Telegram channel's `chat`) to reach one person."""
        try:
            configured = self.config.channels[name]
        except KeyError:
            known = ", ".join(sorted(self.config.channels)) or "none"
            raise BadInput(_("no channel named {name!r} in config/publisher.toml; configured: {known}.").format(
                               name=name, known=known)) from None
        resolved = self._resolved.get(name) or self.resolve(configured.raw, f"[channels.{name}]")
        resolved = {**resolved, **(address or {})}
        cls = channel_class(configured.type)
        try:
            settings = validate_settings(cls.all_options(), resolved)
            for key in PATH_OPTIONS:
                if isinstance(settings.get(key), str):
                    settings[key] = str(self.workspace / settings[key])
            made = cls(name, settings, self.redact.frozen())
            for key in cls.references:
                made.attach(key, self._referenced(name, key, settings[key]))
            return made
        except SettingError as error:
            raise BadInput(_("config/publisher.toml: [channels.{name}] {key}: {expected}.").format(
                               name=name, key=error.key, expected=error.expected)) from None

    def _referenced(self, name: str, key: str, other: str) -> Channel:
        """The channel `other` that [channels.`name`] `key` names."""
        if other == name or other not in self.config.channels:
            raise SettingError(key, _("the name of another channel in config/publisher.toml, got {other!r}").format(
                other=other))
        return self.channel(other)

    def targets(self, names: tuple[str, ...] = ()) -> list[Channel]:
        """The channels a draft goes to: the named ones, else every enabled one."""
        if names:
            chosen = [self.config.channels.get(name) for name in names]
            for name, channel in zip(names, chosen, strict=True):
                if channel is None:
                    self.channel(name)
                elif not channel.enabled:
                    raise BadInput(_("--channel {name}: the channel is disabled (enabled = false) in the "
                                     "config.").format(name=name))
            return [self.channel(name) for name in dict.fromkeys(names)]
        enabled = self.config.enabled_channels()
        if not enabled:
            raise BadInput(_("config/publisher.toml enables no channel; add a [channels.NAME] table."))
        return [self.channel(channel.name) for channel in enabled]
