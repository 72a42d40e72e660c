"""The log keeps what listening hears: each item once (a unique partial index on both
backends), with the source's cursor in the same transaction."""
from __future__ import annotations

import pytest

from publisher.workspace.app import App

pytestmark = pytest.mark.both_stores


def _item(key: str, text: str = "hello") -> dict:
    return {"key": key, "source": "prensa", "platform": key.split(":")[0], "id": key.split(":")[1], "text": text}


def test_an_item_heard_twice_is_stored_once_and_the_cursor_follows(workspace):
    store = App(workspace.path).store
    assert store.append_heard("prensa", [(None, _item("feed:1")), (None, _item("feed:2")), (None, _item("feed:1"))],
                              cursor="c1") == 2
    assert store.append_heard("mastodon", [(None, _item("feed:2")), ("1", _item("feed:3"))], cursor="m1") == 1
    assert [event.data["key"] for event in store.heard()] == ["feed:1", "feed:2", "feed:3"]
    assert [event.data["key"] for event in store.heard(incident="1")] == ["feed:3"]
    assert [event.data["key"] for event in store.heard(newest_first=True, limit=1)] == ["feed:3"]
    assert store.last_heard("prensa") == "c1" and store.last_heard("mastodon") == "m1"
    assert store.last_heard("never") is None
    store.append("item.assigned", data={"key": "feed:2", "to": "marta"})
    assert [event.kind for event in store.item_events(["feed:2"])] == ["item.heard", "item.assigned"]
    assert store.verify().ok


def test_the_database_itself_refuses_a_second_heard_row_for_one_key(workspace):
    store = App(workspace.path).store
    store.append_heard("prensa", [(None, _item("feed:1"))])
    with pytest.raises(Exception):  # noqa: B017 - sqlite3.IntegrityError or the PostgreSQL sentence
        store.append("item.heard", data=_item("feed:1"))
    store.append("item.handled", data={"key": "feed:1", "note": "ok"})
    assert len(store.heard()) == 1
