"""The store's modules import one another in one direction: no cycle, no telemetry."""

from __future__ import annotations

import ast
from pathlib import Path

STORE = Path(__file__).resolve().parent.parent / "src" / "openai_agents_session" / "store"


def store_imports() -> dict[str, set[str]]:
    """Module name -> the store modules it imports (at run time or for types alike)."""
    graph: dict[str, set[str]] = {}
    for path in STORE.glob("*.py"):
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    imported.add(node.module.split(".")[0])
                else:
                    imported.update(alias.name for alias in node.names)
        graph[path.stem] = imported & {p.stem for p in STORE.glob("*.py")}
    return graph


def test_no_import_cycle_among_the_stores_modules() -> None:
    graph = store_imports()
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for imported in graph[module]:
            visit(imported, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())


def test_the_store_imports_no_telemetry() -> None:
    for path in STORE.glob("*.py"):
        text = path.read_text()
        for banned in ("opentelemetry", "prometheus_client", "structlog", "instrumentation"):
            assert banned not in text, f"{path.name} mentions {banned}"
