"""Errors raised on bad input: each names the field, the value and what is allowed."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input. ``str(err)`` is a one-line message naming the field and allowed range."""

    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"invalid {field}={value!r}: allowed {allowed}")


def check_range(field: str, value: float, low: float, high: float, *, unit: str = "") -> float:
    """Return ``value`` if ``low <= value <= high`` (and finite), else raise :class:`InputError`."""
    import math

    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(field, value, f"a number in [{low}, {high}] {unit}".rstrip()) from None
    if not math.isfinite(v) or v < low or v > high:
        raise InputError(field, value, f"[{low}, {high}] {unit}".rstrip())
    return v
