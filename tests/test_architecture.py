"""The house rules of the package, read from its source (AST; nothing is imported).

- Layers: every module belongs to a layer (its subpackage); a module imports only its own layer
  or lower ones, at module level or inside functions. ``TYPE_CHECKING`` imports (annotations
  only) are allowed downwards too and are not counted.
- No import circle between modules, within a layer either (annotation-only imports included).
- No module over 500 lines, no function over 80 lines (its code: the docstring is not counted,
  so that documenting a function never pushes it over).
"""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "nma_bayes"

#: Layers from the bottom up (ARCHITECTURE.md); the package root modules sit on top.
LAYERS = [
    ("base", "datasets"),
    ("data",),
    ("models",),
    ("engines",),
    ("results",),
    ("plots",),
    ("report",),
    ("fitting",),
    ("analyses",),
    ("__init__", "__main__", "cli"),
]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _layer(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


def _imports(module: str, path: Path, modules: dict, *, typing: bool = False) -> set[str]:
    """Modules of the package that ``module`` imports (resolved; TYPE_CHECKING ones if asked)."""
    tree = ast.parse(path.read_text())
    skip = set() if typing else _type_checking_nodes(tree)
    is_pkg = path.name == "__init__.py"
    here = module.split(".") if is_pkg else module.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
            found |= {n for n in [target, *names] if n in modules}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
    found.discard(module)
    # importing a.b.c also runs a.b's and a's __init__: count the named module only
    return found


def _graph(*, typing: bool = False):
    modules = _modules()
    return {m: _imports(m, p, modules, typing=typing) for m, p in modules.items()}, modules


def test_every_module_is_in_a_layer():
    _, modules = _graph()
    unknown = sorted(m for m in modules if _layer(m) not in RANK)
    assert not unknown, f"modules outside the layers of ARCHITECTURE.md: {unknown}"


def test_no_module_imports_a_higher_layer():
    graph, _ = _graph()
    bad = [
        f"{m} ({_layer(m)}) imports {t} ({_layer(t)})"
        for m, targets in graph.items()
        for t in sorted(targets)
        if not _layer(t) == "__init__" and RANK[_layer(t)] > RANK[_layer(m)]
    ]
    assert not bad, "lower layers import higher ones:\n" + "\n".join(bad)


def test_no_import_circle():
    graph, _ = _graph(typing=True)  # annotation-only imports count here: no circle at all
    # the package's own __init__ files re-export; a submodule importing its package's
    # __init__ is how Python imports it anyway, so edges into __init__ modules are ignored
    inits = {m for m, p in _modules().items() if p.name == "__init__.py"}
    edges = {m: {t for t in ts if t not in inits} for m, ts in graph.items() if m not in inits}
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for t in sorted(edges.get(m, ())):
            if state.get(t) == "open":
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = "done"

    for m in sorted(edges):
        if m not in state:
            visit(m)
    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _docstring_lines(node) -> int:
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        if isinstance(first.value.value, str):
            return first.end_lineno - first.lineno + 1
    return 0


def test_modules_and_functions_are_short():
    long_modules, long_functions = [], []
    for module, path in _modules().items():
        text = path.read_text()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            long_modules.append(f"{module}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1 - _docstring_lines(node)
                if n > MAX_FUNCTION_LINES:
                    long_functions.append(f"{module}.{node.name}: {n} lines")
    assert not long_modules, "modules over 500 lines:\n" + "\n".join(long_modules)
    assert not long_functions, "functions over 80 lines:\n" + "\n".join(long_functions)


def test_bare_import_loads_no_heavy_library():
    """``import nma_bayes`` must not import PyMC, PyTensor, nutpie, ArviZ or matplotlib: they load
    when first needed (a NUTS fit, a convergence check, a plot)."""
    import subprocess
    import sys

    code = "import sys, nma_bayes; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PKG.parent, capture_output=True, text=True, check=True
    )
    loaded = set(out.stdout.split())
    assert "nma_bayes" in loaded
    heavy = {"pymc", "pytensor", "nutpie", "arviz", "matplotlib", "networkx", "numba"}
    assert not heavy & loaded, f"a bare import loads {sorted(heavy & loaded)}"
