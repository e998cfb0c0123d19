"""The package's shape: every module imports alone, the imports between its modules form no cycle, and no
function is longer than 60 lines unless its docstring says why (a line starting `Long because`)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "zhpress"
MAX_LINES = 60
LONG_MARK = "Long because"



def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """The zhpress modules `name` imports, at module level and inside functions (not under TYPE_CHECKING,
    which never runs)."""
    tree = ast.parse(path.read_text("utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from . import files`
    return {_owner(m) for m in found if _owner(m) and _owner(m) != name}


def _owner(dotted: str) -> str:
    """The zhpress module a dotted import name stands for (the longest prefix that is a module)."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return ""


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that ends where it starts, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
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


def _graph() -> dict[str, set[str]]:
    return {name: _imports(name, path) for name, path in MODULES.items()}


def test_the_graph_walk_sees_function_level_and_relative_imports() -> None:
    build = _imports("zhpress.build", MODULES["zhpress.build"])
    assert {"zhpress.config", "zhpress.editions", "zhpress.output"} <= build
    # editions/epub.py imports `from . import Built, Job` and, inside a function, `from ..validate import ...`
    epub = _imports("zhpress.editions.epub", MODULES["zhpress.editions.epub"])
    assert {"zhpress.editions", "zhpress.validate"} <= epub
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _import_alone(names: list[str]) -> list[str]:
    """The modules that fail to import, each in a fresh interpreter."""
    failed = []
    for name in names:
        result = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            failed.append(f"{name}: {result.stderr.strip().splitlines()[-1]}")
    return failed


def test_every_module_imports_alone() -> None:
    failed = _import_alone(list(MODULES))
    assert not failed, "\n".join(failed)


def _long_functions(names: list[str]) -> list[str]:
    found = []
    for name in names:
        path = MODULES[name]
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                doc = ast.get_docstring(node) or ""
                reason = any(line.strip().startswith(LONG_MARK) for line in doc.splitlines())
                if length > MAX_LINES and not reason:
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_long_function_without_a_reason() -> None:
    long = _long_functions(list(MODULES))
    assert not long, f"functions over {MAX_LINES} lines without a '{LONG_MARK} …' docstring line:\n" + "\n".join(long)
