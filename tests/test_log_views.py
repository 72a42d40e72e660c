"""Views kept beside the log: a fold kept at one row is given back only while that row
is still in the log with the hash it was folded from, and of the version asked for;
two keepers racing keep the furthest fold; `store copy` leaves views behind."""
from __future__ import annotations

import pytest

from publisher.workspace.app import App

pytestmark = pytest.mark.both_stores


def _store(workspace):
    workspace.open_incident(case=2)
    workspace.open_incident(case=1)
    return App(workspace.path).store


def test_a_view_is_given_back_at_the_row_it_was_folded_from(workspace):
    store = _store(workspace)
    seq, _hash = store.head()
    store.keep_views("tally", 1, {"all": (seq, '{"n": 3}'), "inc-1": (seq, '{"n": 1}')})
    assert store.views("tally", 1) == {"all": (seq, '{"n": 3}'), "inc-1": (seq, '{"n": 1}')}
    assert store.views("tally", 1, ["inc-1"]) == {"inc-1": (seq, '{"n": 1}')}
    assert store.views("tally", 2) == {}
    assert store.views("other", 1) == {}


def test_the_furthest_fold_wins(workspace):
    store = _store(workspace)
    seq, _hash = store.head()
    store.keep_views("tally", 1, {"all": (seq, "late")})
    store.keep_views("tally", 1, {"all": (seq - 1, "early")})
    assert store.views("tally", 1) == {"all": (seq, "late")}
    store.keep_views("tally", 2, {"all": (seq - 1, "new code")})
    assert store.views("tally", 2) == {"all": (seq - 1, "new code")}


def test_a_view_of_a_row_no_longer_in_the_log_is_left_out(workspace):
    store = _store(workspace)
    seq, _hash = store.head()
    store.keep_views("tally", 1, {"gone": (seq + 50, "ahead of the log"), "here": (seq, "kept")})
    assert store.views("tally", 1) == {"here": (seq, "kept")}


@pytest.mark.sqlite_only
def test_a_view_whose_row_changed_is_left_out(workspace):
    store = _store(workspace)
    seq, _hash = store.head()
    store.keep_views("tally", 1, {"all": (seq, "folded")})
    db = workspace.db()
    db.execute("UPDATE views SET head = 'not-the-hash'")
    db.commit()
    assert store.views("tally", 1) == {}
