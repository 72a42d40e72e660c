"""Builds a workspace whose log holds about 1,000,000 events: many incidents, each
with ten drafts that were approved and delivered on two channels. The events are
copies of real ones (made by `publish` itself in a seed workspace) with new incident
and draft ids, chained exactly as the store chains them."""
from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import publish  # noqa: E402

CONFIG = """
[workspace]
practice = true

[organisation]
name = "Acme"
language = "en"

[approvals]
required = 1
approvers = ["ana", "luis"]
operators = ["marta"]
signing = "none"

[channels.web]
type = "site"
path = "var/site"

[channels.outbox]
type = "outbox"
path = "var/outbox"
"""
DRAFTS_PER_INCIDENT = 10


def seed_events(folder: Path) -> list[dict]:
    (folder / "config").mkdir(parents=True)
    (folder / "config" / "publisher.toml").write_text(CONFIG, encoding="utf-8")
    first_seen = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 7200))
    publish(folder, "incident", "open", "--case", "2", "--first-seen", first_seen, "--summary",
            "a payment outage that blocked card purchases for two hours", "--what", "the payment system outage")
    draft = json.loads(publish(folder, "--case", "2", "--template", "apology", "--json").stdout)["draft"]["id"]
    publish(folder, "approve", draft, "--as", "ana")
    db = sqlite3.connect(folder / "var" / "publisher.db")
    try:
        return [json.loads(row[0]) for row in db.execute("SELECT body FROM events ORDER BY seq")]
    finally:
        db.close()


def stamp(ms: int) -> str:
    """An event time one millisecond after the one before: the log's clock never goes back."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def renumbered(data: dict, incident: str, number: int) -> dict:
    """The seed draft as draft `number` of `incident`: its titles numbered, so each copy
    has its own content, and its hash and id recomputed the way the drafts module does."""
    from publisher.log.store import canonical

    payloads = {name: dict(payload, title=f"{payload['title']} ({number + 1})")
                for name, payload in data["payloads"].items()}
    content = {"incident": incident, "template": data["template"], "language": data["language"],
               "reply_to": data.get("reply_to"),
               "payloads": {name: {"type": p["type"], "title": p["title"], "parts": list(p["parts"])}
                            for name, p in sorted(payloads.items())}}
    digest = hashlib.sha256(canonical(content).encode("utf-8")).hexdigest()
    return dict(data, incident=incident, payloads=payloads, hash=digest, id=digest[:12])


def build(folder: Path, target: int = 1_000_000) -> dict:
    from publisher.log.store import GENESIS, Store, canonical, chain_hash

    started = time.perf_counter()
    seed = seed_events(folder / "seed")
    opened = next(e for e in seed if e["kind"] == "incident.opened")
    cabinet = [e for e in seed if not e.get("incident")]
    per_draft = [e for e in seed if e.get("draft")]
    old_draft = per_draft[0]["draft"]
    rendered_seed = next(e for e in seed if e["kind"] == "draft.rendered")["data"]
    (folder / "config").mkdir(parents=True, exist_ok=True)
    (folder / "config" / "publisher.toml").write_text(CONFIG, encoding="utf-8")
    store_path = folder / "var" / "publisher.db"
    store = Store(store_path)
    key = store.key
    store.close()
    db = sqlite3.connect(store_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    seq, prev, incident = 0, GENESIS, 0
    first_ms = int(time.time() * 1000) - target - 1000
    rows = []
    while seq < target - 1:
        incident += 1
        batch = [dict(event) for event in cabinet] if incident == 1 else []
        batch.append(dict(opened, incident=str(incident)))
        for number in range(DRAFTS_PER_INCIDENT):
            rendered = renumbered(rendered_seed, str(incident), number)
            for event in per_draft:
                copy = dict(event, incident=str(incident), draft=rendered["id"])
                if event["kind"] == "draft.rendered":
                    copy["data"] = rendered
                elif "hash" in event["data"]:
                    copy["data"] = dict(event["data"], hash=rendered["hash"])
                batch.append(copy)
        for event in batch:
            if seq >= target - 1:
                break
            seq += 1
            event["seq"] = seq
            event["ts"] = stamp(first_ms + seq)
            body = canonical(event)
            digest = chain_hash(prev, body, key)
            rows.append((seq, body, prev, digest))
            prev = digest
        if len(rows) >= 20000:
            db.executemany("INSERT INTO events (seq, body, prev, hash) VALUES (?, ?, ?, ?)", rows)
            rows.clear()
    db.executemany("INSERT INTO events (seq, body, prev, hash) VALUES (?, ?, ?, ?)", rows)
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    store = Store(store_path)
    store.append("bench.built", actor="bench", data={"events": target, "old_draft": old_draft})
    store.close()
    return {"events": target, "incidents": incident, "build_s": time.perf_counter() - started,
            "bytes": store_path.stat().st_size}


if __name__ == "__main__":
    print(build(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000))
