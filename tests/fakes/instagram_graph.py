"""A fake Instagram Graph API (Instagram API with Facebook Login) for one professional account.

Every answer is written from Meta's documentation, named beside it:
- `POST /vNN.0/{ig-user-id}/media` -> `{"id": "<container id>"}` (IG User Media reference,
  developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media;
  `image_url`, `caption`, `alt_text`, `is_carousel_item`, `media_type=CAROUSEL`, `children`).
- `GET /vNN.0/{container-id}?fields=status_code,status` -> `{"status_code": "IN_PROGRESS" |
  "FINISHED" | "ERROR" | "EXPIRED" | "PUBLISHED", "status": ..., "id": ...}` (IG Container
  reference, .../reference/ig-container).
- `POST /vNN.0/{ig-user-id}/media_publish` `creation_id` -> `{"id": "<ig media id>"}` (IG User
  Media Publish reference, .../reference/ig-user/media_publish).
- `GET /vNN.0/{ig-media-id}?fields=permalink,timestamp` -> `{"permalink":
  "https://www.instagram.com/p/<shortcode>/", "timestamp": "2026-12-05T10:00:00+0000", "id"}`
  (IG Media reference, .../reference/ig-media).
- `GET /vNN.0/{ig-user-id}/content_publishing_limit?fields=quota_usage,config` -> `{"data":
  [{"quota_usage": N, "config": {"quota_total": 100, "quota_duration": 86400}}]}` (IG User
  Content Publishing Limit reference, .../reference/ig-user/content_publishing_limit).
- `GET /vNN.0/{ig-user-id}?fields=id,username` (IG User reference); `GET /vNN.0/{ig-user-id}/media
  ?fields=id,caption,permalink,timestamp&limit=N` -> `{"data": [...]}`, newest first (IG User Media
  reference, "Reading").
- Errors: Graph's error object (`message`, `type`, `code`, `error_subcode`, `is_transient`,
  `error_user_title`, `error_user_msg`, `fbtrace_id`) with HTTP 400 (Graph API "Handling
  Errors", developers.facebook.com/docs/graph-api/guides/error-handling, and the Instagram
  Platform "Error Codes" reference, .../instagram-graph-api/reference/error-codes); the usage
  headers `x-app-usage` and `x-business-use-case-usage` (Graph API "Rate Limits",
  developers.facebook.com/docs/graph-api/overview/rate-limiting).
Unknown tokens get code 190 with `WWW-Authenticate`, as graph.facebook.com answers (the
error object, headers and token check are `tests.fakes.graph_api.GraphFake`'s).
"""
from __future__ import annotations

import itertools
import json
from typing import Any

from tests.fakes.graph_api import GraphFake
from tests.fakes.server import Reply, Request


class FakeInstagram(GraphFake):
    trace_id = "AbCdIgTrace1"

    def __init__(self, user_id: str = "17841400000000001", token: str = "EAAG-ig-token", username: str = "acme"):
        super().__init__(self._answer)
        self.user_id = user_id
        self.username = username
        self._first_token = token
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.token = self._first_token
        self.containers: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.statuses: list[str] = []
        """status_code answers given, in order, before FINISHED (e.g. ["IN_PROGRESS"])."""
        self.cut_publish = False
        """Publish, then cut the answer mid-body (a lost answer to media_publish)."""
        self.quota_usage = 3
        self.quota_total = 100
        self._numbers = itertools.count(17900000000000001)

    @staticmethod
    def usage(minutes: int, business: str = "1122334455") -> dict[str, str]:
        """The usage headers of a throttled app (x-app-usage, percentages) and Instagram
        business use case (x-business-use-case-usage, with the minutes to regain access)."""
        return {"x-app-usage": json.dumps({"call_count": 100, "total_cputime": 28, "total_time": 45}),
                "x-business-use-case-usage": json.dumps({business: [
                    {"type": "instagram", "call_count": 100, "total_cputime": 20, "total_time": 30,
                     "estimated_time_to_regain_access": minutes}]})}

    def _next_reply(self, request: Request) -> Reply:
        """A queued None stands for the fake's own answer, so a test can fail the n-th request."""
        reply = super()._next_reply(request)
        return self.handler(request) if reply is None else reply

    def published(self) -> list[dict[str, Any]]:
        return list(self.media.values())

    def _answer(self, request: Request) -> Reply:
        opened = self._opened(request)
        if isinstance(opened, Reply):
            return opened
        node, edge, fields = opened
        if node == self.user_id:
            if request.method == "GET" and edge is None:
                return self._ok({"id": self.user_id, "username": self.username})
            if request.method == "GET" and edge == "content_publishing_limit":
                return self._ok({"data": [{"quota_usage": self.quota_usage,
                                           "config": {"quota_total": self.quota_total, "quota_duration": 86400}}]})
            if request.method == "POST" and edge == "media":
                return self._create(fields)
            if request.method == "POST" and edge == "media_publish":
                return self._publish(fields.get("creation_id", ""))
            if request.method == "GET" and edge == "media":
                wanted = (fields.get("fields") or "id").split(",")
                newest = list(reversed(self.media.values()))[:int(fields.get("limit", 25))]
                return self._ok({"data": [{key: made[key] for key in ("id", *wanted) if key in made}
                                          for made in newest]})
        if request.method == "GET" and edge is None and node in self.containers:
            return self._status(node)
        if request.method == "GET" and edge is None and node in self.media:
            made = self.media[node]
            wanted = (fields.get("fields") or "id").split(",")
            return self._ok({key: made[key] for key in ("id", *wanted) if key in made})
        return self._unsupported(request, node)

    def _create(self, fields: dict[str, str]) -> Reply:
        if fields.get("media_type") == "CAROUSEL":
            children = fields.get("children", "").split(",")
            if not 2 <= len(children) <= 10 or any(child not in self.containers for child in children):
                return self.error(400, 100, "(#100) The parameter children is invalid")
        elif not fields.get("image_url"):
            return self.error(400, 100, "(#100) The parameter image_url is required.")
        if len(fields.get("caption", "")) > 2200:
            return self.error(400, 36000, "Invalid parameter", subcode=2207010, error_user_title="Caption too long",
                              error_user_msg="The caption is too long.")
        made = str(next(self._numbers))
        self.containers[made] = {"id": made, **{k: v for k, v in fields.items() if k != "access_token"},
                                 "asked": 0}
        return self._ok({"id": made})

    def _status(self, container: str) -> Reply:
        entry = self.containers[container]
        entry["asked"] += 1
        if entry["asked"] <= len(self.statuses):
            code = self.statuses[entry["asked"] - 1]
        else:
            code = "PUBLISHED" if entry.get("published") else "FINISHED"
        status = {"FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
                  "IN_PROGRESS": "In Progress: Media is still being processed.",
                  "ERROR": "Error: Media download has failed. The media URI doesn't meet our requirements.",
                  "EXPIRED": "Expired: The container was not published within 24 hours and has expired.",
                  "PUBLISHED": "Published: Media has been published."}[code]
        return self._ok({"status_code": code, "status": status, "id": container})

    def _publish(self, creation_id: str) -> Reply:
        entry = self.containers.get(creation_id)
        if entry is None or entry.get("is_carousel_item") == "true":
            return self.error(400, 24, "The requested resource does not exist", subcode=2207008,
                              error_user_title="Media ID not available",
                              error_user_msg="The media builder with creation id = " + creation_id
                                             + " does not exist or has expired.")
        if self.quota_usage >= self.quota_total:
            return self.error(400, 9, "Application request limit reached", subcode=2207042,
                              error_user_title="Max number of posts exceeded",
                              error_user_msg="You reached maximum number of posts that is allowed to be published "
                                             "by Content Publishing API.")
        entry["published"] = True
        made = str(next(self._numbers))
        shortcode = f"C{made[-8:]}xYz"
        children = entry.get("children", "").split(",") if entry.get("children") else []
        self.media[made] = {"id": made, "caption": entry.get("caption", ""), "permalink":
                            f"https://www.instagram.com/p/{shortcode}/", "timestamp": "2026-12-05T10:00:00+0000",
                            "media_type": "CAROUSEL_ALBUM" if children else "IMAGE",
                            "images": [self.containers[c] for c in children] or [entry]}
        self.quota_usage += 1
        if self.cut_publish:
            return Reply(200, {"id": made}, self._headers(), cut_after=8)
        return self._ok({"id": made})
