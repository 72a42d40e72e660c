"""Fake Slack, Discord, Teams Workflows and generic webhook endpoints.

Each answers like the real service for the requests a channel makes (paths, bodies,
status codes, headers), and the `*_reply` helpers build the service's own error answers
for tests to queue. Sources: Slack's incoming-webhook error table (changelog 2016-05-17),
Discord's execute-webhook, rate-limit and JSON error code docs, the Logic Apps request
trigger's error envelope.
"""
from __future__ import annotations

import itertools
import json
import math
import re
import time
from datetime import datetime, timezone

from channels.base import Message
from tests.fakes.server import FakeServer, Reply, Request

HTML = {"Content-Type": "text/html"}


class ScriptedFake(FakeServer):
    """A FakeServer whose normal answers can be interrupted by a script (`then`)."""

    def __init__(self, handler):
        super().__init__(handler)
        self.answers = handler

    def reset(self) -> None:
        super().reset()
        self.handler = self.answers

    def then(self, *replies: Reply | None) -> None:
        """Answer the next requests with `replies` in order, None meaning the normal
        answer; unlike `queue`, a scripted failure can come after real successes."""
        script = list(replies)

        def scripted(request: Request) -> Reply:
            reply = script.pop(0) if script else None
            return reply or self.answers(request)

        self.handler = scripted


def make_message(*parts: str, **fields) -> Message:
    values = dict(draft_id="d-2024-0042", channel="ops", parts=parts or ("Our systems are restored.",),
                  title="Service incident update", incident_id="inc-7", template="update",
                  language="en", case=2, idempotency_key="idem-d-2024-0042-ops")
    values.update(fields)
    return Message(**values)


# --- Slack -------------------------------------------------------------------------------

SLACK_STATUS = {
    "invalid_payload": 400, "no_text": 400, "user_not_found": 400, "too_many_attachments": 400,
    "missing_text_or_fallback_or_attachments": 400, "no_service_id": 400,
    "action_prohibited": 403, "invalid_token": 403, "posting_to_general_channel_denied": 403,
    "team_disabled": 403, "no_service": 404, "no_team": 404, "channel_not_found": 404,
    "channel_is_archived": 410, "rollup_error": 500,
}


def slack_reply(code: str) -> Reply:
    return Reply(SLACK_STATUS[code], code, dict(HTML))


def slack_rate_limited(seconds: int) -> Reply:
    return Reply(429, "rate_limited", {**HTML, "Retry-After": str(seconds)})


class SlackFake(ScriptedFake):
    """hooks.slack.com: POST /services/<team>/<bot>/<token> with JSON {"text": ...}."""

    def __init__(self, path: str):
        super().__init__(self.answer)
        self.path = path
        self.archived = False

    def reset(self) -> None:
        super().reset()
        self.archived = False

    def answer(self, request: Request) -> Reply:
        if request.method != "POST" or not request.path.startswith("/services/"):
            return Reply(404, "no_service", dict(HTML))
        if request.path.rsplit("/", 1)[0] != self.path.rsplit("/", 1)[0]:
            return slack_reply("no_service")
        if request.path != self.path:
            return slack_reply("invalid_token")
        try:
            body = request.json()
        except ValueError:
            return slack_reply("invalid_payload")
        if not isinstance(body, dict):
            return slack_reply("invalid_payload")
        if not body.get("text"):
            return slack_reply("no_text")
        if self.archived:
            return slack_reply("channel_is_archived")
        return Reply(200, "ok", dict(HTML))


# --- Discord -----------------------------------------------------------------------------

DISCORD_EPOCH_MS = 1_420_070_400_000


def discord_reply(status: int, message: str, code: int, errors: dict | None = None) -> Reply:
    body: dict = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return Reply(status, body)


def discord_rate_limited(retry_after: float, is_global: bool = False) -> Reply:
    headers = {"Retry-After": str(math.ceil(retry_after)), "X-RateLimit-Scope": "global" if is_global else "user"}
    if not is_global:
        headers.update({"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset-After": str(retry_after), "X-RateLimit-Bucket": "a06de4a1b2c3"})
    else:
        headers["X-RateLimit-Global"] = "true"
    return Reply(429, {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global},
                 headers)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class DiscordFake(ScriptedFake):
    """discord.com: /api/webhooks/<id>/<token>; POST executes (200 Message with
    ?wait=true, else 204), GET returns the webhook object, and GET, PATCH (edit, 200
    Message) and DELETE (204, discord.com/developers/docs/resources/webhook#delete-webhook-message)
    .../messages/<id> a message it holds (404 "Unknown Message", code 10008, otherwise)."""

    def __init__(self, webhook_id: str, token: str, channel_id: str = "1180000000000000001",
                 guild_id: str | None = None):
        super().__init__(self.answer)
        self.webhook_id, self.token = webhook_id, token
        self.channel_id, self.guild_id = channel_id, guild_id
        self._sequence = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.remaining = 4
        self.reset_after = 0.35
        self.messages: list[dict] = []

    def answer(self, request: Request) -> Reply:
        match = re.fullmatch(r"/api(?:/v\d+)?/webhooks/(\d+)/([^/]+?)(?:/messages/(\d+))?/?", request.path)
        if not match:
            return discord_reply(404, "404: Not Found", 0)
        if match.group(1) != self.webhook_id:
            return discord_reply(404, "Unknown Webhook", 10015)
        if match.group(2) != self.token:
            return discord_reply(401, "Invalid Webhook Token", 50027)
        if request.method in ("GET", "PATCH", "DELETE") and match.group(3):
            found = next((item for item in self.messages if item["id"] == match.group(3)), None)
            if found is None:
                return discord_reply(404, "Unknown Message", 10008)
            if request.method == "PATCH":
                return self._edit(found, request)
            if request.method == "DELETE":
                self.messages.remove(found)
                return Reply(204, None)
            return Reply(200, found)
        if request.method == "GET":
            return Reply(200, {"id": self.webhook_id, "type": 1, "name": "Status bot", "avatar": None,
                               "channel_id": self.channel_id, "guild_id": self.guild_id or "1170000000000000001",
                               "application_id": None, "token": self.token})
        if request.method != "POST":
            return discord_reply(405, "405: Method Not Allowed", 0)
        try:
            body = request.json()
        except ValueError:
            return discord_reply(400, "The request body contains invalid JSON.", 50109)
        content = (body.get("content") or "") if isinstance(body, dict) else ""
        if not content:
            return discord_reply(400, "Cannot send an empty message", 50006)
        if utf16_length(content) > 2000:
            return discord_reply(400, "Invalid Form Body", 50035, {"content": {"_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}})
        now = time.time()
        snowflake = str(((int(now * 1000) - DISCORD_EPOCH_MS) << 22) | next(self._sequence))
        message = {
            "id": snowflake, "type": 0, "content": content, "channel_id": self.channel_id,
            "author": {"id": self.webhook_id, "username": body.get("username") or "Status bot",
                       "avatar": None, "discriminator": "0000", "bot": True},
            "attachments": [], "embeds": [], "mentions": [], "mention_roles": [], "pinned": False,
            "mention_everyone": False, "tts": False,
            "timestamp": datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="microseconds"),
            "edited_timestamp": None, "flags": 0, "components": [], "webhook_id": self.webhook_id,
        }
        if self.guild_id:
            message["guild_id"] = self.guild_id
        self.messages.append(message)
        self.remaining = max(0, self.remaining - 1)
        headers = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": str(self.remaining),
                   "X-RateLimit-Reset": f"{now + self.reset_after:.3f}",
                   "X-RateLimit-Reset-After": f"{self.reset_after:.3f}", "X-RateLimit-Bucket": "a06de4a1b2c3"}
        if request.query.get("wait") == ["true"]:
            return Reply(200, message, headers)
        return Reply(204, None, headers)


    def _edit(self, found: dict, request: Request) -> Reply:
        """Edit Webhook Message (discord.com/developers/docs/resources/webhook#edit-webhook-message):
        200 with the Message, `edited_timestamp` set; the same content rules as a send."""
        body = request.json()
        content = (body.get("content") or "") if isinstance(body, dict) else ""
        if utf16_length(content) > 2000:
            return discord_reply(400, "Invalid Form Body", 50035, {"content": {"_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}})
        found["content"] = content
        found["edited_timestamp"] = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        return Reply(200, found)


# --- Teams Workflows ---------------------------------------------------------------------

def logic_apps_error(status: int, code: str, message: str, headers: dict | None = None) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}}, headers or {})


class TeamsFake(ScriptedFake):
    """A workflow's HTTP trigger: POST /workflows/<id>/triggers/manual/paths/invoke
    ?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=<sig>; 202, empty body."""

    def __init__(self, workflow_id: str, sig: str):
        super().__init__(self.answer)
        self.workflow_id, self.sig = workflow_id, sig
        self.path = f"/workflows/{workflow_id}/triggers/manual/paths/invoke"
        self.runs = itertools.count(1)

    @property
    def query(self) -> str:
        return f"api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={self.sig}"

    def answer(self, request: Request) -> Reply:
        named = (request.path.split("/") + ["", ""])[2]
        if not request.path.startswith("/workflows/") or named != self.workflow_id:
            return logic_apps_error(404, "WorkflowNotFound", f"The workflow '{named}' could not be found.")
        if "sig" not in request.query:
            return logic_apps_error(401, "DirectApiAuthorizationRequired",
                                    "The request must be authenticated only by Shared Access scheme.")
        if not all(k in request.query for k in ("sp", "sv")):
            return logic_apps_error(401, "AuthorizationFailed", "Required parameters for shared access URL are "
                                    "permissions ('sp'), version ('sv'), and signature ('sig').")
        if request.query["sig"] != [self.sig]:
            return logic_apps_error(401, "DirectApiInvalidAuthorizationSignature",
                                    "The provided request has an invalid authorization signature.")
        try:
            body = request.json()
        except ValueError:
            return logic_apps_error(400, "InvalidRequestContent",
                                    "The request content is not valid and could not be deserialized.")
        if not isinstance(body, dict) or body.get("type") != "message":
            return logic_apps_error(400, "InvalidRequestContent", "The request content is not a Teams message.")
        run = f"08584{next(self.runs):012d}CU00"
        return Reply(202, b"", {"x-ms-workflow-run-id": run, "x-ms-trigger-history-name": run,
                                "x-ms-correlation-id": "3f2a1c4e-0000-4000-8000-1f2e3d4c5b6a",
                                "x-ms-workflow-version": "08584000000000000000",
                                "x-ms-workflow-name": self.workflow_id})


# --- Teams: a retired Office 365 connector ------------------------------------------------
#
# How a connector answers, from Microsoft's own words:
# - "Sending messages to connectors and webhooks" (learn.microsoft.com/microsoftteams/platform/
#   webhooks-and-connectors/how-to/connectors-using): "If the POST succeeds, you should see a
#   simple 1"; "Rate limiting for connectors": 4 requests a second, 60 in 30 s, 100 an hour,
#   and "response body needs to be extracted and read as Connectors do not throw 429s", the
#   body containing "Microsoft Teams endpoint returned HTTP error 429".
# - Microsoft's answers in the docs' own tracker (github.com/MicrosoftDocs/msteams-docs):
#   #1810 "Teams returns 413 for large messages and the behavior at Connector's end has
#   always been to wrap it with 200 OK response"; #400 and #4145, a refused card or a removed
#   channel is "Webhook message delivery failed with error: Microsoft Teams endpoint returned
#   HTTP error 400 with ContextId tcid=…,server=…,cv=…" with HTTP 200 ("a known code design");
#   #1736 "Webhook message delivery failed with error: Error contacting Microsoft Teams endpoint".

TEXT_PLAIN = {"Content-Type": "text/plain; charset=utf-8"}
CONNECTOR_WINDOWS = ((1.0, 4), (30.0, 60), (3600.0, 100))


def connector_failure(status: int | None) -> Reply:
    """A connector's 200 whose body says Teams did not take the message."""
    said = (f"Microsoft Teams endpoint returned HTTP error {status} with ContextId tcid=0,"
            "server=msgapi-production-weu-azsc2-1-42,cv=q8H2vYtXbUeZ1m0aN3kR7w.0,MS-CV=q8H2vYtXbUeZ1m0aN3kR7w.0.."
            if status else "Error contacting Microsoft Teams endpoint")
    return Reply(200, f"Webhook message delivery failed with error: {said}", dict(TEXT_PLAIN))


class ConnectorFake(ScriptedFake):
    """<tenant>.webhook.office.com: POST /webhookb2/<group>@<tenant>/IncomingWebhook/<id>/<owner>;
    200 "1" when Teams took the message, 200 with a failure body otherwise (a card that is
    not a message with attachments: 400; over 28 KB: 413; past the rate windows: 429;
    a channel removed: 400)."""

    def __init__(self, path: str):
        super().__init__(self.answer)
        self.path = path
        self.posted: list[dict] = []
        self.times: list[float] = []
        self.removed = False

    def reset(self) -> None:
        super().reset()
        self.posted, self.times, self.removed = [], [], False

    def answer(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != self.path:
            return connector_failure(400)
        now = time.monotonic()
        if any(sum(1 for moment in self.times if now - moment < span) >= most for span, most in CONNECTOR_WINDOWS):
            return connector_failure(429)
        self.times.append(now)
        if len(request.body) > 28 * 1024:
            return connector_failure(413)
        try:
            body = request.json()
        except ValueError:
            return connector_failure(400)
        if self.removed or not isinstance(body, dict) or body.get("type") != "message" \
                or not body.get("attachments"):
            return connector_failure(400)
        self.posted.append(body)
        return Reply(200, "1", dict(TEXT_PLAIN))


# --- generic webhook ---------------------------------------------------------------------

class ReceiverFake(ScriptedFake):
    """A receiver that honours Idempotency-Key: 201 {"id","url"} the first time, 409 for a
    key it has seen; 401 without the expected Authorization header."""

    def __init__(self, authorization: str | None = None):
        super().__init__(self.answer)
        self.authorization = authorization
        self.seen: dict[str, str] = {}

    def reset(self) -> None:
        super().reset()
        self.seen.clear()

    def answer(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != "/hooks/incident":
            return Reply(404, {"error": "not found"})
        if self.authorization and request.header("Authorization") != self.authorization:
            return Reply(401, {"error": "unauthorized"})
        try:
            json.loads(request.body)
        except ValueError:
            return Reply(400, {"error": "body is not JSON"})
        key = request.header("Idempotency-Key") or ""
        if key in self.seen:
            return Reply(409, {"error": "duplicate delivery", "id": self.seen[key]})
        self.seen[key] = f"evt_{len(self.seen) + 1:04d}"
        return Reply(201, {"id": self.seen[key], "url": f"https://status.example.org/events/{self.seen[key]}"})


# --- test support ------------------------------------------------------------------------

def attempt(call):
    """Run `call`; return its result or the exception it raised."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - the outcome is what tests inspect
        return error


def visible_texts(outcome, records) -> list[str]:
    """Everything a person or a log could see of an outcome: reason, str, repr, the
    receipts it carries, and every log record (message and arguments)."""
    texts = [str(outcome), repr(outcome)]
    for attribute in ("reason", "receipt", "sent_parts", "extra", "url", "id", "platform_time"):
        if hasattr(outcome, attribute):
            texts.append(repr(getattr(outcome, attribute)))
    for record in records:
        texts.extend([record.getMessage(), repr(record.args), record.name])
    return texts
