"""Which statement is "the response" of a case: the template kinds the 12 h verdict
("prepared") and the 48 h verdict ("published") count, from each case's
`[cases.N.response]` table of `config/playbooks.toml`.

Guarantees:
- Every kind named is one of the case's own `templates`, and every kind that counts as
  published counts as prepared too (the statement published is one that was prepared);
  anything else is one `BadInput` sentence naming the file, the line, the case, the
  key and the kind.
- A workspace case without its own `[cases.N.response]` keeps the shipped case's,
  narrowed to the kinds among its own templates; when none remains for a clock, the
  case is refused, saying what to add.
- With severity `single` (an isolated complaint) the response for both clocks is the
  `reply` to the source post (`kinds`), whatever the table says.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from publisher.errors import BadInput
from publisher.i18n import _

TEMPLATE_KINDS = ("apology", "external-causes", "reassurance", "update", "resolution", "notice", "reply", "advisor")
CLOCKS = ("prepared", "published")
SINGLE = ("reply",)
KEY_LINE = re.compile(r"^\s*(?:response\s*\.\s*)?([A-Za-z0-9_-]+)\s*=")


@dataclass(frozen=True)
class Response:
    """The template kinds each clock counts."""

    prepared: tuple[str, ...]
    published: tuple[str, ...]

    def kinds(self, clock: str, severity: str) -> tuple[str, ...]:
        """The kinds `clock` ("prepared" or "published") counts for an incident of `severity`."""
        if severity == "single":
            return SINGLE
        return self.prepared if clock == "prepared" else self.published

    def narrowed(self, templates: tuple[str, ...]) -> Response:
        return Response(tuple(kind for kind in self.prepared if kind in templates),
                        tuple(kind for kind in self.published if kind in templates))


def parse_response(raw: Any, case: int, templates: tuple[str, ...], shown: str, text: str) -> Response | None:
    """`[cases.N.response]` as read from the file `shown` (its `text`, to name lines);
    None when the case has none."""
    if raw is None:
        return None
    where = f"{shown}: [cases.{case}.response]"
    if not isinstance(raw, dict):
        raise BadInput(_("{where}: expected a table with prepared and published.").format(where=where))
    unknown = sorted(set(raw) - set(CLOCKS))
    if unknown:
        raise BadInput(_("{where}: unknown key {value!r}; expected prepared, published.").format(
            where=_at(shown, text, case, unknown[0]), value=unknown[0]))
    found: dict[str, tuple[str, ...]] = {}
    for clock in CLOCKS:
        kinds = raw.get(clock)
        if not isinstance(kinds, list) or not kinds or not all(isinstance(kind, str) for kind in kinds):
            raise BadInput(_("{where} {key}: expected a list of the template kinds that count as the response.").format(
                where=_at(shown, text, case, clock), key=clock))
        for kind in kinds:
            _check_kind(kind, clock, case, templates, shown, text)
        found[clock] = tuple(kinds)
    stray = next((kind for kind in found["published"] if kind not in found["prepared"]), None)
    if stray is not None:
        raise BadInput(_("{where} published: {kind!r} is not in prepared; a statement that counts as published "
                         "must count as prepared too.").format(
                             where=_at(shown, text, case, "published", stray), kind=stray))
    return Response(found["prepared"], found["published"])


def inherit(own: Response | None, shipped: Response | None, case: int, templates: tuple[str, ...],
            shown: str) -> Response:
    """The case's response: its own, else the shipped case's narrowed to its templates."""
    if own is not None:
        return own
    if shipped is None:
        raise BadInput(_("{shown}: [cases.{case}] has no [cases.{case}.response]; add one saying which template "
                         "kinds are the response (prepared = [...], published = [...]).").format(
                             shown=shown, case=case))
    narrowed = shipped.narrowed(templates)
    for clock in CLOCKS:
        if not getattr(narrowed, clock):
            raise BadInput(_("{shown}: [cases.{case}] has no [cases.{case}.response], and none of the shipped "
                             "{key} kinds ({kinds}) is among its templates ({templates}); add [cases.{case}.response] "
                             "saying which of its templates are the response.").format(
                                 shown=shown, case=case, key=clock, kinds=", ".join(getattr(shipped, clock)),
                                 templates=", ".join(templates) or "-"))
    return narrowed


def _check_kind(kind: str, clock: str, case: int, templates: tuple[str, ...], shown: str, text: str) -> None:
    where = _at(shown, text, case, clock, kind)
    if kind not in TEMPLATE_KINDS and kind not in templates:
        raise BadInput(_("{where} {key}: unknown template kind {kind!r}; the kinds are {kinds}.").format(
            where=where, key=clock, kind=kind, kinds=", ".join(TEMPLATE_KINDS)))
    if kind not in templates:
        raise BadInput(_("{where} {key}: {kind!r} is not one of case {case}'s templates ({templates}).").format(
            where=where, key=clock, kind=kind, case=case, templates=", ".join(templates) or "-"))


def _at(shown: str, text: str, case: int, key: str, kind: str | None = None) -> str:
    """`shown` with the line of `[cases.N.response]`'s `key` (holding `kind`) when it can be found."""
    number = line_of(text, case, key, kind)
    head = _("{file} line {line}").format(file=shown, line=number) if number else shown
    return f"{head}: [cases.{case}.response]"


def line_of(text: str, case: int, key: str, kind: str | None = None) -> int | None:
    """The line of `text` where case `case`'s response gives `key` (the one naming `kind`
    when given: an array may run over several lines); else the line of its table."""
    table = f"[cases.{case}.response]"
    inside = in_key = False
    header = None
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        if code.strip().startswith("["):
            name = code.strip().replace(" ", "")
            inside, in_key = name in (f"[cases.{case}]", table), False
            header = number if name == table else header
            continue
        if not inside:
            continue
        named = KEY_LINE.match(code)
        if named is not None:
            in_key = named.group(1) == key or bool(re.search(rf"\b{re.escape(key)}\s*=", code))
        elif re.search(rf"\b{re.escape(key)}\s*=", code):
            in_key = True
        if in_key and (kind is None or f'"{kind}"' in code or f"'{kind}'" in code):
            return number
    return header
