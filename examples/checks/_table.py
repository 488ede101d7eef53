"""Shared output of the held-out checks: one row is ``(check, published, simulated)``,
fractions as fractions, days as days (see each script's docstring for definitions)."""

from __future__ import annotations

Row = tuple[str, float, float]


def show(title: str, rows: list[Row]) -> None:
    """Print the rows of one check as a plain-text table."""
    width = max(len(title), *(len(r[0]) for r in rows)) + 2
    print(f"{title:{width}s} {'published':>10s} {'simulated':>10s}")
    for name, pub, sim in rows:
        print(f"{name:{width}s} {pub:10.3f} {sim:10.3f}")
