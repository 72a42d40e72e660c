"""From heard items in a real log to the report's listening facts: each item once, a
person's sentiment winning, a malformed platform time kept at the time we read it, and
the incident's curve, alerts, answer times and moderation in one call."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from publisher.evidence.listening import heard_items, incident_facts
from publisher.evidence.sentiment import lexicon_classifier, override_payload
from publisher.workspace.app import App

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)


def heard(store, key: str, text: str, minutes: float, incident: str | None = "1", **extra):
    at = (T0 + timedelta(minutes=minutes)).isoformat()
    data = {"source": "mastodon", "platform": "mastodon", "id": key, "key": key, "text": text, "author": "@someone",
            "url": f"https://social.example/@someone/{key}", "platform_time": at, "read_at": at, "answers": None,
            "extra": {}, "rule": "keyword:acme", "incident": incident, **extra}
    store.append("item.heard", data=data)


def test_the_log_s_heard_items_become_the_incident_s_listening_facts(workspace):
    workspace.open_incident(case=3)
    store = App(workspace.path).store
    for hours_back in range(1, 24 * 7 + 1):
        heard(store, f"old-{hours_back}", "¿A qué hora abre la tienda?", -60 * hours_back, incident=None)
    heard(store, "m1", "Me habéis filtrado los datos, una vergüenza", 1)
    heard(store, "m1", "Me habéis filtrado los datos, una vergüenza", 1)
    heard(store, "m2", "Qué asco de empresa, nunca más", 3)
    heard(store, "m3", "Gracias por el aviso", 5)
    heard(store, "m4", "Genial, otra filtración más", 7, platform_time="yesterday-ish")
    for number in range(10):
        heard(store, f"wave-{number}", "Fatal, fatal, no funciona nada", 20 + number)
    store.append("item.sentiment_set", actor="marta", data=override_payload("m3", "negative", "ironic"))
    classify = lexicon_classifier(("Acme",))
    answered = {"m1": T0 + timedelta(minutes=31), "m3": T0 + timedelta(minutes=125)}
    items = heard_items(store.events(), classify, answered=answered, handled={"m2": T0 + timedelta(minutes=30)})
    keys = [item.key for item in items]
    assert keys.count("m1") == 1 and len(items) == 168 + 14
    by_key = {item.key: item for item in items}
    assert by_key["m3"].negative and by_key["m1"].negative and not by_key["old-1"].negative
    assert by_key["m4"].platform_time == T0 + timedelta(minutes=7)
    facts = incident_facts([item for item in items if item.key != "m4"], "1", T0, T0 + timedelta(hours=3),
                           timezone.utc, spike=3.0, negative_share=0.4, answer_within=60,
                           source={"platform": "mastodon", "url": "https://social.example/@someone/m1",
                                   "author": "@someone", "platform_time": T0.isoformat(), "time_from": "platform"})
    again = json.loads(json.dumps(facts))
    assert again["answers"]["verdict"] == "FAIL" and again["answers"]["worst_item"] == "m3"
    assert again["answers"]["handled"] == ["m2"] and len(again["answers"]["unanswered"]) == 10
    assert [alert["kind"] for alert in again["alerts"]] == ["dip", "spike"]
    assert again["alerts"][0]["source"] == "m1"
    assert again["moderation"][0]["state"] == "due" and again["moderation"][0]["open"] == 10
    assert again["curve"]["hours"][0]["hour"] == "2026-12-05T09:00:00Z"
