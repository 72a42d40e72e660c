"""A fake LinkedIn REST API on loopback, answering like the versioned Posts API.

Sources, each answer below follows its page:
- Posts API (learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/
  posts-api): `POST /rest/posts` with `LinkedIn-Version` and `X-Restli-Protocol-Version:
  2.0.0` answers 201 with an empty body and the new URN in `x-restli-id`; `GET
  /rest/posts/{encoded urn}` returns the post (`id`, `author`, `commentary`, `createdAt`
  and `publishedAt` in epoch milliseconds, `lifecycleState`); `GET
  /rest/posts?author=..&q=author` lists an author's posts in `elements`; `DELETE
  /rest/posts/{encoded urn}` answers 204, and again 204 for a post already deleted
  ("delete is idempotent" in the same page), 404 for one that never existed.
- Error handling (learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/
  error-handling): every error is a JSON body `{"message", "serviceErrorCode",
  "status"}` (Rest.li adds `code`); 401 for an expired, revoked or invalid token, 403
  for a missing permission, 422 for a refused post (duplicate content is the
  `DUPLICATE_POST` code, its message naming the existing post's URN), 429 when a quota
  is used up (LinkedIn documents no reset header; the daily quotas reset at midnight UTC).
- Organization access control (learn.microsoft.com/en-us/linkedin/marketing/
  community-management/organizations/organization-access-control-by-role): `GET
  /rest/organizationAcls?q=roleAssignee` lists the member's roles per organisation.
- Token introspection (learn.microsoft.com/en-us/linkedin/shared/authentication/
  token-introspection): `POST /oauth/v2/introspectToken` with `client_id`,
  `client_secret` and `token` as a form answers `active`, `status`, `expires_at` (epoch s).
The commentary is little text: the fake reads it back (backslash escapes) and refuses
one over 3,000 UTF-16 units as sent, with LinkedIn's 422 validation body.
"""
from __future__ import annotations

import itertools
import re
import threading
import time
from urllib.parse import unquote

from tests.fakes.server import FakeServer, Reply, Request

ORGANIZATION = "urn:li:organization:2414183"
RESTLI = {"X-Restli-Protocol-Version": "2.0.0", "Content-Type": "application/json"}
LIMIT = 3000


def error(status: int, message: str, code: str = "", service: int | None = None) -> Reply:
    body = {"message": message, "serviceErrorCode": service if service is not None else status, "status": status}
    if code:
        body["code"] = code
    return Reply(status, body, dict(RESTLI))


def expired_token() -> Reply:
    return error(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN", 65601)


def not_permitted() -> Reply:
    return error(403, "Not enough permissions to access: partnerApiPostsExternal.CREATE.20261101", "ACCESS_DENIED",
                 100)


def quota_used_up() -> Reply:
    return error(429, "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
                 "TOO_MANY_REQUESTS", 101)


class FakeLinkedIn(FakeServer):
    def __init__(self, token: str, client_id: str = "", client_secret: str = ""):
        super().__init__(self._answer)
        self.token = token
        self.client_id, self.client_secret = client_id, client_secret
        self.token_expires_at = time.time() + 45 * 86400 + 3600
        self.token_status = "active"
        self.posts: dict[str, dict] = {}
        self.deleted: set[str] = set()
        self.roles = [{"role": "ADMINISTRATOR", "state": "APPROVED", "organization": ORGANIZATION,
                       "roleAssignee": "urn:li:person:8675309"}]
        self.lose_next_answer = False
        self._ids = itertools.count(7140000000000000000)
        self._state = threading.Lock()

    def seed(self, text: str, author: str = ORGANIZATION, created_ms: int | None = None) -> str:
        from channels.little_text import escape

        urn = f"urn:li:share:{next(self._ids)}"
        now = created_ms if created_ms is not None else int(time.time() * 1000)
        self.posts[urn] = {"id": urn, "author": author, "commentary": escape(text), "visibility": "PUBLIC",
                           "lifecycleState": "PUBLISHED", "createdAt": now, "publishedAt": now,
                           "lastModifiedAt": now, "distribution": {"feedDistribution": "MAIN_FEED"}}
        return urn

    def _answer(self, request: Request) -> Reply:
        if request.path == "/oauth/v2/introspectToken":
            return self._introspect(request)
        if request.header("X-Restli-Protocol-Version") != "2.0.0" or \
                not re.fullmatch(r"20\d{4}", request.header("LinkedIn-Version") or ""):
            return error(400, "A version must be present. Please specify a version by adding the LinkedIn-Version "
                              "header.", "VERSION_MISSING", 400)
        if request.header("Authorization") != f"Bearer {self.token}":
            return error(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)
        if request.path == "/rest/posts" and request.method == "POST":
            return self._create(request)
        if request.path == "/rest/posts" and request.method == "GET":
            return self._by_author(request)
        if request.path.startswith("/rest/posts/"):
            return self._one(request, unquote(request.path[len("/rest/posts/"):]))
        if request.path == "/rest/organizationAcls" and request.query.get("q") == ["roleAssignee"]:
            return Reply(200, {"elements": self.roles, "paging": {"count": 100, "start": 0,
                                                                 "total": len(self.roles)}}, dict(RESTLI))
        return error(404, f"No virtual resource found for {request.path}", "RESOURCE_NOT_FOUND", 404)

    def _create(self, request: Request) -> Reply:
        from channels.little_text import unescape

        body = request.json()
        missing = [key for key in ("author", "commentary", "visibility", "distribution", "lifecycleState")
                   if key not in body]
        if missing:
            return error(422, "".join(f"ERROR :: /{key} :: field is required but not found and has no default "
                                      "value\n" for key in missing), service=422)
        if body["author"] != ORGANIZATION:
            return error(403, f"Not enough permissions to post as {body['author']}", "ACCESS_DENIED", 100)
        commentary = body["commentary"]
        if len(commentary.encode("utf-16-le")) // 2 > LIMIT:
            return error(422, f"ERROR :: /commentary :: length of commentary exceeds the maximum allowed ({LIMIT})",
                         service=422)
        with self._state:
            for urn, post in self.posts.items():
                if urn not in self.deleted and post["author"] == body["author"] and \
                        unescape(post["commentary"]) == unescape(commentary):
                    return error(422, f"Content is a duplicate of {urn}", "DUPLICATE_POST", 422)
            urn = self.seed(unescape(commentary))
            self.posts[urn]["commentary"] = commentary
        if self.lose_next_answer:
            self.lose_next_answer = False
            return Reply(201, b"", {**RESTLI, "x-restli-id": urn}, delay=1.0)
        return Reply(201, b"", {**RESTLI, "x-restli-id": urn, "Location": f"/rest/posts/{urn}"})

    def _by_author(self, request: Request) -> Reply:
        if request.query.get("q") != ["author"]:
            return error(400, "Invalid query", service=400)
        author = request.query.get("author", [""])[0]
        count = int(request.query.get("count", ["10"])[0])
        found = sorted((post for urn, post in self.posts.items() if post["author"] == author
                        and urn not in self.deleted), key=lambda post: -post["createdAt"])
        return Reply(200, {"elements": found[:count], "paging": {"count": count, "start": 0}}, dict(RESTLI))

    def _one(self, request: Request, urn: str) -> Reply:
        post = self.posts.get(urn)
        if request.method == "DELETE":
            if post is None:
                return error(404, f"Post {urn} does not exist", "RESOURCE_NOT_FOUND", 404)
            self.deleted.add(urn)
            return Reply(204, b"", dict(RESTLI))
        if post is None or urn in self.deleted:
            return error(404, f"Post {urn} does not exist", "RESOURCE_NOT_FOUND", 404)
        return Reply(200, post, dict(RESTLI))

    def _introspect(self, request: Request) -> Reply:
        form = request.form()
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return Reply(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if form.get("token") != self.token:
            return Reply(200, {"active": False})
        active = self.token_status == "active" and self.token_expires_at > time.time()
        return Reply(200, {"active": active, "client_id": self.client_id, "authorized_at": 1780000000,
                           "created_at": 1780000000, "status": self.token_status if active or
                           self.token_status != "active" else "expired",
                           "expires_at": int(self.token_expires_at), "scope": "r_organization_social,"
                           "w_organization_social,rw_organization_admin", "auth_type": "3L"},
                     {"Content-Type": "application/json"})
