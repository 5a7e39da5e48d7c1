"""The shape of the code, checked statically over every import (module level, inside functions, and
under ``TYPE_CHECKING``): no import cycle among mastertrade's modules outside the TUI, and inside the TUI
none between the app and its screens. The layers of the engine are import-linter's contract
(``pyproject.toml``, ``lint-imports``)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest

import mastertrade

ROOT = Path(mastertrade.__file__).parent


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("mastertrade", cache_dir=None)


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan): each holds a cycle."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert cycles({"a": ["b"], "b": ["c"], "c": []}) == []


def test_every_package_folder_is_a_package() -> None:
    """A folder without ``__init__.py`` is a namespace package, which grimp (and so this file and
    import-linter) would silently leave out."""
    folders = [
        path
        for path in ROOT.rglob("*")
        if path.is_dir() and any(path.glob("*.py")) and "migrations" not in path.parts
    ]
    assert [str(path) for path in folders if not (path / "__init__.py").exists()] == []


def test_no_import_cycle_outside_the_tui(graph: grimp.ImportGraph) -> None:
    modules = {module for module in graph.modules if not module.startswith("mastertrade.tui")}
    assert "mastertrade.engine.execution.trader" in modules and len(modules) > 200
    edges = {
        module: [target for target in graph.find_modules_directly_imported_by(module) if target in modules]
        for module in modules
    }
    assert cycles(edges) == []


def test_the_tuis_screens_and_widgets_never_reach_the_app(graph: grimp.ImportGraph) -> None:
    """Screens post messages the app handles (``tui/messages.py``); none imports the app, even
    through another module, so the app and its screens form no cycle."""
    parts = sorted(
        module
        for module in graph.modules
        if module.startswith(("mastertrade.tui.screens.", "mastertrade.tui.widgets."))
    )
    assert "mastertrade.tui.screens.market" in parts
    reaching = [
        module for module in parts if graph.chain_exists(importer=module, imported="mastertrade.tui.app")
    ]
    assert reaching == []
    tui = {module for module in graph.modules if module.startswith("mastertrade.tui")}
    edges = {
        module: [target for target in graph.find_modules_directly_imported_by(module) if target in tui]
        for module in tui
    }
    assert cycles(edges) == []
