"""The package's imports point one way: no cycles between modules or subpackages.

Imports are read from the source (function-level ones included, since hiding an
import in a function does not remove the dependency); imports under
``if TYPE_CHECKING:`` are left out, as they never run. ``from package import
name`` depends on the submodule ``package.name`` when there is one, else on the
package. A module does not depend on its parent package by being in it.
"""

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

SOURCE = Path(__file__).parents[1] / "src"
PACKAGE = "pamiq_core"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in (SOURCE / PACKAGE).rglob("*.py")}


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _statements(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under ``node`` that runs, skipping ``if TYPE_CHECKING:`` bodies."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for statement in child.orelse:
                yield statement
                yield from _statements(statement)
            continue
        yield child
        yield from _statements(child)


def _resolve(name: str) -> str | None:
    """The module of the package that ``name`` refers to (longest match)."""
    parts = name.split(".")
    while parts and ".".join(parts) not in modules():
        parts.pop()
    return ".".join(parts) or None


def imports_of(name: str) -> set[str]:
    path = modules()[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in _statements(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                full = f"{source}.{alias.name}"
                found.add(full if full in modules() else source)
    resolved = {_resolve(f) for f in found if f.startswith(PACKAGE)}
    return {m for m in resolved if m is not None and m != name}


def unit(module: str) -> str:
    """The subpackage (or top-level module) a module belongs to.

    ``thread.threads`` (the framework's threads) is a unit of its own, above
    ``thread`` (the signals between threads, which components build on).
    """
    parts = module.split(".")
    if len(parts) == 1:
        return PACKAGE
    if parts[1:3] == ["thread", "threads"]:
        return "thread.threads"
    return parts[1]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as a list of nodes, or None if it has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle is not None:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle is not None:
                return cycle
    return None


def module_graph() -> dict[str, set[str]]:
    return {name: imports_of(name) for name in modules()}


def unit_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, targets in module_graph().items():
        for target in targets:
            if unit(module) != unit(target):
                graph.setdefault(unit(module), set()).add(unit(target))
    return graph


def test_no_module_imports_itself_through_others() -> None:
    cycle = find_cycle(module_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_subpackage_depends_on_itself_through_others() -> None:
    cycle = find_cycle(unit_graph())
    assert cycle is None, "subpackage cycle: " + " -> ".join(cycle or [])


def test_the_bottom_layers_import_nothing_above_them() -> None:
    """Time, utils and state persistence never reach thread, console or launcher."""
    graph = unit_graph()
    above = {"thread", "thread.threads", "console", "runtime", "launcher"}

    def reachable(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for target in graph.get(todo.pop(), ()):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    for bottom in ("_persistent_state", "time", "utils", "state_persistence"):
        assert not reachable(bottom) & above, (bottom, reachable(bottom) & above)


def test_the_checker_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_imports_hidden_in_functions_count_and_type_checking_ones_do_not() -> None:
    code = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import hidden_for_types\n"
        "def f():\n    import hidden_in_function\n"
    )
    names = {
        alias.name
        for node in _statements(code)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert names == {"hidden_in_function"}
