"""The `publish` command line. Each command parses its flags, calls one function of the
core and prints; the core's named errors become exit codes here (2 bad input or
refused, 1 not delivered or check failed) with one sentence and no traceback."""
from __future__ import annotations


def main() -> None:
    """The console script: click renders everything, `--help` included, and nothing is
    written anywhere to speed up the next run. A reader that leaves early
    (`publish --help | head -1`) ends it with exit 1 and no traceback, as click does."""
    from publisher.cli.root import cli

    cli(prog_name="publish")


def __getattr__(name: str) -> object:
    if name == "cli":
        from publisher.cli.root import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["cli", "main"]
