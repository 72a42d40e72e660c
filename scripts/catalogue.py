"""Extract the interface's sentences, update the catalogues and compile them.

    python scripts/catalogue.py            # publisher/locale/publish.pot, every <lang>/.../publish.po and .mo
    python scripts/catalogue.py --compile  # only compile each publish.po to the publish.mo read at run time
    python scripts/catalogue.py --check    # exit 1 naming each sentence without a translation
                                           # and each .mo not compiled from its .po as it is now

Sources: the Python and console templates Babel reads through `babel.cfg` (keywords
`_`, `N_`, `ngettext`), plus every click help text and command docstring (those are
English in the source and translated at run time by `publisher.cli.help_text`) and the
shipped playbooks' case and step titles.
Entries no longer in the source are dropped; existing translations are kept.
The compiled `.mo` is committed beside its `.po` and shipped in the wheel, so nothing is
compiled or written inside the installed package at run time.
"""
from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from publisher.i18n import DOMAIN, LANGUAGES, catalogue_path, compiled_path, locale_dir  # noqa: E402

TRANSLATED = [language for language in LANGUAGES if language != "en"]

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
    for language in TRANSLATED:
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


def _read_po(source: Path, language: str) -> Catalog:
    with open(source, "rb") as po:
        return read_po(po, locale=language)


def compile_catalogue(source: Path, target: Path, language: str) -> bool:
    """`source` (.po) compiled to `target` (.mo), fuzzy and empty translations left out so
    those sentences show in English; say whether `target` changed (one already in step
    is not rewritten)."""
    compiled = BytesIO()
    write_mo(compiled, _read_po(source, language))
    if target.exists() and target.read_bytes() == compiled.getvalue():
        return False
    target.write_bytes(compiled.getvalue())
    return True


def compile_catalogues() -> list[Path]:
    """Every language's .po compiled to the .mo read at run time; the ones rewritten."""
    return [compiled_path(language) for language in TRANSLATED if catalogue_path(language).exists()
            and compile_catalogue(catalogue_path(language), compiled_path(language), language)]


def _translations(catalog: Catalog) -> dict[object, object]:
    """What a compiled catalogue holds: the plural rule and each translated, non-fuzzy entry."""
    found: dict[object, object] = {"Plural-Forms": catalog.plural_forms}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        key = tuple(message.id) if isinstance(message.id, (list, tuple)) else message.id
        strings = tuple(message.string) if isinstance(message.string, (list, tuple)) else message.string
        if any(strings) if isinstance(strings, tuple) else strings:
            found[(message.context, key)] = strings
    return found


def out_of_step(source: Path, target: Path, language: str) -> list[str]:
    """Why the .mo `target` is not what the .po `source` compiles to (empty when it is):
    the entries that differ, are missing or are extra, and a different plural rule."""
    if not target.exists():
        return [f"{target.name} is missing"]
    with open(target, "rb") as compiled:
        kept = _translations(read_mo(compiled))
    wanted = _translations(_read_po(source, language))
    return sorted(str(key[1] if isinstance(key, tuple) else key) for key in {*kept, *wanted}
                  if kept.get(key) != wanted.get(key))


def stale(language: str) -> list[str]:
    """`out_of_step` for one language's shipped catalogue."""
    if not catalogue_path(language).exists():
        return []
    return out_of_step(catalogue_path(language), compiled_path(language), language)


def main(argv: list[str]) -> int:
    if "--compile" in argv:
        for path in compile_catalogues():
            print(f"compiled {path.relative_to(ROOT)}")
        return 0
    template = extract()
    if "--check" in argv:
        problems = [(language, text) for language in TRANSLATED for text in untranslated(template, language)]
        for language, text in problems:
            print(f"{language}: no translation for {text!r}")
        behind = [(language, text) for language in TRANSLATED for text in stale(language)]
        for language, text in behind:
            print(f"{language}: publish.mo is not compiled from publish.po ({text!r}); "
                  f"run python scripts/catalogue.py --compile")
        return 1 if problems or behind else 0
    for path in update(template):
        print(f"updated {path.relative_to(ROOT)}")
    for path in compile_catalogues():
        print(f"compiled {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
