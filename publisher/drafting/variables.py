"""Template variables, declared beside the templates.

Each `templates/<lang>/variables.toml` has a table per kind (`[apology]`) and per case
version (`[case3.apology]`, used when `templates/<lang>/case3/apology.*.j2` exists), each
with `required` and `optional` lists of names, and a `[help]` table saying what each name
is for. A workspace's own `templates/<lang>/variables.toml` replaces whole tables.

Guarantees:
- A `--var` whose name no template of that kind, case and language uses is refused,
  naming the closest known name.
- A required variable with no value (from the incident, the config or `--var`) is
  named before anything is rendered, with where to give it; a statement that says what
  happened and has no `what` says so (the summary is never used instead).
- `[agreement]` names the variables Spanish sentences agree with and how (number,
  gender); tests/test_template_grammar.py renders both forms of each.
- tests/test_template_variables.py proves each declaration lists exactly the names its
  three variants use, so the list shown by `publish templates show` is the truth.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher.errors import BadInput
from publisher.i18n import _
from publisher.workspace.folder import shipped_path

DECLARATIONS = "variables.toml"
# Names the tool gives every template, and where each comes from.
PROVIDED = {
    "organisation": "[organisation] name",
    "website": "[organisation] website",
    "ustedes": "[organisation] register",
    "case": "the incident",
    "incident_id": "the incident",
    "language": "--lang, else the incident's",
    "first_seen": "the incident (--first-seen)",
    "summary": "the incident (--summary)",
    "source": "the incident (--source)",
    "author": "the incident (--author)",
    "platform": "the incident (--platform)",
    "what": "the incident (--what, --what-en, --what-es) or --var what=",
    "what_plural": "the article of --what (Spanish)",
    "what_feminine": "the article of --what (Spanish)",
    "next_update": "now plus [cases.N] update_every, or --var next_update=HH:MM",
    "update_number": "the count of earlier updates of the incident",
    "solutions": "--solution / --solutions-file",
}


@dataclass(frozen=True)
class Declaration:
    """The variables a template kind declares, required and optional."""

    language: str
    kind: str
    case: int | None
    required: tuple[str, ...]
    optional: tuple[str, ...]
    help: dict[str, str]

    @property
    def names(self) -> tuple[str, ...]:
        return self.required + self.optional


def folders(workspace: Path | None) -> list[Path]:
    shipped = shipped_path("templates")
    return ([workspace / "templates"] if workspace else []) + [shipped]


def declaration(workspace: Path | None, language: str, case: int, kind: str) -> Declaration:
    """The declaration for one kind as rendered for `case` in `language`."""
    tables = _tables(workspace, language)
    case_key = f"case{case}.{kind}"
    key = case_key if case_key in tables and _has_case_version(workspace, language, case, kind) else kind
    if key not in tables:
        raise BadInput(_("templates/{language}/{file} declares no variables for {kind!r}; add a [{kind}] table "
                         "with required and optional lists.").format(language=language, file=DECLARATIONS,
                                                                    kind=kind))
    table = tables[key]
    return Declaration(language, kind, case if key == case_key else None, tuple(table.get("required", ())),
                       tuple(table.get("optional", ())), dict(tables.get("help", {})))


def check_variables(workspace: Path | None, language: str, case: int, kind: str, given: dict[str, Any],
                    context: dict[str, Any]) -> None:
    """Refuse an unknown `--var` (naming the closest known name) and name a missing required one."""
    found = declaration(workspace, language, case, kind)
    known = set(found.names) | set(PROVIDED)
    for name in given:
        if name not in known:
            close = _closest(name, sorted(known), cutoff=0.6)
            hint = _("; did you mean --var {name}=...?").format(name=close[0]) if close else ""
            raise BadInput(_("--var {name}: case {case} {kind} ({language}) has no variable of that name{hint} "
                             "`publish templates show {kind}` lists them.").format(
                name=name, case=case, kind=kind, language=language, hint=hint))
    missing = [name for name in found.required if context.get(name) in (None, "", [])]
    if "what" in missing:
        raise BadInput(_("case {case} {kind} ({language}) says what happened, and the incident does not say it: "
                         "give the short noun phrase with --var what=\"...\" (e.g. \"la caída del sistema de "
                         "pagos\" or \"the payment system outage\"), or open the incident with --what. The internal --summary is never "
                         "published.").format(case=case, kind=kind, language=language))
    if "what" in found.names and context.get("what"):
        from publisher.drafting.phrasing import require_agreement

        require_agreement(str(context["what"]), language)
    if missing:
        name = missing[0]
        source = PROVIDED.get(name, f"--var {name}=VALUE")
        raise BadInput(_("case {case} {kind} ({language}) needs {name!r}: give it with {source}.").format(
            case=case, kind=kind, language=language, name=name, source=source))


def _tables(workspace: Path | None, language: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for folder in reversed(folders(workspace)):
        path = folder / language / DECLARATIONS
        if path.is_file():
            merged.update(_flatten(_read(path)))
    return merged


def _read(path: Path) -> dict[str, Any]:
    from publisher.workspace.tomlfile import parse_toml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(_("{file} cannot be read as TOML: {error}.").format(file=path, error=error)) from None
    return parse_toml(text, str(path))


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key.startswith("case") and isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
            flat.update({f"{key}.{kind}": table for kind, table in value.items()})
        else:
            flat[key] = value
    return flat


def _has_case_version(workspace: Path | None, language: str, case: int, kind: str) -> bool:
    return any((folder / language / f"case{case}").glob(f"{kind}.*.j2") for folder in folders(workspace))


def overview(workspace: Path | None, kind: str | None = None) -> list[dict[str, Any]]:
    """One row per (kind, case, language) a workspace's playbooks use: its variables and where
    each comes from. `kind` narrows to one kind; an unknown kind is `BadInput`."""
    from publisher.incident.response import TEMPLATE_KINDS as KINDS
    from publisher.incident.playbooks import load_playbooks

    if kind is not None and kind not in KINDS:
        close = _closest(kind, KINDS)
        hint = _("; did you mean {name}?").format(name=close[0]) if close else ""
        raise BadInput(_("no template kind {kind!r}{hint} Kinds: {kinds}.").format(
            kind=kind, hint=hint, kinds=", ".join(KINDS)))
    rows = []
    for number, book in sorted(load_playbooks(workspace).items()):
        for name in book.templates:
            if kind is not None and name != kind:
                continue
            for language in ("es", "en"):
                found = declaration(workspace, language, number, name)
                rows.append({"kind": name, "case": number, "language": language,
                             "version": f"case{number}" if found.case else _("shared"),
                             "required": list(found.required), "optional": list(found.optional),
                             "help": {key: found.help.get(key) or PROVIDED.get(key, "")
                                      for key in found.names},
                             "from": {key: PROVIDED.get(key, "--var") for key in found.names}})
    return rows


def _closest(word: str, choices: list[str] | tuple[str, ...], cutoff: float = 0.6) -> list[str]:
    """The nearest choice, for a refusal's hint (difflib is loaded only to refuse)."""
    import difflib

    return difflib.get_close_matches(word, choices, n=1, cutoff=cutoff)
