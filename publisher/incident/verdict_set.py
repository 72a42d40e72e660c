"""The public channels an incident's 48 h verdict is judged against, recorded in the log.

Guarantees: the set of enabled public channels is recorded when an incident opens (in
`incident.opened`, `public_channels`), and again (`incident.channels`) when one of its
drafts is rendered if the set changed since;
verdicts are judged against the latest recorded set, never the live config, so a
channel enabled, disabled or added after the fact (after resolution, above all) never
changes a past verdict. Nothing is recorded for a resolved incident. An incident opened
before sets were recorded is judged against the config, and says so (`source`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from publisher.log.store import Event
from publisher.workspace.app import App
from publisher.workspace.config import ChannelConfig

KIND = "incident.channels"


@dataclass(frozen=True)
class JudgedSet:
    """The public channels a verdict is judged against, and where that set comes from."""

    channels: tuple[ChannelConfig, ...]
    source: str
    recorded_at: str | None = None
    seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"channels": [{"name": channel.name, "type": channel.type} for channel in self.channels],
                "source": self.source, "recorded_at": self.recorded_at, "row": self.seq}


def live_public(app: App) -> list[dict[str, str]]:
    return [{"name": channel.name, "type": channel.type} for channel in app.config.enabled_channels()
            if channel.audience == "public"]


def judged_set(app: App, incident_id: str) -> JudgedSet:
    return judged_from(app, app.store.events(kind=("incident.opened", KIND), incident=incident_id))


def judged_from(app: App, events: list[Event]) -> JudgedSet:
    """The set recorded by the latest of the incident's `events` (any kinds, log order)."""
    recorded = [event for event in events if event.kind in ("incident.opened", KIND)
                and isinstance(event.data.get("public_channels", event.data.get("channels")), list)]
    if not recorded:
        return JudgedSet(tuple(_configs(live_public(app))), "config")
    event = recorded[-1]
    configs = event.data.get("public_channels", event.data.get("channels"))
    return JudgedSet(tuple(_configs(configs if isinstance(configs, list) else [])), "log",
                     event.ts, event.seq)


def record_public_channels(app: App, incident_id: str, actor: str | None) -> None:
    """Record the set in force now, unless it is already the latest recorded one or the
    incident is resolved."""
    if app.store.events(kind="incident.resolved", incident=incident_id, limit=1):
        return
    now = live_public(app)
    latest = judged_set(app, incident_id)
    if latest.source == "log" and [dict(item) for item in latest.as_dict()["channels"]] == now:
        return
    app.store.append(KIND, actor=actor, incident=incident_id, data={"channels": now})


def _configs(items: list[dict[str, Any]]) -> list[ChannelConfig]:
    return [ChannelConfig(str(item.get("name")), str(item.get("type")), "public", True, {})
            for item in items if isinstance(item, dict) and item.get("name")]
