"""Facebook: a post on a Page's feed, or a comment on one of its posts (Graph API).

Guarantees:
- Talks to the Graph API through facebook-sdk 3.1 (`GraphAPI.put_object`, `get_object`)
  with the version from `graph_version` (default v25.0) and a timeout on every call.
  Requests go through a `channels.http` session, so nothing is ever sent twice by the
  HTTP stack. `api_url` is applied per call by the session wrapper the SDK is given;
  the SDK's module constants are never changed, so channels with different `api_url`s
  live side by side.
- Every answer is classified from the Graph error object and the HTTP status seen on
  the wire (the SDK's `GraphAPIError` carries neither status nor headers; the wrapper
  keeps them): codes 4, 17, 32, 341, 613, 80001 and 368/1390008 are rate limits
  (`Retryable`, with `retry_after` taken from the `estimated_time_to_regain_access`
  minutes of the usage headers when Facebook sends one); 1, 2, `is_transient` and 5xx
  are `Retryable`; 506 and "already posted" are `Duplicate`; a bad token (102, 190),
  missing permissions (10, 200-299) and invalid parameters are `Permanent`.
- A request that may have reached Facebook without a readable answer (read timeout,
  broken connection, 5xx, a 200 whose body is not a Graph answer) is `Retryable` with
  `maybe_delivered=True`: a resend is safe because Facebook rejects a repeated status
  as a duplicate. On a duplicate the channel looks the existing post up among the
  Page's latest posts to hand back its receipt.
- `reply_to` takes a post id (`PAGEID_POSTID`, or a bare post number on this Page) or a
  facebook.com post URL (`/<page>/posts/<number>`, `permalink.php?story_fbid=..&id=..`);
  a vanity page name in the URL is taken to be this Page. Obfuscated `pfbid` links
  cannot be mapped to an id and are refused as `Permanent`.
- A correction edits the post in place (`POST /{post-id}` with `message`, Graph's
  update of a Page post or comment) and a withdrawal deletes it (`DELETE /{post-id}`);
  both are safe to repeat. Facebook answers code 100 subcode 33 both for a post it does
  not have and for one the token may not touch: a deletion answered so counts as done
  only once the token is seen to still read the Page and a read of the post finds
  nothing; an edit answered so is `Permanent`.
- The page token never reaches a reason, a log line (the urllib3 logger, which prints
  request URLs with the token at DEBUG, is kept at WARNING and above),
  the receipt or `describe()`.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import parse_qs, quote, urlsplit

from channels import http
from channels.base import (Channel, combined_receipt, DeliveryError, Duplicate, Message, part_ids,
                           Permanent, quiet_loggers, Receipt, Retryable, SettingError)
from channels.schemas import OPTIONS

THROTTLED = frozenset({4, 17, 32, 341, 613, 80001})
TRANSIENT = frozenset({1, 2})
BAD_TOKEN = frozenset({102, 190})
POSTING_TOO_FAST = (368, 1390008)
USAGE_HEADERS = ("X-Business-Use-Case-Usage", "X-Page-Usage", "X-App-Usage")
_POST_ID = re.compile(r"(\d+)_(\d+)")


class FacebookChannel(Channel):
    type = "facebook"
    variant = "long"
    max_length = 63206
    counting = "chars"
    overflow = "reject"
    supports_reply = True
    idempotent = True
    options = OPTIONS["facebook"]

    def __init__(self, name, settings, secrets=frozenset()):
        super().__init__(name, settings, secrets)
        self.add_secrets({self.settings["token"], quote(self.settings["token"], safe=""),
                          *(str(self.settings[key]) for key in ("app_secret", "verify_token") if self.settings.get(key))})
        self.page_id = str(self.settings["page_id"]).strip()
        if not self.page_id.isdigit():
            raise SettingError("page_id", f"the Page's numeric id, got {self.page_id!r}")
        self.version = graph_version(self.settings["graph_version"])
        self.api_url = self.settings["api_url"].rstrip("/")
        quiet_loggers("urllib3", "requests")

    def send(self, message: Message) -> Receipt:
        if message.sent_parts:
            return combined_receipt(message.sent_parts)
        if len(message.parts) != 1:
            raise Permanent(f"a Facebook post takes the text in one part, got {len(message.parts)} parts")
        text = message.parts[0]
        if message.reply_to:
            target = self.reply_target(message.reply_to)
            answer = self._call(lambda graph: graph.put_object(target, "comments", message=text), posting=True)
            return self._receipt(answer, "comment", parent=target)
        try:
            answer = self._call(lambda graph: graph.put_object(self.page_id, "feed", message=text), posting=True)
        except Duplicate as duplicate:
            raise Duplicate(duplicate.reason, receipt=self._existing_post(text)) from None
        return self._receipt(answer, "post")

    def check(self) -> str:
        answer = self._call(lambda graph: graph.get_object(self.page_id, fields="id,name"), posting=False)
        if not isinstance(answer, dict) or str(answer.get("id")) != self.page_id:
            raise Permanent(f"Facebook did not return Page {self.page_id} when asked for it")
        return self.redact(f"Page {answer.get('name') or '(unnamed)'} ({self.page_id}) is readable with this token")

    can_look_up = True

    def lookup(self, reference: str) -> Receipt | None:
        post_id = self.reply_target(reference)
        try:
            post = self._call(lambda graph: graph.get_object(post_id, fields="id,message,created_time"), posting=False)
        except Permanent as error:
            if "(code 100" in error.reason:
                return None
            raise
        if not isinstance(post, dict) or str(post.get("id")) != post_id:
            raise Retryable(f"Facebook's answer for post {post_id} is not that post")
        return Receipt(post_id, self._url(post_id, None), _iso(post.get("created_time")),
                       {"text": str(post.get("message") or "")})

    can_edit = True
    can_delete = True

    def edit(self, receipt: Receipt, message: Message) -> Receipt:
        posts = part_ids(receipt)
        if len(message.parts) != 1 or len(posts) != 1:
            raise Permanent(f"a Facebook post is edited with the text in one part, got {len(message.parts)} "
                            f"parts for {len(posts)} posts")
        post_id, text = posts[0], message.parts[0]
        try:
            answer = self._call(lambda graph: graph.request(f"{graph.version}/{post_id}", post_args={"message": text},
                                                            method="POST"), posting=True)
        except Permanent as error:
            if _gone(error):
                raise Permanent(f"Facebook says post {post_id} does not exist or this token may not edit it, so "
                                f"it was not edited ({error.reason})") from None
            raise
        if not (isinstance(answer, dict) and answer.get("success") is True):
            raise Retryable(f"Facebook's answer to the edit of post {post_id} does not say it succeeded",
                            maybe_delivered=True)
        return Receipt(post_id, receipt.url, None, {"part_ids": [post_id]})

    def delete(self, receipt: Receipt) -> str | None:
        for post_id in reversed(part_ids(receipt)):
            self._delete_post(post_id)
        return None

    def _delete_post(self, post_id: str) -> None:
        try:
            answer = self._call(lambda graph: graph.delete_object(post_id), posting=True)
        except Permanent as error:
            if not _gone(error):
                raise
            self.check()
            if self.lookup(post_id) is None:
                return
            raise Permanent(f"Facebook still shows post {post_id} but refuses to delete it with this token, which "
                            f"may lack the pages_manage_posts permission ({error.reason})") from None
        if not (isinstance(answer, dict) and answer.get("success") is True):
            raise Retryable(f"Facebook's answer to the deletion of post {post_id} does not say it succeeded",
                            maybe_delivered=True)

    def reply_target(self, reply_to: str) -> str:
        """The Graph id of the post `reply_to` names; `Permanent` when it names none."""
        value = reply_to.strip()
        if _POST_ID.fullmatch(value):
            return value
        if value.isdigit():
            return f"{self.page_id}_{value}"
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        if parts.scheme in ("http", "https") and (host == "facebook.com" or host.endswith(".facebook.com")):
            segments = [segment for segment in parts.path.split("/") if segment]
            query = parse_qs(parts.query)
            if segments in (["permalink.php"], ["story.php"]):
                story, owner = query.get("story_fbid", [""])[0], query.get("id", [""])[0]
                if story.isdigit() and owner.isdigit():
                    return f"{owner}_{story}"
            elif len(segments) == 3 and segments[1] == "posts" and segments[2].isdigit():
                owner = segments[0] if segments[0].isdigit() else self.page_id
                return f"{owner}_{segments[2]}"
        raise Permanent(self.redact(
            f"cannot tell which Facebook post reply_to {value!r} names; give its id (PAGEID_POSTID) "
            "or a facebook.com/<page>/posts/<number> link"))

    def _call(self, action: Callable[[Any], Any], posting: bool) -> Any:
        """Run one SDK call; return its result or raise the error its answer means."""
        import facebook
        import requests

        wire = _Wire(http.shared_session(), self.api_url)
        graph = facebook.GraphAPI(access_token=self.settings["token"], timeout=self.timeout, session=wire)
        graph.version = self.version

        def attempt() -> tuple[Any, BaseException | None]:
            try:
                return action(graph), None
            except json.JSONDecodeError as error:
                return None, error
            except requests.RequestException:
                raise
            except Exception as error:
                return None, error

        result, error = http.request(attempt, self.redact)
        if error is not None:
            raise self._failure(error, wire.response, posting)
        return result

    def _failure(self, error: BaseException, response: Any, posting: bool) -> DeliveryError:
        status = response.status_code if response is not None else None
        result = getattr(error, "result", None)
        detail = result.get("error") if isinstance(result, dict) else None
        if not isinstance(detail, dict):
            return self._unreadable(error, status, posting)
        code, subcode = _number(detail.get("code")), _number(detail.get("error_subcode"))
        text = str(detail.get("message") or "no message")
        said = self.redact(f"{text} (code {code}" + (f", subcode {subcode})" if subcode else ")"))
        if code == 506 or (code == 368 and "already posted" in text.lower()):
            return Duplicate(f"Facebook already has this post: {said}")
        if code in THROTTLED or (code, subcode) == POSTING_TOO_FAST:
            return Retryable(f"Facebook is rate limiting this Page: {said}", retry_after=_regain_seconds(response))
        if code in TRANSIENT or detail.get("is_transient") is True or (status or 0) >= 500:
            return Retryable(f"Facebook had a temporary failure: {said}", maybe_delivered=posting)
        if code in BAD_TOKEN:
            return Permanent(f"Facebook rejected the Page token: {said}")
        if code == 10 or (code is not None and 200 <= code <= 299):
            return Permanent(f"the Page token lacks a permission: {said}")
        return Permanent(f"Facebook refused the request: {said}")

    def _unreadable(self, error: BaseException, status: int | None, posting: bool) -> DeliveryError:
        if status is None:
            return Permanent(self.redact(f"facebook-sdk failed before reaching Facebook: {type(error).__name__}"))
        if status == 429:
            return Retryable("Facebook answered HTTP 429 without a Graph API error")
        if status >= 500:
            return Retryable(f"Facebook answered HTTP {status} without a Graph API error", maybe_delivered=posting)
        if 200 <= status < 300:
            return Retryable(f"Facebook answered HTTP {status} with a body that is not a Graph API answer; "
                             "the post may have been made", maybe_delivered=posting)
        return Permanent(f"Facebook answered HTTP {status} with a body that is not a Graph API answer")

    def _receipt(self, answer: Any, what: str, parent: str | None = None) -> Receipt:
        made = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(made, str) or not made:
            raise Retryable(f"Facebook accepted the {what} but its answer carries no id; the {what} may have been made",
                            maybe_delivered=True)
        return Receipt(made, self._url(made, parent), None, {"part_ids": [made]})

    def _url(self, made: str, parent: str | None) -> str | None:
        if parent is None:
            post = _POST_ID.fullmatch(made)
            return f"https://www.facebook.com/{post.group(1)}/posts/{post.group(2)}" if post else None
        post, comment = _POST_ID.fullmatch(parent), made.rsplit("_", 1)[-1]
        if not post or not comment.isdigit():
            return None
        return f"https://www.facebook.com/{post.group(1)}/posts/{post.group(2)}?comment_id={comment}"

    def _existing_post(self, text: str) -> Receipt | None:
        """The receipt of the Page's recent post carrying `text`, when it can be read."""
        try:
            answer = self._call(lambda graph: graph.get_connections(
                self.page_id, "posts", fields="id,message,created_time", limit=10), posting=False)
        except DeliveryError:
            return None
        posts = answer.get("data") if isinstance(answer, dict) else None
        for post in posts if isinstance(posts, list) else []:
            if isinstance(post, dict) and post.get("message") == text and isinstance(post.get("id"), str):
                made = post["id"]
                return Receipt(made, self._url(made, None), _iso(post.get("created_time")), {"part_ids": [made]})
        return None


class _Wire:
    """What facebook-sdk is given as its `session`: sends to `api_url` instead of the
    SDK's fixed host and keeps the last response, whose status the SDK drops."""

    def __init__(self, session: Any, api_url: str):
        self.session = session
        self.api_url = api_url
        self.response: Any = None

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        import facebook

        sdk_base = facebook.FACEBOOK_GRAPH_URL
        if url.startswith(sdk_base):
            url = f"{self.api_url}/{url[len(sdk_base):]}"
        self.response = self.session.request(method, url, **kwargs)
        return self.response


def _gone(error: Permanent) -> bool:
    """Whether Facebook refused because the object does not exist (code 100, subcode 33)."""
    return "(code 100, subcode 33)" in error.reason


def _regain_seconds(response: Any) -> float | None:
    """Seconds until Facebook lifts the throttle, from `estimated_time_to_regain_access`
    (minutes) in the usage headers; None when no header says."""
    if response is None:
        return None
    minutes: list[float] = []
    for name in USAGE_HEADERS:
        try:
            usage = json.loads(response.headers.get(name) or "null")
        except ValueError:
            continue
        minutes.extend(_find_numbers(usage, "estimated_time_to_regain_access"))
    longest = max(minutes, default=0)
    return longest * 60 if longest > 0 else None


def graph_version(value: str) -> str:
    """A `graph_version` setting ("v25.0" or "25.0") as the path segment "v25.0"."""
    version = re.fullmatch(r"v?(\d+\.\d+)", value.strip())
    if not version:
        raise SettingError("graph_version", f"a version such as v25.0, got {value!r}")
    return "v" + version.group(1)


def _find_numbers(value: Any, key: str) -> list[float]:
    if isinstance(value, dict):
        found = [float(v) for k, v in value.items() if k == key and isinstance(v, (int, float))]
        return found + [n for v in value.values() for n in _find_numbers(v, key)]
    if isinstance(value, list):
        return [n for item in value for n in _find_numbers(item, key)]
    return []


def _number(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _iso(value: Any) -> str | None:
    """Graph's `2026-05-01T10:00:00+0000` as ISO 8601 UTC."""
    try:
        stamp = datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
    return stamp.astimezone(timezone.utc).isoformat(timespec="seconds")
