"""Point numba's on-disk cache at a folder keyed by the compiled sources.

numba's ``cache=True`` invalidates a cached function only when *its own* file changes, not
when a module it reads constants from (``engine/layout.py``) changes; a stale cache would
silently run old index constants. Keying the cache folder by a hash of every module that
compiled code depends on makes that impossible, and keeps the cache out of read-only
installs. A user-set ``NUMBA_CACHE_DIR`` is respected.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

_COMPILED_PACKAGES = ("engine", "physiology")


def configure() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for pkg in _COMPILED_PACKAGES:
        for f in sorted((root / pkg).glob("*.py")):
            h.update(f.name.encode())
            h.update(f.read_bytes())
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    path = base / "immunoreset" / "numba" / h.hexdigest()[:16]
    os.environ["NUMBA_CACHE_DIR"] = str(path)
    if "numba" in sys.modules:  # numba already imported: set its live config too
        from numba.core import config

        config.CACHE_DIR = str(path)
