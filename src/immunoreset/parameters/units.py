"""Unit conversion at load time.

Parameters are written in the unit of their source (hours, µg/mL, Gy …) and converted once,
when the registry is loaded, to the model's base units (DESIGN §4: time in days, counts in
cells/µL or cells/kg, doses as the clinic writes them).
"""

from __future__ import annotations

from immunoreset.errors import InputError

# factor such that value_in_target = value_in_source * factor
_TIME_IN_DAYS = {"min": 1.0 / 1440.0, "h": 1.0 / 24.0, "day": 1.0, "week": 7.0, "year": 365.25}

_LINEAR: dict[tuple[str, str], float] = {
    ("Gy", "cGy"): 100.0,
    ("cGy", "Gy"): 0.01,
    ("ug/mL", "mg/L"): 1.0,
    ("mg/L", "ug/mL"): 1.0,
    ("1e9/L", "cells/uL"): 1000.0,
    ("cells/uL", "1e9/L"): 0.001,
    ("/nL", "cells/uL"): 1000.0,
    ("1e6/kg", "cells/kg"): 1e6,
    ("mL/kg", "uL/kg"): 1000.0,
    ("g/m2", "mg/m2"): 1000.0,
    ("percent", "fraction"): 0.01,
    ("L/h", "L/day"): 24.0,
    ("mL/min", "L/day"): 1.44,
    ("L/h/kg", "L/day/kg"): 24.0,
}


def _rate(unit: str) -> str | None:
    for prefix in ("1/", "per "):
        if unit.startswith(prefix):
            return unit[len(prefix):]
    return None


def conversion_factor(source: str, target: str) -> float:
    """Multiplicative factor from ``source`` unit to ``target`` unit.

    Supports identical units, time (min, h, day, week, year), rates (1/h → 1/day …),
    and the fixed pairs in ``_LINEAR``. Anything else is an error, never a silent guess.
    """
    if source == target:
        return 1.0
    if source in _TIME_IN_DAYS and target in _TIME_IN_DAYS:
        return _TIME_IN_DAYS[source] / _TIME_IN_DAYS[target]
    rs, rt = _rate(source), _rate(target)
    if rs in _TIME_IN_DAYS and rt in _TIME_IN_DAYS:
        return _TIME_IN_DAYS[rt] / _TIME_IN_DAYS[rs]
    if (source, target) in _LINEAR:
        return _LINEAR[(source, target)]
    raise InputError("unit", f"{source} -> {target}",
                     "a supported conversion (see parameters/units.py)")


def convert(value: float, source: str, target: str) -> float:
    """Convert ``value`` from ``source`` to ``target`` units."""
    return value * conversion_factor(source, target)
