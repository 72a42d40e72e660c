"""A source interrupted in the middle of paging resumes from the last page stored:
nothing lost, nothing stored twice. The source here is a minimal one speaking a paged
JSON API (since_id, limit, oldest first) over loopback, through the one transport."""
from __future__ import annotations

import json
from typing import ClassVar

import pytest

from channels.base import Retryable
from channels.options import Option
from channels.sources import Heard, Source
from publisher.delivery.listening import listen_once
from publisher.workspace.app import App
from tests.fakes.server import FakeServer, Reply, Request

pytestmark = pytest.mark.servers


class PagedSource(Source):
    type: ClassVar[str] = "paged"
    options: ClassVar[dict[str, Option]] = {"api_url": Option(str, required=True)}

    def read(self, cursor: str | None, limit: int = 200) -> tuple[list[Heard], str | None]:
        from channels.http import classify_status, request, shared_session

        url = f"{self.settings['api_url']}/items"
        params = {"since_id": cursor or "0", "limit": "3"}
        response = request(lambda: shared_session().get(url, params=params, timeout=5), self.redact)
        classify_status(response, "the paged API", self.redact)
        items = [Heard(platform="paged", id=str(entry["id"]), text=entry["text"], author=entry["author"])
                 for entry in response.json()]
        return items, (items[-1].id if items else cursor)


class PagedAPI(FakeServer):
    def __init__(self, count: int):
        self.items = [{"id": n, "text": f"Acme mention {n}", "author": f"user{n}"} for n in range(1, count + 1)]
        self.fail_at: int | None = None
        super().__init__(self._answer)

    def _answer(self, request: Request) -> Reply:
        if self.fail_at is not None and len(self.requests) == self.fail_at:
            return Reply(503, "busy", {"Retry-After": "7"})
        since, limit = int(request.query["since_id"][0]), int(request.query["limit"][0])
        return Reply(200, [item for item in self.items if item["id"] > since][:limit])


def test_a_source_interrupted_mid_paging_resumes_without_loss_or_repeat(workspace):
    app = App(workspace.path)
    with PagedAPI(10) as api:
        source = PagedSource.build("paged", {"type": "paged", "api_url": api.url})
        api.fail_at = 3
        first = listen_once(app, "paged", source)
        assert (first.outcome, first.new, first.retry_after) == ("retry", 6, 7)
        assert app.store.last_heard("paged") == "6"
        api.fail_at = None
        second = listen_once(app, "paged", source)
        assert (second.outcome, second.new) == ("ok", 4)
        assert [request.query["since_id"][0] for request in api.requests] == ["0", "3", "6", "6", "9", "10"]
        api.items.append({"id": 11, "text": "Acme again", "author": "late"})
        assert listen_once(app, "paged", source).new == 1
    keys = [event.data["key"] for event in app.store.heard()]
    assert keys == [f"paged:{n}" for n in range(1, 12)]
    assert app.store.verify().ok
    cursors = [json.loads(json.dumps(event.data)) for event in app.store.events(kind="listen.cursor")]
    assert [cursor["cursor"] for cursor in cursors] == ["3", "6", "9", "10", "11"]


def test_retryable_is_what_a_platform_failure_becomes(workspace):
    with PagedAPI(1) as api:
        api.fail_at = 1
        with pytest.raises(Retryable):
            PagedSource.build("paged", {"type": "paged", "api_url": api.url}).read(None)
