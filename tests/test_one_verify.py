"""`log verify` is one streaming pass in one process, and a draft's hash is computed in
one place: the canonical form is `json.dumps(sort_keys, no spaces, UTF-8)`'s bytes
(written by orjson; a float under 1e-4 in orjson's notation), the hash
`drafts.draft_hash`, whether drafting, the check before a send or the verify walk asks,
so hashes recorded by earlier releases still match."""
from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from publisher.drafting.drafts import _draft_from, draft_hash
from publisher.drafting.integrity import draft_problem
from publisher.log.store import Store, canonical
from tests.trust_support import rewrite_log

N = 30
KINDS = ("incident.opened", "draft.rendered", "draft.approved", "delivery.attempt")


def _json_dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Recorder:
    """An audit that records the rows the walk shows it."""

    kinds = frozenset({"draft.rendered"})

    def __init__(self) -> None:
        self.seen: list[tuple[int, str]] = []

    def row(self, seq: int, body: str, fields: dict, digest: str) -> None:
        self.seen.append((seq, fields["kind"]))


def _filled(tmp_path: Path, count: int = N) -> Path:
    path = tmp_path / "var" / "publisher.db"
    store = Store(path)
    for number in range(count):
        store.append(KINDS[number % len(KINDS)], actor="ana", incident="1", data={"text": f"event {number} é"})
    store.close()
    return path


def _verified(path: Path, audit: Recorder | None = None):
    store = Store(path)
    try:
        return store.verify(audit)
    finally:
        store.close()


def _sql(path: Path, statement: str, *params) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute(statement, params)
    db.close()


def test_canonical_is_json_dumps_byte_for_byte():
    characters = [chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF]
    for start in range(0, len(characters), 4096):
        text = "".join(characters[start:start + 4096])
        assert canonical({"t": text, text[:3]: [text[::-1]]}) == _json_dumps({"t": text, text[:3]: [text[::-1]]})
    chosen = random.Random(20)
    keys = ["".join(chosen.choice(characters) for _ in range(3)) for _ in range(500)]
    floats = [0.1, 2.0, -0.0, 1e16, 1.5e300, 1e-4, 2.5e-4, 123.456, 0.30000000000000004, 1e22, -7e300]
    value = {"keys": {key: index for index, key in enumerate(keys)}, "floats": floats,
             "ints": [0, -1, 2**63 - 1, -2**63, 2**64 - 1, 2**64, -2**70], "plain": [True, False, None, [], {}, ("a",)],
             "text": "0.00001 in a sentence"}
    assert canonical(value) == _json_dumps(value)
    for _ in range(20000):
        number = chosen.choice((-1, 1)) * chosen.uniform(1, 10) * 10.0 ** chosen.randint(-4, 300)
        assert canonical([number, {"n": number}]) == _json_dumps([number, {"n": number}])
        tiny = number * 1e-305
        assert json.loads(canonical({"n": tiny})) == {"n": tiny}
    for alone in floats + [2**80, {1: "integer key"}, "line\nbreak \"quoted\" \\ \u2028 \x7f"]:
        assert canonical(alone) == _json_dumps(alone)


def test_the_draft_hash_is_computed_in_one_place(workspace):
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    with workspace.db() as db:
        seq, body = db.execute("SELECT seq, body FROM events WHERE kind = 'draft.rendered'").fetchone()
    event = json.loads(body)
    data = event["data"]
    earlier = hashlib.sha256(_json_dumps({
        "incident": data["incident"], "template": data["template"], "language": data["language"],
        "reply_to": data["reply_to"], "payloads": {name: {"type": payload["type"], "title": payload["title"],
                                                          "parts": payload["parts"]}
                                                   for name, payload in data["payloads"].items()}}).encode()).hexdigest()
    assert data["hash"] == earlier and draft == earlier[:12]
    assert _draft_from(data).computed_hash() == earlier
    assert draft_hash(data["incident"], data["template"], data["language"], data["reply_to"],
                      data["payloads"]) == earlier
    assert draft_problem(seq, event) is None

    name = sorted(data["payloads"])[0]
    first = data["payloads"][name]["parts"][0]
    data["payloads"][name]["parts"][0] = first[:-1] + chr(ord(first[-1]) ^ 1)
    changed = draft_hash(data["incident"], data["template"], data["language"], data["reply_to"], data["payloads"])
    assert changed != earlier and _draft_from(data).computed_hash() == changed
    assert "hash to " + changed[:16] in draft_problem(seq, event).reason

    rewrite_log(workspace, lambda stored: event if stored["seq"] == seq else stored)
    result = workspace.run("log", "verify")
    assert result.exit_code == 1
    assert f"row {seq}: draft {draft} was changed after it was rendered" in result.output
    assert changed[:16] in result.output


def test_an_intact_log_is_walked_once_with_each_audited_row_seen_once_in_order(tmp_path):
    audit = Recorder()
    result = _verified(_filled(tmp_path), audit)
    assert result.ok and result.rows == N
    assert audit.seen == [(seq, "draft.rendered") for seq in range(1, N + 1) if seq % 4 == 2]


@pytest.mark.parametrize("row", range(1, N + 1))
def test_an_edit_of_any_row_is_found_at_that_row(tmp_path, row):
    path = _filled(tmp_path)
    _sql(path, "UPDATE events SET body = replace(body, 'event', 'EVENT') WHERE seq = ?", row)
    result = _verified(path)
    assert not result.ok and result.bad_seq == row and result.rows == row - 1
    assert result.problem == f"row {row}: its content does not match its hash (edited?)"


@pytest.mark.parametrize("row", (1, N // 2, N - 1))
def test_a_deletion_or_a_swap_is_found_at_its_row(tmp_path, row):
    path = _filled(tmp_path)
    _sql(path, "DELETE FROM events WHERE seq = ?", row)
    assert _verified(path).problem == f"row {row + 1}: rows {row}..{row} are missing (deleted?)"
    path = _filled(tmp_path / "swap")
    db = sqlite3.connect(path)
    with db:
        rows = {seq: rest for seq, *rest in db.execute(
            "SELECT seq, body, prev, hash FROM events WHERE seq IN (?, ?)", (row, row + 1))}
        for seq, other in ((row, row + 1), (row + 1, row)):
            db.execute("UPDATE events SET body = ?, prev = ?, hash = ? WHERE seq = ?", (*rows[other], seq))
    db.close()
    swapped = _verified(path)
    assert not swapped.ok and swapped.bad_seq == row


@pytest.mark.parametrize("keep", (1, N // 2, N - 1))
def test_a_truncation_is_found(tmp_path, keep):
    path = _filled(tmp_path)
    _sql(path, "DELETE FROM events WHERE seq > ?", keep)
    assert _verified(path).problem == f"rows {keep + 1}..{N} are missing at the end (truncated?)"


def test_a_rewritten_chain_with_a_body_that_is_not_an_object_or_has_no_time_is_named(workspace):
    workspace.open_incident(case=2)
    rewrite_log(workspace, append=({"kind": "note"},))
    assert workspace.run("log", "verify").exit_code == 0

    def without_time(event: dict) -> dict:
        return {key: value for key, value in event.items() if key != "ts"} if event["kind"] == "note" else event

    rewrite_log(workspace, without_time)
    assert "it records no time (edited?)" in workspace.run("log", "verify").output


def test_a_tiny_float_or_a_huge_integer_is_written_read_back_and_verified(tmp_path):
    path = tmp_path / "var" / "publisher.db"
    store = Store(path)
    event = store.append("delivery.failed", data={"retry_after": 1e-05, "big": 2**70, "note": "0.0000 is zero"})
    assert store.verify().ok
    assert store.events(kind="delivery.failed")[0].data == {"retry_after": 1e-05, "big": 2**70, "note": "0.0000 is zero"}
    store.close()
    db = sqlite3.connect(path)
    body = db.execute("SELECT body FROM events WHERE seq = ?", (event.seq,)).fetchone()[0]
    db.close()
    assert f'"big":{2**70}' in body


def test_memory_stays_the_same_however_long_the_log(tmp_path):
    peaks = []
    for count in (200, 2000):
        path = _filled(tmp_path / str(count), count)
        tracemalloc.start()
        assert _verified(path).ok
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] + 64 * 1024


def test_a_signature_present_with_signing_off_is_still_checked(workspace):
    """With signing off the walk still checks every signature a signed action carries."""
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    forged = {"scheme": "ssh", "key": "SHA256:nobody", "signature": "-----BEGIN SSH SIGNATURE-----\nforged"}
    rewrite_log(workspace, append=({"kind": "draft.approved", "actor": "ana", "incident": "1", "draft": draft,
                                    "data": {"hash": "0" * 64, "signature": forged}},))
    result = workspace.run("log", "verify")
    assert result.exit_code == 1 and "the draft.approved by ana has a bad signature" in result.output
