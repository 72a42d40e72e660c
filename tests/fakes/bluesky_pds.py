"""A fake Bluesky PDS on loopback, answering XRPC the way the reference PDS does.

Every answer below names where its shape comes from: the XRPC reference pages at
https://docs.bsky.app/docs/api/<method> (request, output and error names), the guides at
https://docs.bsky.app/docs/advanced-guides/ (posts, rate limits, entryway), and where the
pages are silent the reference implementation, github.com/bluesky-social/atproto
(`packages/pds`, `packages/xrpc-server`, the `app.bsky.feed.post` lexicon).

Accounts: the channel's own (`handle`, `did`), with one app password and a main password,
and two others a post can mention or answer. `createSession` answers with JWTs whose
`exp` the SDK reads, and a DID document naming another host (the Bluesky PDS the entryway
forwards to), so a test sees whether the client leaves `api_url`. Records live in
`records` by `at://` URI; `createRecord` validates a post as the lexicon says (300
graphemes, 3000 UTF-8 bytes, a TID record key) and answers a key it already holds with the
opaque 500 the reference PDS gives. Tests force the rest: `fail(nsid, *replies)` answers
the next calls of one method with canned replies (the functions at the bottom), and
`answer_next_create(...)` stores the next post and then answers slowly or cuts the answer.

Listening: `hear(...)` puts another account's post on the network; one that mentions the
account (a mention facet with its DID) or replies to one of its posts makes a notification.
`app.bsky.notification.listNotifications` (the PDS proxies it to the AppView) answers
newest first with an opaque cursor to older ones, filtered by `reasons`;
`app.bsky.feed.searchPosts` answers PostViews whose text holds every word of `q`, newest
`sortAt` first (the earlier of `createdAt` and `indexedAt`), `since`/`until` on that time,
`limit` 1 to 100 (25) and an offset cursor, as the AppView's search does.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections import defaultdict, deque
from datetime import datetime, timezone
from typing import Any

import regex

from tests.fakes.server import FakeServer, Reply, Request

JSON = {"Content-Type": "application/json; charset=utf-8"}
POST = "app.bsky.feed.post"
ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
FORWARDED_TO = "https://morel.us-east.host.bsky.network"
OTHERS = {"prensa.acme.es": "did:plc:prensa7acmees2q4xw6l3mzt", "ana.bsky.social": "did:plc:ana5fhq2zr6m4xk7cw3bnpd"}


def error(status: int, name: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    """XRPC's error body, `{"error", "message"}` (xrpc-server errors.ts; every docs.bsky.app
    API page lists the error names a method has)."""
    return Reply(status, {"error": name, "message": message}, headers={**JSON, **(headers or {})})


class FakePDS(FakeServer):
    def __init__(self, app_password: str, handle: str = "acme.bsky.social",
                 did: str = "did:plc:acme4kq7w2mzv3xf6tbl5nrc", password: str = "main-account-password",
                 access_lifetime: int = 7200):
        super().__init__(self._answer)
        self.access_lifetime = access_lifetime
        self.handle, self.did = handle, did
        self.app_passwords = {app_password}
        self.password = password
        self.handles = {handle: did, **OTHERS}
        self.records: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, tuple[str, str]] = {}
        self.expired: set[str] = set()
        self.failures: dict[str, deque[Reply]] = defaultdict(deque)
        self.next_create: dict[str, Any] | None = None
        self.calls = 0
        self.notifications: list[dict[str, Any]] = []
        self.profiles: dict[str, str] = {}
        self._state = threading.Lock()
        self._clock = time.time()

    def fail(self, nsid: str, *replies: Reply) -> None:
        """Answer the next calls of `nsid` with `replies`, in order, before anything else."""
        self.failures[nsid].extend(replies)

    def answer_next_create(self, delay: float = 0.0, cut_after: int | None = None, trickle: float = 0.0,
                           padding: int = 0) -> None:
        """Store the next post, then answer after `delay` s, or cut the answer after
        `cut_after` bytes of its body, or send it one byte every `trickle` s, or with
        `padding` spaces after the JSON."""
        self.next_create = {"delay": delay, "cut_after": cut_after, "trickle": trickle, "padding": padding}

    def expire_sessions(self) -> None:
        """Every access token issued so far is now past its `exp`."""
        self.expired |= set(self.tokens)

    def seed(self, text: str, did: str | None = None, reply: dict | None = None) -> str:
        """A post already on the network (ours, or another account's); its `at://` URI."""
        record = {"$type": POST, "text": text, "createdAt": _iso(time.time() - 3600)}
        if reply:
            record["reply"] = reply
        return self._store(did or OTHERS["ana.bsky.social"], _tid(), record)["uri"]

    def hear(self, text: str, handle: str = "ana.bsky.social", display_name: str = "Ana",
             reply_to: str | None = None, mention: bool = True, created_at: str | None = None) -> dict[str, Any]:
        """Another account's post, indexed now; a notification when it mentions the
        account or replies to one of its posts. Each one is indexed a millisecond after the
        one before (the AppView's order)."""
        did = self.handles[handle]
        self.profiles[did] = display_name
        record: dict[str, Any] = {"$type": POST, "text": text,
                                  "createdAt": created_at if created_at is not None else _iso(time.time())}
        if mention:
            start = len(text.encode())
            record["text"] = text = f"{text} @{self.handle}"
            record["facets"] = [{"index": {"byteStart": start + 1, "byteEnd": len(text.encode())},
                                 "features": [{"$type": "app.bsky.richtext.facet#mention", "did": self.did}]}]
        if reply_to:
            parent = self.records[reply_to]
            ref = {"uri": reply_to, "cid": parent["cid"]}
            record["reply"] = {"root": parent["value"].get("reply", {}).get("root", ref), "parent": ref}
        with self._state:
            self._clock = max(self._clock + 0.001, time.time())
            entry = self._store(did, _tid(), record)
            entry["indexedAt"] = _iso(self._clock)
            if mention or (reply_to and reply_to.startswith(f"at://{self.did}/")):
                self.notifications.append({
                    "uri": entry["uri"], "cid": entry["cid"], "author": self._profile(did),
                    "reason": "reply" if reply_to and not mention else "mention",
                    "reasonSubject": reply_to, "record": record, "isRead": False,
                    "indexedAt": entry["indexedAt"], "labels": []})
        return entry

    def _profile(self, did: str) -> dict[str, Any]:
        handle = next(name for name, value in self.handles.items() if value == did)
        return {"did": did, "handle": handle, "displayName": self.profiles.get(did, ""), "labels": [],
                "createdAt": "2023-04-12T09:00:00.000Z", "indexedAt": "2024-01-02T10:00:00.000Z"}

    def _app_bsky_notification_listNotifications(self, request: Request) -> Reply:
        """docs.bsky.app/docs/api/app-bsky-notification-list-notifications: {notifications:
        [{uri, cid, author, reason, reasonSubject?, record, isRead, indexedAt, labels}],
        cursor?, seenAt?}, newest first; `reasons` filters, `limit` 1 to 100 (50); the
        cursor is opaque (the AppView's is the last item's time and cid)."""
        caller = self._caller(request)
        if isinstance(caller, Reply):
            return caller
        try:
            limit = int((request.query.get("limit") or ["50"])[0])
        except ValueError:
            return error(400, "InvalidRequest", "limit must be an integer")
        if not 1 <= limit <= 100:
            return error(400, "InvalidRequest", "limit must be between 1 and 100")
        reasons = request.query.get("reasons") or []
        found = sorted((item for item in self.notifications if not reasons or item["reason"] in reasons),
                       key=lambda item: (item["indexedAt"], item["cid"]), reverse=True)
        cursor = (request.query.get("cursor") or [None])[0]
        if cursor:
            at, _, cid = cursor.partition("::")
            found = [item for item in found if (item["indexedAt"], item["cid"]) < (at, cid)]
        page = found[:limit]
        answer: dict[str, Any] = {"notifications": page, "priority": False}
        if len(found) > limit:
            answer["cursor"] = f"{page[-1]['indexedAt']}::{page[-1]['cid']}"
        return Reply(200, answer, headers=dict(JSON))

    def _app_bsky_feed_getPosts(self, request: Request) -> Reply:
        """docs.bsky.app/docs/api/app-bsky-feed-get-posts: {posts: [PostView]} for the `uris`
        (at most 25) that exist, others left out; no auth needed (the public AppView answers
        it too)."""
        uris = request.query.get("uris") or []
        if not uris or len(uris) > 25:
            return error(400, "InvalidRequest", "uris must have between 1 and 25 items")
        posts = [self._post_view(self.records[uri]) for uri in uris if uri in self.records]
        return Reply(200, {"posts": posts}, headers=dict(JSON))

    def _post_view(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {"uri": entry["uri"], "cid": entry["cid"], "author": self._profile(entry["uri"].split("/")[2]),
                "record": entry["value"], "replyCount": 0, "repostCount": 0, "likeCount": 0, "quoteCount": 0,
                "indexedAt": entry["indexedAt"], "labels": []}

    def _app_bsky_feed_searchPosts(self, request: Request) -> Reply:
        """docs.bsky.app/docs/api/app-bsky-feed-search-posts: {posts: [PostView], cursor?,
        hitsTotal?}; `q` required (400 InvalidRequest), `sort` latest (default) or top,
        `since`/`until` on sortAt, `limit` 1 to 100 (25), an offset cursor."""
        query = (request.query.get("q") or [""])[0]
        if not query:
            return error(400, "InvalidRequest", 'Error: Params must have the property "q"')
        try:
            limit = int((request.query.get("limit") or ["25"])[0])
            offset = int((request.query.get("cursor") or ["0"])[0])
        except ValueError:
            return error(400, "InvalidRequest", "limit and cursor must be integers")
        if not 1 <= limit <= 100:
            return error(400, "InvalidRequest", "limit must be between 1 and 100")
        words = query.lower().split()
        since = (request.query.get("since") or [""])[0]
        until = (request.query.get("until") or [""])[0]
        found = []
        for entry in list(self.records.values()):
            text = str(entry["value"].get("text", "")).lower()
            if f"/{POST}/" not in entry["uri"] or not all(word in text for word in words):
                continue
            sort_at = min(str(entry["value"].get("createdAt", "")), entry["indexedAt"]) or entry["indexedAt"]
            if (since and sort_at < since) or (until and sort_at >= until):
                continue
            found.append((sort_at, entry))
        found.sort(key=lambda pair: (pair[0], pair[1]["uri"]), reverse=True)
        page = found[offset:offset + limit]
        posts = [self._post_view(entry) for _, entry in page]
        answer: dict[str, Any] = {"posts": posts, "hitsTotal": len(found)}
        if offset + limit < len(found):
            answer["cursor"] = str(offset + limit)
        return Reply(200, answer, headers=dict(JSON))

    def posts(self, did: str | None = None) -> list[dict[str, Any]]:
        owner = f"at://{did or self.did}/"
        return [entry for uri, entry in self.records.items() if uri.startswith(owner)]

    def _answer(self, request: Request) -> Reply:
        nsid = request.path.removeprefix("/xrpc/")
        with self._state:
            self.calls += 1
            if self.failures[nsid]:
                return self._limited(self.failures[nsid].popleft())
        handler = getattr(self, "_" + nsid.replace(".", "_"), None)
        if not request.path.startswith("/xrpc/") or handler is None:
            # xrpc-server answers an unknown method with 501 MethodNotImplemented.
            return error(501, "MethodNotImplemented", "Method Not Implemented")
        return self._limited(handler(request))

    def _limited(self, reply: Reply) -> Reply:
        """The PDS's rate-limit headers on every answer: RateLimit-Limit, -Remaining,
        -Reset (epoch seconds), -Policy "N;w=seconds" (xrpc-server rate-limiter.ts;
        docs.bsky.app/docs/advanced-guides/rate-limits: 3000 requests per 5 minutes)."""
        if not any(key.lower() == "ratelimit-limit" for key in reply.headers):
            reset = int(time.time() // 300 * 300 + 300)
            reply.headers.update({"RateLimit-Limit": "3000", "RateLimit-Remaining": str(max(0, 3000 - self.calls)),
                                  "RateLimit-Reset": str(reset), "RateLimit-Policy": "3000;w=300"})
        return reply

    def _caller(self, request: Request) -> str | Reply:
        """The DID a request's bearer token belongs to, or the PDS's refusal: no token is
        401 AuthMissing, an expired one 400 ExpiredToken, one it did not issue 400
        InvalidToken (com-atproto-repo-create-record lists both 400s; packages/pds
        auth-verifier raises them as InvalidRequestError, hence 400, not 401)."""
        header = request.header("Authorization") or ""
        if not header.startswith("Bearer "):
            return error(401, "AuthMissing", "Authentication Required")
        token = header.removeprefix("Bearer ")
        if token in self.expired:
            return error(400, "ExpiredToken", "Token has expired")
        found = self.tokens.get(token)
        if found is None or found[1] != "access":
            return error(400, "InvalidToken", "Token could not be verified")
        return found[0]

    def _com_atproto_server_createSession(self, request: Request) -> Reply:
        """docs.bsky.app/docs/api/com-atproto-server-create-session: {identifier, password}
        gives {accessJwt, refreshJwt, handle, did, didDoc, active}; a wrong identifier or
        password is 401 AuthenticationRequired "Invalid identifier or password" (packages/pds
        createSession.ts)."""
        body = request.json() or {}
        identifier, password = str(body.get("identifier", "")).lower(), body.get("password")
        if not identifier or not isinstance(password, str):
            return error(400, "InvalidRequest", "Input must have the property \"identifier\"")
        did = self.handles.get(identifier, identifier if identifier == self.did else None)
        if did != self.did or (password not in self.app_passwords and password != self.password):
            return error(401, "AuthenticationRequired", "Invalid identifier or password")
        scope = "com.atproto.appPass" if password in self.app_passwords else "com.atproto.access"
        return Reply(200, self._session(scope), headers=dict(JSON))

    def _com_atproto_server_refreshSession(self, request: Request) -> Reply:
        """docs.bsky.app/docs/api/com-atproto-server-refresh-session: the refresh JWT as
        bearer gives a new pair; another token is 400 InvalidToken."""
        token = (request.header("Authorization") or "").removeprefix("Bearer ")
        found = self.tokens.get(token)
        if found is None or found[1] != "refresh":
            return error(400, "InvalidToken", "Token could not be verified")
        return Reply(200, self._session("com.atproto.appPass"), headers=dict(JSON))

    def _com_atproto_server_getSession(self, request: Request) -> Reply:
        """docs.bsky.app/docs/api/com-atproto-server-get-session: {handle, did, active}."""
        caller = self._caller(request)
        if isinstance(caller, Reply):
            return caller
        return Reply(200, {"handle": self.handle, "did": caller, "active": True, "didDoc": self._did_doc()},
                     headers=dict(JSON))

    def _com_atproto_identity_resolveHandle(self, request: Request) -> Reply:
        """docs.bsky.app/docs/api/com-atproto-identity-resolve-handle: {did}; a handle that
        does not resolve is 400 (docs.bsky.app/docs/advanced-guides/posts: "If the handle
        can't be resolved, just skip it"), InvalidRequest "Unable to resolve handle"."""
        handle = (request.query.get("handle") or [""])[0].lower()
        if handle not in self.handles:
            return error(400, "InvalidRequest", "Unable to resolve handle")
        return Reply(200, {"did": self.handles[handle]}, headers=dict(JSON))

    def _com_atproto_repo_createRecord(self, request: Request) -> Reply:
        """docs.bsky.app/docs/api/com-atproto-repo-create-record: {repo, collection, rkey?,
        validate?, record} gives {uri, cid, commit: {cid, rev}, validationStatus}; errors
        400 InvalidRequest / ExpiredToken / InvalidToken / InvalidSwap, 401 AuthMissing.
        An invalid post is 400 InvalidRequest "Invalid app.bsky.feed.post record: ..."
        (packages/pds repo/prepare.ts, with the lexicon validator's own sentence); another
        account's repo 401 AuthenticationRequired (createRecord.ts); a record key already
        used is a plain error in the repository's tree ("There is already a value at key"),
        which xrpc-server answers as an opaque 500 InternalServerError."""
        caller = self._caller(request)
        if isinstance(caller, Reply):
            return caller
        body = request.json() or {}
        repo, collection, record = body.get("repo"), body.get("collection"), body.get("record")
        did = self.handles.get(str(repo).lower(), repo)
        if did not in (self.did, *OTHERS.values()):
            return error(400, "InvalidRequest", f"Could not find repo: {repo}")
        if did != caller:
            return error(401, "AuthenticationRequired", "Authentication Required")
        if not isinstance(record, dict) or record.get("$type") != collection:
            return error(400, "InvalidRequest",
                         f"Invalid $type: expected {collection}, got {record and record.get('$type')}")
        rkey = body.get("rkey") or _tid()
        if collection == POST and not TID.fullmatch(str(rkey)):
            return error(400, "InvalidRequest", f"Invalid record key for {POST}: must be a valid TID")
        problem = _post_problem(record) if collection == POST else None
        if problem:
            return error(400, "InvalidRequest", f"Invalid {POST} record: {problem}")
        with self._state:
            if f"at://{did}/{collection}/{rkey}" in self.records:
                return error(500, "InternalServerError", "Internal Server Error")
            stored = self._store(did, str(rkey), record, collection)
            shaped, self.next_create = self.next_create, None
        answer = {"uri": stored["uri"], "cid": stored["cid"], "commit": {"cid": _cid(stored["uri"] + "commit"),
                                                                          "rev": stored["rev"]},
                  "validationStatus": "valid"}
        if shaped:
            return Reply(200, json.dumps(answer).encode() + b" " * shaped["padding"], headers=dict(JSON),
                         delay=shaped["delay"], cut_after=shaped["cut_after"], trickle=shaped["trickle"])
        return Reply(200, answer, headers=dict(JSON))

    def _com_atproto_repo_getRecord(self, request: Request) -> Reply:
        """docs.bsky.app/docs/api/com-atproto-repo-get-record: {uri, cid, value}; no such
        record is 400 RecordNotFound "Could not locate record: <uri>", an unknown repo 400
        InvalidRequest "Could not find repo: <repo>". Needs no auth."""
        repo = (request.query.get("repo") or [""])[0]
        collection = (request.query.get("collection") or [""])[0]
        rkey = (request.query.get("rkey") or [""])[0]
        did = self.handles.get(repo.lower(), repo)
        if did not in (self.did, *OTHERS.values()):
            return error(400, "InvalidRequest", f"Could not find repo: {repo}")
        uri = f"at://{did}/{collection}/{rkey}"
        found = self.records.get(uri)
        if found is None:
            return error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return Reply(200, {"uri": uri, "cid": found["cid"], "value": found["value"]}, headers=dict(JSON))

    def _com_atproto_repo_listRecords(self, request: Request) -> Reply:
        """docs.bsky.app/docs/api/com-atproto-repo-list-records: {records: [{uri, cid,
        value}], cursor}, newest record key first unless `reverse`, `limit` 1 to 100 (50)."""
        repo = (request.query.get("repo") or [""])[0]
        collection = (request.query.get("collection") or [""])[0]
        limit = int((request.query.get("limit") or ["50"])[0])
        if not 1 <= limit <= 100:
            return error(400, "InvalidRequest", "limit must be between 1 and 100")
        did = self.handles.get(repo.lower(), repo)
        prefix = f"at://{did}/{collection}/"
        chosen = sorted((uri for uri in self.records if uri.startswith(prefix)),
                        reverse=(request.query.get("reverse") or ["false"])[0] != "true")
        cursor = (request.query.get("cursor") or [None])[0]
        if cursor:
            chosen = [uri for uri in chosen if uri.rsplit("/", 1)[1] < cursor]
        page = chosen[:limit]
        answer: dict[str, Any] = {"records": [{"uri": uri, "cid": self.records[uri]["cid"],
                                               "value": self.records[uri]["value"]} for uri in page]}
        if len(chosen) > limit:
            answer["cursor"] = page[-1].rsplit("/", 1)[1]
        return Reply(200, answer, headers=dict(JSON))

    def _app_bsky_feed_getAuthorFeed(self, request: Request) -> Reply:
        """docs.bsky.app/docs/api/app-bsky-feed-get-author-feed (the PDS proxies it to the
        AppView): {feed: [{post: {uri, cid, author, record, indexedAt, ...}}], cursor}; an
        unknown actor is 400 InvalidRequest "Profile not found"."""
        actor = (request.query.get("actor") or [""])[0]
        did = self.handles.get(actor.lower(), actor)
        if did not in (self.did, *OTHERS.values()):
            return error(400, "InvalidRequest", "Profile not found")
        handle = next(name for name, value in self.handles.items() if value == did)
        limit = int((request.query.get("limit") or ["50"])[0])
        posts = sorted(self.posts(did), key=lambda entry: entry["indexedAt"], reverse=True)[:limit]
        feed = [{"post": {"uri": entry["uri"], "cid": entry["cid"], "indexedAt": entry["indexedAt"],
                          "author": {"did": did, "handle": handle}, "record": entry["value"],
                          "replyCount": 0, "repostCount": 0, "likeCount": 0, "quoteCount": 0, "labels": []}}
                for entry in posts]
        return Reply(200, {"feed": feed}, headers=dict(JSON))

    def _com_atproto_repo_deleteRecord(self, request: Request) -> Reply:
        """docs.bsky.app/docs/api/com-atproto-repo-delete-record: {repo, collection, rkey}
        gives {commit}; deleting a record that is not there is a no-op 200 (packages/pds
        deleteRecord.ts)."""
        caller = self._caller(request)
        if isinstance(caller, Reply):
            return caller
        body = request.json() or {}
        did = self.handles.get(str(body.get("repo")).lower(), body.get("repo"))
        if did != caller:
            return error(401, "AuthenticationRequired", "Authentication Required")
        removed = self.records.pop(f"at://{did}/{body.get('collection')}/{body.get('rkey')}", None)
        if removed is None:
            return Reply(200, {}, headers=dict(JSON))
        return Reply(200, {"commit": {"cid": _cid(removed["uri"] + "delete"), "rev": _tid()}}, headers=dict(JSON))

    def _store(self, did: str, rkey: str, record: dict[str, Any], collection: str = POST) -> dict[str, Any]:
        uri = f"at://{did}/{collection}/{rkey}"
        entry = {"uri": uri, "cid": _cid(json.dumps(record, sort_keys=True) + uri), "value": record,
                 "rev": _tid(), "indexedAt": _iso(time.time())}
        self.records[uri] = entry
        return entry

    def _session(self, scope: str) -> dict[str, Any]:
        now = int(time.time())
        access = _jwt({"scope": scope, "sub": self.did, "iat": now, "exp": now + self.access_lifetime,
                       "aud": "did:web:morel.us-east.host.bsky.network", "jti": _tid()})
        refresh = _jwt({"scope": "com.atproto.refresh", "sub": self.did, "iat": now, "exp": now + 90 * 86400,
                        "jti": _tid()})
        self.tokens[access] = (self.did, "access")
        self.tokens[refresh] = (self.did, "refresh")
        return {"accessJwt": access, "refreshJwt": refresh, "handle": self.handle, "did": self.did,
                "didDoc": self._did_doc(), "active": True}

    def _did_doc(self) -> dict[str, Any]:
        """The account's DID document, naming the PDS the entryway forwards to
        (docs.bsky.app/docs/advanced-guides/entryway)."""
        return {"@context": ["https://www.w3.org/ns/did/v1"], "id": self.did,
                "alsoKnownAs": [f"at://{self.handle}"],
                "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                             "serviceEndpoint": FORWARDED_TO}]}


def _post_problem(record: dict[str, Any]) -> str | None:
    """What the `app.bsky.feed.post` lexicon refuses in `record`, in the lexicon
    validator's words: text at most 300 graphemes and 3000 bytes ("characters" in its
    message, counted in UTF-8), createdAt required, facets with byte slices."""
    text = record.get("text")
    if not isinstance(text, str):
        return 'Record must have the property "text"'
    if len(regex.findall(r"\X", text)) > 300:
        return "Record/text must not be longer than 300 graphemes"
    if len(text.encode("utf-8")) > 3000:
        return "Record/text must not be longer than 3000 characters"
    if not isinstance(record.get("createdAt"), str):
        return 'Record must have the property "createdAt"'
    for number, facet in enumerate(record.get("facets") or []):
        index = facet.get("index") or {}
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end):
            return f"Record/facets/{number}/index must have the properties byteStart and byteEnd"
    reply = record.get("reply")
    if reply is not None:
        for part in ("root", "parent"):
            ref = reply.get(part) or {}
            if not isinstance(ref.get("uri"), str) or not isinstance(ref.get("cid"), str):
                return f"Record/reply/{part} must have the properties uri and cid"
    return None


def _tid() -> str:
    value = (int(time.time() * 1_000_000) << 10) | int.from_bytes(hashlib.sha256(str(time.perf_counter_ns())
                                                                                 .encode()).digest()[:2], "big") % 1024
    return "".join(ALPHABET[(value >> shift) & 31] for shift in range(60, -5, -5))


def _cid(seed: str) -> str:
    return "bafyrei" + base64.b32encode(hashlib.sha256(seed.encode()).digest()).decode().lower().rstrip("=")[:52]


def _jwt(payload: dict[str, Any]) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    head = part(json.dumps({"typ": "at+jwt", "alg": "HS256"}).encode()) + "." + part(json.dumps(payload).encode())
    return head + "." + part(hmac.new(b"fake-pds", head.encode(), hashlib.sha256).digest())


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rate_limited(reset_in: float = 90, limit: int = 5000, window: int = 3600) -> Reply:
    """429 RateLimitExceeded "Rate Limit Exceeded" with RateLimit-* headers, the reset in
    epoch seconds (xrpc-server rate-limiter.ts; docs.bsky.app/docs/advanced-guides/
    rate-limits: writes are 5000 points an hour per account, a post costs 3)."""
    reset = int(time.time() + reset_in)
    return error(429, "RateLimitExceeded", "Rate Limit Exceeded",
                 {"RateLimit-Limit": str(limit), "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset),
                  "RateLimit-Policy": f"{limit};w={window}"})


def expired_token() -> Reply:
    """400 ExpiredToken "Token has expired" (packages/pds auth-verifier.ts)."""
    return error(400, "ExpiredToken", "Token has expired")


def missing_scope() -> Reply:
    """403 Forbidden: the token's permissions do not cover creating posts (packages/oauth-scopes
    permission set, a ForbiddenError)."""
    return error(403, "Forbidden", 'Missing required scope "repo:app.bsky.feed.post?action=create"')


def account_takedown() -> Reply:
    """401 AccountTakedown (docs.bsky.app/docs/api/com-atproto-server-create-session lists it)."""
    return error(401, "AccountTakedown", "Account has been taken down")


def internal_error() -> Reply:
    """500 InternalServerError; xrpc-server never says more for a 500 (errors.ts)."""
    return error(500, "InternalServerError", "Internal Server Error")


def bad_gateway() -> Reply:
    """502 from the load balancer in front of the PDS: HTML, not XRPC."""
    html = ("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
            "</body></html>")
    return Reply(502, html, headers={"Content-Type": "text/html"})
