"""Warnings where a mistake is likely as an incident opens: nothing is refused, the
person is told. A second open incident of the same case is usually the same crisis
typed twice, and splits its drafts, clocks and report in two."""
from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.i18n import _
from publisher.incident.incidents import Incident, list_incidents

if TYPE_CHECKING:
    from publisher.workspace.app import App


def opening_cautions(app: App, opened: Incident) -> list[str]:
    others = [item for item in list_incidents(app)
              if item.case == opened.case and item.state != "resolved" and item.id != opened.id]
    if not others:
        return []
    ids = ", ".join(item.id for item in others)
    return [_("case {case} already has an open incident ({ids}); this opened another one. If it is the same crisis, "
              "keep working on {first} (--incident {first}) and resolve this one: publish incident resolve {id} "
              "--note \"duplicate of {first}\"").format(case=opened.case, ids=ids, first=others[0].id, id=opened.id)]
