"""Where the shipped templates and example config are, installed or in a checkout.

A wheel carries them in `publisher/_shipped/`; a source checkout (and an editable
install) has them at the repository root.
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def shipped_path(name: str) -> Path:
    """`templates` or `config`, from the wheel if installed, else from the checkout."""
    inside = _PACKAGE / "_shipped" / name
    if inside.exists():
        return inside
    return _PACKAGE.parent / name
