"""The import graph has no circle and every import points down a layer.

The layers are declared once, in pyproject.toml ([tool.draftflow] layers); the README's
layer table must say the same. Every import counts, including one inside a function: a
lazy import that points up or closes a circle is still a dependency.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
# Not part of the import graph: the suite, Alembic's scripts, deployment settings, data.
OUTSIDE = {"tests", "migrations", "deploy", "static", "templates", "translations", "instance"}


@dataclass(frozen=True)
class Layer:
    name: str
    modules: tuple[str, ...]
    apart: bool = False


def declared_layers() -> list[Layer]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [
        Layer(item["name"], tuple(item["modules"]), bool(item.get("apart", False)))
        for item in config["tool"]["draftflow"]["layers"]
    ]


def project_modules(root: Path) -> dict[str, Path]:
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[0] in OUTSIDE or any(part.startswith(".") for part in parts):
            continue
        if "." in parts[-1]:  # not importable (e.g. gunicorn.conf.py)
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _known(name: str, modules: Iterable[str]) -> str | None:
    """The project module an import of `name` loads (a package for a name inside it)."""
    known = set(modules)
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(source: str, modules: Iterable[str]) -> set[str]:
    """The project modules a module's source imports, at any depth of its code."""
    modules = set(modules)
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from a import b` loads the module a.b when there is one, else a.
            targets = [
                f"{node.module}.{alias.name}"
                if f"{node.module}.{alias.name}" in modules
                else node.module
                for alias in node.names
            ]
        else:
            continue
        found.update(filter(None, (_known(target, modules) for target in targets)))
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {
        name: imports_of(path.read_text(encoding="utf-8"), modules) - {name}
        for name, path in modules.items()
    }


def circles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a long chain of imports cannot hit the recursion limit.
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def place(module: str, layers: list[Layer]) -> tuple[int, str] | None:
    """(layer index, entry) of the most precise entry naming the module."""
    best: tuple[int, int, str] | None = None
    for position, layer in enumerate(layers):
        for entry in layer.modules:
            named = module == entry or module.startswith(entry + ".")
            if named and (best is None or len(entry) > best[0]):
                best = (len(entry), position, entry)
    return (best[1], best[2]) if best else None


def upward_imports(graph: Mapping[str, Iterable[str]], layers: list[Layer]) -> list[str]:
    problems = []
    for module in sorted(graph):
        source = place(module, layers)
        if source is None:
            problems.append(f"{module} is in no layer")
            continue
        for target in sorted(graph[module]):
            dest = place(target, layers)
            if dest is None:
                continue  # reported as a module of its own
            if dest[0] > source[0]:
                problems.append(
                    f"{module} ({layers[source[0]].name}) imports {target} "
                    f"({layers[dest[0]].name}), a higher layer"
                )
            elif dest[0] == source[0] and layers[dest[0]].apart and dest[1] != source[1]:
                problems.append(
                    f"{module} imports {target}: {source[1]} and {dest[1]} stay apart "
                    f"in the {layers[dest[0]].name} layer"
                )
    return problems


# --- the project ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(ROOT)


def test_the_graph_sees_the_whole_project(graph):
    for module in ("app", "extensions", "notices.notify", "comments.consultation.views"):
        assert module in graph
    assert "extensions" in graph["comments.consultation.models"]
    # An import inside a function counts (parse_regulation loads the formats lazily).
    assert "drafts.formats" in graph["drafts.parsing"]


def test_no_circle_in_the_import_graph(graph):
    assert circles(graph) == []


def test_every_import_points_down_a_layer(graph):
    assert upward_imports(graph, declared_layers()) == []


def test_nothing_but_a_process_entry_point_imports_the_app(graph):
    importers = sorted(module for module, targets in graph.items() if "app" in targets)
    layers = declared_layers()
    entry_points = layers[-1]
    assert entry_points.name == "entry points"
    assert all(place(module, layers)[0] == len(layers) - 1 for module in importers), importers


def test_the_foundation_imports_no_package_of_ours(graph):
    assert graph["extensions"] <= {"config"}
    assert graph["config"] == set()


def test_the_engine_is_a_pure_leaf(graph):
    assert graph["workflow.engine"] == set()


def readme_layers() -> list[tuple[str, tuple[str, ...]]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Layers", 1)[1].split("\n#", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isdigit():
            rows.append((cells[1], tuple(re.findall(r"`([\w.]+)`", cells[2]))))
    return rows


def test_the_readme_draws_the_declared_layers():
    assert readme_layers() == [(layer.name, layer.modules) for layer in declared_layers()]


# --- the checker itself --------------------------------------------------------------------
def test_a_lazy_import_inside_a_function_is_found():
    source = "def f():\n    from b import thing\n    import c.d\n"
    assert imports_of(source, {"a", "b", "c", "c.d"}) == {"b", "c.d"}


def test_from_package_import_submodule_points_at_the_submodule():
    assert imports_of("from p import sub, name\n", {"p", "p.sub"}) == {"p.sub", "p"}


def test_an_upward_and_a_sideways_import_are_named():
    layers = [Layer("low", ("a",)), Layer("mid", ("b", "c"), apart=True), Layer("top", ("d",))]
    graph = {"a": {"b"}, "b": {"c", "a"}, "c": set(), "d": {"a", "c"}, "e": set()}
    assert upward_imports(graph, layers) == [
        "a (low) imports b (mid), a higher layer",
        "b imports c: b and c stay apart in the mid layer",
        "e is in no layer",
    ]


def test_the_most_precise_entry_places_a_module():
    layers = [Layer("leaves", ("w.engine",)), Layer("domain", ("w",))]
    assert place("w.engine", layers) == (0, "w.engine")
    assert place("w.models", layers) == (1, "w")
    assert place("wx", layers) is None


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from("abcdefgh"), st.sets(st.sampled_from("abcdefgh"), max_size=4), max_size=8
    )
)
def test_circles_are_exactly_the_modules_that_reach_themselves(graph):
    def reaches(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(graph.get(start, ()))
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        return seen

    in_a_circle = {node for node in graph if node in reaches(node)}
    found = circles(graph)
    assert {node for component in found for node in component} == in_a_circle
    for component in found:
        for node in component:
            assert set(component) <= reaches(node) | {node}
