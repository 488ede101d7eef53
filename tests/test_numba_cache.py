"""The numba cache folder is keyed by exactly the sources compiled code depends on (issue 7):
every module with compiled functions and every module they read globals from is in the key;
pure-Python callers of the kernels are not, so editing them does not force a recompile."""

import importlib
import inspect
import pkgutil
import shutil
import types
from pathlib import Path

import pytest
from numba.core.dispatcher import Dispatcher

import immunoreset
from immunoreset import _numba_cache

ROOT = Path(immunoreset.__file__).resolve().parent


def _all_modules():
    for info in pkgutil.walk_packages(immunoreset.__path__, "immunoreset."):
        yield importlib.import_module(info.name)


def _dispatchers():
    """(module, dispatcher) for every numba-compiled function defined in the package."""
    for mod in _all_modules():
        for obj in vars(mod).values():
            if isinstance(obj, Dispatcher) and obj.py_func.__module__ == mod.__name__:
                yield mod, obj


@pytest.fixture(scope="module")
def keyed():
    return {p.resolve() for p in _numba_cache.compiled_modules()}


def test_every_module_with_compiled_code_is_keyed(keyed):
    found = list(_dispatchers())
    assert len(found) >= 10  # the engine's kernel, the RHS pieces, the PK helpers
    for mod, disp in found:
        assert Path(mod.__file__).resolve() in keyed, (mod.__name__, disp.py_func.__name__)


def test_every_module_compiled_code_reads_globals_from_is_keyed(keyed):
    """Globals a compiled function names (``L.N_HSC``, ``AGENT_INDEX``) are frozen into the
    machine code: the modules that define them must be in the key too."""
    for mod, disp in _dispatchers():
        g = disp.py_func.__globals__
        for name in disp.py_func.__code__.co_names:
            obj = g.get(name)
            if isinstance(obj, types.ModuleType) and obj.__name__.startswith("immunoreset"):
                assert Path(obj.__file__).resolve() in keyed, (mod.__name__, name)
            elif obj is not None and not isinstance(obj, types.ModuleType):
                home = getattr(obj, "__module__", None) if (inspect.isfunction(obj) or
                                                            isinstance(obj, Dispatcher)) \
                    else None
                if home and home.startswith("immunoreset"):
                    f = importlib.import_module(home).__file__
                    assert Path(f).resolve() in keyed, (mod.__name__, name, home)


def test_pure_python_callers_are_not_keyed(keyed):
    for rel in ("engine/parallel.py", "engine/run.py", "engine/assemble.py", "simulate.py",
                "cli.py", "trials/run.py", "_numba_cache.py"):
        assert (ROOT / rel).resolve() not in keyed, rel


def test_key_changes_with_compiled_sources_only(tmp_path):
    copy = tmp_path / "immunoreset"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    key = _numba_cache.cache_key(copy)
    assert key == _numba_cache.cache_key(ROOT)
    with (copy / "engine" / "parallel.py").open("a") as f:
        f.write("\n# a pure-Python edit\n")
    assert _numba_cache.cache_key(copy) == key
    with (copy / "engine" / "layout.py").open("a") as f:
        f.write("\n# an edit to the constants compiled code reads\n")
    changed = _numba_cache.cache_key(copy)
    assert changed != key
    # a new module that compiles code joins the key, with the modules it imports
    (copy / "physiology" / "extra.py").write_text(
        "from numba import njit\nfrom immunoreset.engine import assemble\n\n"
        "@njit(cache=True)\ndef f(x):\n    return x\n")
    names = {p.relative_to(copy).as_posix() for p in _numba_cache.compiled_modules(copy)}
    assert {"physiology/extra.py", "engine/assemble.py"} <= names
    assert _numba_cache.cache_key(copy) != changed


def test_detects_the_ways_numba_compiles():
    import ast

    yes = ["import numba as nb\n@nb.njit(cache=True)\ndef f(x): return x\n",
           "import numba\n@numba.jit\ndef f(x): return x\n",
           "from numba import njit as fast\ng = fast(lambda x: x)\n",
           "import numba\n@numba.experimental.jitclass([])\nclass A: pass\n"]
    no = ["import numba\nnumba.set_num_threads(1)\n", "def njit(f): return f\n@njit\ndef g(): 0\n"]
    for src in yes:
        assert _numba_cache.compiles_with_numba(ast.parse(src)), src
    for src in no:
        assert not _numba_cache.compiles_with_numba(ast.parse(src)), src
