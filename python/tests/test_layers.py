"""The package's modules form layers: no module imports one that imports it back, directly or
through others, and none imports a module of the package inside a function (the way a cycle is
hidden). Every import counts, those under ``TYPE_CHECKING`` included. As test/tuning/layers.test.ts
checks src/."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

PACKAGE = Path(__file__).resolve().parent.parent / "stride"


def _imports(tree: ast.AST, module: str) -> Dict[str, List[int]]:
    """The package's modules `module` imports, each with the lines where it does."""
    found: Dict[str, List[int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [a.name for a in node.names]
            for name in names:
                target = name.split(".")[0]
                if (PACKAGE / f"{target}.py").exists() and target != module:
                    found.setdefault(target, []).append(node.lineno)
    return found


def _graph() -> Dict[str, Set[str]]:
    return {
        p.stem: set(_imports(ast.parse(p.read_text()), p.stem))
        for p in PACKAGE.glob("*.py")
        if p.stem != "__init__"
    }


def test_no_module_imports_the_package_inside_a_function() -> None:
    for p in PACKAGE.glob("*.py"):
        tree = ast.parse(p.read_text())
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = _imports(fn, p.stem)
                assert not inner, f"{p.name}: {fn.name} imports {sorted(inner)} inside the function"


def test_the_modules_form_layers_without_a_cycle() -> None:
    graph = _graph()
    state: Dict[str, int] = {}

    def visit(node: str, path: List[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join(path + [nxt])
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # The bottom: the connection imports nothing of the package but its leaves.
    assert graph["client"] <= {"errors", "_version"}
