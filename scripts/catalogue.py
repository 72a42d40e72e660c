"""Extract the interface's sentences and update the catalogues.

    python scripts/catalogue.py           # publisher/locale/publish.pot + every <lang>/.../publish.po
    python scripts/catalogue.py --check   # exit 1 naming each sentence without a translation

Sources: the Python and console templates Babel reads through `babel.cfg` (keywords
`_`, `N_`, `ngettext`), plus every click help text and command docstring (those are
English in the source and translated at run time by `publisher.cli.help_text`) and the
shipped playbooks' case and step titles.
Entries no longer in the source are dropped; existing translations are kept.
"""
from __future__ import annotations

import inspect
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from publisher.i18n import DOMAIN, LANGUAGES, catalogue_path, locale_dir  # noqa: E402

KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def extract() -> Catalog:
    """Every msgid of the source, in a template catalogue."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    template = Catalog(project="publish", domain=DOMAIN, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    from publisher.cli import cli
    from publisher.cli.help_text import help_texts

    for text in help_texts(cli):
        template.add(text, None, [("publisher/cli", 0)])
    for text in playbook_titles():
        template.add(text, None, [("config/playbooks.toml", 0)])
    return template


def playbook_titles() -> list[str]:
    """The shipped playbooks' case and step titles: people read them in status and the
    report (a workspace's own playbooks are shown as written)."""
    from publisher.incident.playbooks import load_playbooks

    titles = []
    for book in load_playbooks(None).values():
        titles += [book.title, *(step.title for step in book.steps)]
    return titles


def update(template: Catalog) -> list[Path]:
    written = []
    with open(locale_dir() / f"{DOMAIN}.pot", "wb") as out:
        write_po(out, template, omit_header=False, sort_output=True, no_location=True)
    for language in LANGUAGES:
        if language == "en":
            continue
        path = catalogue_path(language)
        if path.exists():
            with open(path, "rb") as existing:
                catalog = read_po(existing, locale=language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, domain=DOMAIN, charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with open(path, "wb") as out:
            write_po(out, catalog, sort_output=True, no_location=True, width=100)
        written.append(path)
    return written


def untranslated(template: Catalog, language: str) -> list[str]:
    """The msgids of `template` with no (or a fuzzy) translation in `language`."""
    path = catalogue_path(language)
    if not path.exists():
        return [str(message.id) for message in template if message.id]
    with open(path, "rb") as existing:
        catalog = read_po(existing, locale=language)
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id)
        strings = found.string if found is not None else None
        if isinstance(strings, (list, tuple)):
            complete = all(strings)
        else:
            complete = bool(strings)
        if found is None or found.fuzzy or not complete:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def main(argv: list[str]) -> int:
    template = extract()
    if "--check" in argv:
        problems = [(language, text) for language in LANGUAGES if language != "en"
                    for text in untranslated(template, language)]
        for language, text in problems:
            print(f"{language}: no translation for {text!r}")
        return 1 if problems else 0
    for path in update(template):
        print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
