"""No module of `trajectory` may import, however indirectly, a module that imports it back.

A cycle is how a low module starts to know a high one (the key ring knowing the research
projects, the user store knowing the web pages), and an import moved inside a function
only hides it from the interpreter, not from the design. So every import counts here:
at the top of a module, inside a function or method, under `try`, in a branch.

What is read as an edge, module to module:
- `import a.b.c` -> `a.b.c`; `from a.b import c` -> `a.b.c` when `c` is a submodule, else
  `a.b` (the package's `__init__`, which is what Python runs to find the name);
  relative imports are resolved against the importing module's package first.
- Importing `a.b.c` does not add an edge to the package `a.b`: so a package `__init__`
  that re-exports its submodules is no cycle with them, unless a submodule imports the
  package back (`from a.b import X`), which is one.

Imports under `if TYPE_CHECKING:` count too, though they never run and so cannot break
the order in which modules load: a module that names another's type still depends on it,
and a cycle drawn only in annotations is the same knot in the design (it is also how a
real cycle is usually hidden next, once moving the import into a function is not
allowed). None is needed today; where a low module must name the type of something a
higher one hands it, a `typing.Protocol` in the low module says what it needs instead.
Imports made from a computed name (`importlib.import_module(f"...")`) cannot be read;
`research/__init__.py` loads its submodules so, and names each one in its TYPE_CHECKING
block, so those edges are seen after all.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

import trajectory

SOURCE = Path(trajectory.__file__).parent


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    line: int


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Every module under `root` (the directory of `package`) by its dotted name."""
    names: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join([package, *parts])] = path
    return names


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement anywhere in the tree: in functions, branches, `try`, and
    `if TYPE_CHECKING:` alike."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node


def _base_of_relative(importer: str, is_package: bool, level: int, module: str | None) -> str:
    package = importer if is_package else importer.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{module}" if module else package


def _known(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module `name` is, or the nearest package above it that we have (an import of
    a name that is no module, e.g. `import pkg.mod.Class` cannot happen, but a
    `from pkg import name` can)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_edges(modules: Mapping[str, Path]) -> list[Edge]:
    """The imports between the given modules; imports of anything else are dropped."""
    edges: list[Edge] = []
    for importer, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in _imports(tree):
            targets: list[str | None] = []
            if isinstance(node, ast.Import):
                targets = [_known(alias.name, modules) for alias in node.names]
            else:
                base = (
                    _base_of_relative(importer, is_package, node.level, node.module)
                    if node.level
                    else node.module or ""
                )
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    targets.append(submodule if submodule in modules else _known(base, modules))
            for target in targets:
                if target is not None and target != importer:
                    edges.append(Edge(importer, target, node.lineno))
    return edges


def cycles(edges: list[Edge]) -> list[list[Edge]]:
    """The cycles (each as its edges, in order) among modules that import each other: in
    every group of them (a strongly connected component of more than one module), the
    shortest cycle through each member, each cycle once; shortest first."""
    graph: dict[str, dict[str, Edge]] = {}
    for edge in edges:
        graph.setdefault(edge.importer, {}).setdefault(edge.imported, edge)
        graph.setdefault(edge.imported, {})
    found: dict[frozenset[Edge], list[Edge]] = {}
    for component in _strongly_connected(graph):
        if len(component) > 1:
            for member in sorted(component):
                cycle = _a_cycle_through(member, component, graph)
                found.setdefault(frozenset(cycle), _from_smallest(cycle))
    return sorted(found.values(), key=lambda c: (len(c), c[0].importer))


def _from_smallest(cycle: list[Edge]) -> list[Edge]:
    """The same cycle, told from its alphabetically first module."""
    first = min(range(len(cycle)), key=lambda i: cycle[i].importer)
    return cycle[first:] + cycle[:first]


def _strongly_connected(graph: Mapping[str, Mapping[str, Edge]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the graph has a few hundred modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
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
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _a_cycle_through(
    start: str, component: set[str], graph: Mapping[str, Mapping[str, Edge]]
) -> list[Edge]:
    """The shortest way from `start` back to itself inside its component (breadth first)."""
    came_by: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child, edge in sorted(graph[node].items()):
                if child not in component or child in came_by:
                    continue
                came_by[child] = edge
                if child == start:
                    path = [edge]
                    while path[0].importer != start:
                        path.insert(0, came_by[path[0].importer])
                    return path
                following.append(child)
        frontier = following
    raise AssertionError(f"{start} is in a component but on no cycle")


def describe(cycle: list[Edge], modules: Mapping[str, Path]) -> str:
    steps = [
        f"  {e.importer} -> {e.imported}"
        f"  ({modules[e.importer].relative_to(SOURCE.parent)}:{e.line})"
        for e in cycle
    ]
    return "\n".join(steps)


# -- the project ------------------------------------------------------------------------------


def test_no_module_of_trajectory_imports_itself_back() -> None:
    # Given every module of the package and every import in it, wherever it stands
    modules = module_names(SOURCE, "trajectory")
    edges = import_edges(modules)

    # When the module graph is searched for modules that import each other
    found = cycles(edges)

    # Then there are none
    assert not found, "import cycles (module -> module it imports, and where):\n" + "\n\n".join(
        describe(c, modules) for c in found
    )


# -- the scanner, on packages made for it -------------------------------------------------------


def _package(root: Path, files: Mapping[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return module_names(root / "pkg", "pkg")


def _cycle_modules(modules: Mapping[str, Path]) -> list[list[str]]:
    return [[e.importer for e in c] for c in cycles(import_edges(modules))]


def test_a_cycle_hidden_inside_a_function_is_found(tmp_path: Path) -> None:
    modules = _package(
        tmp_path,
        {
            "__init__.py": "",
            "low.py": "def rotate() -> None:\n    from pkg.high import rewrap\n",
            "high.py": "from pkg.low import rotate\n",
        },
    )
    assert _cycle_modules(modules) == [["pkg.high", "pkg.low"]]


def test_relative_and_from_package_import_module_forms_resolve_to_modules(
    tmp_path: Path,
) -> None:
    modules = _package(
        tmp_path,
        {
            "__init__.py": "",
            "api/__init__.py": "",
            "api/errors.py": "from . import access\n",
            "api/access.py": "from .context import services\n",
            "api/context.py": "from pkg.api import errors\n",
        },
    )
    assert _cycle_modules(modules) == [["pkg.api.access", "pkg.api.context", "pkg.api.errors"]]


def test_a_package_init_importing_its_own_submodules_is_no_cycle(tmp_path: Path) -> None:
    modules = _package(
        tmp_path,
        {
            "__init__.py": "",
            "views/__init__.py": "from pkg.views.caseload import Caseload\nfrom .base import V\n",
            "views/base.py": "class V: ...\n",
            "views/caseload.py": "from pkg.views.base import V\nclass Caseload(V): ...\n",
        },
    )
    assert _cycle_modules(modules) == []


def test_a_submodule_importing_its_package_back_is_a_cycle(tmp_path: Path) -> None:
    modules = _package(
        tmp_path,
        {
            "__init__.py": "",
            "views/__init__.py": "from pkg.views.caseload import Caseload\n",
            "views/caseload.py": "from pkg.views import helper\n",
        },
    )
    assert _cycle_modules(modules) == [["pkg.views", "pkg.views.caseload"]]


@pytest.mark.parametrize("guard", ["TYPE_CHECKING", "typing.TYPE_CHECKING", "DEBUG"])
def test_an_import_under_any_guard_counts(tmp_path: Path, guard: str) -> None:
    modules = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": f"if {guard}:\n    from pkg.b import B\nelse:\n    import pkg.c\n",
            "b.py": "from pkg import a\n",
            "c.py": "",
        },
    )
    assert {e.imported for e in import_edges(modules) if e.importer == "pkg.a"} == {
        "pkg.b",
        "pkg.c",
    }
    assert _cycle_modules(modules) == [["pkg.a", "pkg.b"]]
