"""Point numba's on-disk cache at a folder keyed by the sources compiled code depends on.

numba's ``cache=True`` invalidates a cached function only when *its own* file changes, not
when a module it reads constants from (``engine/layout.py``) changes; a stale cache would
silently run old index constants. Keying the cache folder by a hash of every module that
compiled code depends on makes that impossible, and keeps the cache out of read-only
installs. A user-set ``NUMBA_CACHE_DIR`` is respected.

The key covers exactly :func:`compiled_modules`, derived from the sources rather than
listed by hand: every module of the package that compiles code with numba (a call or
decorator ``njit``, ``jit``, ``vectorize``, … reached through an ``import numba``), plus
every package module those import at module level, transitively (compiled code can read
their globals as compile-time constants). Pure-Python modules that merely *call* the
kernels (``engine/parallel.py``, ``engine/run.py``, ``engine/assemble.py``, the CLI) are
not part of the key, so editing them does not force a full recompile (~20 s).
``tests/test_numba_cache.py`` checks the derivation against the live numba dispatchers.
"""

from __future__ import annotations

import ast
import hashlib
import os
import sys
from pathlib import Path

_PACKAGE = "immunoreset"
#: numba entry points that compile the function they are given
_JIT_NAMES = frozenset({"njit", "jit", "generated_jit", "vectorize", "guvectorize", "cfunc",
                        "stencil", "jitclass", "overload", "register_jitable"})


def _numba_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(aliases of the numba module, names imported from numba that compile)."""
    aliases, direct = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "numba" or a.name.startswith("numba."):
                    aliases.add((a.asname or a.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "numba":
            for a in node.names:
                if a.name in _JIT_NAMES:
                    direct.add(a.asname or a.name)
                else:
                    aliases.add(a.asname or a.name)  # e.g. from numba import experimental
    return aliases, direct


def compiles_with_numba(tree: ast.Module) -> bool:
    """True when a module uses a numba compiling entry point (``nb.njit``, ``njit``, …)."""
    aliases, direct = _numba_names(tree)
    if not aliases and not direct:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in _JIT_NAMES:
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in aliases:
                return True
        elif isinstance(node, ast.Name) and node.id in direct:
            return True
    return False


def _module_file(root: Path, dotted: str) -> Path | None:
    """The file of package module ``dotted`` (``immunoreset.engine.layout``), if any."""
    parts = dotted.split(".")
    if parts[0] != _PACKAGE:
        return None
    base = root.joinpath(*parts[1:])
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _top_level_imports(path: Path, root: Path, tree: ast.Module) -> set[Path]:
    """Package modules ``path`` imports at module level (the globals compiled code can see;
    imports inside functions run in Python and are not followed)."""
    # the package this module is in (same for pkg/mod.py and pkg/__init__.py)
    pkg = [_PACKAGE, *path.relative_to(root).parts[:-1]]
    out: set[Path] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            files = [_module_file(root, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                mod = ".".join([*pkg[:len(pkg) - node.level + 1], *([mod] if mod else [])])
            # ``from pkg import module`` names the module; ``from mod import name`` the file
            files = [_module_file(root, f"{mod}.{a.name}") or _module_file(root, mod)
                     for a in node.names]
        else:
            continue
        out.update(f for f in files if f is not None)
    return out


def compiled_modules(root: Path | None = None) -> tuple[Path, ...]:
    """Every module of the package whose source numba-compiled code depends on: the modules
    that compile with numba and, transitively, the package modules they import at top level.
    """
    root = Path(__file__).resolve().parent if root is None else root
    trees: dict[Path, ast.Module] = {}

    def tree(f: Path) -> ast.Module:
        if f not in trees:
            trees[f] = ast.parse(f.read_bytes(), filename=str(f))
        return trees[f]

    seeds = [f for f in sorted(root.rglob("*.py"))
             if "__pycache__" not in f.parts and b"numba" in f.read_bytes()
             and compiles_with_numba(tree(f))]
    seen: set[Path] = set()
    stack = list(seeds)
    while stack:
        f = stack.pop()
        if f in seen:
            continue
        seen.add(f)
        stack.extend(_top_level_imports(f, root, tree(f)) - seen)
    return tuple(sorted(seen))


def cache_key(root: Path | None = None) -> str:
    """16 hex digits of the hash of :func:`compiled_modules` (paths and contents)."""
    root = Path(__file__).resolve().parent if root is None else root
    h = hashlib.sha256()
    for f in compiled_modules(root):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def configure() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    path = base / "immunoreset" / "numba" / cache_key()
    os.environ["NUMBA_CACHE_DIR"] = str(path)
    if "numba" in sys.modules:  # numba already imported: set its live config too
        from numba.core import config

        config.CACHE_DIR = str(path)
