"""Parsing the TOML files a person writes (config, secrets, playbooks).

Guarantees: a file that is not TOML, or whose values nest deeper than any setting needs
(a nesting bomb that would exhaust the parser or the code walking it), is one `BadInput`
sentence naming the file; nothing else escapes.
"""
from __future__ import annotations

import sys
from typing import Any

from publisher.errors import BadInput
from publisher.i18n import _
from publisher.workspace.inputs import check_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MAX_DEPTH = 16


def parse_toml(text: str, shown: str) -> dict[str, Any]:
    check_text(text, shown)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BadInput(_("{file} is not valid TOML: {error}.").format(file=shown, error=error)) from None
    except RecursionError:
        data = None
    if data is None or _too_deep(data, MAX_DEPTH):
        raise BadInput(_("{file}: values nest deeper than {depth} levels; no setting needs that.").format(
            file=shown, depth=MAX_DEPTH))
    _check_strings(data, shown)
    return data


def _too_deep(value: Any, budget: int) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > budget:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return False


def _check_strings(value: Any, shown: str, path: str = "") -> None:
    """Escapes such as \\u001b make control characters only after parsing: check each key and value."""
    if isinstance(value, str):
        check_text(value, f"{shown}: {path}" if path else shown)
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else key
            check_text(key, f"{shown}: {inner}")
            _check_strings(item, shown, inner)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, shown, path)
