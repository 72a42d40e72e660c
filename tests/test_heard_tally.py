"""The log's heard items become the curve's tally (`heard_tally.LogTally`): each key
once, a malformed platform time counted at the time we read it, the stored sentiment
(or, for an item stored without one, the same judge), a person's sentiment and
attach/detach moving the counts; caught up again, it reads only what is new."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from publisher.incident.crisis_curve import curve, hour_of
from publisher.incident.heard_tally import LogTally
from publisher.incident.sentiment import override_payload
from publisher.workspace.app import App

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)


def heard(store, key: str, text: str, minutes: float, incident: str | None = "1", **extra) -> None:
    at = (T0 + timedelta(minutes=minutes)).isoformat()
    data = {"source": "mastodon", "platform": "mastodon", "id": key, "key": key, "text": text, "author": "@someone",
            "url": f"https://social.example/@someone/{key}", "platform_time": at, "read_at": at, **extra}
    store.append_heard("mastodon", [(incident, data)])


def test_the_log_s_items_fold_into_the_tally_and_later_events_move_them(workspace):
    incident = workspace.open_incident(case=3)
    store = App(workspace.path).store
    heard(store, "m1", "Me habéis filtrado los datos", 1, incident, sentiment="negative")
    heard(store, "m1", "Me habéis filtrado los datos", 1, incident, sentiment="negative")
    heard(store, "m2", "Qué asco de empresa, nunca más", 3, incident)
    heard(store, "m3", "Gracias por el aviso", 5, None, sentiment="positive")
    heard(store, "m4", "Genial", 7, None, sentiment="neutral", platform_time="yesterday-ish",
          read_at=(T0 + timedelta(hours=2)).isoformat())
    tally = LogTally(keywords=("Acme",))
    assert tally.catch_up(store) == 4
    assert tally.items["m2"].negative  # stored without a label: judged by the same judge
    assert hour_of(tally.items["m4"].moment) == hour_of(T0) + 2
    assert sorted(tally.keys_of(incident)) == ["m1", "m2"]
    store.append("item.sentiment", actor="marta", incident=None, data=override_payload("m3", "negative", "ironic"))
    store.append("item.attached", actor="marta", incident=incident, data={"key": "m3", "from": None})
    store.append("item.detached", actor="marta", incident=incident, data={"key": "m1"})
    assert tally.catch_up(store) == 0
    drawn = curve(tally.tally, T0, T0 + timedelta(hours=2), incident)
    assert (drawn.mentions, drawn.negative) == (2, 2)
    workspace_curve = curve(tally.tally, T0, T0 + timedelta(hours=2))
    assert (workspace_curve.mentions, workspace_curve.negative) == (4, 3)
    fresh = LogTally(keywords=("Acme",))
    fresh.catch_up(store)
    assert fresh.tally.hours == tally.tally.hours and fresh.seq == tally.seq
