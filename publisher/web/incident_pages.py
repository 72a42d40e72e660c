"""Incidents: the list with their two clocks, one incident (checklist, drafts, public
channels, freeze banner), opening one and rendering a draft (operators)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from publisher.web.routing import Visitor, call, json_body, route


def _overview(app, person: str, below: int | None):
    from publisher.evidence.awaiting import awaiting
    from publisher.evidence.status import incident_page
    from publisher.incident.freeze import active_freeze

    statuses, older = incident_page(app, below)
    return awaiting(app, person), statuses, older, active_freeze(app)


@route("/", "view")
async def incidents_page(request: Request, visitor: Visitor) -> Response:
    """"Awaiting me" first (`publisher.evidence.awaiting`, as `publish awaiting`), then the incidents."""
    below = request.query_params.get("below", "")
    mine, statuses, older, frozen = await call(_overview, visitor.console.app, visitor.person or "",
                                               int(below) if below.isdigit() else None)
    return visitor.console.page(request, visitor, "incidents.html", awaiting=mine,
                                statuses=statuses, frozen=frozen, older=older)


def _incident(app, incident_id: str):
    from publisher.evidence.listening import incident_curve
    from publisher.evidence.status import incident_status
    from publisher.incident.playbooks import get_case

    status = incident_status(app, incident_id)
    return status, get_case(status.incident.case, app.workspace), incident_curve(app, status.incident, status.now)


@route("/incidents/new", "open")
async def new_incident_page(request: Request, visitor: Visitor) -> Response:
    return visitor.console.page(request, visitor, "incident_new.html")


@route("/incidents", "open", ("POST",))
async def open_incident(request: Request, visitor: Visitor) -> Response:
    from publisher.delivery.listening import keep_source_post
    from publisher.drafting.phrasing import what_phrases
    from publisher.incident.incidents import open_incident as open_one

    form = await request.form()
    fields = {key: str(form.get(key, "")).strip() or None for key in ("source", "author", "platform", "summary")}
    case = str(form.get("case", ""))
    language = str(form.get("lang", "")) or None
    app = visitor.console.app
    what = str(form.get("what", "")).strip() or None
    incident = await call(open_one, app, case=int(case) if case.isdigit() else 0,
                          first_seen=str(form.get("first_seen", "")).strip() or None, actor=visitor.person, language=language,
                          confirm=bool(form.get("confirm")),
                          what=what_phrases(language or app.config.language, what, {}), **fields)
    await call(keep_source_post, app, incident, visitor.person)
    return RedirectResponse(f"/incidents/{incident.id}", status_code=303)


@route("/incidents/{incident}", "view")
async def incident_page(request: Request, visitor: Visitor) -> Response:
    from publisher.evidence.report_words import statement_words

    from markupsafe import Markup

    status, book, heard = await call(_incident, visitor.console.app, request.path_params["incident"])
    curve = (Markup(heard[0]), heard[1]) if heard else None
    config = visitor.console.app.config
    return visitor.console.page(request, visitor, "incident.html", status=status, book=book, curve=curve,
                                statement=lambda clock: statement_words(clock.as_dict()), warnings=status.console_warnings,
                                freeze_channels=[channel.name for channel in config.enabled_channels()],
                                freeze_allowed=config.freeze_allow)


def _render(app, incident_id: str, template: str, language: str | None, variables: str, author: str,
            allow_language: bool = False):
    from publisher.drafting.drafts import render_draft, save_draft
    from publisher.drafting.rendering import parse_vars
    from publisher.incident.incidents import load_incident

    lines = tuple(line.strip() for line in variables.splitlines() if line.strip())
    solutions = [line.lstrip("-* ").strip() for line in lines if not ("=" in line)]
    parsed: dict = dict(parse_vars(tuple(line for line in lines if "=" in line)))
    if solutions:
        parsed["solutions"] = solutions
    draft = render_draft(app, load_incident(app, incident_id), template, author=author, language=language,
                         variables=parsed, allow_language=allow_language)
    return save_draft(app, draft)[0]


@route("/incidents/{incident}/render", "render", ("POST",))
async def render_draft(request: Request, visitor: Visitor) -> Response:
    form = await request.form()
    record = await call(_render, visitor.console.app, request.path_params["incident"], str(form.get("template", "")),
                        str(form.get("lang", "")) or None, str(form.get("variables", "")), visitor.person,
                        form.get("allow_language") == "1")
    return RedirectResponse(f"/drafts/{record.draft.id}", status_code=303)


@route("/incidents/{incident}/done", "done", ("POST",))
async def step_done(request: Request, visitor: Visitor) -> Response:
    from publisher.incident.decisions import mark_done

    form = await request.form()
    incident_id = request.path_params["incident"]
    await call(mark_done, visitor.console.app, incident_id, str(form.get("step", "")), visitor.person,
               str(form.get("note", "")) or None)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


def _fields(action: str, body: dict, incident: str | None) -> dict:
    """What the signed action takes from the form: a freeze from an incident's page holds
    every incident unless the form asks for this one only (`scope` = "incident")."""
    fields = {key: body.get(key) for key in ("reason", "decision", "allow", "freeze", "send")} | {"incident": incident}
    if action == "freeze":
        fields["all"] = body.get("scope") != "incident"
    return fields


def _incident_signing(action: str, prefix: str = "/incidents/{incident}") -> None:
    """POST <prefix>/<action>/options and <prefix>/<action>: signed by passkey (a freeze
    and its lifting also at the top, `/freeze`, `/unfreeze`, for no incident in particular)."""
    async def options(request: Request, visitor: Visitor) -> Response:
        from publisher.delivery.signed_actions import options as make_options

        fields = _fields(action, await json_body(request), request.path_params.get("incident"))
        return JSONResponse(await call(make_options, visitor.console.app, action, visitor.person, fields))

    async def submit(request: Request, visitor: Visitor) -> Response:
        from publisher.delivery.resume import in_background
        from publisher.delivery.signed_actions import act

        body = await json_body(request)
        incident = request.path_params.get("incident")
        fields = _fields(action, body, incident)
        await call(act, visitor.console.app, action, visitor.person, fields, credential=body.get("credential") or {},
                   run=in_background)
        return JSONResponse({"redirect": f"/incidents/{incident}" if incident else "/"})

    where = "incident" if prefix else "top"
    options.__name__, submit.__name__ = f"{action}_{where}_options", f"{action}_{where}"
    route(f"{prefix}/{action}/options", action, ("POST",))(options)
    route(f"{prefix}/{action}", action, ("POST",))(submit)


for _action in ("freeze", "unfreeze", "decide", "void"):
    _incident_signing(_action)
for _action in ("freeze", "unfreeze"):
    _incident_signing(_action, "")
