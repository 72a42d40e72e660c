"""Bluesky: posts an `app.bsky.feed.post` record through the `atproto` SDK (pinned).

Guarantees:
- The SDK's every request goes out once through the one transport (`channels.http`, by
  `channels.httpx_bridge`): no retries, the timeout bounding each whole request, a freeze
  stopping it in flight, answers bounded, failures classified with whether the request may
  have reached the PDS. Every request goes to `api_url` (bsky.social forwards to the
  account's own PDS), never to a host the session's DID document names.
- The session comes from `com.atproto.server.createSession` with the handle and the app
  password; a token the PDS calls expired or invalid gets one fresh session and the call
  is made again once. The app password and every token are masked in every reason, and
  the httpx, httpcore and urllib3 loggers stay at WARNING.
- A resend cannot post twice (`idempotent`): each part is created with a record key
  derived from the message's part key (`channels.bluesky_records.record_key`), and the PDS
  never creates a second record at a key it holds. When a create fails in a way that may
  have written (no answer, an answer cut off or unreadable, a 5xx, which is also what the
  PDS answers to a key it already holds), that key is looked up at once
  (`com.atproto.repo.getRecord`): the post found there, with the part's text, is the
  receipt; no post there means nothing was posted; a failed look-up leaves the outcome
  unknown, and the next attempt does the same. A freeze stops it before the look-up.
- Links, mentions and hashtags are facets with UTF-8 byte offsets (the SDK's port of the
  Bluesky app's detection); a mention is resolved to its DID with
  `com.atproto.identity.resolveHandle`, and a handle that does not resolve stays plain text.
- A thread posts part 0, then each part as a reply to the one before with the thread's
  root, and resumes after `message.sent_parts`; `reply_to` (a bsky.app URL or an `at://`
  URI) makes the first part a reply, its root taken from the post it answers.
- Receipts: the `at://` URI as id, the bsky.app URL by DID, and the time of the
  repository revision the PDS committed the post in.
- A withdrawal deletes every part, last part first (`com.atproto.repo.deleteRecord` at
  each part's record key, in the account's own repository); the PDS answers a key it does
  not hold like a deletion, so a repeated withdrawal is safe. Bluesky has no edit
  (`can_edit` is False): a correction is posted as a reply.
- A 429 is Retryable after the time its `RateLimit-Reset` names; a refused login, a
  refused record (too long, invalid) and a missing permission are Permanent.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Type, TypeVar
from urllib.parse import urlsplit

from channels import http
from channels.base import (Channel, DeliveryError, Message, part_ids, Permanent, post_in_parts,
                           quiet_loggers, Receipt, Retryable, SettingError)
from channels.bluesky_records import POST, post_reference, post_uri, post_url, record_key, tid_time
from channels.deadline import current_abort
from channels.schemas import OPTIONS

HANDLE = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
LOGIN_REFUSED = frozenset({"AuthenticationRequired", "AuthMissing", "AccountTakedown", "AccountDeactivated",
                           "AuthFactorTokenRequired"})
NOT_FOUND = frozenset({"RecordNotFound"})
Result = TypeVar("Result")


class BlueskyChannel(Channel):
    type = "bluesky"
    variant = "short"
    max_length = 300
    counting = "bluesky"
    overflow = "thread"
    supports_reply = True
    idempotent = True
    can_look_up = True
    options = OPTIONS["bluesky"]

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        super().__init__(name, settings, secrets)
        self.handle = str(self.settings["handle"]).strip().removeprefix("@").lower()
        if not HANDLE.fullmatch(self.handle):
            raise SettingError("handle", f"a Bluesky handle like acme.bsky.social, got {self.handle!r}")
        self.api = str(self.settings["api_url"]).rstrip("/")
        host = urlsplit(self.api)
        self.host = (host.hostname or "").lower()
        self.add_secrets({str(self.settings["app_password"])})
        self._client: Any = None
        self._reader: Any = None
        self._did = ""
        quiet_loggers("httpx", "httpcore", "urllib3")

    def send(self, message: Message) -> Receipt:
        answered = self._target(message.reply_to) if message.reply_to and not message.sent_parts else None
        self._logged_in()
        threads: dict[str, tuple[Any, Any]] = {}
        return post_in_parts(message, lambda index, previous: self._post(
            message, index, self._reply(previous, threads) if previous else None, threads), answered)

    def check(self) -> str:
        self._client = None
        client = self._logged_in()
        session = self._call(lambda: client.com.atproto.server.get_session(), False)
        handle, did = str(getattr(session, "handle", "") or ""), str(getattr(session, "did", "") or "")
        if not did.startswith("did:"):
            raise Retryable(f"Bluesky's answer to getSession named no account on {self.host}")
        return f"Bluesky app password works for @{handle} ({did}) on {self.host}"

    def lookup(self, reference: str) -> Receipt | None:
        target = post_reference(reference)
        if target is None:
            raise Permanent(self.redact(f"{reference!r} is neither a bsky.app post URL nor an at:// post URI"))
        found = self._record(*target)
        if found is None:
            return None
        return self._found_receipt(found, str(getattr(found.value, "text", "") or ""))

    can_delete = True

    def delete(self, receipt: Receipt) -> str | None:
        self._logged_in()
        keys = []
        for uri in part_ids(receipt):
            target = post_reference(uri)
            if target is None:
                raise Permanent(self.redact(f"{uri!r} is not an at:// post URI, so nothing was deleted"))
            if target[0] not in (self._did, self.handle):
                raise Permanent(self.redact(f"{uri} is not a post of {self.handle}, so nothing was deleted"))
            keys.append(target[1])
        deleted_at = None
        for rkey in reversed(keys):
            deleted_at = self._delete_record(rkey) or deleted_at
        return deleted_at

    def read_as_account(self, call: Callable[[Any], Result]) -> Result:
        """`call(client)` with the account's session (a new one after a token the PDS calls
        expired), its failures as DeliveryErrors; for a source reading what the account
        sees. Nothing is written, so no failure leaves anything behind."""
        return self._call(lambda: self._with_session(call), False)

    def _delete_record(self, rkey: str) -> str | None:
        """Delete our post at `rkey`; the time of the repository revision that removed it."""
        from atproto_client import models

        data = models.ComAtprotoRepoDeleteRecord.Data(repo=self._did, collection=POST, rkey=rkey)
        answer = self._call(lambda: self._with_session(lambda client: client.com.atproto.repo.delete_record(data)),
                            False)
        revision = getattr(getattr(answer, "commit", None), "rev", None)
        return tid_time(revision) if isinstance(revision, str) else None

    def _post(self, message: Message, index: int, reply: Any, threads: dict[str, tuple[Any, Any]]) -> Receipt:
        from atproto_client import models

        text = message.parts[index]
        rkey = record_key(_key(message, index))
        record = models.AppBskyFeedPost.Record(
            text=text, created_at=_now(), facets=self._facets(text) or None, reply=reply,
            langs=[message.language] if re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*", message.language) else None)
        data = models.ComAtprotoRepoCreateRecord.Data(repo=self._did, collection=POST, rkey=rkey, record=record)
        try:
            created = self._with_session(lambda client: client.com.atproto.repo.create_record(data))
        except Exception as raw:
            receipt = self._after_failed_create(raw, rkey, text)
        else:
            uri, cid = str(getattr(created, "uri", "") or ""), str(getattr(created, "cid", "") or "")
            if not uri.endswith(f"/{POST}/{rkey}") or not cid:
                receipt = self._after_failed_create(ValueError("no uri or cid"), rkey, text)
            else:
                revision = getattr(getattr(created, "commit", None), "rev", None)
                receipt = Receipt(id=uri, url=post_url(self._did, rkey),
                                  platform_time=tid_time(revision) if isinstance(revision, str) else None,
                                  extra={"cid": cid})
        own = models.ComAtprotoRepoStrongRef.Main(uri=receipt.id, cid=str(receipt.extra["cid"]))
        threads[receipt.id] = (own, reply.root if reply is not None else own)
        return receipt

    def _after_failed_create(self, raw: BaseException, rkey: str, text: str) -> Receipt:
        """The post at `rkey` when the failed create may have written it; else the failure."""
        failure = self._failure(raw, posting=True)
        frozen = current_abort()
        if _refused_before_writing(raw, failure) or (frozen is not None and frozen.is_set()):
            raise failure
        try:
            found = self._record(self._did, rkey)
        except DeliveryError:
            raise failure from None
        if found is None:
            if isinstance(failure, Retryable) and failure.maybe_delivered:
                raise Retryable(f"{failure.reason}; Bluesky holds no post at its record key {rkey}, so nothing "
                                "was posted", retry_after=failure.retry_after)
            raise failure
        if str(getattr(found.value, "text", "")) != text:
            raise Permanent(f"record key {rkey} already holds another post than this part ({failure.reason})")
        return self._found_receipt(found, text)

    def _found_receipt(self, found: Any, text: str) -> Receipt:
        repo, rkey = post_reference(str(found.uri)) or ("", "")
        created = getattr(found.value, "created_at", None)
        return Receipt(id=str(found.uri), url=post_url(repo, rkey) if repo else None,
                       platform_time=created if isinstance(created, str) else None,
                       extra={"cid": str(found.cid), "text": text})

    def _reply(self, parent_uri: str, threads: dict[str, tuple[Any, Any]]) -> Any:
        """The reply reference to `parent_uri`: the parent, and the root of its thread."""
        from atproto_client import models

        if parent_uri not in threads:
            found = self._record(*(post_reference(parent_uri) or ("", "")))
            if found is None:
                raise Permanent(self.redact(f"Bluesky has no post {parent_uri} to reply to"))
            parent = models.ComAtprotoRepoStrongRef.Main(uri=str(found.uri), cid=str(found.cid))
            above = getattr(found.value, "reply", None)
            root = getattr(above, "root", None)
            threads[parent_uri] = (parent, models.ComAtprotoRepoStrongRef.Main(uri=str(root.uri), cid=str(root.cid))
                                   if root is not None else parent)
        parent, root = threads[parent_uri]
        return models.AppBskyFeedPost.ReplyRef(parent=parent, root=root)

    def _facets(self, text: str) -> list[Any]:
        from atproto_client import models
        from atproto_client.utils import facet_detection

        facets = facet_detection.detect_facets(text)
        taken = [(facet.index.byte_start, facet.index.byte_end) for facet in facets]
        dids: dict[str, str | None] = {}
        for mention in facet_detection.detect_mentions(text):
            if any(start < mention.byte_end and mention.byte_start < end for start, end in taken):
                continue
            handle = mention.handle.lower()
            if handle not in dids:
                dids[handle] = self._resolve(handle)
            if dids[handle]:
                facets.append(models.AppBskyRichtextFacet.Main(
                    features=[models.AppBskyRichtextFacet.Mention(did=dids[handle])],
                    index=models.AppBskyRichtextFacet.ByteSlice(byte_start=mention.byte_start,
                                                                byte_end=mention.byte_end)))
        return sorted(facets, key=lambda facet: facet.index.byte_start)

    def _resolve(self, handle: str) -> str | None:
        """The DID `handle` names (`com.atproto.identity.resolveHandle`), or None when it names none."""
        from atproto_client import models
        from atproto_client.exceptions import BadRequestError

        params = models.ComAtprotoIdentityResolveHandle.Params(handle=handle)
        try:
            found = self._call(lambda: self._with_session(
                lambda client: client.com.atproto.identity.resolve_handle(params)), False, BadRequestError)
        except BadRequestError as error:
            if _xrpc(error)[1] in TOKEN_ERRORS:
                raise self._failure(error, posting=False) from None
            return None
        did = str(getattr(found, "did", "") or "")
        return did if did.startswith("did:") else None

    def _record(self, repo: str, rkey: str) -> Any:
        """The post at (repo, rkey) as `com.atproto.repo.getRecord` gives it, or None."""
        from atproto_client import models
        from atproto_client.exceptions import BadRequestError

        if not repo:
            return None
        params = models.ComAtprotoRepoGetRecord.Params(repo=repo, collection=POST, rkey=rkey)

        def read(client: Any) -> Any:
            return client.com.atproto.repo.get_record(params)

        try:
            found = self._call(lambda: self._with_session(read) if self._client is not None else
                               read(self._anonymous()), False, BadRequestError)
        except BadRequestError as error:
            _, name, said = _xrpc(error)
            if name in NOT_FOUND or said.startswith("Could not locate record") or "Could not find repo" in said:
                return None
            raise self._failure(error, posting=False) from None
        if not str(getattr(found, "uri", "")).startswith("at://") or not getattr(found, "cid", None):
            raise Retryable(f"Bluesky's answer for {post_uri(repo, rkey)} is not a record")
        return found

    def _target(self, reply_to: str) -> str:
        target = post_reference(reply_to)
        if target is None:
            raise Permanent(self.redact(f"reply_to {reply_to.strip()!r} is neither a bsky.app post URL like "
                                        "https://bsky.app/profile/<handle>/post/<id> nor an at:// post URI"))
        return post_uri(*target)

    def _logged_in(self) -> Any:
        """The client with a session made from the handle and the app password."""
        if self._client is not None:
            return self._client
        from atproto_client import models
        from atproto_client.client.session import Session

        client = self._sdk()
        made = self._call(lambda: client.com.atproto.server.create_session(
            models.ComAtprotoServerCreateSession.Data(identifier=self.handle,
                                                      password=str(self.settings["app_password"]))), False)
        access, refresh = str(made.access_jwt or ""), str(made.refresh_jwt or "")
        self.add_secrets({access, refresh})
        if not str(made.did or "").startswith("did:") or not access:
            raise Retryable(f"Bluesky's answer to createSession on {self.host} had no session")
        self._did = str(made.did)
        client.login(session_string=Session(str(made.handle), self._did, access, refresh, self.api).encode(),
                     fetch_bsky_profile=False)
        client.on_session_change(lambda event, session: self._session_changed(client, session))
        self._client = client
        return client

    def _session_changed(self, client: Any, session: Any) -> None:
        self.add_secrets({str(session.access_jwt), str(session.refresh_jwt)})
        client.update_base_url(self.api)

    def _with_session(self, call: Callable[[Any], Result]) -> Result:
        """`call(client)`; after a token refused as expired or invalid, once more with a new session."""
        client = self._logged_in()
        try:
            return call(client)
        except Exception as raw:
            if _xrpc(raw)[1] not in TOKEN_ERRORS:
                raise
        self._client = None
        return call(self._logged_in())

    def _call(self, call: Callable[[], Result], posting: bool, *passed: Type[BaseException]) -> Result:
        """`call()`, its failures as DeliveryErrors (those of the `passed` types as they are)."""
        try:
            return call()
        except passed:
            raise
        except Exception as raw:
            raise self._failure(raw, posting) from None

    def _sdk(self) -> Any:
        from atproto_client import Client
        from atproto_client.request import Request

        from channels.httpx_bridge import transport

        return Client(base_url=self.api, request=Request(transport=transport(self.timeout, self.redact)))

    def _anonymous(self) -> Any:
        if self._reader is None:
            self._reader = self._sdk()
        return self._reader

    def _failure(self, raw: BaseException, posting: bool) -> DeliveryError:
        """The DeliveryError an SDK or transport failure means; `posting` says whether the
        request was a create (only a create may leave a post behind)."""
        if isinstance(raw, DeliveryError):
            if isinstance(raw, Retryable) and raw.maybe_delivered and not posting:
                return Retryable(raw.reason, raw.retry_after)
            return raw
        from atproto_client import exceptions as sdk

        status, name, said = _xrpc(raw)
        said = self.redact(said)
        may_exist = "; the post may exist" if posting else ""
        if isinstance(raw, sdk.RateLimitExceededError) or status == 429:
            delay = _rate_limit_delay(raw)
            return http.rate_limited("Bluesky", said, delay)
        if name in TOKEN_ERRORS:
            return Permanent(f"Bluesky refused the session even just after logging in ({said})")
        if name in LOGIN_REFUSED or status == 401:
            return Permanent(f"Bluesky refused the login of {self.handle}: the handle or the app password is wrong, "
                             f"or the app password was revoked ({said})")
        if status == 403:
            return Permanent(f"Bluesky does not allow this to the app password of {self.handle} ({said})")
        if status in (400, 413):
            return Permanent(f"Bluesky refused the {'post' if posting else 'request'} ({said})")
        if status in (404, 501):
            return Permanent(f"{self.host} does not serve this XRPC method; api_url must be the account's PDS "
                             f"({said})")
        if status is not None and status >= 500:
            return Retryable(f"Bluesky had a server error ({said}){may_exist}",
                             retry_after=http.retry_after_seconds(_header(raw, "retry-after")),
                             maybe_delivered=posting)
        if status is not None:
            return Permanent(f"Bluesky answered {said}")
        if isinstance(raw, (sdk.ModelError, ValueError, TypeError, KeyError, AttributeError)):
            return Retryable(f"Bluesky's answer could not be read ({type(raw).__name__}){may_exist}",
                             maybe_delivered=posting)
        return Permanent(self.redact(f"the request to Bluesky failed before it was sent ({type(raw).__name__})"))


def _xrpc(raw: BaseException) -> tuple[int | None, str, str]:
    """(HTTP status, XRPC error name, what the answer said) of an SDK request error."""
    response = getattr(raw, "response", None)
    status = getattr(response, "status_code", None)
    if not isinstance(status, int):
        return None, "", ""
    content = getattr(response, "content", None)
    name, message = getattr(content, "error", None), getattr(content, "message", None)
    if isinstance(name, str):
        return status, name, f"HTTP {status} {name}: {message}" if message else f"HTTP {status} {name}"
    if isinstance(content, (bytes, str)):
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        snippet = " ".join(re.sub(r"<[^>]*>", " ", text).split())[:160]
        return status, "", f"HTTP {status}: {snippet}" if snippet else f"HTTP {status}"
    return status, "", f"HTTP {status}"


def _refused_before_writing(raw: BaseException, failure: DeliveryError) -> bool:
    """Whether the PDS surely wrote nothing: a rate limit, a refused login or token, a
    missing permission, or a request that never went out."""
    status, name, _ = _xrpc(raw)
    if status in (401, 403, 429) or name in TOKEN_ERRORS | LOGIN_REFUSED:
        return True
    return isinstance(raw, DeliveryError) and not (isinstance(failure, Retryable) and failure.maybe_delivered)


def _rate_limit_delay(raw: BaseException) -> float | None:
    """Seconds until the limit resets: `RateLimit-Reset` (epoch seconds), else `Retry-After`."""
    reset = http.reset_epoch_seconds(_header(raw, "ratelimit-reset"))
    return reset if reset is not None else http.retry_after_seconds(_header(raw, "retry-after"))


def _header(raw: BaseException, name: str) -> str | None:
    headers = getattr(getattr(raw, "response", None), "headers", None) or {}
    value = headers.get(name) if isinstance(headers, dict) else None
    return value if isinstance(value, str) else None


def _key(message: Message, index: int) -> str:
    if message.idempotency_key:
        return message.part_key(index)
    return f"{message.draft_id}-{message.channel}-{index}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
