"""Rendering message templates safely.

Guarantees:
- Templates run in Jinja2's `SandboxedEnvironment` with `StrictUndefined`: a template
  cannot reach Python internals, and a variable it uses but nobody provided is an
  error naming the variable and the template, never an empty string.
- Lookup: `templates/<lang>/case<N>/<kind>.<variant>.j2` before
  `templates/<lang>/<kind>.<variant>.j2`, the workspace's `templates/` before the
  shipped ones. Loaders only read inside those folders.
- Filters `clause` (a value inside a sentence, no final full stop) and `opening` (the
  same, capitalised, for a value that starts a sentence); `de` and `a` put the Spanish
  preposition before a value, contracted with "el" ("del retraso", "al retraso").
- Output is plain text, stripped, with runs of blank lines folded to one; it is what
  the draft hashes and what is sent, byte for byte.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from publisher.errors import BadInput
from publisher.workspace.folder import shipped_path
from publisher.i18n import _

VARIANTS = ("short", "long", "title")
MAX_TEXT = 100_000
VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def workspace_renderer(workspace: Path) -> Renderer:
    """The renderer of one workspace: its own `templates/` before the shipped ones."""
    return Renderer({"workspace": workspace / "templates", "shipped": shipped_path("templates")})


@dataclass(frozen=True)
class Rendered:
    """A template's output and the template it came from."""

    text: str
    template: str


class Renderer:
    """`folders` maps a prefix (`workspace`, `shipped`) to a templates folder, in the
    order they are searched; template names carry the prefix, so errors say which
    folder a template came from."""

    def __init__(self, folders: dict[str, Path]):
        from jinja2 import FileSystemLoader, PrefixLoader, StrictUndefined

        self.folders = {prefix: path for prefix, path in folders.items() if path.is_dir()}
        self.env = _limited_sandbox()(
            loader=PrefixLoader({prefix: FileSystemLoader(str(path)) for prefix, path in self.folders.items()}),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["clause"] = clause
        self.env.filters["opening"] = opening
        self.env.filters["de"] = lambda value: contracted("de", value)
        self.env.filters["a"] = lambda value: contracted("a", value)

    def candidates(self, language: str, case: int, kind: str, variant: str) -> list[str]:
        return [f"{prefix}/{language}/{folder}{kind}.{variant}.j2"
                for prefix in self.folders for folder in (f"case{case}/", "")]

    def render(self, language: str, case: int, kind: str, variant: str, context: Mapping[str, Any]) -> Rendered:
        from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError, UndefinedError
        from jinja2.exceptions import SecurityError

        names = self.candidates(language, case, kind, variant)
        for name in names:
            try:
                template = self.env.get_template(name)
                break
            except TemplateNotFound:
                continue
            except TemplateSyntaxError as error:
                raise BadInput(_("template {name} line {lineno}: {message}.").format(
                                   name=name, lineno=error.lineno, message=error.message)) from None
        else:
            raise BadInput(_("no {variant} template for {kind!r} in language {language!r}; looked for "
                             "{value}.").format(
                               variant=variant, kind=kind, language=language,
                               value=', '.join(names) or 'nothing: no templates folder exists'))
        try:
            text = template.render(**context)
        except UndefinedError as error:
            missing = re.fullmatch(r"'(\w+)' is undefined", str(error))
            hint = f"; pass it with --var {missing.group(1)}=VALUE" if missing else ""
            raise BadInput(_("template {name}: {error}{hint}.").format(name=name, error=error, hint=hint)) from None
        except SecurityError as error:
            raise BadInput(_("template {name} was refused by the sandbox: {value}.").format(
                               name=name, value=_sentence(error))) from None
        except TemplateNotFound as error:
            raise BadInput(_("template {name} includes or imports {name2!r}, which is not a template "
                             "inside the templates folders.").format(name=name, name2=error.name)) from None
        except TemplateError as error:
            raise BadInput(_("template {name}: {value}.").format(name=name, value=_sentence(error))) from None
        except Exception as error:
            raise BadInput(_("template {name} failed: {name__}: {value}.").format(
                               name=name, name__=type(error).__name__, value=_sentence(error))) from None
        if len(text) > MAX_TEXT:
            raise BadInput(_("template {name} rendered {count} characters; at most {MAX_TEXT} are allowed.").format(
                               name=name, count=len(text), MAX_TEXT=MAX_TEXT))
        return Rendered(tidy(text), name)


def _limited_sandbox() -> type:
    """Jinja2's sandbox, also refusing `*` and `**` that would build huge values (a
    template is not allowed to exhaust memory during a crisis)."""
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import SandboxedEnvironment

    class LimitedSandbox(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(right, (int, float)) and abs(right) > 100:
                raise SecurityError("exponent too large")
            if operator == "*":
                for value, times in ((left, right), (right, left)):
                    if isinstance(value, (str, list, tuple)) and isinstance(times, int) \
                            and len(value) * times > MAX_TEXT:
                        raise SecurityError("repetition builds a value too large")
            return super().call_binop(context, operator, left, right)

    return LimitedSandbox


def clause(value: Any) -> str:
    """A value as it sits inside a sentence: one line, no final full stop."""
    return " ".join(str(value).split()).rstrip(".").rstrip()


def opening(value: Any) -> str:
    """A value that opens a sentence: `clause`, with a capital first letter."""
    text = clause(value)
    return text[:1].upper() + text[1:]


def contracted(preposition: str, value: Any) -> str:
    """Spanish `de`/`a` before a value, contracted with its article: "del retraso", "al retraso"."""
    text = clause(value)
    if text.startswith("el "):
        return f"{preposition}l {text[3:]}"
    return f"{preposition} {text}"


def _sentence(error: Exception) -> str:
    return str(error).strip().rstrip(".")


def tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def parse_vars(pairs: tuple[str, ...]) -> dict[str, str]:
    """`--var KEY=VALUE` flags as a dict; a malformed one is a `BadInput`."""
    variables: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not VAR_NAME.fullmatch(key.strip()):
            raise BadInput(_("--var {pair!r} must be KEY=VALUE with KEY made of letters, digits and _.").format(
                               pair=pair))
        variables[key.strip()] = value
    return variables
