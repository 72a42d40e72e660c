"""The options a channel's config section takes, and checking a section against them.

Kept apart from `channels.base` so that reading a workspace's config (every command)
loads no channel machinery: only these declarations (`channels.schemas`) and this check.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Option:
    """One key a channel's config section accepts."""

    kind: type | tuple[type, ...]
    required: bool = False
    default: Any = None
    secret: bool = False
    choices: tuple[Any, ...] = ()
    help: str = ""
    bounds: tuple[float, float] | None = None
    url: str = ""
    """For a base URL: an example ("https://mastodon.social"); the value must then be an
    http(s) URL with a host."""


COMMON_OPTIONS: dict[str, Option] = {
    "type": Option(str, required=True),
    "audience": Option(str, default="public", choices=("public", "internal")),
    "enabled": Option(bool, default=True),
}

NETWORK_OPTIONS: dict[str, Option] = {
    "api_url": Option(str, help="base URL of the platform's API (self-hosted servers, proxies, tests)",
                      url="https://api.example.org"),
    "timeout": Option((int, float), default=20, bounds=(0.1, 600),
                      help="seconds one whole request may take (connect, send, the whole answer)"),
}


class SettingError(ValueError):
    """A config key of a channel section is wrong: `key` names it, `expected` says what
    was wanted."""

    def __init__(self, key: str, expected: str):
        super().__init__(f"{key}: {expected}")
        self.key = key
        self.expected = expected


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
             list: "a list", dict: "a table"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _number_problem(value: float, bounds: tuple[float, float] | None) -> str | None:
    if not math.isfinite(value):
        return f"expected a finite number, got {value!r}"
    if bounds and not bounds[0] <= value <= bounds[1]:
        return f"expected a number from {bounds[0]:g} to {bounds[1]:g}, got {value!r}"
    return None


def validate_settings(options: Mapping[str, Option], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check `raw` against `options` and fill in defaults; raise `SettingError`."""
    unknown = sorted(set(raw) - set(options))
    if unknown:
        raise SettingError(unknown[0], "unknown key; expected one of " + ", ".join(sorted(options)))
    settings: dict[str, Any] = {}
    for key, option in options.items():
        if key not in raw:
            if option.required:
                raise SettingError(key, f"missing; expected {_type_name(option.kind)}")
            if option.default is not None:
                settings[key] = option.default
            continue
        value = raw[key]
        kinds = option.kind if isinstance(option.kind, tuple) else (option.kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise SettingError(key, f"expected {_type_name(option.kind)}, got {value!r}")
        if not isinstance(value, kinds):
            raise SettingError(key, f"expected {_type_name(option.kind)}, got {type(value).__name__} {value!r}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            problem = _number_problem(value, option.bounds)
            if problem:
                raise SettingError(key, problem)
        if option.url and not _is_http_url(str(value)):
            raise SettingError(key, f"an http(s) URL like {option.url}, got {value!r}")
        if option.choices and value not in option.choices:
            raise SettingError(key, "expected one of " + ", ".join(map(repr, option.choices)) + f", got {value!r}")
        settings[key] = value
    return settings


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value.strip())
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False
