"""A fake of Slack's Web API `chat.postMessage` (https://api.slack.com/methods/chat.postMessage),
answering as slack.com/api does.

A bot token comes as `Authorization: Bearer xoxb-…`; none gets `{"ok": false, "error":
"not_authed"}`, another token `invalid_auth`, a token without the chat:write scope
`missing_scope` with `needed` and `provided` — all with HTTP 200, as Slack answers its
Web API errors. `channel` may be a user id (U…/W…): the message goes to the bot's direct
messages with that user (an im channel D…), and the answer is `{"ok": true, "channel":
"D…", "ts": "<seconds>.<micro>", "message": {...}}`; an unknown user or channel gets
`channel_not_found`, no text `no_text`. Every answer carries Slack's `X-Slack-Req-Id`,
`X-OAuth-Scopes` and `X-Accepted-OAuth-Scopes` headers. Tests queue a rate limit with
`FakeSlackApi.ratelimited(seconds)` (HTTP 429, `Retry-After`, `{"ok": false, "error":
"ratelimited"}`)."""
from __future__ import annotations

import itertools
import json
import time
import uuid
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request


class FakeSlackApi(FakeServer):
    def __init__(self, token: str, scopes: str = "chat:write,im:write"):
        super().__init__(self._answer)
        self.token = token
        self.scopes = scopes
        self.users: set[str] = set()
        self.ims: dict[str, str] = {}
        self.sent: list[dict[str, Any]] = []
        self._ims = itertools.count(1)

    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json; charset=utf-8", "X-Slack-Req-Id": uuid.uuid4().hex,
                "X-OAuth-Scopes": self.scopes, "X-Accepted-OAuth-Scopes": "chat:write",
                "Access-Control-Allow-Origin": "*", "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload"}

    @staticmethod
    def ratelimited(seconds: int) -> Reply:
        return Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(seconds)})

    def _error(self, error: str, **more: Any) -> Reply:
        return Reply(200, {"ok": False, "error": error, **more}, self.headers())

    def _answer(self, request: Request) -> Reply:
        if request.path != "/api/chat.postMessage":
            return Reply(404, "", self.headers())
        authorization = request.header("Authorization") or ""
        if not authorization.startswith("Bearer "):
            return self._error("not_authed")
        if authorization[7:] != self.token:
            return self._error("invalid_auth")
        if "chat:write" not in self.scopes.split(","):
            return self._error("missing_scope", needed="chat:write", provided=self.scopes)
        try:
            params = request.json() if "json" in (request.header("Content-Type") or "") else request.form()
        except json.JSONDecodeError:
            return self._error("invalid_json")
        channel, text = str(params.get("channel") or ""), params.get("text")
        if not text:
            return self._error("no_text")
        if channel not in self.users:
            return self._error("channel_not_found")
        im = self.ims.setdefault(channel, f"D0{next(self._ims):08d}")
        ts = f"{time.time():.6f}"
        self.sent.append({"user": channel, "channel": im, "text": text, "ts": ts})
        return Reply(200, {"ok": True, "channel": im, "ts": ts,
                           "message": {"type": "message", "subtype": "bot_message", "text": text, "ts": ts,
                                       "bot_id": "B0CRISIS01", "user": "U0BOT00001", "team": "T0ACME0001"}},
                     self.headers())
