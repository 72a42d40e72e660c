"""Secret references and redaction.

`${NAME}` in a channel's settings is looked up in the secrets file first (a TOML table
of NAME = "value", which must be private to its owner: mode 0600 or stricter), then in
the environment. Every value found this way is remembered by the `Redactor`, which
scrubs it (and its URL-encoded forms) from any text before that text is printed,
logged or written to a report; a secret URL's own secret parts (path tokens, query
values, password: `channels.url_secrets`) are remembered with it. A `${` that does not
open a well-formed `${NAME}` is refused, never kept as a literal.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote, quote_plus

from channels.redaction import matcher_for, redact
from channels.url_secrets import url_fragments
from publisher.errors import BadInput
from publisher.workspace.tomlfile import parse_toml
from publisher.i18n import _

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
MALFORMED = re.compile(r"\$\{(?![A-Za-z_][A-Za-z0-9_]*\})")


class Redactor:
    """Every secret found so far (the set only grows) and one pass that masks them all:
    the matcher is built when the set has changed since the last call, not per call."""

    def __init__(self, secrets: set[str] | None = None):
        self.secrets: set[str] = set()
        self._added: set[str] = set()
        self._frozen: frozenset[str] = frozenset()
        for secret in secrets or ():
            self.add(secret)

    def add(self, secret: str) -> None:
        if len(secret) >= 4 and secret not in self._added:
            self._added.add(secret)
            self.secrets.update({secret, quote(secret, safe=""), quote_plus(secret)})

    def frozen(self) -> frozenset[str]:
        """The secrets as one frozen set, the same object until a secret is added (what
        channels are given, so they share one matcher)."""
        if len(self._frozen) != len(self.secrets):
            self._frozen = frozenset(self.secrets)
        return self._frozen

    def __call__(self, text: str) -> str:
        return redact(text, matcher_for(self.frozen()))

    def scrub(self, value: Any) -> Any:
        """Redact every string inside a JSON-like value."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {key: self.scrub(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.scrub(item) for item in value]
        return value


class SecretSource:
    """Looks up `${NAME}` references: secrets file first, then the environment."""

    def __init__(self, secrets_file: Path, shown: str, environ: Mapping[str, str] | None = None):
        self.secrets_file = secrets_file
        self.shown = shown
        self.environ = os.environ if environ is None else environ
        self._file_values: dict[str, str] | None = None

    def file_values(self) -> dict[str, str]:
        if self._file_values is None:
            self._file_values = self._read_file()
        return self._file_values

    def _read_file(self) -> dict[str, str]:
        try:
            mode = self.secrets_file.stat().st_mode
        except FileNotFoundError:
            return {}
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise BadInput(_("{shown} is readable by others (mode {S_IMODE:04o}); run `chmod 600 {shown}` "
                             "before using it.").format(shown=self.shown, S_IMODE=stat.S_IMODE(mode)))
        try:
            text = self.secrets_file.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise BadInput(_("{shown} is not valid TOML: {error}.").format(shown=self.shown, error=error)) from None
        data = parse_toml(text, self.shown)
        bad = [key for key, value in data.items() if not isinstance(value, str)]
        if bad:
            raise BadInput(_("{shown}: {value} must be a string (NAME = \"value\").").format(
                               shown=self.shown, value=bad[0]))
        return data

    def reload(self) -> None:
        """Read the secrets file again at the next lookup (a secret added while a server runs)."""
        self._file_values = None

    def lookup(self, name: str) -> str | None:
        value = self.file_values().get(name)
        if value is None:
            value = self.environ.get(name)
        return value

    def resolve(self, value: Any, where: str, found: set[str], strict: bool = True) -> Any:
        """Replace references inside `value`; add each secret found to `found`. With
        `strict`, a missing name is a `BadInput` saying how to set it."""
        if isinstance(value, dict):
            return {key: self.resolve(item, f"{where}.{key}", found, strict) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item, where, found, strict) for item in value]
        if not isinstance(value, str) or "${" not in value:
            return value
        problem = reference_problem(value)
        if problem:
            raise BadInput(f"{where or 'a setting'} {problem}.")

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            secret = self.lookup(name)
            if secret is None:
                if strict:
                    raise BadInput(_("{where} needs ${{{name}}}, which is not set: export {name}=... or "
                                     "add {name} = \"...\" to {shown} (mode 0600).").format(
                                       where=where, name=name, shown=self.shown))
                return ""
            found.update(secret_fragments(secret))
            return secret

        resolved = REFERENCE.sub(substitute, value)
        if resolved != value and resolved:
            found.update(secret_fragments(resolved))
        return resolved


def secret_fragments(secret: str) -> set[str]:
    """A secret and, when it is a URL, each of its parts that is a secret on its own."""
    return {secret, *url_fragments(secret)}


def reference_problem(value: str) -> str | None:
    """What is wrong with the `${` in `value`, when one does not open a `${NAME}`."""
    if not MALFORMED.search(value):
        return None
    return ("holds a malformed secret reference: write ${NAME}, where NAME is letters, digits and _ "
            "and does not start with a digit")


def setting_problem(value: Any, secret: bool) -> str | None:
    """Why a config value breaks the `${NAME}` rule, or None: a malformed reference
    anywhere, or for a secret setting (every value of a table of secrets) a literal."""
    texts = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]
    for text in texts:
        if not isinstance(text, str):
            continue
        problem = reference_problem(text)
        if problem:
            return problem
        if secret and text and not REFERENCE.search(text):
            return ("is a secret: write it as \"${NAME}\" and keep the value in the environment or the "
                    "secrets file, never in the config")
    return None
