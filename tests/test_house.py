"""The house rules a reviewer checks by hand, checked by the suite (and so by CI): ruff's lint and format, and no
import circle anywhere in the repository (the two packages, bench/, tests/ and main.py)."""

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("moss_engine", "moss_app")


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_ruff_lint_is_clean():
    proc = _ruff("check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_leaves_every_file_as_it_is():
    """STYLE.md: ruff formats. Run ``ruff format .`` and commit where this fails."""
    proc = _ruff("format", "--check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _script_imports(path: Path, local: set[str]) -> set[str]:
    """The repository's modules a script outside the packages imports (``bench/quality.py`` importing ``bench.x`` or,
    run from its own folder, ``x``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            for candidate in (name, f"{path.parent.name}.{name}"):
                if candidate in local:
                    found.add(candidate)
    return found


def import_graph() -> dict[str, set[str]]:
    """Every module of the repository -> the repository's modules it imports (at any place in the file)."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    scripts = {".".join(p.relative_to(ROOT).with_suffix("").parts): p for p in _loose_scripts()}
    local = set(edges) | set(scripts)
    for name, path in scripts.items():
        edges[name] = _script_imports(path, local)
    return edges


def _loose_scripts() -> list[Path]:
    files = [ROOT / "main.py", *sorted((ROOT / "bench").glob("*.py"))]
    files += sorted(p for p in (ROOT / "tests").rglob("*.py") if "tools" not in p.relative_to(ROOT / "tests").parts)
    return files


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted: the import circles."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
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

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for v in sorted(edges):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return found


def test_the_circle_finder_finds_a_circle_and_only_circles():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_import_circle_anywhere_in_the_repository():
    edges = import_graph()
    assert {"moss_engine.dsp.problem", "moss_app.main_window", "bench.quality", "main"} <= set(edges)
    assert circles(edges) == []
