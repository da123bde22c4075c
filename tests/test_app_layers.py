"""The apps form layers: no app imports, through any chain, an app that imports it back.

Each app's modules (migrations aside: they name other apps only as migration dependencies) are
read with `ast`, every import of another app of ours becomes an edge between the two apps, and
the graph must have no cycle. Imports inside functions and under TYPE_CHECKING count too: a
dependency postponed is still a dependency. `wavespeed`, the provider's app, is the lowest layer
and imports no other app of ours.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Our top-level packages, Django apps or not (config and imaging are plain packages).
APPS = (
    "accounts",
    "api",
    "audit",
    "config",
    "elements",
    "gallery",
    "generations",
    "hooks",
    "imaging",
    "projects",
    "references",
    "reports",
    "simulator",
    "spend",
    "wavespeed",
)
# Imports against the layers that are still to be undone (issue 13's split of generations/);
# each closes a cycle. The list may only shrink: an edge that is gone must leave it, and no
# other edge may close a cycle.
PENDING = {
    # users_deactivate revokes the person's share links.
    ("accounts", "gallery"),
    # The staff trail links each entry to its image, generation or project.
    ("audit", "generations"),
    ("audit", "projects"),
    # A project's page shows its gallery and moves images back; removing or demoting a member
    # revokes their share links.
    ("projects", "gallery"),
}


def modules_of(app: str) -> Iterator[Path]:
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" not in path.relative_to(ROOT).parts:
            yield path


def imported_apps(path: Path, app: str) -> Iterator[tuple[str, int]]:
    """(other app, line) for each import in `path` of another app of ours."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in APPS and top != app:
                yield top, node.lineno


def app_graph() -> dict[str, dict[str, list[str]]]:
    """app -> {imported app -> ["path:line", ...]}"""
    graph: dict[str, dict[str, list[str]]] = {app: {} for app in APPS}
    for app in APPS:
        for path in modules_of(app):
            for other, line in imported_apps(path, app):
                where = f"{path.relative_to(ROOT).as_posix()}:{line}"
                graph[app].setdefault(other, []).append(where)
    return graph


def find_cycle(graph: dict[str, dict[str, list[str]]]) -> list[str]:
    """One cycle as [a, b, ..., a], or [] when there is none (depth-first search)."""
    done: set[str] = set()
    path: list[str] = []

    def visit(app: str) -> list[str]:
        if app in path:
            return [*path[path.index(app) :], app]
        if app in done:
            return []
        path.append(app)
        for other in sorted(graph[app]):
            if cycle := visit(other):
                return cycle
        path.pop()
        done.add(app)
        return []

    for app in sorted(graph):
        if cycle := visit(app):
            return cycle
    return []


def test_every_app_is_read() -> None:
    for app in APPS:
        assert (ROOT / app / "__init__.py").is_file(), f"{app} is not a package"
    assert len(list(modules_of("generations"))) > 10


def test_no_import_cycle_between_the_apps() -> None:
    graph = app_graph()
    for app, other in PENDING:
        graph[app].pop(other, None)
    cycle = find_cycle(graph)
    assert not cycle, (
        "The apps import each other in a circle: "
        + " -> ".join(cycle)
        + "\n"
        + (
            "\n".join(
                f"  {a} -> {b}: {', '.join(graph[a][b][:5])}" for a, b in itertools.pairwise(cycle)
            )
        )
    )


def test_the_pending_imports_still_exist() -> None:
    """An edge of PENDING that is gone leaves the list, so it cannot come back unnoticed."""
    graph = app_graph()
    gone = sorted(edge for edge in PENDING if edge[1] not in graph[edge[0]])
    assert not gone, f"These imports are gone: remove them from PENDING: {gone}"


def test_wavespeed_imports_no_other_app() -> None:
    imported = app_graph()["wavespeed"]
    assert not imported, f"wavespeed imports other apps: {imported}"


def test_elements_does_not_import_generations() -> None:
    assert "generations" not in app_graph()["elements"]


def test_generations_does_not_import_the_gallery() -> None:
    """The gallery is built over the run's models; the run knows nothing of the gallery."""
    imported = app_graph()["generations"]
    assert "gallery" not in imported, f"generations imports gallery: {imported['gallery']}"


def test_a_cycle_is_found() -> None:
    """The search finds a cycle when there is one (so a green run means something)."""
    graph = {"a": {"b": ["a.py:1"]}, "b": {"c": ["b.py:1"]}, "c": {"a": ["c.py:1"]}, "d": {}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": []}, "b": {}}) == []
