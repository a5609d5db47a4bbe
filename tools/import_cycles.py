"""Fails when modules of the sparkdl package import each other in a circle: ``python tools/import_cycles.py``.

Every import of a sparkdl module counts, at the top of a module or inside a function (an import
deferred to call time is still a dependency; a circle of them is a design knot, not a load-order
accident), except those under ``if TYPE_CHECKING:``, which only type checkers run. An edge goes to
the module named (``from sparkdl.ml import onnx`` names ``sparkdl.ml.onnx`` when that is a module,
else ``sparkdl.ml``); a package's ``__init__`` importing its own modules is how packages export, so
an edge into a package's ``__init__`` from one of its own modules is what closes a circle there.
Run by ``make lint``; prints each circle found and exits 1.
"""
from __future__ import annotations

import ast
import pathlib
import sys
from typing import Dict, Iterator, List, Set

ROOT = pathlib.Path(__file__).resolve().parent.parent / "python"
PACKAGE = "sparkdl"


def modules(root: pathlib.Path = ROOT) -> Dict[str, pathlib.Path]:
    """Every module of the package: dotted name -> file."""
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _under_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> Iterator[ast.AST]:
    """The import statements of a module, anywhere in it, outside ``if TYPE_CHECKING:`` blocks."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _under_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imports_of(name: str, path: pathlib.Path, known: Set[str]) -> Set[str]:
    """The package's modules that module ``name`` imports."""
    is_package = path.name == "__init__.py"
    targets = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            named = [a.name for a in node.names]
        else:
            assert isinstance(node, ast.ImportFrom)
            if node.level:  # relative: from the module's package, one level up per extra dot
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            named = [module + "." + a.name if module + "." + a.name in known else module for a in node.names]
        targets.update(n for n in named if n in known and n != name)
    return targets


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """The strongly connected components with more than one module (Tarjan), each as a sorted list."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    on_stack: Set[str] = set()
    stack: List[str] = []
    found: List[List[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def import_graph(root: pathlib.Path = ROOT) -> Dict[str, Set[str]]:
    known = modules(root)
    return {name: imports_of(name, path, set(known)) for name, path in known.items()}


def main() -> int:
    graph = import_graph()
    found = cycles(graph)
    for component in found:
        inside = set(component)
        edges = ["%s -> %s" % (a, b) for a in component for b in sorted(graph[a] & inside)]
        print("import circle among %s:\n  %s" % (", ".join(component), "\n  ".join(edges)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
