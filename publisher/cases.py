"""The four crisis cases of the playbook and the templates each one uses."""
from __future__ import annotations

from dataclasses import dataclass

from publisher.errors import BadInput


@dataclass(frozen=True)
class Case:
    number: int
    title: str
    templates: tuple[str, ...]


CASES = {
    1: Case(1, "technical fault, not our fault",
            ("external-causes", "reply", "reassurance", "update", "resolution")),
    2: Case(2, "technical fault, clearly ours",
            ("notice", "apology", "reassurance", "update", "resolution", "reply")),
    3: Case(3, "reputational risk we caused (e.g. a leak)",
            ("apology", "reassurance", "update", "resolution", "reply")),
    4: Case(4, "attacks by rivals or circumstances outside our control",
            ("reassurance", "external-causes", "update", "reply", "advisor")),
}


def get_case(number: int) -> Case:
    try:
        return CASES[number]
    except KeyError:
        raise BadInput(f"--case {number} does not exist; cases are 1 to 4 "
                       "(1 fault not ours, 2 fault ours, 3 reputational risk we caused, 4 attacks or outside "
                       "circumstances).") from None


def check_template(case: Case, template: str) -> None:
    if template not in case.templates:
        raise BadInput(f"--template {template!r} is not part of case {case.number} ({case.title}); "
                       f"its templates are {', '.join(case.templates)}.")
