"""Listening on X: the posts that mention the account (`GET /2/users/:id/mentions`, tweepy).

Guarantees:
- X bills every post a read returns, and every user its `includes` carry (pay-per-use,
  docs.x.com/x-api/getting-started/pricing: Posts: Read $0.005, User: Read $0.010 per
  resource). The month's spend is kept in the cursor (so in the log, with each read):
  posts and users read this UTC month, priced at `price_per_read` and
  `price_per_user_read`. A read asks for no more posts than the rest of `monthly_budget`
  pays for, counting each post with an author of its own; when that is fewer than X's
  smallest page (5 posts), or X answers 402 (no credits) or its monthly usage cap, the
  source raises `Permanent`: it stops and the cabinet is told. It never retries in a loop.
  The count starts again on the first read of a new month.
- Paging is X's: newest first within a round, `since_id` the newest post of the last
  finished round, `pagination_token` the next (older) page. The cursor holds both and the
  round's newest id, so a restart in the middle of a round resumes at the page it stopped
  at: nothing is lost and nothing read twice. A first read (no cursor) takes the latest
  page only and starts from there, instead of buying the account's whole history.
- One request per `read` (tweepy signs it; the answer is read as X's JSON, so one post's
  malformed field cannot make a page unreadable); each batch is returned oldest first. A 429 is `Retryable` with
  X's own reset time (`x-rate-limit-reset`), as for the X channel, whose client and error
  mapping this source uses (`channels.x`).
- Texts are X's own with its HTML entities decoded, cleaned by `channels.heard_text`; an
  item's id is a post id (digits) and its author a valid X handle or nothing, so a hostile
  answer cannot shape a key or a URL. No credential reaches a reason, the cursor or an item.
"""
from __future__ import annotations

import html
import json
import math
import re
from datetime import datetime, timezone
from typing import Any, Mapping

from channels.heard_text import clean_line, clean_text
from channels.options import Option, SettingError
from channels.schemas import OPTIONS
from channels.sources import Heard, Source

PRICE_PER_POST = 0.005
PRICE_PER_USER = 0.010
SMALLEST_PAGE = 5
LARGEST_PAGE = 100
MAX_CURSOR = 4096
POST_ID = re.compile(r"[0-9]{1,20}")
HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}")
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,200}")
CREDENTIALS = ("api_key", "api_secret", "access_token", "access_token_secret")


def _optional(option: Option) -> Option:
    return Option(option.kind, False, option.default, option.secret, option.choices, option.help, option.bounds)


class XMentions(Source):
    type = "x"
    options = {
        "channel": Option(str, help="the [channels.NAME] whose X app and account this source reads with; "
                                    "its credentials are used unless this section gives its own"),
        **{key: _optional(option) for key, option in OPTIONS["x"].items()},
        "user_id": Option(str, help="the account's numeric id (saves one paid look-up of the account)"),
        "monthly_budget": Option((int, float), required=True, bounds=(0, 1_000_000),
                                 help="what this source may spend on X reads in a calendar month (UTC), in the "
                                      "currency X bills in; a spent budget stops the source"),
        "price_per_read": Option((int, float), default=PRICE_PER_POST, bounds=(0, 100),
                                 help="what X bills for one post read (pay-per-use: 0.005)"),
        "price_per_user_read": Option((int, float), default=PRICE_PER_USER, bounds=(0, 100),
                                      help="what X bills for one user read, the mentions' authors (0.010)"),
    }

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        missing = [key for key in CREDENTIALS if not settings.get(key)]
        if missing:
            raise SettingError(missing[0], "missing; set it here or name an X channel with `channel`")
        own = {str(settings[key]) for key in CREDENTIALS}
        super().__init__(name, settings, secrets | own)
        channel_settings = {key: value for key, value in self.settings.items() if key in OPTIONS["x"]}
        self._channel_settings = {"type": "x", **channel_settings}
        self._secrets = frozenset(secrets | own)
        self._channel: Any = None
        self.budget = float(self.settings["monthly_budget"])
        self.per_post = float(self.settings["price_per_read"])
        self.per_user = float(self.settings["price_per_user_read"])

    def read(self, cursor: str | None, limit: int = 200) -> tuple[list[Heard], str | None]:
        state = _State.load(cursor, self.redact)
        state.roll(_month())
        room = self._room(state)
        if room < SMALLEST_PAGE:
            raise self._spent(state)
        user_id = str(self.settings.get("user_id") or state.user or self._account_id(state))
        if not POST_ID.fullmatch(user_id):
            raise self._permanent(f"user_id {user_id!r} is not an X account id (digits)")
        params: dict[str, Any] = {"max_results": max(SMALLEST_PAGE, min(limit, LARGEST_PAGE, room)),
                                  "expansions": "author_id", "user.fields": "username,name",
                                  "tweet.fields": "created_at,author_id,conversation_id,referenced_tweets"}
        if state.since:
            params["since_id"] = state.since
        if state.token:
            params["pagination_token"] = state.token
        channel = self._x()
        answer = _mapping(channel._call(lambda: channel._sdk().request(
            "GET", f"/2/users/{user_id}/mentions", params=params, user_auth=True).json(), "nothing was read"))
        posts = _listed(answer.get("data"))
        users = _listed(_mapping(answer.get("includes")).get("users"))
        meta = _mapping(answer.get("meta"))
        state.posts += len(posts)
        state.users += len(users)
        state.user = user_id
        names = {str(user.get("id")): user for user in users if isinstance(user, dict)}
        items = [self._heard(post, names) for post in posts
                 if isinstance(post, dict) and POST_ID.fullmatch(str(post.get("id") or ""))]
        items.sort(key=lambda item: int(item.id))
        newest = meta.get("newest_id")
        if not POST_ID.fullmatch(str(newest or "")) and items:
            newest = items[-1].id
        state.advance(newest, meta.get("next_token"))
        return items, state.dump()

    def spend(self, cursor: str | None) -> float:
        """What this month's reads recorded in `cursor` cost, at the configured prices."""
        state = _State.load(cursor, self.redact)
        state.roll(_month())
        return state.posts * self.per_post + state.users * self.per_user

    def check(self) -> str:
        return self._x().check()

    def _room(self, state: "_State") -> int:
        """How many posts the rest of the month's budget pays for (each with its own author)."""
        left = self.budget - (state.posts * self.per_post + state.users * self.per_user)
        per_post = self.per_post + self.per_user
        if per_post <= 0:
            return LARGEST_PAGE
        return max(0, math.floor(left / per_post + 1e-9))

    def _permanent(self, reason: str) -> Exception:
        from channels.base import Permanent

        return Permanent(self.redact(reason))

    def _spent(self, state: "_State") -> Exception:
        from channels.base import Permanent

        spent = state.posts * self.per_post + state.users * self.per_user
        return Permanent(self.redact(
            f"the X source {self.name} has spent {spent:.2f} of its monthly budget of {self.budget:.2f} "
            f"({state.posts} posts and {state.users} users read in {state.month}); it stops reading until next "
            "month, or until monthly_budget is raised"))

    def _account_id(self, state: "_State") -> str:
        channel = self._x()
        answer = channel._call(lambda: channel._sdk().get_me(user_auth=True), "nothing was read")
        state.users += 1
        found = getattr(getattr(answer, "data", None), "id", None)
        if found is None:
            from channels.base import Retryable

            raise Retryable("X's answer to the account look-up had no account id")
        return str(found)

    def _x(self) -> Any:
        if self._channel is None:
            from channels.x import XChannel

            self._channel = XChannel.build(self.name, self._channel_settings, self._secrets)
        return self._channel

    def _heard(self, post: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]]) -> Heard:
        from channels.x import snowflake_time

        post_id = str(post["id"])
        author = users.get(str(post.get("author_id")), {})
        handle = str(author.get("username") or "")
        handle = handle if HANDLE.fullmatch(handle) else ""
        replied = [str(ref.get("id")) for ref in _listed(post.get("referenced_tweets"))
                   if isinstance(ref, dict) and ref.get("type") == "replied_to"
                   and POST_ID.fullmatch(str(ref.get("id") or ""))]
        extra = {"author_id": str(post.get("author_id") or ""),
                 "author_name": clean_line(str(author.get("name") or "")),
                 "conversation_id": str(post.get("conversation_id") or "")}
        return Heard(platform="x", id=post_id,
                     text=clean_text(html.unescape(str(post.get("text") or ""))),
                     author=f"@{handle}" if handle else "",
                     url=f"https://x.com/{handle or 'i/web'}/status/{post_id}",
                     platform_time=_iso(post.get("created_at")) or snowflake_time(post_id),
                     answers=replied[0] if replied else None,
                     extra={key: value for key, value in extra.items() if value})


class _State:
    """What the cursor holds: paging (`since`, `token`, the round's `top`) and the month's reads."""

    def __init__(self, fields: Mapping[str, Any]):
        self.since: str | None = _text(fields.get("since"))
        self.token: str | None = _text(fields.get("token"))
        self.top: str | None = _text(fields.get("top"))
        self.user: str | None = _text(fields.get("user"))
        self.month: str = str(fields.get("month") or _month())
        self.posts: int = int(fields.get("posts") or 0)
        self.users: int = int(fields.get("users") or 0)

    @classmethod
    def load(cls, cursor: str | None, redact: Any) -> "_State":
        if not cursor:
            return cls({})
        try:
            fields = json.loads(cursor) if len(cursor) <= MAX_CURSOR else None
            if not isinstance(fields, dict):
                raise ValueError
            return cls(fields)
        except (ValueError, TypeError):
            from channels.base import Permanent

            raise Permanent(redact("the stored cursor of this X source is not one it wrote; nothing was read")) from None

    def roll(self, month: str) -> None:
        if self.month != month:
            self.month, self.posts, self.users = month, 0, 0

    def advance(self, newest: Any, next_token: Any) -> None:
        """After a page: keep paging back within the round, or close the round at its newest post."""
        newest = _text(newest) if POST_ID.fullmatch(str(newest or "")) else None
        next_token = next_token if isinstance(next_token, str) and TOKEN.fullmatch(next_token) else None
        if self.top is None and newest:
            self.top = newest
        if next_token and self.since:
            self.token = str(next_token)
            return
        self.since = self.top or self.since
        self.token = self.top = None

    def dump(self) -> str:
        fields = {"since": self.since, "token": self.token, "top": self.top, "user": self.user,
                  "month": self.month, "posts": self.posts, "users": self.users}
        return json.dumps({key: value for key, value in fields.items() if value is not None}, separators=(",", ":"))


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _month() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m")


def _iso(value: Any) -> str | None:
    """X's `created_at` (ISO 8601, often with milliseconds and Z) as ISO 8601 UTC."""
    if isinstance(value, datetime):
        stamp = value
    else:
        try:
            stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
