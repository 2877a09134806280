"""The package's structure: no import cycle, layers that depend downward, modules of one size.

The import graph is read from the source (every ``import actfit...`` / ``from actfit... import``,
at module level or inside a function, except under ``if TYPE_CHECKING:``), so a function-level
import that dodges a cycle at run time still counts as the dependency it is.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import actfit

ROOT = Path(actfit.__file__).parent
MAX_LINES = 600
# Modules that may only import from these prefixes inside actfit (the lower layers).
LOWER_ONLY = {
    "actfit.errors": (),
    "actfit.options": ("actfit.errors",),
    "actfit.rational": ("actfit.errors", "actfit.options", "actfit.roots"),
}
# Packages that must not reach up into these (higher) layers.
NEVER_UP = {
    "actfit.targets": ("actfit.approx", "actfit.fit", "actfit.export", "actfit.runtime",
                       "actfit.cli", "actfit.plot", "actfit.render", "actfit.batch",
                       "actfit.check", "actfit.rational"),
    "actfit.approx": ("actfit.export", "actfit.runtime", "actfit.cli", "actfit.plot",
                      "actfit.render", "actfit.batch", "actfit.check"),
    "actfit.fit": ("actfit.approx.lsq", "actfit.approx.pade", "actfit.approx.minimax",
                   "actfit.export", "actfit.runtime", "actfit.cli"),
    "actfit.export": ("actfit.runtime", "actfit.cli", "actfit.plot", "actfit.render",
                      "actfit.batch", "actfit.check"),
    "actfit.runtime": ("actfit.cli", "actfit.plot", "actfit.render", "actfit.batch"),
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(name: str) -> str | None:
    """The actfit module an imported name lives in (a submodule, else its package)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(name: str) -> set[str]:
    tree = ast.parse(MODULES[name].read_text())
    out: set[str] = set()
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("actfit"):
                    out.add(_resolve(alias.name))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            if base.startswith("actfit"):
                for alias in node.names:
                    out.add(_resolve(f"{base}.{alias.name}"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    out.discard(None)
    out.discard(name)
    return out  # type: ignore[return-value]


GRAPH = {name: _imports(name) for name in MODULES}


def test_graph_is_read() -> None:
    assert "actfit.rational" in GRAPH and "actfit.cli" in GRAPH
    assert GRAPH["actfit.cli"], "the CLI imports the library; the import reader is broken"


def test_no_import_cycle() -> None:
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def dfs(u: str) -> None:
        state[u] = 1
        stack.append(u)
        for v in sorted(GRAPH[u]):
            if state.get(v) == 1:
                cycles.append([*stack[stack.index(v):], v])
            elif v not in state:
                dfs(v)
        stack.pop()
        state[u] = 2

    for name in sorted(GRAPH):
        if name not in state:
            dfs(name)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("name", sorted(LOWER_ONLY))
def test_bottom_layers_import_only_below(name: str) -> None:
    if name not in GRAPH:
        pytest.skip(f"{name} does not exist")
    allowed = LOWER_ONLY[name]
    bad = {m for m in GRAPH[name] if not m.startswith(allowed) or not allowed}
    assert not bad, f"{name} imports {sorted(bad)}; it may import only {allowed or 'nothing'}"


def test_roots_is_a_leaf() -> None:
    leaf = [m for m in GRAPH if m == "actfit.roots"]
    for name in leaf:
        assert not GRAPH[name], f"{name} must import nothing of actfit, imports {GRAPH[name]}"


@pytest.mark.parametrize("package", sorted(NEVER_UP))
def test_layers_depend_downward(package: str) -> None:
    bad = {
        (name, dep)
        for name, deps in GRAPH.items()
        if name == package or name.startswith(package + ".")
        for dep in deps
        if any(dep == up or dep.startswith(up + ".") for up in NEVER_UP[package])
    }
    assert not bad, f"upward imports from {package}: {sorted(bad)}"


def test_modules_hold_one_concern() -> None:
    """No module over ~600 lines unless its docstring says why (a paragraph 'Length: ...')."""
    long = []
    for name, path in MODULES.items():
        lines = path.read_text().count("\n")
        if lines > MAX_LINES:
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
            if "Length:" not in doc:
                long.append(f"{name} ({lines} lines)")
    assert not long, "modules over 600 lines with no 'Length:' reason in the docstring: " + (
        ", ".join(long)
    )
