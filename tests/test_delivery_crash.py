"""Crash injection: `publish approve`/`publish send` SIGKILLed at seeded random points
(see tests/crash_harness.py), resumed until done. Idempotent channels get the post
exactly once; Slack at most once, its unknown outcomes listed for a person; no event
lost; the log verifies. The same on PostgreSQL, each trial on two machines (two
workspace folders, one database). CRASH_TRIALS=200 (CRASH_TRIALS_PG) runs a longer campaign."""
from __future__ import annotations

import os

import pytest

from tests.crash_harness import CrashHarness
from tests.delivery_support import Fakes

pytestmark = pytest.mark.servers

TRIALS = int(os.environ.get("CRASH_TRIALS", "30"))
PG_TRIALS = int(os.environ.get("CRASH_TRIALS_PG", "10"))


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    fakes = Fakes().start()
    try:
        yield CrashHarness(fakes, tmp_path_factory.mktemp("crash"))
    finally:
        fakes.stop()


@pytest.fixture(scope="module")
def two_machines(tmp_path_factory, pg_cluster):
    fakes = Fakes().start()
    try:
        yield CrashHarness(fakes, tmp_path_factory.mktemp("crash-pg"),
                           database=lambda: pg_cluster.url(pg_cluster.new_database()))
    finally:
        fakes.stop()


def _trials(harness, seeds: range) -> tuple[list[str], list[str], int]:
    failures, kills, listed = [], [], 0
    for seed in seeds:
        trial = harness.run_trial(seed)
        kills += trial.kills
        listed += len(trial.listed_unconfirmed)
        problems = harness.check(trial)
        if problems:
            failures.append(f"seed {seed} (runs {trial.runs}, kills {trial.kills}): {'; '.join(problems)}")
    return failures, kills, listed


def test_killed_runs_resume_to_exactly_once(harness, monkeypatch):
    monkeypatch.delenv("PUBLISH_WORKSPACE", raising=False)
    failures, kills, listed = _trials(harness, range(1, TRIALS + 1))
    assert failures == []
    assert len(kills) >= TRIALS // 2
    assert {"timer", "as the post arrived", "after the platform acted"} <= set(kills)
    assert listed >= 1


def test_killed_runs_on_two_machines_sharing_postgresql_resume_to_exactly_once(two_machines, monkeypatch):
    """Each trial's runs alternate between two workspace folders on one database."""
    monkeypatch.delenv("PUBLISH_WORKSPACE", raising=False)
    failures, kills, _ = _trials(two_machines, range(101, 101 + PG_TRIALS))
    assert failures == []
    assert len(kills) >= PG_TRIALS // 2
