"""What every CLI module shares: the consoles, the exit-2 failure and the progress bar."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console

#: results go to stdout (wide when piped, so tables are not wrapped); errors to stderr
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)


def fail(msg: str) -> NoReturn:
    """Print one error line naming the problem and exit with code 2."""
    err_console.print(f"error: {msg}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def progress():
    """A rich progress bar on stderr (hidden when stderr is not a terminal)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress("[progress.description]{task.description}", BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                    transient=True, disable=not err_console.is_terminal)
