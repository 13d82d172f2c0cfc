"""The structure docs/ARCHITECTURE.md describes, checked: layers that point down only (import-linter's
contracts in pyproject.toml), no import cycle, all SQL in store/, and stages that receive typed sections."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "paperradar"
# SQL statements as they appear in string literals: a keyword followed by what makes it a statement.
SQL = re.compile(
    r"""["'].*\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|VIRTUAL)|PRAGMA\s+\w+)""",
    re.IGNORECASE,
)


def test_import_linter_contracts_are_kept() -> None:
    # The same command `make lint` runs; it reads its contracts from pyproject.toml.
    linter = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
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

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle_not_even_inside_a_function() -> None:
    # Function-level imports count: a lazy import that closes a loop is still a cycle, only hidden.
    graph = grimp.build_graph("paperradar", exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def test_all_sql_lives_in_store() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.is_relative_to(PACKAGE / "store"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SQL.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_no_stage_takes_the_whole_config_untyped() -> None:
    seam = re.compile(r"\b(cfg|config)\s*:\s*(Any|object)\b")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if seam.search(line)
    ]
    assert offenders == []


def _imported_modules(tree: ast.Module) -> list[tuple[int, str]]:
    """Every module an import statement names, at any depth (lazy imports inside functions count)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ("tests." if node.level else "") + (node.module or "")  # tests/ is the only package here
            base = base.rstrip(".")
            if base == "tests":  # `from tests import test_x`: the names are modules
                found += [(node.lineno, f"tests.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
    return found


def test_no_test_module_imports_another() -> None:
    # Helpers shared between test modules live in support modules (tests/*.py without the test_ prefix)
    # and fixtures are registered in tests/conftest.py, so no test module depends on another's internals.
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: imports {name}"
        for path in sorted((ROOT / "tests").glob("test_*.py"))
        for line, name in _imported_modules(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if name.startswith("tests.test_")
    ]
    assert offenders == []
