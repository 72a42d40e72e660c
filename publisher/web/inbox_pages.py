"""The inbox on the console: what listening heard (all of it, or one incident's), a page
at a time, and one item with what it answers and the actions a role allows: assign,
mark handled or ignored, attach or detach, and reply (a draft rendered by the same
functions as `publish reply`, then approved like any statement). Thin: every check and
record is `publisher.incident.inbox`'s and `publisher.drafting.replies`'."""
from __future__ import annotations

from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from publisher.web.routing import Visitor, call, route

PAGE = 50
CLOSING = {"handle": "item.handled", "ignore": "item.ignored"}


def item_path(key: str) -> str:
    """The item's page: its key as one path segment (a feed's key holds slashes)."""
    return "/inbox/" + quote(key, safe=":@")


def _listing(app, incident: str | None, negative: bool, unanswered: bool, before: int | None):
    from publisher.incident.inbox import inbox
    from publisher.incident.inbox_thread import threads
    from publisher.incident.incidents import load_incident

    if incident is not None:
        load_incident(app, incident)
    items = inbox(app, incident=incident, negative=negative, unanswered=unanswered, limit=PAGE, before=before)
    return items, threads(app, items)


async def _inbox(request: Request, visitor: Visitor, incident: str | None) -> Response:
    query = request.query_params
    negative, unanswered = bool(query.get("negative")), bool(query.get("unanswered"))
    before = query.get("before", "")
    items, found = await call(_listing, visitor.console.app, incident, negative, unanswered,
                              int(before) if before.isdigit() and len(before) < 19 else None)
    older = None
    if len(items) == PAGE:
        kept = {key: "1" for key, on in (("negative", negative), ("unanswered", unanswered)) if on}
        older = "?" + urlencode(kept | {"before": str(items[-1].seq)})
    return visitor.console.page(request, visitor, "inbox.html", items=items, threads=found, incident=incident,
                                negative=negative, unanswered=unanswered, older=older, item_path=item_path)


@route("/inbox", "view")
async def inbox_page(request: Request, visitor: Visitor) -> Response:
    return await _inbox(request, visitor, None)


@route("/incidents/{incident}/inbox", "view")
async def incident_inbox_page(request: Request, visitor: Visitor) -> Response:
    return await _inbox(request, visitor, request.path_params["incident"])


def _one(app, key: str):
    from publisher.incident.authority import people
    from publisher.incident.inbox import history, item
    from publisher.incident.inbox_thread import replies, threads
    from publisher.incident.incidents import list_incidents

    found = item(app, key)
    incidents = [incident.id for incident in list_incidents(app) if incident.state == "open"]
    return (found, threads(app, [found]).get(found.key), replies(app, found.key), people(app), incidents,
            history(app, found.key))


@route("/inbox/{key:path}", "view")
async def item_page(request: Request, visitor: Visitor) -> Response:
    """One item, as `publish inbox show` (its history too), with the actions of the visitor's role."""
    found, thread, drafts, names, incidents, events = await call(_one, visitor.console.app,
                                                                 request.path_params["key"])
    return visitor.console.page(request, visitor, "inbox_item.html", item=found, thread=thread, drafts=drafts,
                                people=names, incidents=incidents, history=events, item_path=item_path)


def _act(action: str):
    """POST /inbox/{key}/<action>: one of `publisher.incident.inbox`'s actions, by the visitor."""
    fields = {"assign": "person", "handle": "note", "ignore": "reason", "attach": "incident", "detach": None}

    async def act(request: Request, visitor: Visitor) -> Response:
        from publisher.incident import inbox

        form = await request.form()
        value = str(form.get(fields[action] or "", "")).strip() if fields[action] else ""
        key, app, actor = request.path_params["key"], visitor.console.app, visitor.person or ""
        if action == "assign":
            done = await call(inbox.assign, app, key, value, actor)
        elif action == "attach":
            done = await call(inbox.attach, app, key, value, actor)
        elif action == "detach":
            done = await call(inbox.detach, app, key, actor)
        else:
            done = await call(inbox.close, app, key, CLOSING[action], value, actor)
        return RedirectResponse(item_path(done.key), status_code=303)

    act.__name__ = f"item_{action}"
    route(f"/inbox/{{key:path}}/{action}", "inbox", ("POST",))(act)
    return act


for _action in ("assign", "handle", "ignore", "attach", "detach"):
    _act(_action)


def _reply(app, key: str, template: str, variables: str, author: str) -> str:
    """Render, store and link the reply (as `publish reply`); one its case lets the
    community manager send alone (`reply_approvals = 0`) is sent at once, in the
    background (a live worker takes it), unless a freeze holds it: then it waits."""
    from publisher.delivery.resume import in_background, resume
    from publisher.drafting.drafts import load_draft, save_draft
    from publisher.drafting.rendering import parse_vars
    from publisher.drafting.replies import link_reply, render_reply
    from publisher.errors import Refused

    lines = tuple(line.strip() for line in variables.splitlines() if line.strip())
    draft, found = render_reply(app, key, template=template or "reply", author=author, variables=parse_vars(lines))
    record, new = save_draft(app, draft)
    link_reply(app, record, found)
    if new and load_draft(app, draft.id).approved:
        try:
            resume(app, draft.id, author, run=in_background)
        except Refused:
            pass
    return draft.id


@route("/inbox/{key:path}/reply", "render", ("POST",))
async def item_reply(request: Request, visitor: Visitor) -> Response:
    form = await request.form()
    draft = await call(_reply, visitor.console.app, request.path_params["key"], str(form.get("template", "")).strip(),
                       str(form.get("variables", "")), visitor.person or "")
    return RedirectResponse(f"/drafts/{draft}", status_code=303)
