"""DuckDB over a run's files: ``immunoreset results query DIR "SQL"``.

Every table of a run directory becomes a view named after it:

* ``NAME.parquet`` → view ``NAME`` (``patients``, ``screening``, ``outcomes``,
  ``trajectories`` …);
* a folder of ``part-*.parquet`` files (``simulate_to_parquet``) → view named after the folder;
* ``NAME.csv`` → view ``NAME`` (``endpoints``, ``reference_comparison``).

The connection is in memory and sandboxed: DuckDB may read only the run's own files (external
access is then disabled and the configuration locked), so a query cannot write, delete or read
anything else.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from immunoreset.errors import InputError

_VIEW = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def run_views(run_dir: str | Path) -> dict[str, str]:
    """``{view name: DuckDB table expression}`` for the tables found in ``run_dir``."""
    d = Path(run_dir)
    if not d.is_dir():
        raise InputError("dir", str(d), "an existing run directory")
    views: dict[str, str] = {}
    for p in sorted(d.iterdir()):
        name = p.stem
        if not _VIEW.match(name):
            continue
        if p.is_file() and p.suffix == ".parquet":
            views[name] = f"read_parquet({_quote(p)})"
        elif p.is_file() and p.suffix == ".csv":
            views[name] = f"read_csv({_quote(p)}, header = true)"
        elif p.is_dir() and any(p.glob("part-*.parquet")):
            views[p.name] = f"read_parquet({_quote(p / 'part-*.parquet')})"
    if not views:
        raise InputError("dir", str(d), "a run directory with Parquet or CSV files")
    return views


def _quote(p: Path) -> str:
    return "'" + str(p.resolve()).replace("'", "''") + "'"


def query(run_dir: str | Path, sql: str) -> pl.DataFrame:
    """Run one SQL statement over the run's views and return the result as a polars frame.

    Bad SQL raises :class:`InputError` naming ``sql`` with DuckDB's first message line.
    """
    import duckdb

    views = run_views(run_dir)
    if not isinstance(sql, str) or not sql.strip():
        raise InputError("sql", sql, "a non-empty SQL query, e.g. SELECT * FROM endpoints")
    d = Path(run_dir).resolve()
    files = [str(p.resolve()) for p in d.iterdir() if p.is_file()]
    dirs = [str(p.resolve()) + "/" for p in d.iterdir() if p.is_dir()]
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET allowed_paths = ?", [files])
        if dirs:
            con.execute("SET allowed_directories = ?", [dirs])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        for name, expr in views.items():
            con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM {expr}')
        try:
            rel = con.sql(sql)
        except duckdb.Error as exc:
            msg = str(exc).strip().splitlines()[0]
            raise InputError("sql", sql if len(sql) < 80 else sql[:77] + "...",
                             f"a valid DuckDB query over views {', '.join(views)} ({msg})"
                             ) from None
        if rel is None:
            return pl.DataFrame()
        return rel.pl()
    finally:
        con.close()
