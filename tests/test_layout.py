"""The core's layout: no import circle in `publisher/` or `channels/`, and no stage
imports one above it (DESIGN.md, Layout). Imports are read with `ast`, lazy ones
inside functions and `TYPE_CHECKING` ones included."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lowest first: a module may import its own stage or a lower one, never a higher one.
STAGES = ["foundation", "channels", "log", "workspace", "incident", "drafting", "delivery", "evidence", "face"]
FOUNDATION = {"publisher", "publisher.errors", "publisher.timeparse", "publisher.i18n"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    found = {}
    for package in ("publisher", "channels"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{alias.name}" for alias in node.names]
            targets = names if all(target in known for target in names) else names + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def stage_of(name: str) -> str:
    if name in FOUNDATION or name == "publisher.__main__":
        return "face" if name == "publisher.__main__" else "foundation"
    if name.startswith("channels"):
        return "channels"
    second = name.split(".")[1]
    if second in ("cli", "web"):
        return "face"
    assert second in STAGES, f"{name} sits in no stage package; put it in one of {STAGES[2:-1]}"
    return second


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    known = set(modules)
    return {name: imported_modules(name, path, known) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_circle_in_publisher_or_channels():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_no_stage_imports_a_higher_one():
    upward = []
    for name, targets in import_graph().items():
        rank = STAGES.index(stage_of(name))
        for target in sorted(targets):
            if STAGES.index(stage_of(target)) > rank:
                upward.append(f"{name} ({stage_of(name)}) imports {target} ({stage_of(target)})")
    assert not upward, "imports against the flow:\n" + "\n".join(upward)


def test_channels_never_import_the_core():
    offenders = [name for name, targets in import_graph().items() if name.startswith("channels")
                 for target in targets if target.startswith("publisher") and target not in FOUNDATION]
    assert not offenders, offenders


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
])
def test_the_circle_finder_itself(graph, expected):
    assert find_cycle(graph) == expected


def test_the_reader_sees_lazy_and_relative_imports(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("def f():\n    from publisher.log.store import Store\nfrom . import sibling\n")
    found = imported_modules("publisher.drafting.mod", source,
                             {"publisher.log.store", "publisher.drafting.sibling", "publisher.drafting"})
    assert found == {"publisher.log.store", "publisher.drafting.sibling"}
