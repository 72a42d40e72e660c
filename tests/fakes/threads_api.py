"""A fake Threads API (graph.threads.net, v1.0) on loopback.

Sources, each answer below follows its page:
- Posts (developers.facebook.com/documentation/threads/posts): `POST
  /{user_id}/threads` with `media_type=TEXT` and `text` answers `{"id": container}`;
  `POST /{user_id}/threads_publish` with `creation_id` answers `{"id": media}`; text posts
  are limited to 500 characters, emojis counted as their UTF-8 bytes.
- Replies (developers.facebook.com/documentation/threads/retrieve-and-manage-replies):
  `reply_to_id` on the container makes a reply; `GET /{media_id}/replies` lists them in
  `data`.
- Media (developers.facebook.com/documentation/threads/threads-media): `GET /{media_id}`
  and `GET /{user_id}/threads` with `fields=id,text,timestamp,permalink` (`timestamp` like
  `2026-12-05T10:00:00+0000`, `since` in Unix seconds), newest first in `data`.
- Publishing limit (developers.facebook.com/documentation/threads/overview, "Posts"):
  `GET /{user_id}/threads_publishing_limit` answers `{"data": [{"quota_usage": n,
  "config": {"quota_total": 250, "quota_duration": 86400}, "reply_quota_usage": n,
  "reply_config": {"quota_total": 1000, "quota_duration": 86400}}]}`.
- Delete (developers.facebook.com/documentation/threads/posts/delete-posts): `DELETE
  /{media_id}` answers `{"success": true}`; a media id Threads does not have is the
  Graph error code 100, subcode 33 ("Unsupported delete request. Object with ID ... does
  not exist").
- Errors (developers.facebook.com/docs/graph-api/guides/error-handling): `{"error":
  {"message", "type", "code", "error_subcode", "fbtrace_id"}}`; an expired token is
  `OAuthException` code 190, subcode 463; a missing permission code 10; a rate limit
  code 4 (application) or 17 (user); an invalid parameter code 100.
"""
from __future__ import annotations

import itertools
import threading
import time
import unicodedata
from datetime import datetime, timezone

from tests.fakes.server import FakeServer, Reply, Request

USER_ID = "17841401234567890"
USERNAME = "acme"
POST_LIMIT, REPLY_LIMIT = 250, 1000


def graph_error(status: int, message: str, code: int, subcode: int | None = None,
                kind: str = "OAuthException", headers: dict | None = None) -> Reply:
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEfGh123"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return Reply(status, {"error": error}, {"Content-Type": "application/json", **(headers or {})})


def expired_token() -> Reply:
    return graph_error(401, "Error validating access token: Session has expired on Friday, 04-Dec-26 10:00:00 PST. "
                            "The current time is Saturday, 05-Dec-26 15:38:10 PST.", 190, 463)


def not_permitted() -> Reply:
    return graph_error(403, "Application does not have permission for this action", 10)


def rate_limited(retry_after: int | None = None) -> Reply:
    """Code 4 as the Graph API sends it; it documents no reset header for Threads, so one
    is added only to show a `Retry-After`, when a proxy sends it, is honoured."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return graph_error(429, "Application request limit reached", 4, headers=headers)


def stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


class FakeThreads(FakeServer):
    def __init__(self, token: str):
        super().__init__(self._answer)
        self.token = token
        self.containers: dict[str, dict] = {}
        self.media: dict[str, dict] = {}
        self.quota_usage = 4
        self.reply_quota_usage = 0
        self.lose_next_publish = False
        self._ids = itertools.count(18000000000000000)
        self._state = threading.Lock()

    def _next_reply(self, request: Request) -> Reply:
        """A queued None lets that request get its normal answer (the quota read before a post)."""
        reply = super()._next_reply(request)
        return self._answer(request) if reply is None else reply

    def seed(self, text: str, reply_to: str | None = None, at: float | None = None) -> str:
        media = str(next(self._ids))
        moment = time.time() if at is None else at
        self.media[media] = {"id": media, "text": text, "timestamp": stamp(moment), "reply_to": reply_to,
                             "permalink": f"https://www.threads.net/@{USERNAME}/post/C{media[-8:]}x",
                             "moment": moment}
        return media

    def published(self) -> list[dict]:
        return sorted(self.media.values(), key=lambda post: post["id"])

    def _answer(self, request: Request) -> Reply:
        fields = {**{key: values[-1] for key, values in request.query.items()}, **request.form()}
        if fields.get("access_token") != self.token:
            return graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        parts = [part for part in request.path.split("/") if part]
        if not parts or parts[0] != "v1.0":
            return graph_error(400, "Unknown path components", 2500)
        path = parts[1:]
        with self._state:
            if path == ["me"]:
                return Reply(200, {"id": USER_ID, "username": USERNAME})
            if path == [USER_ID, "threads"] and request.method == "POST":
                return self._container(fields)
            if path == [USER_ID, "threads"]:
                return self._listing(fields, lambda post: post["reply_to"] is None)
            if path == [USER_ID, "replies"]:
                return self._listing(fields, lambda post: post["reply_to"] is not None)
            if path == [USER_ID, "threads_publish"] and request.method == "POST":
                return self._publish(fields)
            if path == [USER_ID, "threads_publishing_limit"]:
                return Reply(200, {"data": [{
                    "quota_usage": self.quota_usage, "config": {"quota_total": POST_LIMIT, "quota_duration": 86400},
                    "reply_quota_usage": self.reply_quota_usage,
                    "reply_config": {"quota_total": REPLY_LIMIT, "quota_duration": 86400}}]})
            if len(path) == 2 and path[1] == "replies" and path[0] in self.media:
                return self._listing(fields, lambda post: post["reply_to"] == path[0])
            if len(path) == 1 and request.method == "DELETE":
                if self.media.pop(path[0], None) is None:
                    return graph_error(400, f"Unsupported delete request. Object with ID '{path[0]}' does not exist, "
                                            "cannot be loaded due to missing permissions, or does not support this "
                                            "operation", 100, 33, "GraphMethodException")
                return Reply(200, {"success": True})
            if len(path) == 1 and path[0] in self.media:
                return Reply(200, self._shown(self.media[path[0]]))
        return graph_error(400, f"Unsupported get request. Object with ID '{'/'.join(path)}' does not exist", 100, 33,
                           "GraphMethodException")

    def _container(self, fields: dict) -> Reply:
        if fields.get("media_type") != "TEXT" or "text" not in fields:
            return graph_error(400, "The parameter media_type is required", 100)
        if threads_count(fields["text"]) > 500:
            return graph_error(400, "Param text must be at most 500 characters long.", 100)
        reply_to = fields.get("reply_to_id")
        if reply_to is not None and reply_to not in self.media:
            return graph_error(400, "Invalid parameter: the post being replied to does not exist", 100)
        container = str(next(self._ids))
        self.containers[container] = {"text": fields["text"], "reply_to": reply_to}
        return Reply(200, {"id": container})

    def _publish(self, fields: dict) -> Reply:
        container = self.containers.pop(fields.get("creation_id", ""), None)
        if container is None:
            return graph_error(400, "The media container was not found", 100, 4279009)
        if container["reply_to"] is None:
            if self.quota_usage >= POST_LIMIT:
                return graph_error(400, "The user has reached the posting limit", 9, 2207042)
            self.quota_usage += 1
        else:
            self.reply_quota_usage += 1
        media = self.seed(container["text"], container["reply_to"])
        if self.lose_next_publish:
            self.lose_next_publish = False
            return Reply(200, {"id": media}, delay=1.0)
        return Reply(200, {"id": media})

    def _listing(self, fields: dict, wanted) -> Reply:
        since = float(fields.get("since") or 0)
        found = [self._shown(post) for post in sorted(self.media.values(), key=lambda post: -post["moment"])
                 if wanted(post) and post["moment"] >= since]
        return Reply(200, {"data": found[: int(fields.get("limit") or 25)], "paging": {}})

    @staticmethod
    def _shown(post: dict) -> dict:
        return {key: post[key] for key in ("id", "text", "timestamp", "permalink")}


def threads_count(text: str) -> int:
    """The documented rule, counted apart from the channel's counter: a grapheme cluster
    holding a symbol (Unicode category So), a regional indicator or a keycap counts its
    UTF-8 bytes, anything else its code points."""
    import regex

    total = 0
    for cluster in regex.findall(r"\X", text):
        emoji = any(unicodedata.category(point) == "So" or 0x1F1E6 <= ord(point) <= 0x1F1FF or point == "\u20e3"
                    for point in cluster)
        total += len(cluster.encode("utf-8")) if emoji else len(cluster)
    return total
