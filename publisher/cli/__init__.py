"""The `publish` command line. Each command parses its flags, calls one function of the
core and prints; the core's named errors become exit codes here (2 bad input or
refused, 1 not delivered or check failed) with one sentence and no traceback."""
from __future__ import annotations

import gc
import sys

HELP_FLAGS = (["--help"], ["-h"])


def main() -> None:
    """The console script. The cyclic garbage collector waits until the workspace is
    open (`Session.app`): what a command loads before that (click, its modules, the
    config, the channels) lives as long as the process, and collecting it again and
    again is wasted work; it is then frozen out of later collections. The root help is
    printed from its kept copy while that is still true (`quick_help`)."""
    gc.disable()
    try:
        if sys.argv[1:] in HELP_FLAGS:
            from publisher.cli import quick_help

            try:
                if not quick_help.shown():
                    quick_help.render_and_keep()
            except BrokenPipeError:
                quick_help.reader_gone()
            return
        _run()
    finally:
        gc.enable()


def _run() -> None:
    from publisher.cli.root import cli

    cli(prog_name="publish")


def __getattr__(name: str) -> object:
    if name == "cli":
        from publisher.cli.root import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["cli", "main"]
