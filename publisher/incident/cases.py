"""The four crisis cases: which playbook each follows and which templates it uses.

Guarantees: a case number outside 1-4 and a template its playbook does not name are
refused with the list of what exists; the definitions come from the playbooks (shipped,
or the workspace's own `config/playbooks.toml`).
"""
from __future__ import annotations

from pathlib import Path

from publisher.errors import BadInput
from publisher.incident.playbooks import Playbook, load_playbooks, playbook
from publisher.i18n import N_, _

Case = Playbook
CASE_HELP = N_("(1 fault not ours, 2 fault ours, 3 reputational risk we caused, 4 attacks or outside circumstances)")


def shipped_cases() -> dict[int, Playbook]:
    """The four shipped playbooks, by case number."""
    return load_playbooks(None)


def get_case(number: int, workspace: Path | None = None) -> Playbook:
    if number not in (1, 2, 3, 4):
        raise BadInput(_("--case {number} does not exist; cases are 1 to 4 {CASE_HELP}.").format(
                           number=number, CASE_HELP=_(CASE_HELP)))
    return playbook(workspace, number)


def check_template(case: Playbook, template: str) -> None:
    if template not in case.templates:
        raise BadInput(_("--template {template!r} is not part of case {number} ({title}); its templates "
                         "are {names}.").format(
                           template=template, number=case.number, title=case.title,
                           names=', '.join(case.templates)))
