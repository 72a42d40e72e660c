"""The parsed form of the package's own data files, kept between runs.

Guarantees: `parsed(path, parse)` returns `parse(text of path)`. A form kept from an
earlier run is used only for the very file it was made from (same path, size and
modification time, same Python, same `tag`); anything else, or a kept form that cannot
be read, parses the file again. Forms are kept with `marshal` (plain values only: a
result that is not plain is simply not kept) in a `__pycache__` folder beside the file,
the way Python keeps byte-code, written atomically; a folder that cannot be written
only means nothing is kept. Only files shipped with the package go through here (the
interface's catalogues, the shipped playbooks): never a workspace's file, since a
secrets file must never be copied anywhere.
"""
from __future__ import annotations

import marshal
import os
import sys
from pathlib import Path
from typing import Any, Callable

FORMAT = 1


def parsed(path: Path, parse: Callable[[str], Any], tag: str) -> Any:
    try:
        stat = path.stat()
    except OSError:
        return parse(path.read_text(encoding="utf-8"))
    key = (FORMAT, tag, sys.version_info[:2], str(path), stat.st_size, stat.st_mtime_ns)
    kept = path.parent / "__pycache__" / f"{path.name}.{tag}.marshal"
    try:
        found_key, value = marshal.loads(kept.read_bytes())
        if found_key == key:
            return value
    except (OSError, ValueError, EOFError, TypeError):
        pass
    value = parse(path.read_text(encoding="utf-8"))
    _keep(kept, key, value)
    return value


def _keep(kept: Path, key: tuple, value: Any) -> None:
    try:
        data = marshal.dumps((key, value))
    except ValueError:
        return
    temporary = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
    try:
        kept.parent.mkdir(exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, kept)
    except OSError:
        try:
            temporary.unlink()
        except OSError:
            pass
