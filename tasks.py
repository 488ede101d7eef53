#!/usr/bin/env python3
"""Two-command set-up for a fresh machine with only python3 and pip.

    python3 tasks.py demo   # create .venv, install, run the main job (an in-silico trial + report)
    python3 tasks.py test   # create .venv, install with test extras, run the test suite

Extra arguments after ``test`` are passed to pytest (e.g. ``python3 tasks.py test -m slow``).
The virtual environment is re-installed only when ``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _ensure_env(extras: str) -> None:
    if not (BIN / "python").exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    target = f".[{extras}]" if extras else "."
    label = f"immunoreset[{extras}]" if extras else "immunoreset"
    print(f"installing {label} (the first run takes a few minutes)", flush=True)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
                   check=True, cwd=ROOT)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "--quiet", "-e", target],
                   check=True, cwd=ROOT)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test"}:
        print(__doc__)
        return 2
    task, rest = argv[0], argv[1:]
    if task == "demo":
        _ensure_env("")
        return subprocess.run([str(BIN / "immunoreset"), "demo", *rest], cwd=ROOT).returncode
    _ensure_env("test")
    rc = subprocess.run([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT).returncode
    return 0 if rc == 5 and rest else rc  # 5 = no test selected by a user filter


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
