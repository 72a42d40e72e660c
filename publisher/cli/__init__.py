"""The `publish` command line. Each command parses its flags, calls one function of the
core and prints; the core's named errors become exit codes here (2 bad input or
refused, 1 not delivered or check failed) with one sentence and no traceback."""
from __future__ import annotations

from publisher.cli.root import cli


def main() -> None:
    cli(prog_name="publish")


__all__ = ["cli", "main"]
