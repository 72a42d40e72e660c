"""The acknowledgement link of a notice: a page naming the notice, and one button
(a plain GET never acknowledges, so a mail scanner opening the link wakes nobody less)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from publisher.delivery import paging
from publisher.web.routing import Visitor, call, route


@route("/ack/{token}", None)
async def ack_page(request: Request, visitor: Visitor) -> Response:
    found, person = await call(paging.page_for_token, visitor.console.app, request.path_params["token"])
    return visitor.console.page(request, visitor, "ack.html", notice=found, person=person,
                                token=request.path_params["token"])


@route("/ack/{token}", None, ("POST",))
async def ack(request: Request, visitor: Visitor) -> Response:
    event = await call(paging.acknowledge_link, visitor.console.app, request.path_params["token"])
    found, person = await call(paging.page_for_token, visitor.console.app, request.path_params["token"])
    return visitor.console.page(request, visitor, "ack.html", notice=found, person=person, acknowledged=event,
                                token=request.path_params["token"])
