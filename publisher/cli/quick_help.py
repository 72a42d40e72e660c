"""`publish --help` from the copy the last rendering left beside the byte-code.

Guarantees: what is printed is what click printed for the same inputs. A kept copy is
used only when the language settings (`PUBLISH_LANG` and the locale variables), the
terminal's width (`COLUMNS` and the terminal's own) and the Python are the same, and
every file the rendering read (the command modules, click's own, the catalogue) still
has the size and modification time it had; anything else renders through click again
and keeps the new text. A copy that cannot be read or written only means click renders.
The help holds no workspace data and no secret: `--help` never reads a workspace.
"""
from __future__ import annotations

import marshal
import os
import sys

FORMAT = 1
ENVIRONMENT = ("PUBLISH_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "COLUMNS")
KEPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__", "root-help.marshal")


def shown() -> bool:
    """Print the kept help when it is still true for this run; say whether it was."""
    try:
        with open(KEPT, "rb") as kept:
            inputs, files, text = marshal.load(kept)
    except (OSError, ValueError, EOFError, TypeError):
        return False
    if inputs != _inputs() or any(_signature(path) != signature for path, signature in files):
        return False
    sys.stdout.write(text)
    sys.stdout.flush()
    return True


def render_and_keep() -> None:
    """Print the root help as click's help option does (`echo(ctx.get_help())`) and keep
    the text for the runs after this one."""
    import click

    from publisher.cli.help_text import start_run
    from publisher.cli.root import cli

    inputs = _inputs()
    start_run(cli)
    with cli.make_context("publish", ["--help"], resilient_parsing=True) as context:
        text, color = context.get_help(), context.color
    if "\x1b" not in text:
        _keep(inputs, text + "\n")
    click.echo(text, color=color)


def reader_gone() -> None:
    """The help's reader left before its end (`publish --help | head -1`): exit 1 without
    a word, as click does, the rest of the output going nowhere."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise SystemExit(1)


def _inputs() -> tuple[object, ...]:
    try:
        columns: int | None = os.get_terminal_size(sys.__stdout__.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = None
    return FORMAT, tuple(sys.version_info[:3]), tuple(os.environ.get(name, "") for name in ENVIRONMENT), columns


def _signature(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _read_files() -> list[str]:
    """The files the rendering read: every module loaded from this package or click, and
    the interface's catalogue for the language in force."""
    import click

    from publisher.i18n import catalogue_path, current_language

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    roots = (package + os.sep, os.path.dirname(os.path.abspath(click.__file__)) + os.sep)
    files = sorted({module.__file__ for module in list(sys.modules.values())
                    if isinstance(getattr(module, "__file__", None), str) and module.__file__.startswith(roots)})
    language = current_language()
    if language != "en":
        files.append(str(catalogue_path(language)))
    return files


def _keep(inputs: tuple[object, ...], text: str) -> None:
    files = [(path, _signature(path)) for path in _read_files()]
    temporary = f"{KEPT}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(KEPT), exist_ok=True)
        with open(temporary, "wb") as out:
            marshal.dump((inputs, files, text), out)
        os.replace(temporary, KEPT)
    except (OSError, ValueError):
        try:
            os.unlink(temporary)
        except OSError:
            pass
