"""An insider with the SQLite file: rewrite the log and recompute its whole chain and
head file (possible without [store] hmac_key), and real SSH keys for the signing tests."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Callable

from publisher.log.signatures import action_message
from publisher.log.store import GENESIS, canonical, chain_hash


def rewrite_log(workspace: Any, change: Callable[[dict], dict] = lambda event: event,
                append: tuple[dict, ...] = ()) -> list[dict]:
    """Edit every event with `change`, append `append`, and recompute the chain and head."""
    with workspace.db() as db:
        events = [change(json.loads(body)) for (body,) in db.execute("SELECT body FROM events ORDER BY seq")]
        for extra in append:
            events.append({"seq": len(events) + 1, "ts": events[-1]["ts"], "actor": None, "incident": None,
                           "draft": None, "channel": None, "data": {}, **extra})
        db.execute("DELETE FROM events")
        prev = GENESIS
        for event in events:
            body = canonical(event)
            digest = chain_hash(prev, body)
            db.execute("INSERT INTO events (seq, body, prev, hash) VALUES (?, ?, ?, ?)",
                       (event["seq"], body, prev, digest))
            prev = digest
    last = len(events)
    (workspace.path / "var" / "publisher.db.head").write_text(
        canonical({"seq": last, "hash": prev, "mac": chain_hash("head", f"{last}:{prev}")}))
    return events


def make_keys(folder: Path, *names: str) -> dict[str, Path]:
    folder.mkdir(exist_ok=True)
    made = {}
    for name in names:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(folder / name)],
                       check=True)
        made[name] = folder / name
    return made


def ssh_sign(message: bytes, key: Path) -> str:
    return subprocess.run(["ssh-keygen", "-Y", "sign", "-n", "publish-approval", "-f", str(key)], input=message,
                          capture_output=True, check=True).stdout.decode()


def forged_signature(kind_action: str, subject: str, payload: Any, actor: str, key: Path) -> dict:
    """A well-formed signature over the right message, made with whatever key the forger has."""
    return {"scheme": "ssh", "signature": ssh_sign(action_message(kind_action, subject, payload, actor), key)}


def allowed_signers(workspace: Any, keys: dict[str, Path], *names: str) -> None:
    lines = [f'{name} namespaces="publish-approval" {Path(str(keys[name]) + ".pub").read_text().strip()}'
             for name in names]
    (workspace.path / "config" / "allowed_signers").write_text("\n".join(lines) + "\n")


def turn_signing_on(workspace: Any) -> None:
    """The default practice workspace becomes a signed one: `signing = "ssh"`, no practice marker."""
    config = workspace.path / "config" / "publisher.toml"
    text = config.read_text().replace('signing = "none"', 'signing = "ssh"').replace("[workspace]\npractice = true\n", "")
    config.write_text(text)
