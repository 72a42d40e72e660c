"""Crash injection: `publish approve`/`publish send` SIGKILLed at seeded random points
(see tests/crash_harness.py), resumed until done. Idempotent channels get the post
exactly once; Slack at most once, its unknown outcomes listed for a person; no event
lost; the log verifies. CRASH_TRIALS=200 runs a longer campaign."""
from __future__ import annotations

import os

import pytest

from tests.crash_harness import CrashHarness
from tests.delivery_support import Fakes

TRIALS = int(os.environ.get("CRASH_TRIALS", "30"))


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    fakes = Fakes().start()
    try:
        yield CrashHarness(fakes, tmp_path_factory.mktemp("crash"))
    finally:
        fakes.stop()


def test_killed_runs_resume_to_exactly_once(harness, monkeypatch):
    monkeypatch.delenv("PUBLISH_WORKSPACE", raising=False)
    failures, kills, listed = [], [], 0
    for seed in range(1, TRIALS + 1):
        trial = harness.run_trial(seed)
        kills += trial.kills
        listed += len(trial.listed_unconfirmed)
        problems = harness.check(trial)
        if problems:
            failures.append(f"seed {seed} (runs {trial.runs}, kills {trial.kills}): {'; '.join(problems)}")
    assert failures == []
    assert len(kills) >= TRIALS // 2
    assert {"timer", "as the post arrived", "after the platform acted"} <= set(kills)
    assert listed >= 1
