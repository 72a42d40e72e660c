"""`log verify` on a long SQLite log walks the chain in two processes at once: the
result (problem, row, count, head) and every trust finding are exactly those of the one
walk, whatever row was edited, deleted, swapped or cut off. The split is forced here on
small logs by lowering `SPLIT_ROWS`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import publisher.log.store as store_module
from publisher.log.store import Store
from tests.trust_support import rewrite_log

N = 30
KINDS = ("incident.opened", "draft.rendered", "draft.approved", "delivery.attempt")


class Recorder:
    """An audit that records the rows it is shown, and whether a helper's rows were merged."""

    kinds = ("draft.rendered",)
    needle = None

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.merged = 0

    def row(self, seq: int, body: str, digest: str) -> None:
        self.seen.append(seq)

    def apart(self) -> None:
        self.seen = []

    def found(self) -> list[int]:
        return self.seen

    def merge(self, found: list[int]) -> None:
        self.merged += 1
        self.seen.extend(found)


def _filled(tmp_path: Path) -> Path:
    path = tmp_path / "var" / "publisher.db"
    store = Store(path)
    for number in range(N):
        store.append(KINDS[number % len(KINDS)], actor="ana", incident="1", data={"text": f"event {number} é"})
    store.close()
    return path


def _both(path: Path, monkeypatch) -> tuple:
    """The verify result and the rows the audit saw, walked once, then in two parts."""
    found = []
    for split in (10 ** 9, 2):
        monkeypatch.setattr(store_module, "SPLIT_ROWS", split)
        store, audit = Store(path), Recorder()
        found.append((store.verify(audit), audit.seen, audit.merged))
        store.close()
    return found[0], found[1]


def _sql(path: Path, statement: str, *params) -> None:
    import sqlite3

    db = sqlite3.connect(path)
    with db:
        db.execute(statement, params)
    db.close()


def test_an_intact_log_walked_in_two_is_the_same_walk(tmp_path, monkeypatch):
    once, twice = _both(_filled(tmp_path), monkeypatch)
    assert once[0].ok and once[0] == twice[0]
    assert twice[2] == 1 and once[1] == twice[1] == [seq for seq in range(1, N + 1) if seq % 4 == 2]


@pytest.mark.parametrize("row", range(1, N + 1))
def test_an_edit_of_any_row_is_found_at_the_same_row(tmp_path, monkeypatch, row):
    path = _filled(tmp_path)
    _sql(path, "UPDATE events SET body = replace(body, 'event', 'EVENT') WHERE seq = ?", row)
    once, twice = _both(path, monkeypatch)
    assert once[0] == twice[0] and not twice[0].ok and twice[0].bad_seq == row


@pytest.mark.parametrize("row", range(1, N + 1))
def test_a_deletion_of_any_row_is_found_at_the_same_row(tmp_path, monkeypatch, row):
    path = _filled(tmp_path)
    _sql(path, "DELETE FROM events WHERE seq = ?", row)
    once, twice = _both(path, monkeypatch)
    assert once[0] == twice[0] and not twice[0].ok


@pytest.mark.parametrize("row", range(1, N))
def test_a_swap_of_any_neighbours_is_found_at_the_same_row(tmp_path, monkeypatch, row):
    import sqlite3

    path = _filled(tmp_path)
    db = sqlite3.connect(path)
    with db:
        rows = {seq: rest for seq, *rest in db.execute(
            "SELECT seq, body, prev, hash FROM events WHERE seq IN (?, ?)", (row, row + 1))}
        for seq, other in ((row, row + 1), (row + 1, row)):
            db.execute("UPDATE events SET body = ?, prev = ?, hash = ? WHERE seq = ?", (*rows[other], seq))
    db.close()
    once, twice = _both(path, monkeypatch)
    assert once[0] == twice[0] and twice[0].bad_seq == row


@pytest.mark.parametrize("keep", (1, N // 2, N // 2 + 1, N - 1))
def test_a_truncation_is_found_the_same_way(tmp_path, monkeypatch, keep):
    path = _filled(tmp_path)
    _sql(path, "DELETE FROM events WHERE seq > ?", keep)
    once, twice = _both(path, monkeypatch)
    assert once[0] == twice[0] and twice[0].problem == f"rows {keep + 1}..{N} are missing at the end (truncated?)"


def test_every_edited_draft_in_both_halves_is_named(workspace, monkeypatch):
    workspace.open_incident(case=2)
    drafts = [workspace.render("--case", "2", "--template", "apology", "--var", f"eta=day {number}")
              for number in range(4)]
    monkeypatch.setattr(store_module, "SPLIT_ROWS", 2)
    assert workspace.run("log", "verify").exit_code == 0

    def forged(event: dict) -> dict:
        if event["kind"] == "draft.rendered" and event["draft"] in (drafts[0], drafts[3]):
            event["data"]["payloads"]["outbox"]["parts"] = ["Send your card number to scam.example"]
        return event

    rewrite_log(workspace, forged)
    result = workspace.run("log", "verify", "--json")
    assert result.exit_code == 1
    named = json.JSONDecoder().raw_decode(result.output)[0]["trust_problems"]
    assert [problem.split(" was changed")[0].split(": ")[1] for problem in named] == [
        f"draft {drafts[0]}", f"draft {drafts[3]}"]


@pytest.mark.parametrize("split", (10 ** 9, 2))
def test_a_signature_present_with_signing_off_is_still_checked(workspace, monkeypatch, split):
    """With signing off the walk skips unsigned approvals, never a signed one: the forged
    signature of an approval deep in the second half is named, walked once or in two."""
    workspace.open_incident(case=2)
    draft = workspace.render("--case", "2", "--template", "apology")
    for number in range(3):
        workspace.render("--case", "2", "--template", "apology", "--var", f"eta=day {number}")
    monkeypatch.setattr(store_module, "SPLIT_ROWS", split)
    forged = {"scheme": "ssh", "key": "SHA256:nobody", "signature": "-----BEGIN SSH SIGNATURE-----\nforged"}
    rewrite_log(workspace, append=({"kind": "draft.approved", "actor": "ana", "incident": "1", "draft": draft,
                                    "data": {"hash": "0" * 64, "signature": forged}},))
    result = workspace.run("log", "verify")
    assert result.exit_code == 1 and "the draft.approved by ana has a bad signature" in result.output


def test_a_helper_that_never_answers_is_stopped_and_its_half_walked_here(tmp_path, monkeypatch):
    import time

    path = _filled(tmp_path)
    once, _twice = _both(path, monkeypatch)
    monkeypatch.setattr(store_module, "SPLIT_ROWS", 2)
    monkeypatch.setattr(store_module, "HELPER_PATIENCE_MIN", 0.5)
    monkeypatch.setattr(Store, "_helper", lambda self, *args: time.sleep(3600))
    store, audit = Store(path), Recorder()
    result = store.verify(audit)
    store.close()
    assert result == once[0] and audit.merged == 0 and audit.seen == once[1]
