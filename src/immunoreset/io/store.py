"""Results on disk: atomic output folders, Parquet tables and provenance."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from immunoreset.errors import InputError


@contextlib.contextmanager
def atomic_output_dir(out: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Write into a hidden temporary sibling; rename to ``out`` only if the block succeeds.

    A failed run leaves nothing behind. An existing non-empty ``out`` is an error unless
    ``overwrite`` (then it is replaced in one rename after success).
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise InputError("out", str(out), "a new or empty directory (or pass --overwrite)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def base_provenance() -> dict:
    """Version, platform, time and interpreter of this run."""
    from immunoreset import __version__

    return {
        "software": {"name": "immunoreset", "version": __version__},
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "disclaimer": "Research software, not a medical device. Results are model outputs "
        "under the stated assumptions, not predictions for any real patient.",
    }


def write_json(path: Path, obj: dict) -> None:
    """Write JSON with stable formatting."""
    path.write_text(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
