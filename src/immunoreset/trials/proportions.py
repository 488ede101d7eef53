"""Proportions and means for in-silico trials: binomial CIs and t-intervals via ``scipy``.

* :func:`proportion_ci` -- Clopper–Pearson "exact" (R ``binom.test``) or Wilson score
  (R ``prop.test(correct=FALSE)``) interval, from ``scipy.stats.binomtest(...).proportion_ci``.
* :func:`mean_change_ci` -- paired t-interval for mean(follow_up - baseline) (R ``t.test(paired=
  TRUE)``), from ``scipy.stats.ttest_rel``.
* :func:`difference_in_means_ci` -- Welch t-interval for mean(a) - mean(b) (R ``t.test``
  default), from ``scipy.stats.ttest_ind(equal_var=False)``.

Shared conventions (input errors, ``endpoints.csv`` rows): :mod:`immunoreset.trials.statistics`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import polars as pl
from scipy import stats

from immunoreset.errors import InputError
from immunoreset.trials.statistics import (
    as_float_array,
    check_confidence,
    estimate_frame,
)

_PROPORTION_METHODS = {"exact": "exact", "clopper-pearson": "exact", "wilson": "wilson"}


@dataclass(frozen=True)
class ProportionEstimate:
    """successes / n with a two-sided CI (``method``: "exact" = Clopper–Pearson, or "wilson")."""

    successes: int
    n: int
    estimate: float
    ci_low: float
    ci_high: float
    method: str
    confidence: float
    unit: str = "proportion"

    def to_rows(
        self, *, arm: str, endpoint: str, timepoint_years: float | None = None
    ) -> pl.DataFrame:
        return estimate_frame(self, arm=arm, endpoint=endpoint, timepoint_years=timepoint_years)


def _count(value: Any, field: str) -> int:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InputError(field, value, "a whole number >= 0") from None
    if not math.isfinite(f) or f < 0 or f != round(f):
        raise InputError(field, value, "a whole number >= 0")
    return int(f)


def proportion_ci(
    successes: int, n: int, *, method: str = "exact", confidence: float = 0.95
) -> ProportionEstimate:
    """CI for a binomial proportion.

    ``method="exact"`` (alias "clopper-pearson"): Clopper–Pearson, identical to R
    ``binom.test``; ``method="wilson"``: Wilson score without continuity correction.
    ``n`` must be >= 1 (an arm with zero patients has no proportion) and 0 <= successes <= n.
    """
    k = _count(successes, "successes")
    m = _count(n, "n")
    if m < 1:
        raise InputError("n", n, "at least 1 patient")
    if k > m:
        raise InputError("successes", successes, f"0..{m} (cannot exceed n)")
    key = str(method).lower()
    if key not in _PROPORTION_METHODS:
        raise InputError("method", method, f"one of {sorted(_PROPORTION_METHODS)}")
    conf = check_confidence(confidence)
    ci = stats.binomtest(k, m).proportion_ci(confidence_level=conf, method=_PROPORTION_METHODS[key])
    return ProportionEstimate(
        successes=k,
        n=m,
        estimate=k / m,
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        method="clopper-pearson" if _PROPORTION_METHODS[key] == "exact" else "wilson",
        confidence=conf,
    )


@dataclass(frozen=True)
class MeanDifference:
    """A mean (change or difference) with its t-interval and two-sided t-test p-value.

    ``n`` is the number of pairs (paired) or n_a + n_b (Welch); ``df`` the t degrees of freedom
    (Welch–Satterthwaite for Welch).  ``unit`` is whatever unit the caller's values were in.
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    statistic: float
    df: float
    n: int
    method: str
    confidence: float
    unit: str = ""
    note: str = ""

    def to_rows(
        self, *, arm: str, endpoint: str, timepoint_years: float | None = None
    ) -> pl.DataFrame:
        return estimate_frame(self, arm=arm, endpoint=endpoint, timepoint_years=timepoint_years)


NanPolicy = Literal["raise", "omit"]


def _check_nan_policy(nan_policy: str) -> None:
    if nan_policy not in ("raise", "omit"):
        raise InputError("nan_policy", nan_policy, "'raise' or 'omit'")


def _finite_or_raise(arr: np.ndarray, field: str) -> None:
    if not np.isfinite(arr).all():
        raise InputError(field, float(arr[~np.isfinite(arr)][0]), "finite numbers (no NaN/inf)")


def _degenerate(d: np.ndarray, n: int, method: str, conf: float, unit: str) -> MeanDifference:
    """Zero spread: the t statistic is undefined; report the mean with a zero-width CI."""
    m = float(np.mean(d))
    return MeanDifference(
        m, m, m, math.nan, math.nan, float(n - 1), n, method, conf, unit, "zero variance"
    )


def mean_change_ci(
    baseline: Any,
    follow_up: Any,
    *,
    confidence: float = 0.95,
    unit: str = "",
    nan_policy: NanPolicy = "raise",
) -> MeanDifference:
    """Mean within-patient change ``follow_up - baseline`` with a paired t-interval.

    Same as R ``t.test(follow_up, baseline, paired=TRUE)``.  ``nan_policy="omit"`` drops pairs
    with a missing (NaN) value on either side; ``"raise"`` (default) refuses them.  Needs >= 2
    pairs.  If all changes are identical the CI has zero width and p is NaN (``note``).
    """
    _check_nan_policy(nan_policy)
    conf = check_confidence(confidence)
    b = as_float_array(baseline, "baseline")
    f = as_float_array(follow_up, "follow_up")
    if b.size != f.size:
        raise InputError("follow_up", f"length {f.size}", f"length {b.size} (same as baseline)")
    if nan_policy == "omit":
        keep = np.isfinite(b) & np.isfinite(f)
        b, f = b[keep], f[keep]
    _finite_or_raise(b, "baseline")
    _finite_or_raise(f, "follow_up")
    if b.size < 2:
        raise InputError("baseline", f"{b.size} complete pair(s)", "at least 2 complete pairs")
    d = f - b
    method = "paired t"
    if np.ptp(d) == 0:
        return _degenerate(d, d.size, method, conf, unit)
    res = stats.ttest_rel(f, b)
    ci = res.confidence_interval(confidence_level=conf)
    return MeanDifference(
        estimate=float(np.mean(d)),
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        p_value=float(res.pvalue),
        statistic=float(res.statistic),
        df=float(res.df),
        n=int(d.size),
        method=method,
        confidence=conf,
        unit=unit,
    )


def difference_in_means_ci(
    group_a: Any,
    group_b: Any,
    *,
    confidence: float = 0.95,
    unit: str = "",
    nan_policy: NanPolicy = "raise",
) -> MeanDifference:
    """mean(group_a) - mean(group_b) with a Welch (unequal-variance) t-interval.

    Same as R ``t.test(group_a, group_b)``.  Each group needs >= 2 finite values after
    ``nan_policy`` ("omit" drops NaNs, "raise" refuses them).  If both groups have zero spread the
    CI has zero width and p is NaN (``note``).
    """
    _check_nan_policy(nan_policy)
    conf = check_confidence(confidence)
    a = as_float_array(group_a, "group_a")
    b = as_float_array(group_b, "group_b")
    if nan_policy == "omit":
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    for arr, field in ((a, "group_a"), (b, "group_b")):
        _finite_or_raise(arr, field)
        if arr.size < 2:
            raise InputError(field, f"{arr.size} value(s)", "at least 2 values per group")
    method = "Welch t"
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        diff = np.array([a[0] - b[0]])
        out = _degenerate(diff, a.size + b.size, method, conf, unit)
        return replace(out, df=math.nan)
    res = stats.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(confidence_level=conf)
    return MeanDifference(
        estimate=float(np.mean(a) - np.mean(b)),
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        p_value=float(res.pvalue),
        statistic=float(res.statistic),
        df=float(res.df),
        n=int(a.size + b.size),
        method=method,
        confidence=conf,
        unit=unit,
    )
