"""X (formerly Twitter): posts through tweepy's API v2 client, OAuth 1.0a user context.

Guarantees:
- one POST per part: tweepy never waits on a rate limit (`wait_on_rate_limit=False`) and
  the adapter mounted on its session has no retries, a timeout on every call, and sends
  to `api_url` instead of tweepy's hard-coded host;
- every answer becomes a Receipt or exactly one of Retryable (with X's own reset time on a
  429), Permanent or Duplicate; a 402 (no credits left on a pay-per-use app) and a 429 whose
  problem is `usage-capped` (the monthly cap) are Permanent, since waiting does not lift them;
  X rejects an identical post with 403 "duplicate content", which proves an earlier attempt
  went out, so a resend is safe (`idempotent`);
- the receipt's time is exact: it is read from the post id (a snowflake), because X's
  create answer carries no time;
- a thread posts part 0, then each part as a reply to the previous one, and resumes
  after `message.sent_parts`;
- a withdrawal deletes every part of a thread, last part first (`DELETE /2/tweets/:id`);
  a part X no longer has counts as deleted (a 404, or `deleted: false` for a post a
  look-up no longer finds). X does not let apps edit a post (`can_edit` is False): a
  correction goes out as a reply;
- reasons and logs carry no credential: tweepy's and OAuth's loggers stay at WARNING.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from channels import http
from channels.base import (Channel, Duplicate, Message, part_ids, Permanent,
                           post_in_parts, quiet_loggers, Receipt, Retryable)
from channels.schemas import OPTIONS, TWEEPY_HOST

SNOWFLAKE_EPOCH_MS = 1288834974657
QUIET_LOGGERS = ("tweepy", "requests_oauthlib", "oauthlib", "urllib3")
POST_ID = re.compile(r"[0-9]{1,20}")
POST_URL = re.compile(r"https?://(?:www\.|mobile\.)?(?:x|twitter)\.com/(?:i/web|[A-Za-z0-9_]{1,15})"
                      r"/status(?:es)?/([0-9]{1,20})(?:[/?#].*)?", re.IGNORECASE)
LIMIT_HEADERS = ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")


class XChannel(Channel):
    type = "x"
    variant = "short"
    max_length = 280
    counting = "x"
    overflow = "thread"
    supports_reply = True
    idempotent = True
    options = OPTIONS["x"]

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        super().__init__(name, settings, secrets)
        own = {str(self.settings[key]) for key, option in self.options.items()
               if option.secret and self.settings.get(key)}
        self.add_secrets(own)
        self.username = str(self.settings.get("username") or "").lstrip("@")
        self._client: Any = None
        quiet_loggers(*QUIET_LOGGERS)

    def send(self, message: Message) -> Receipt:
        answered = self._reply_target(message.reply_to) if message.reply_to and not message.sent_parts else None

        def post(index: int, previous: str | None) -> Receipt:
            try:
                return self._post(message.parts[index], previous)
            except Duplicate:
                if index == len(message.parts) - 1:
                    raise
                raise Permanent(self.redact(
                    f"X says part {index + 1} of {len(message.parts)} was already posted but gives no id for it, "
                    "so the rest of the thread cannot be attached; a person must post the remaining parts")) from None

        return post_in_parts(message, post, answered)

    def check(self) -> str:
        answer = self._call(lambda: self._sdk().get_me(user_auth=True))
        handle = getattr(getattr(answer, "data", None), "username", None)
        if not isinstance(handle, str) or not handle:
            raise Retryable("X's answer to the credentials check had no account name")
        if self.username and handle.lower() != self.username.lower():
            raise Permanent(self.redact(f"the X credentials belong to @{handle}, but username is set to "
                                        f"{self.username}: post URLs would be wrong"))
        return f"X credentials work for @{handle}"

    can_look_up = True

    def lookup(self, reference: str) -> Receipt | None:
        post_id = self._reply_target(reference)
        answer = self._call(lambda: self._sdk().get_tweet(post_id, tweet_fields=["created_at", "text"],
                                                          user_auth=True))
        data = getattr(answer, "data", None)
        if data is None:
            return None
        return Receipt(id=str(data.id), url=self._url(str(data.id)), platform_time=snowflake_time(str(data.id)),
                       extra={"text": str(data.text)})

    can_delete = True

    def delete(self, receipt: Receipt) -> str | None:
        posts = part_ids(receipt)
        for post_id in posts:
            if not POST_ID.fullmatch(post_id):
                raise Permanent(self.redact(f"{post_id!r} is not an X post id, so nothing was deleted"))
        for post_id in reversed(posts):
            self._delete_one(post_id)
        return None

    def _delete_one(self, post_id: str) -> None:
        import tweepy

        def remove() -> Any:
            try:
                return self._sdk().delete_tweet(post_id, user_auth=True)
            except tweepy.NotFound:
                return None

        answer = self._call(remove, f"post {post_id} may or may not be deleted")
        if answer is None:
            return
        data = getattr(answer, "data", None)
        deleted = data.get("deleted") if isinstance(data, dict) else None
        if deleted is True:
            return
        if deleted is False and self.lookup(post_id) is None:
            return
        raise Retryable(f"X answered the deletion of post {post_id} without deleting it "
                        f"(deleted: {str(deleted).lower() if isinstance(deleted, bool) else 'missing'})")

    def _post(self, text: str, reply_to: str | None) -> Receipt:
        answer = self._call(lambda: self._sdk().create_tweet(text=text, in_reply_to_tweet_id=reply_to,
                                                             user_auth=True))
        data = getattr(answer, "data", None)
        post_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(post_id, str) or not POST_ID.fullmatch(post_id):
            raise Retryable("X accepted the request but its answer has no post id; the post may exist",
                            maybe_delivered=True)
        return Receipt(id=post_id, url=self._url(post_id), platform_time=snowflake_time(post_id))

    def _url(self, post_id: str) -> str:
        return f"https://x.com/{self.username or 'i/web'}/status/{post_id}"

    def _reply_target(self, reply_to: str) -> str:
        value = reply_to.strip()
        if POST_ID.fullmatch(value):
            return value
        match = POST_URL.fullmatch(value)
        if match:
            return match.group(1)
        raise Permanent(self.redact(f"reply_to {value!r} is neither an X post id nor a post URL "
                                    "like https://x.com/<user>/status/<id>"))

    def _sdk(self) -> Any:
        if self._client is None:
            import tweepy

            client = tweepy.Client(consumer_key=self.settings["api_key"],
                                   consumer_secret=self.settings["api_secret"],
                                   access_token=self.settings["access_token"],
                                   access_token_secret=self.settings["access_token_secret"],
                                   wait_on_rate_limit=False)
            adapter = _rerouting_adapter(self.settings["api_url"], self.timeout)
            client.session.mount("https://", adapter)
            client.session.mount("http://", adapter)
            self._client = client
        return self._client

    def _call(self, call: Callable[[], Any], unknown: str = "the post may exist") -> Any:
        """`call()` through the one transport, X's answers turned into DeliveryErrors;
        `unknown` says what an answer that cannot be read leaves open."""
        import requests
        import tweepy

        def guarded() -> Any:
            try:
                return call()
            except tweepy.TooManyRequests as error:
                if _problem(error) == "usage-capped":
                    raise Permanent(self.redact(f"X's monthly usage cap for this app is reached ({_said(error)}); "
                                                "nothing more is read or posted until the cap resets")) from None
                delay = rate_limit_delay(error.response.headers)
                raise http.rate_limited("X", self.redact(_said(error)), delay) from None
            except tweepy.Unauthorized as error:
                raise Permanent(self.redact(f"X rejected the credentials, the token is wrong, revoked or expired "
                                            f"({_said(error)})")) from None
            except tweepy.Forbidden as error:
                said = _said(error)
                if "duplicate content" in said.lower():
                    raise Duplicate(self.redact(f"X already has this post ({said})")) from None
                raise Permanent(self.redact(f"X does not allow this ({said})")) from None
            except tweepy.BadRequest as error:
                raise Permanent(self.redact(f"X refused the request as invalid ({_said(error)})")) from None
            except tweepy.TwitterServerError as error:
                delay = http.retry_after_seconds(error.response.headers.get("Retry-After"))
                raise Retryable(self.redact(f"X had a server error ({_said(error)}); {unknown}"),
                                retry_after=delay, maybe_delivered=True) from None
            except tweepy.HTTPException as error:
                if getattr(error.response, "status_code", None) == 402:
                    raise Permanent(self.redact(f"X has no credits left for this app ({_said(error)}); nothing more "
                                                "is read or posted until credits are bought in X's Developer "
                                                "Console")) from None
                raise Permanent(self.redact(f"X refused the request ({_said(error)})")) from None
            except requests.JSONDecodeError:
                raise Retryable(f"X answered with a body that is not JSON; {unknown}",
                                maybe_delivered=True) from None
            except requests.RequestException:
                raise
            except (ValueError, TypeError, AttributeError, KeyError) as error:
                raise Retryable(f"X answered with something unreadable ({type(error).__name__}); {unknown}",
                                maybe_delivered=True) from None

        return http.request(guarded, self.redact)


def snowflake_time(post_id: str) -> str:
    """The creation time an X post id encodes, ISO 8601 in UTC to the millisecond."""
    millis = (int(post_id) >> 22) + SNOWFLAKE_EPOCH_MS
    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=millis)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rate_limit_delay(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds until X lifts the limit that was hit.

    Each limit (15-minute window, the user's and the app's 24-hour caps) sends
    `<limit>-remaining` and `<limit>-reset` (epoch seconds); the exhausted ones count, and
    the latest of them wins. Without any exhausted one, the 15-minute reset is used."""
    exhausted, resets = [], []
    for prefix in LIMIT_HEADERS:
        try:
            reset = float(headers.get(f"{prefix}-reset") or "")
        except ValueError:
            continue
        resets.append(reset)
        if (headers.get(f"{prefix}-remaining") or "").strip() == "0":
            exhausted.append(reset)
    if not resets:
        return None
    reset = max(exhausted) if exhausted else resets[0]
    return max(0.0, reset - (time.time() if now is None else now))


def _problem(error: Any) -> str:
    """The last part of the `type` of X's problem document (`usage-capped`...), or ""."""
    try:
        body = error.response.json()
    except ValueError:
        return ""
    kind = body.get("type") if isinstance(body, dict) else None
    return kind.rstrip("/").rsplit("/", 1)[-1] if isinstance(kind, str) else ""


def _said(error: Any) -> str:
    status = getattr(error.response, "status_code", "?")
    messages = "; ".join(str(m) for m in getattr(error, "api_messages", []) if m)
    return f"HTTP {status}: {messages}" if messages else f"HTTP {status}"


def _rerouting_adapter(api_url: str, timeout: float) -> Any:
    import requests

    base = api_url.rstrip("/")

    class Rerouting(http.adapter_class()):  # type: ignore[misc]
        """Sends tweepy's requests to `api_url`, with a whole-request timeout and without retries."""

        def send(self, request: Any, **kwargs: Any) -> Any:
            if base != TWEEPY_HOST and request.url.startswith(TWEEPY_HOST + "/"):
                request.url = base + request.url[len(TWEEPY_HOST):]
                kwargs["proxies"] = requests.utils.get_environ_proxies(request.url)
            kwargs["timeout"] = timeout
            return super().send(request, **kwargs)

    return Rerouting(max_retries=0)
