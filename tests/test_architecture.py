"""The layout's rules, checked on the source: imports point down, no cycles, small rooms.

Every module under ``rag/`` and ``ingest/`` is parsed (nothing is imported), every import
statement counted, function-level and ``TYPE_CHECKING`` ones included. See docs/architecture.md.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("rag", "ingest")

# What each part of the pipeline may import (itself included). Lower layers never import the
# higher ones, ``ingest`` or the front ends; ``rag.api`` and the front ends may import anything.
FOUNDATION = {"rag.errors", "rag.config", "rag.schema", "rag.versions"}
ALLOWED: dict[str, set[str]] = {
    "rag.errors": set(),
    "rag.versions": set(),
    "rag.config": {"rag.errors"},
    "rag.schema": {"rag.errors"},
    "rag.text": FOUNDATION,
    "rag.embed": FOUNDATION | {"rag.text"},
    "rag.store": FOUNDATION | {"rag.text"},
    "rag.llm": FOUNDATION,
    "rag.retrieval": FOUNDATION | {"rag.text", "rag.embed", "rag.store"},
    "rag.answer": FOUNDATION | {"rag.text", "rag.embed", "rag.llm", "rag.retrieval"},
    "ingest": FOUNDATION | {"rag.text", "rag.embed", "rag.store"},
}
FRONT_ENDS = ("rag.cli", "rag.serve", "rag.ui", "rag.eval", "rag.calibrate", "rag.net")

# Modules allowed past MAX_LINES, each with the reason one job needs the room.
MAX_LINES = 500
LONG_MODULES: dict[str, str] = {}

# Functions of the answer chain and the ingest pipeline stay readable steps.
MAX_FUNCTION_LINES = 80
STEP_MODULES = ("rag/answer/", "ingest/pipeline")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


MODULES = {module_name(p): p for p in source_files()}


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def imports_of(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Internal modules imported by ``name`` (``from pkg import module`` names the module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if _is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in MODULES else base), node.lineno


GRAPH = {name: sorted(set(imports_of(name, path))) for name, path in MODULES.items()}


def part_of(name: str) -> str:
    """The key of :data:`ALLOWED` (or front end) a module belongs to."""
    for key in sorted([*ALLOWED, *FRONT_ENDS, "rag.api", "rag.assistant"], key=len, reverse=True):
        if name == key or name.startswith(key + "."):
            return key
    return name  # the ``rag`` package itself: the public API


def defined_names(module: str) -> set[str]:
    """Names a module defines or imports at its top level (what ``from module import`` finds)."""
    names: set[str] = set()
    for node in ast.parse(MODULES[module].read_text(encoding="utf-8")).body:
        for sub in [node, *getattr(node, "body", []), *getattr(node, "orelse", [])]:
            if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(sub.name)
            elif isinstance(sub, ast.Assign | ast.AnnAssign):
                targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
                for t in targets:
                    names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
            elif isinstance(sub, ast.Import | ast.ImportFrom):
                names.update((a.asname or a.name).split(".")[0] for a in sub.names)
    return names


def test_every_internal_import_resolves() -> None:
    """Imports of rag and ingest from anywhere (tests, bench, app.py too) name what exists."""
    users = [*source_files(), ROOT / "app.py", *sorted((ROOT / "tests").rglob("*.py"))]
    # bench/work/ is git-ignored scratch (corpora, indexes, the old default's code for
    # bench/fastpath.py): not part of this tree.
    bench = ROOT / "bench"
    users += sorted(p for p in bench.rglob("*.py") if p.relative_to(bench).parts[0] != "work")
    missing = []
    for path in users:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [(a.name, None) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                targets = [(node.module, a.name) for a in node.names]
            else:
                continue
            for module, name in targets:
                if module.split(".")[0] not in PACKAGES:
                    continue
                if module not in MODULES:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {module}")
                elif (
                    name and f"{module}.{name}" not in MODULES and name not in defined_names(module)
                ):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {module}.{name}")
    assert not missing, "imports of things that do not exist:\n" + "\n".join(missing)


def test_imports_point_down() -> None:
    wrong = []
    for name, edges in GRAPH.items():
        allowed = ALLOWED.get(part_of(name))
        if allowed is None:
            continue  # rag.api and the front ends may import anything
        mine = part_of(name)
        for target, line in edges:
            theirs = part_of(target)
            if theirs != mine and theirs not in allowed:
                wrong.append(f"{MODULES[name].relative_to(ROOT)}:{line}: {mine} imports {target}")
    assert not wrong, "imports that point up (see docs/architecture.md):\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components over module -> module imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w, _ in GRAPH.get(v, []):
            if w not in MODULES:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or any(t == v for t, _ in GRAPH.get(v, [])):
                cycles.append(sorted(group))

    for name in MODULES:
        if name not in index:
            visit(name)
    assert not cycles, f"import cycles: {cycles}"


def test_modules_stay_small() -> None:
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()
    }
    big = {name: n for name, n in sizes.items() if n > MAX_LINES}
    unexplained = {name: n for name, n in big.items() if name not in LONG_MODULES}
    assert not unexplained, (
        f"modules over {MAX_LINES} lines (split them by job, or add them to LONG_MODULES "
        f"with the reason): {unexplained}"
    )
    stale = sorted(set(LONG_MODULES) - set(big))
    assert not stale, f"LONG_MODULES lists modules that are no longer long: {stale}"


@pytest.mark.parametrize("prefix", STEP_MODULES)
def test_step_functions_stay_short(prefix: str) -> None:
    long = []
    for path in source_files():
        rel = path.relative_to(ROOT).as_posix()
        if not rel.startswith(prefix):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                n = (node.end_lineno or node.lineno) - first + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{rel}:{node.lineno} {node.name}: {n} lines")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)
