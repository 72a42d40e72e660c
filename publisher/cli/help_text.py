"""Click's help texts in the interface's language.

Help texts are written in English and marked `N_()` (or are command docstrings); this
swaps them for their translation before a run, keeping the English original, so every
invocation starts from English and `--help` never reads a workspace (it follows
`PUBLISH_LANG`). A run in English with nothing swapped before costs one check."""
from __future__ import annotations

import inspect
from typing import Iterator

import click

from publisher.i18n import _, current_language, use_language

_swapped = False


def commands(root: click.Command) -> Iterator[click.Command]:
    """The tree's commands loaded so far (a lazy group loads its own when they are asked for)."""
    yield root
    if isinstance(root, click.Group):
        for command in list(root.commands.values()):
            yield from commands(command)


def every_command(root: click.Command) -> Iterator[click.Command]:
    """The whole tree, loading what a lazy group has not loaded yet."""
    yield root
    if isinstance(root, click.Group):
        context = click.Context(root)
        for name in root.list_commands(context):
            command = root.get_command(context, name)
            if command is not None:
                yield from every_command(command)


def help_texts(root: click.Command) -> Iterator[str]:
    """Every help text of the tree, in English (what the catalogue must translate)."""
    for command in every_command(root):
        for owner, attribute in _texts(command):
            original = owner.__dict__.get(f"_en_{attribute}", getattr(owner, attribute, None))
            if original:
                yield inspect.cleandoc(original)


def _texts(command: click.Command) -> Iterator[tuple[object, str]]:
    yield command, "help"
    yield command, "short_help"
    for param in command.params:
        if isinstance(param, click.Option):
            yield param, "help"


def start_run(root: click.Command) -> None:
    """A new invocation: no workspace language yet; help in `PUBLISH_LANG` (else English)."""
    global _swapped
    use_language(None)
    if current_language() == "en" and not _swapped:
        return
    for command in commands(root):
        _swap(command)
    _swapped = True


def localise(command: click.Command) -> None:
    """A command just loaded by a lazy group, in this run's language."""
    if current_language() == "en" and not _swapped:
        return
    for each in commands(command):
        _swap(each)


def _swap(command: click.Command) -> None:
    for owner, attribute in _texts(command):
        original = owner.__dict__.setdefault(f"_en_{attribute}", getattr(owner, attribute, None))
        if original:
            setattr(owner, attribute, _(inspect.cleandoc(original)))
