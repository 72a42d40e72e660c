"""A fake Facebook Graph API for one Page, answering like graph.facebook.com.

Paths are the real ones (`/vNN.0/{page-id}`, `/{page-id}/feed`, `/{post-id}/comments`,
`/{page-id}/posts`); the token travels as `access_token` in the query or the form body.
Errors use Graph's error object, HTTP status and headers (`WWW-Authenticate` on token
errors, `x-fb-trace-id`, usage headers). Repeating the Page's last status gives the real
duplicate error (#506). Tests queue other answers with `FakeGraph.error(...)`.
`GraphFake` is what the Graph fakes share (this one, `tests.fakes.instagram_graph`).
"""
from __future__ import annotations

import base64
import itertools
import json
import re
import time
from datetime import datetime, timezone
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

TRACE_ID = "AbCdEfGhIjK"


class GraphFake(FakeServer):
    """A Graph API fake's common part: Graph's error object and headers, and a request's
    path, token and fields read as graph.facebook.com reads them before routing it."""

    trace_id = TRACE_ID
    token: str

    @classmethod
    def error(cls, status: int, code: int, message: str, *, kind: str = "OAuthException",
              subcode: int | None = None, headers: dict[str, str] | None = None, **fields: Any) -> Reply:
        body: dict[str, Any] = {"message": message, "type": kind, "code": code}
        if subcode is not None:
            body["error_subcode"] = subcode
        body.update(fields)
        body["fbtrace_id"] = cls.trace_id
        given = {name.lower() for name in headers or {}}
        all_headers = {name: value for name, value in cls._headers().items() if name.lower() not in given}
        all_headers.update(headers or {})
        if code == 190:
            all_headers["WWW-Authenticate"] = f'OAuth "Facebook Platform" "invalid_token" "{message}"'
        return Reply(status, {"error": body}, all_headers)

    def _opened(self, request: Request) -> Reply | tuple[str, str | None, dict[str, str]]:
        """(node, edge, fields) of `/vNN.0/{node}[/{edge}]` asked with this fake's token (in
        the query or the form body), or the error Graph answers."""
        match = re.fullmatch(r"/(v\d+\.\d+)/([^/]+)(?:/([a-z_]+))?/?", request.path)
        if not match:
            return self.error(400, 2500, f"Unknown path components: {request.path}")
        fields = {k: v[-1] for k, v in request.query.items()}
        if request.method == "POST":
            fields.update(request.form())
        token = fields.get("access_token")
        if not token:
            return self.error(400, 2500, "An active access token must be used to query information about "
                                         "the current user.")
        if token != self.token:
            return self.error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        _, node, edge = match.groups()
        return node, edge, fields

    def _unsupported(self, request: Request, node: str) -> Reply:
        return self.error(400, 100, f"Unsupported {request.method.lower()} request. Object with ID '{node}' "
                                    "does not exist, cannot be loaded due to missing permissions, or does not "
                                    "support this operation. Please read the Graph API documentation at "
                                    "https://developers.facebook.com/docs/graph-api",
                          kind="GraphMethodException", subcode=33)

    @classmethod
    def _ok(cls, body: Any) -> Reply:
        return Reply(200, body, cls._headers())

    @classmethod
    def _headers(cls) -> dict[str, str]:
        return {"Content-Type": "application/json; charset=UTF-8", "facebook-api-version": "v25.0",
                "x-fb-trace-id": cls.trace_id, "x-fb-rev": "1012345678",
                "X-App-Usage": json.dumps({"call_count": 1, "total_cputime": 1, "total_time": 1})}


class FakeGraph(GraphFake):
    def __init__(self, page_id: str = "104857600123456", token: str = "EAAG-page-token",
                 page_name: str = "City Water Board"):
        super().__init__(self._answer)
        self.page_id = page_id
        self.page_name = page_name
        self._first_token = token
        self.reset()

    def reset(self) -> None:
        """Forget every request, queued reply, post and comment; restore the token."""
        super().reset()
        self.token = self._first_token
        self.read_only = False
        self.posts: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []
        self._numbers = itertools.count(987654321000001)

    def add_post(self, message: str, created: float | None = None) -> str:
        made = f"{self.page_id}_{next(self._numbers)}"
        self.posts.append({"id": made, "message": message, "created_time": _graph_time(created)})
        return made

    def add_comment(self, post_id: str, message: str, author: tuple[str, str] | None = ("5550001", "Vecina"),
                    reply_to: str | None = None, created: float | None = None) -> str:
        """A comment by someone on the Page's post (or, with `reply_to`, a reply to a comment)."""
        made = f"{post_id.split('_')[-1]}_{next(self._numbers)}"
        comment: dict[str, Any] = {"id": made, "parent": reply_to or post_id, "post": post_id, "message": message,
                                   "created_time": _graph_time(created)}
        if author is not None:
            comment["from"] = {"id": author[0], "name": author[1]}
        self.comments.append(comment)
        return made

    def _comments(self, post_id: str, fields: dict[str, str]) -> Reply:
        """GET /{post-id}/comments (developers.facebook.com/docs/graph-api/reference/object/comments):
        `filter` toplevel (default) or stream (replies too, with `parent`), `order`
        chronological (default) or reverse_chronological, `limit` (25 by default), cursor
        paging with opaque `before`/`after` cursors and a `next` URL while more follow."""
        stream = fields.get("filter") == "stream"
        chosen = [c for c in self.comments if c.get("post", c["parent"]) == post_id
                  and (stream or c["parent"] == post_id)]
        if fields.get("order") == "reverse_chronological":
            chosen.reverse()
        start = 0
        if fields.get("after"):
            try:
                last = base64.b64decode(fields["after"]).decode()
            except ValueError:
                return self.error(400, 100, "(#100) The after cursor is not valid", kind="OAuthException")
            start = next((i + 1 for i, c in enumerate(chosen) if c["id"] == last), None)
            if start is None:
                return self.error(400, 100, "(#100) The after cursor is not valid", kind="OAuthException")
        limit = int(fields.get("limit") or 25)
        page = chosen[start:start + limit]
        wanted = (fields.get("fields") or "id,message,created_time").replace("{id,name}", "").replace("{id}", "")
        keys = set(wanted.split(","))
        data = []
        for comment in page:
            item = {key: comment[key] for key in ("id", "message", "created_time", "from") if key in keys
                    and key in comment}
            if "parent" in keys and stream and comment["parent"] != post_id:
                item["parent"] = {"id": comment["parent"]}
            if "permalink_url" in keys:
                owner, _, number = post_id.partition("_")
                item["permalink_url"] = (f"https://www.facebook.com/{owner}/posts/{number}"
                                         f"?comment_id={comment['id'].split('_')[-1]}")
            data.append(item)
        if not data:
            return self._ok({"data": []})
        cursor = lambda comment: base64.b64encode(comment["id"].encode()).decode()  # noqa: E731
        paging: dict[str, Any] = {"cursors": {"before": cursor(page[0]), "after": cursor(page[-1])}}
        if start + limit < len(chosen):
            paging["next"] = (f"https://graph.facebook.com/v25.0/{post_id}/comments?limit={limit}"
                              f"&after={paging['cursors']['after']}")
        return self._ok({"data": data, "paging": paging})

    @staticmethod
    def usage(minutes: int, page_id: str = "104857600123456") -> dict[str, str]:
        """The Business Use Case usage header of a throttled Page token."""
        usage = {page_id: [{"type": "pages", "call_count": 100, "total_cputime": 12, "total_time": 30,
                            "estimated_time_to_regain_access": minutes}]}
        return {"X-Business-Use-Case-Usage": json.dumps(usage)}

    def _answer(self, request: Request) -> Reply:
        opened = self._opened(request)
        if isinstance(opened, Reply):
            return opened
        node, edge, fields = opened
        if request.method == "GET" and node == self.page_id and edge is None:
            return self._ok({"id": self.page_id, "name": self.page_name})
        if request.method == "GET" and node == self.page_id and edge == "posts":
            limit = int(fields.get("limit", 25))
            return self._ok({"data": list(reversed(self.posts))[:limit]})
        if request.method == "GET" and edge == "comments" and any(p["id"] == node for p in self.posts):
            return self._comments(node, fields)
        post = next((item for item in self.posts if item["id"] == node), None)
        if request.method == "GET" and post is not None and edge is None:
            wanted = (fields.get("fields") or "id,created_time").split(",")
            return self._ok({key: post[key] for key in ("id", *wanted) if key in post})
        if request.method == "POST" and post is not None and edge is None:
            return self._edit(post, fields)
        if request.method == "DELETE" and edge is None and (post is not None or self._comment_of(node)):
            return self._delete(node)
        if request.method == "POST" and node == self.page_id and edge == "feed":
            return self._post(fields.get("message", ""))
        if request.method == "POST" and edge == "comments" and any(p["id"] == node for p in self.posts):
            return self._comment(node, fields.get("message", ""))
        return self._unsupported(request, node)

    def _post(self, message: str) -> Reply:
        if not message:
            return self.error(400, 100, "(#100) Missing message or attachment")
        if self.posts and self.posts[-1]["message"] == message:
            return self.error(400, 506, "(#506) Duplicate status message", is_transient=False,
                              error_user_title="Duplicate Status Update",
                              error_user_msg="This status update is identical to the last one you posted. "
                                             "Try posting something different, or delete your previous update.")
        return self._ok({"id": self.add_post(message)})

    def _edit(self, post: dict[str, Any], fields: dict[str, str]) -> Reply:
        """POST /{post-id} with `message` (developers.facebook.com/docs/graph-api/reference/
        page-post/#updating): {"success": true}. Only the Page's own token may, else #200."""
        if self.read_only:
            return self.error(403, 200, "(#200) Permissions error", kind="OAuthException")
        if not fields.get("message"):
            return self.error(400, 100, "(#100) Missing message or attachment")
        post["message"] = fields["message"]
        return self._ok({"success": True})

    def _delete(self, node: str) -> Reply:
        """DELETE /{post-id} or /{comment-id} (developers.facebook.com/docs/graph-api/reference/
        page-post/#deleting, .../reference/comment/#deleting): {"success": true}. A token
        without the pages_manage_engagement/pages_manage_posts permission gets #200."""
        if self.read_only:
            return self.error(403, 200, "(#200) Permissions error", kind="OAuthException")
        self.posts = [item for item in self.posts if item["id"] != node]
        self.comments = [item for item in self.comments if item["id"] != node]
        return self._ok({"success": True})

    def _comment_of(self, node: str) -> bool:
        return any(item["id"] == node for item in self.comments)

    def _comment(self, post_id: str, message: str) -> Reply:
        made = f"{post_id.split('_')[-1]}_{next(self._numbers)}"
        self.comments.append({"id": made, "parent": post_id, "message": message})
        return self._ok({"id": made})

def _graph_time(epoch: float | None) -> str:
    stamp = datetime.fromtimestamp(time.time() if epoch is None else epoch, timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S+0000")
