"""Listening on a Facebook Page by polling: the comments on its latest posts (Graph API).

Guarantees:
- Each read lists the Page's latest `posts` (`GET /{page-id}/posts`) and reads each one's
  comments, replies to comments included (`GET /{post-id}/comments?filter=stream&
  order=chronological`), after the Graph cursor (`paging.cursors.after`) kept for that post
  in this source's cursor; a post that leaves the latest `posts` is no longer polled (the
  `feed` webhook, `channels.facebook_hook`, hears every post). A restart resumes at each
  post's cursor: nothing lost, nothing read twice. A read stops at `limit` items and the
  next one goes on from there. A cursor Graph no longer accepts (code 100) makes that post
  be read again from its first comment; the log stores each comment once.
- Requests, errors and secrets are the Facebook channel's (`channels.facebook`), whose
  settings this source reuses: an expired or revoked token (code 190) is `Permanent`, a
  rate limit (codes 4, 17, 32...) `Retryable` with Facebook's own regain time.
- An item's id is Graph's comment id, the same one the webhook gives, so a comment both
  heard by the webhook and polled is stored once. Ids that are not Graph's digits (a
  hostile answer) are left out: an id never shapes a request path, a key or a URL. Texts
  are cleaned by `channels.heard_text`; a comment's author is only known when the token
  may read it (`from` is left out otherwise).
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

from channels.heard_text import clean_line, clean_text
from channels.options import Option, SettingError
from channels.schemas import OPTIONS
from channels.sources import Heard, Source

PAGE = 100
POST_ID = re.compile(r"[0-9]{1,30}_[0-9]{1,30}")
COMMENT_ID = re.compile(r"[0-9]{1,30}(?:_[0-9]{1,30})?")
MAX_CURSOR = 16_384
FIELDS = "id,message,created_time,from{id,name},parent{id},permalink_url"


def _optional(option: Option) -> Option:
    return Option(option.kind, False, option.default, option.secret, option.choices, option.help, option.bounds)


class FacebookComments(Source):
    type = "facebook"
    options = {
        "channel": Option(str, help="the [channels.NAME] whose Page and token this source reads with"),
        **{key: _optional(option) for key, option in OPTIONS["facebook"].items()},
        "posts": Option(int, default=10, bounds=(1, 100), help="how many of the Page's latest posts are polled"),
    }

    def __init__(self, name: str, settings: Mapping[str, Any], secrets: frozenset[str] = frozenset()):
        for key in ("page_id", "token"):
            if not settings.get(key):
                raise SettingError(key, "missing; set it here or name a Facebook channel with `channel`")
        own = {str(settings[key]) for key in ("token", "app_secret", "verify_token") if settings.get(key)}
        super().__init__(name, settings, secrets | own)
        self._secrets = frozenset(secrets | own)
        self._page: Any = None

    def read(self, cursor: str | None, limit: int = 200) -> tuple[list[Heard], str | None]:
        after = self._load(cursor)
        page = self._graph()
        latest = page._call(lambda graph: graph.request(
            f"{graph.version}/{page.page_id}/posts", {"fields": "id,created_time", "limit": self.settings["posts"]}),
            posting=False)
        posts = [str(post["id"]) for post in _data(latest) if POST_ID.fullmatch(str(post.get("id") or ""))]
        items: list[Heard] = []
        kept: dict[str, str] = {}
        for post in reversed(posts):
            kept[post] = after.get(post, "")
            while len(items) < limit:
                args = {"filter": "stream", "order": "chronological", "fields": FIELDS,
                        "limit": min(PAGE, limit - len(items))}
                if kept[post]:
                    args["after"] = kept[post]
                answer = self._comments(page, post, args)
                if answer is None:
                    kept[post] = ""
                    continue
                comments = _data(answer)
                items += [self._heard(comment, post) for comment in comments
                          if COMMENT_ID.fullmatch(str(comment.get("id") or ""))]
                paging = answer.get("paging") if isinstance(answer, dict) else None
                cursors = paging.get("cursors") if isinstance(paging, dict) else None
                before = kept[post]
                if comments and isinstance(cursors, dict) and cursors.get("after"):
                    kept[post] = str(cursors["after"])
                if not comments or kept[post] == before or not (isinstance(paging, dict) and paging.get("next")):
                    break
        items.sort(key=lambda item: (item.platform_time or "", item.id))
        return items, json.dumps({"after": {post: value for post, value in kept.items() if value}},
                                 separators=(",", ":"))

    def check(self) -> str:
        return self._graph().check()

    def _comments(self, page: Any, post: str, args: dict[str, Any]) -> Any:
        """One page of `post`'s comments; None when Graph refuses the stored cursor (code
        100: it no longer knows it), so the post is read again from its first comment."""
        from channels.base import Permanent

        try:
            return page._call(lambda graph: graph.request(f"{graph.version}/{post}/comments", args), posting=False)
        except Permanent as error:
            if "after" in args and "(code 100" in error.reason:
                return None
            raise

    def _graph(self) -> Any:
        if self._page is None:
            from channels.facebook import FacebookChannel

            settings = {key: value for key, value in self.settings.items() if key in OPTIONS["facebook"]}
            self._page = FacebookChannel.build(self.name, {"type": "facebook", **settings}, self._secrets)
        return self._page

    def _load(self, cursor: str | None) -> dict[str, str]:
        if not cursor:
            return {}
        try:
            fields = json.loads(cursor) if len(cursor) <= MAX_CURSOR else None
            after = fields.get("after") if isinstance(fields, dict) else None
            if not isinstance(after, dict):
                raise ValueError
            return {str(post): str(value) for post, value in after.items()}
        except (ValueError, TypeError):
            from channels.base import Permanent

            raise Permanent("the stored cursor of this Facebook source is not one it wrote; nothing was read") from None

    def _heard(self, comment: Mapping[str, Any], post: str) -> Heard:
        return comment_heard(comment, post)


def comment_heard(comment: Mapping[str, Any], post: str) -> Heard:
    """A Graph comment object (or a webhook's comment, mapped to the same fields) as a Heard."""
    comment_id = str(comment["id"])
    author = _mapping(comment.get("from"))
    parent = _mapping(comment.get("parent"))
    answers = str(parent.get("id") or "")
    url = comment.get("permalink_url")
    if not isinstance(url, str) or not url.startswith("https://"):
        url = comment_url(post, comment_id)
    extra = {"post_id": post, "author_id": str(author.get("id") or "")}
    return Heard(platform="facebook", id=comment_id, text=clean_text(str(comment.get("message") or "")),
                 author=clean_line(str(author.get("name") or "")), url=url,
                 platform_time=graph_time(comment.get("created_time")), answers=answers if COMMENT_ID.fullmatch(answers) else post,
                 extra={key: value for key, value in extra.items() if value})


def comment_url(post: str, comment_id: str) -> str | None:
    """The facebook.com address of a comment on the Page post `post` (PAGEID_POSTID)."""
    owner, _, number = post.partition("_")
    comment = comment_id.rsplit("_", 1)[-1]
    if not (owner.isdigit() and number.isdigit() and comment.isdigit()):
        return None
    return f"https://www.facebook.com/{owner}/posts/{number}?comment_id={comment}"


def graph_time(value: Any) -> str | None:
    """Graph's `2026-05-01T10:00:00+0000`, or a webhook's epoch seconds, as ISO 8601 UTC."""
    from datetime import datetime, timezone

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, timezone.utc).isoformat(timespec="seconds")
        except (OverflowError, OSError, ValueError):
            return None
    try:
        stamp = datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
    return stamp.astimezone(timezone.utc).isoformat(timespec="seconds")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _data(answer: Any) -> list[dict[str, Any]]:
    found = answer.get("data") if isinstance(answer, dict) else None
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []
