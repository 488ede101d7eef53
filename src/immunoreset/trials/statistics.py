"""Statistics layer of the in-silico trial engine: shared conventions, input checks, tidy rows.

The estimators live in two sibling modules and are re-exported here, so callers can write
``from immunoreset.trials.statistics import kaplan_meier``:

* :mod:`immunoreset.trials.survival` -- Kaplan–Meier, Cox hazard ratios (overall and
  piecewise by follow-up interval), log-rank test, Aalen–Johansen cumulative incidence,
  restricted mean survival time.  All thin wrappers around ``lifelines``.
* :mod:`immunoreset.trials.proportions` -- Clopper–Pearson and Wilson intervals for a
  proportion, paired (mean change) and Welch (difference in means) t-intervals, via ``scipy``.

Conventions (all functions):

* Inputs are plain sequences / numpy arrays.  Durations are **years** from the time origin
  (randomisation or transplant, the caller's choice) and must be finite and ``>= 0``.  Event
  indicators are 0 (censored) / 1 (event); competing-risk codes are 0 (censored), 1..K (cause).
* Confidence intervals are two-sided with level ``confidence`` (default 0.95).
* Results are small frozen dataclasses; each has ``to_rows(...)`` (or ``to_row``) producing a
  polars DataFrame with exactly :data:`ENDPOINT_COLUMNS`, the schema of ``endpoints.csv``.
* Bad input raises :class:`immunoreset.errors.InputError` naming the field, the value and what is
  allowed.  Estimates that are mathematically undefined (e.g. a log(-log) interval at S(t) = 1)
  are returned as NaN rather than raising; each docstring says when.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from immunoreset.errors import InputError

if TYPE_CHECKING:  # re-exported lazily below (avoids an import cycle with the sibling modules)
    from immunoreset.trials.proportions import (
        MeanDifference,
        ProportionEstimate,
        difference_in_means_ci,
        mean_change_ci,
        proportion_ci,
    )
    from immunoreset.trials.survival import (
        CIFResult,
        HazardRatio,
        IntervalHazardRatio,
        KMResult,
        LogrankResult,
        PiecewiseHazardRatios,
        RMSTResult,
        SurvivalEstimate,
        check_cif_additivity,
        cox_hazard_ratio,
        cumulative_incidence,
        kaplan_meier,
        logrank,
        piecewise_hazard_ratios,
        restricted_mean_survival_time,
        split_episodes,
        survival_at,
    )

#: Column order of tidy endpoint rows (one row of ``endpoints.csv`` each).
ENDPOINT_COLUMNS: tuple[str, ...] = (
    "arm",
    "endpoint",
    "timepoint_years",
    "estimate",
    "ci_low",
    "ci_high",
    "unit",
    "n",
)

ENDPOINT_SCHEMA: dict[str, Any] = {
    "arm": pl.String,
    "endpoint": pl.String,
    "timepoint_years": pl.Float64,
    "estimate": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "unit": pl.String,
    "n": pl.Int64,
}

_SURVIVAL_NAMES = (
    "CIFResult",
    "HazardRatio",
    "IntervalHazardRatio",
    "KMResult",
    "LogrankResult",
    "PiecewiseHazardRatios",
    "RMSTResult",
    "SurvivalEstimate",
    "check_cif_additivity",
    "cox_hazard_ratio",
    "cumulative_incidence",
    "kaplan_meier",
    "logrank",
    "piecewise_hazard_ratios",
    "restricted_mean_survival_time",
    "split_episodes",
    "survival_at",
)
_PROPORTION_NAMES = (
    "MeanDifference",
    "ProportionEstimate",
    "difference_in_means_ci",
    "mean_change_ci",
    "proportion_ci",
)

__all__ = [
    "ENDPOINT_COLUMNS",
    "ENDPOINT_SCHEMA",
    "CIFResult",
    "HazardRatio",
    "IntervalHazardRatio",
    "KMResult",
    "LogrankResult",
    "MeanDifference",
    "PiecewiseHazardRatios",
    "ProportionEstimate",
    "RMSTResult",
    "SurvivalEstimate",
    "check_cif_additivity",
    "cox_hazard_ratio",
    "cumulative_incidence",
    "difference_in_means_ci",
    "endpoint_frame",
    "kaplan_meier",
    "logrank",
    "mean_change_ci",
    "piecewise_hazard_ratios",
    "proportion_ci",
    "restricted_mean_survival_time",
    "split_episodes",
    "survival_at",
]


def __getattr__(name: str) -> Any:
    """Lazily re-export the estimators (PEP 562) so the sibling modules can import helpers here."""
    if name in _SURVIVAL_NAMES:
        from immunoreset.trials import survival

        return getattr(survival, name)
    if name in _PROPORTION_NAMES:
        from immunoreset.trials import proportions

        return getattr(proportions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# --------------------------------------------------------------------------- tidy rows


def endpoint_row(
    *,
    arm: str,
    endpoint: str,
    timepoint_years: float | None,
    estimate: float,
    ci_low: float,
    ci_high: float,
    unit: str,
    n: int,
) -> dict[str, Any]:
    """One endpoint row as a dict keyed by :data:`ENDPOINT_COLUMNS` (None -> null)."""
    return {
        "arm": str(arm),
        "endpoint": str(endpoint),
        "timepoint_years": None if timepoint_years is None else float(timepoint_years),
        "estimate": float(estimate),
        "ci_low": float(ci_low),
        "ci_high": float(ci_high),
        "unit": str(unit),
        "n": int(n),
    }


def estimate_frame(est: Any, *, arm: str, endpoint: str,
                   timepoint_years: float | None) -> pl.DataFrame:
    """The one-row endpoint frame of an estimate object (its ``estimate``, ``ci_low``,
    ``ci_high``, ``unit`` and ``n``)."""
    return endpoint_frame([endpoint_row(
        arm=arm, endpoint=endpoint, timepoint_years=timepoint_years, estimate=est.estimate,
        ci_low=est.ci_low, ci_high=est.ci_high, unit=est.unit, n=est.n)])


def endpoint_frame(rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Polars DataFrame with exactly :data:`ENDPOINT_COLUMNS` (typed; empty input -> 0 rows).

    NaN estimates/limits stay NaN (not null); a missing timepoint (whole follow-up) is null.
    """
    rows = list(rows)
    for row in rows:
        missing = set(ENDPOINT_COLUMNS) - set(row)
        if missing:
            raise InputError("row", dict(row), f"a mapping with keys {list(ENDPOINT_COLUMNS)}")
    data = {c: [row[c] for row in rows] for c in ENDPOINT_COLUMNS}
    return pl.DataFrame(data, schema=ENDPOINT_SCHEMA)


# --------------------------------------------------------------------------- input checks


def _short(values: Any) -> str:
    text = repr(values)
    return text if len(text) <= 80 else text[:77] + "..."


def as_float_array(values: Any, field: str) -> np.ndarray:
    """1-D float array; raises :class:`InputError` if not numeric or not one-dimensional."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(field, _short(values), "a 1-D sequence of numbers") from None
    if arr.ndim != 1:
        raise InputError(field, _short(values), "a 1-D sequence of numbers")
    return arr


def as_durations(values: Any, field: str = "durations") -> np.ndarray:
    """Durations in years: 1-D, finite, ``>= 0``, at least one patient."""
    arr = as_float_array(values, field)
    if arr.size == 0:
        raise InputError(field, "[] (zero patients)", "at least one patient")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        first = arr[np.flatnonzero(bad)[0]]
        raise InputError(field, float(first), "finite durations >= 0 years")
    return arr


def as_events(values: Any, n: int, field: str = "events") -> np.ndarray:
    """0/1 (or bool) event indicators of length ``n``, returned as int64."""
    arr = as_float_array(values, field)
    check_same_length(field, arr, n)
    if not np.isin(arr, (0.0, 1.0)).all():
        first = arr[~np.isin(arr, (0.0, 1.0))][0]
        raise InputError(field, float(first), "0 (censored) or 1 (event)")
    return arr.astype(np.int64)


def as_event_codes(values: Any, n: int, field: str = "event_codes") -> np.ndarray:
    """Competing-risk codes of length ``n``: 0 = censored, 1..K = cause; returned as int64."""
    arr = as_float_array(values, field)
    check_same_length(field, arr, n)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
    if bad.any():
        raise InputError(field, float(arr[bad][0]), "integers 0 (censored) or 1..K (cause)")
    return arr.astype(np.int64)


def as_groups(values: Any, n: int, field: str = "group") -> np.ndarray:
    """Arm labels of length ``n`` (any hashable, homogeneous type), as a 1-D numpy array."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(field, _short(values), "a 1-D sequence of arm labels")
    check_same_length(field, arr, n)
    return arr


def as_timepoints(values: Any, field: str = "timepoints") -> np.ndarray:
    """Non-empty 1-D array of finite times ``>= 0`` years (any order; duplicates allowed)."""
    if np.isscalar(values):
        values = [values]
    arr = as_float_array(values, field)
    if arr.size == 0:
        raise InputError(field, "[]", "at least one time >= 0 years")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise InputError(field, float(arr[bad][0]), "finite times >= 0 years")
    return arr


def check_same_length(field: str, arr: Sequence[Any] | np.ndarray, n: int) -> None:
    if len(arr) != n:
        raise InputError(field, f"length {len(arr)}", f"length {n} (same as durations)")


def check_confidence(confidence: float) -> float:
    """Confidence level strictly between 0 and 1."""
    try:
        c = float(confidence)
    except (TypeError, ValueError):
        raise InputError("confidence", confidence, "a number in (0, 1), e.g. 0.95") from None
    if not (math.isfinite(c) and 0.0 < c < 1.0):
        raise InputError("confidence", confidence, "a number in (0, 1), e.g. 0.95")
    return c


def frozen(arr: np.ndarray) -> np.ndarray:
    """Read-only copy (results are immutable)."""
    out = np.array(arr, copy=True)
    out.setflags(write=False)
    return out
