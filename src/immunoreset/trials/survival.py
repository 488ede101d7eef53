"""Time-to-event statistics for in-silico trials: thin, documented wrappers around ``lifelines``.

Durations are in **years**; see :mod:`immunoreset.trials.statistics` for the shared conventions
(input checks, ``endpoints.csv`` rows).  Numerical conventions stated once here:

* **Kaplan–Meier CI** -- lifelines' "exponential Greenwood" interval, i.e. the log(-log)
  transformed interval of Kalbfleisch & Prentice (2002, §1.4): Greenwood variance, CI for
  log(-log S) by the delta method, mapped back.  This equals R ``survfit(conf.type="log-log")``
  and Stata ``sts list``.  (R's default ``conf.type="log"`` gives different limits.)  Where S(t) is
  1 (no event yet) or 0 the interval is undefined and reported as NaN, as R does.
* **At-risk counts** at time t are the number with duration ``>= t`` (R ``n.risk`` convention).
* **Follow-up horizon** -- an estimate asked for after the largest observed duration is NaN
  (unknown), unless the curve already reached S = 0 (then 0 / the final CIF).
* **Cox** -- partial likelihood with Efron's tie handling (lifelines' only method; also R's
  ``coxph`` default), Wald CI and Wald p-value.
* **Cumulative incidence** -- Aalen–Johansen (lifelines ``AalenJohansenFitter``) with its
  delta-method (Greenwood-type) variance (Collett 2015, *Modelling Survival Data in Medical
  Research*, 3rd ed., p. 411) and a log(-log) transformed CI.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceWarning
from lifelines.statistics import logrank_test, multivariate_logrank_test
from lifelines.utils import restricted_mean_survival_time as _lifelines_rmst
from scipy import stats

from immunoreset.errors import InputError
from immunoreset.trials.statistics import (
    as_durations,
    as_event_codes,
    as_events,
    as_groups,
    as_timepoints,
    check_confidence,
    endpoint_frame,
    endpoint_row,
    estimate_frame,
    frozen,
)

_KM_CI_METHOD = "log(-log) 'exponential Greenwood' (Kalbfleisch-Prentice); = R conf.type='log-log'"
#: A log-HR standard error above this means the partial likelihood is flat/monotone (no MLE).
_MAX_SE_LOG_HR = 100.0
#: lifelines stops Newton-Raphson when the log-likelihood changes by < 1e-9 (relative); with its
#: damped steps that can leave beta ~1e-4 from the optimum, so ask for a tighter fit.
_COX_FIT_OPTIONS = {"r_precision": 1e-13, "precision": 1e-9}
_AJ_CI_METHOD = "Aalen-Johansen, delta-method variance (Collett 3rd ed. p.411), log(-log) CI"


# =========================================================================== helpers


def _step_lookup(times: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Right-continuous step function ``values`` (knots ``times``, ``times[0] <= 0``) at ``at``."""
    idx = np.searchsorted(times, at, side="right") - 1
    return values[np.clip(idx, 0, None)]


def _beyond_follow_up(at: np.ndarray, t_max: float, curve_finished: bool) -> np.ndarray:
    """Mask of times after the last follow-up where the estimate is unknown."""
    return (at > t_max) & (not curve_finished)


def _ordered_ci(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.fmin(a, b), np.fmax(a, b)
    bad = ~(np.isfinite(lo) & np.isfinite(hi))
    lo[bad], hi[bad] = np.nan, np.nan
    return lo, hi


def _fit_km(t: np.ndarray, e: np.ndarray, confidence: float) -> KaplanMeierFitter:
    # lifelines calls np.seterr(...) (global) inside KM; errstate restores the caller's settings
    # and silences the expected divide-by-zero in log(S) at S = 0/1.
    with np.errstate(divide="ignore", invalid="ignore"):
        return KaplanMeierFitter(alpha=1.0 - confidence).fit(t, event_observed=e)


def _km_arrays(kmf: KaplanMeierFitter) -> dict[str, np.ndarray]:
    times = kmf.survival_function_.index.to_numpy(dtype=float)
    surv = kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float)
    ci = kmf.confidence_interval_survival_function_.to_numpy(dtype=float)
    lo, hi = _ordered_ci(ci[:, 0].copy(), ci[:, 1].copy())
    undefined = (surv >= 1.0) | (surv <= 0.0)  # log(-log S) undefined: R reports NA too
    lo[undefined], hi[undefined] = np.nan, np.nan
    table = kmf.event_table.reindex(kmf.survival_function_.index)
    return {
        "time_years": times,
        "survival": surv,
        "ci_low": lo,
        "ci_high": hi,
        "n_at_risk": table["at_risk"].to_numpy(dtype=np.int64),
        "n_events": table["observed"].to_numpy(dtype=np.int64),
        "n_censored": table["censored"].to_numpy(dtype=np.int64),
    }


def _at_risk(t: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Number with duration >= each time in ``at``."""
    srt = np.sort(t)
    return (srt.size - np.searchsorted(srt, at, side="left")).astype(np.int64)


# =========================================================================== Kaplan–Meier


@dataclass(frozen=True)
class KMResult:
    """Kaplan–Meier estimate of one arm.

    ``survival``/``ci_low``/``ci_high``/``n_at_risk`` are aligned with ``timepoints_years``.
    ``curve`` is the full right-continuous step curve (one row per distinct time, starting at 0):
    columns ``time_years, survival, ci_low, ci_high, n_at_risk, n_events, n_censored``.
    ``risk_table`` has columns ``time_years, n_at_risk`` (number with duration >= time).
    """

    timepoints_years: np.ndarray
    survival: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n_at_risk: np.ndarray
    n: int
    n_events: int
    confidence: float
    curve: pl.DataFrame
    risk_table: pl.DataFrame
    ci_method: str = _KM_CI_METHOD
    unit: str = "probability"

    def to_rows(self, *, arm: str, endpoint: str = "survival") -> pl.DataFrame:
        """One ``endpoints.csv`` row per timepoint (``n`` = patients in the arm)."""
        return endpoint_frame(
            endpoint_row(
                arm=arm,
                endpoint=endpoint,
                timepoint_years=tp,
                estimate=s,
                ci_low=lo,
                ci_high=hi,
                unit=self.unit,
                n=self.n,
            )
            for tp, s, lo, hi in zip(
                self.timepoints_years, self.survival, self.ci_low, self.ci_high, strict=True
            )
        )


def kaplan_meier(
    durations: Any,
    events: Any,
    *,
    timepoints: Any,
    risk_table_times: Any = None,
    confidence: float = 0.95,
) -> KMResult:
    """Kaplan–Meier survival with pointwise CIs at ``timepoints`` (years).

    CI: lifelines' exponential-Greenwood (log(-log)) interval, identical to R
    ``survfit(..., conf.type="log-log")``; NaN where S(t) is 1 or 0.  With **no events at all**
    the estimate is 1.0 at every timepoint within follow-up and the CI is NaN (no crash).
    Timepoints after the last observed duration give NaN unless S already reached 0.
    ``risk_table_times`` (default: ``timepoints``) sets the rows of ``risk_table``.
    """
    t = as_durations(durations)
    e = as_events(events, t.size)
    tp = as_timepoints(timepoints)
    rt = tp if risk_table_times is None else as_timepoints(risk_table_times, "risk_table_times")
    conf = check_confidence(confidence)

    cols = _km_arrays(_fit_km(t, e, conf))
    knots = cols["time_years"]
    finished = bool(cols["survival"][-1] <= 0.0)
    unknown = _beyond_follow_up(tp, float(t.max()), finished)
    out = {k: _step_lookup(knots, cols[k], tp) for k in ("survival", "ci_low", "ci_high")}
    for k in out:
        out[k] = np.where(unknown, np.nan, out[k])

    return KMResult(
        timepoints_years=frozen(tp),
        survival=frozen(out["survival"]),
        ci_low=frozen(out["ci_low"]),
        ci_high=frozen(out["ci_high"]),
        n_at_risk=frozen(_at_risk(t, tp)),
        n=int(t.size),
        n_events=int(e.sum()),
        confidence=conf,
        curve=pl.DataFrame(cols),
        risk_table=pl.DataFrame({"time_years": rt, "n_at_risk": _at_risk(t, rt)}),
    )


@dataclass(frozen=True)
class SurvivalEstimate:
    """A single Kaplan–Meier survival probability with its CI (see :func:`kaplan_meier`)."""

    timepoint_years: float
    estimate: float
    ci_low: float
    ci_high: float
    n: int
    n_at_risk: int
    unit: str = "probability"

    def to_rows(self, *, arm: str, endpoint: str = "survival") -> pl.DataFrame:
        return estimate_frame(self, arm=arm, endpoint=endpoint,
                              timepoint_years=self.timepoint_years)


def survival_at(
    durations: Any, events: Any, timepoint_years: float, *, confidence: float = 0.95
) -> SurvivalEstimate:
    """Kaplan–Meier S(t) at one time, same conventions as :func:`kaplan_meier`."""
    km = kaplan_meier(durations, events, timepoints=[timepoint_years], confidence=confidence)
    return SurvivalEstimate(
        timepoint_years=float(km.timepoints_years[0]),
        estimate=float(km.survival[0]),
        ci_low=float(km.ci_low[0]),
        ci_high=float(km.ci_high[0]),
        n=km.n,
        n_at_risk=int(km.n_at_risk[0]),
    )


@dataclass(frozen=True)
class RMSTResult:
    """Restricted mean survival time (area under the KM curve up to ``tau_years``)."""

    tau_years: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    unit: str = "years"

    def to_rows(self, *, arm: str, endpoint: str = "rmst") -> pl.DataFrame:
        return estimate_frame(self, arm=arm, endpoint=endpoint, timepoint_years=self.tau_years)


def restricted_mean_survival_time(
    durations: Any, events: Any, *, tau_years: float, confidence: float = 0.95
) -> RMSTResult:
    """RMST up to ``tau_years`` with a normal-theory CI.

    Estimate: ``lifelines.utils.restricted_mean_survival_time`` (exact area under the KM step
    curve).  SE (not provided by lifelines, whose "variance" is that of min(T, tau) itself):
    Var = sum over event times t_j <= tau of A_j^2 d_j / (n_j (n_j - d_j)), A_j = area under
    the KM curve from t_j to tau (Klein & Moeschberger 2003, §4.5; as R ``print.survfit``
    ``se(rmean)``); a term with n_j = d_j has A_j = 0 and contributes 0.
    ``tau_years`` must not exceed the last follow-up unless the curve reached 0.
    """
    t = as_durations(durations)
    e = as_events(events, t.size)
    conf = check_confidence(confidence)
    kmf = _fit_km(t, e, conf)
    cols = _km_arrays(kmf)
    finished = bool(cols["survival"][-1] <= 0.0)
    try:
        tau = float(tau_years)
    except (TypeError, ValueError):
        raise InputError("tau_years", tau_years, "a number of years > 0") from None
    if not (math.isfinite(tau) and tau > 0) or (tau > t.max() and not finished):
        raise InputError("tau_years", tau_years, f"(0, {t.max():g}] years (last follow-up)")

    estimate = float(_lifelines_rmst(kmf, t=tau))
    knots, surv = cols["time_years"], cols["survival"]
    # Area from each knot to tau under the step curve (numpy; lifelines gives only the total).
    edges = np.append(np.minimum(knots, tau), tau)
    area_from = np.cumsum((np.diff(edges) * surv)[::-1])[::-1]
    d, n_risk = cols["n_events"], cols["n_at_risk"]
    use = (knots <= tau) & (d > 0) & (n_risk > d)
    var = float(np.sum(area_from[use] ** 2 * d[use] / (n_risk[use] * (n_risk[use] - d[use]))))
    se = math.sqrt(var)
    z = float(stats.norm.ppf(0.5 + conf / 2.0))
    return RMSTResult(tau, estimate, se, estimate - z * se, estimate + z * se, int(t.size))


# =========================================================================== Cox models


@dataclass(frozen=True)
class HazardRatio:
    """Cox hazard ratio of ``comparator`` vs ``reference`` (HR > 1: higher hazard in comparator).

    ``ci_low``/``ci_high`` are Wald limits exp(b -/+ z se); ``p_value`` is the Wald test of b = 0.
    When the HR is not estimable -- no events in an arm, or a monotone partial likelihood
    (e.g. every comparator event precedes every reference event), detected as a non-finite
    limit or SE(log HR) >= 100 -- all numbers are NaN and ``note`` says why.  lifelines
    ``ConvergenceWarning``s are caught and summarised in ``note`` instead of being raised.
    """

    comparator: str
    reference: str
    hazard_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    log_hr: float
    se_log_hr: float
    n: int
    n_events_reference: int
    n_events_comparator: int
    confidence: float
    ties: str = "efron"
    note: str = ""
    unit: str = "hazard_ratio"

    def to_rows(self, *, endpoint: str = "hazard_ratio") -> pl.DataFrame:
        """One row; ``arm`` is "<comparator> vs <reference>", timepoint null (whole follow-up)."""
        return endpoint_frame([self._row(endpoint, None)])

    def _row(self, endpoint: str, timepoint: float | None) -> dict[str, Any]:
        return endpoint_row(
            arm=f"{self.comparator} vs {self.reference}",
            endpoint=endpoint,
            timepoint_years=timepoint,
            estimate=self.hazard_ratio,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            unit=self.unit,
            n=self.n,
        )


def _two_arms(group: Any, n: int, reference: Any) -> tuple[np.ndarray, str, str]:
    """Comparator indicator (1 = comparator) and the two labels; checks exactly two arms."""
    g = as_groups(group, n)
    labels = list(dict.fromkeys(g.tolist()))
    if reference not in labels:
        raise InputError("reference", reference, f"one of the arm labels {labels}")
    others = [lab for lab in labels if lab != reference]
    if len(others) != 1:
        raise InputError(
            "group", f"arms {labels}", "exactly two arms, each with at least one patient"
        )
    x = np.array([lab != reference for lab in g.tolist()], dtype=float)
    return x, str(others[0]), str(reference)


def _fit_cox(
    t: np.ndarray, e: np.ndarray, x: np.ndarray, confidence: float
) -> tuple[float, float, float, float, float, float, str]:
    """(log_hr, se, hr, ci_low, ci_high, p, note) for one binary covariate, Efron ties."""
    nan = (math.nan,) * 6
    ev_ref, ev_cmp = int(e[x == 0].sum()), int(e[x == 1].sum())
    if ev_ref + ev_cmp == 0:
        return (*nan, "no events: HR not estimable")
    if ev_ref == 0 or ev_cmp == 0:
        arm = "reference" if ev_ref == 0 else "comparator"
        return (*nan, f"no events in the {arm} arm: HR not estimable (infinite MLE)")
    df = pd.DataFrame({"T": t, "E": e, "x": x})
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always", ConvergenceWarning)
        cph = CoxPHFitter(alpha=1.0 - confidence).fit(
            df, duration_col="T", event_col="E", fit_options=_COX_FIT_OPTIONS
        )
    notes = []
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            first_sentence = " ".join(str(w.message).split()).split(". ")[0]
            notes.append(f"lifelines ConvergenceWarning: {first_sentence}")
        else:  # anything unexpected is passed on, not hidden
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    row = cph.summary.loc["x"]
    lo_col = next(c for c in cph.summary.columns if c.startswith("exp(coef) lower"))
    hi_col = next(c for c in cph.summary.columns if c.startswith("exp(coef) upper"))
    out = [float(row[c]) for c in ("coef", "se(coef)", "exp(coef)", lo_col, hi_col, "p")]
    b, se, _, lo, _, _ = out
    if not (np.isfinite(out).all() and lo > 0 and se < _MAX_SE_LOG_HR):
        # Monotone likelihood (e.g. all comparator events occur before any reference event in
        # the interval): beta diverges, lifelines stops at an arbitrary huge value.
        notes.insert(0, f"HR not estimable (monotone likelihood; log HR {b:.3g}, SE {se:.3g})")
        return (*nan, "; ".join(notes))
    return (*out, "; ".join(notes))


def cox_hazard_ratio(
    durations: Any, events: Any, group: Any, *, reference: Any, confidence: float = 0.95
) -> HazardRatio:
    """Cox PH hazard ratio (lifelines ``CoxPHFitter``, Efron ties) of the non-reference arm.

    ``group`` holds exactly two arm labels; ``reference`` is the baseline arm.
    """
    t = as_durations(durations)
    e = as_events(events, t.size)
    conf = check_confidence(confidence)
    x, comparator, ref = _two_arms(group, t.size, reference)
    b, se, hr, lo, hi, p, note = _fit_cox(t, e, x, conf)
    return HazardRatio(
        comparator=comparator,
        reference=ref,
        hazard_ratio=hr,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        log_hr=b,
        se_log_hr=se,
        n=int(t.size),
        n_events_reference=int(e[x == 0].sum()),
        n_events_comparator=int(e[x == 1].sum()),
        confidence=conf,
        note=note,
    )


def _as_cutpoints(cutpoints_years: Any) -> np.ndarray:
    c = np.atleast_1d(np.asarray(cutpoints_years, dtype=float))
    if c.ndim != 1 or not np.isfinite(c).all() or (c <= 0).any() or (np.diff(c) <= 0).any():
        raise InputError(
            "cutpoints_years", cutpoints_years, "strictly increasing finite times > 0 years"
        )
    return c


def split_episodes(durations: Any, events: Any, *, cutpoints_years: Any) -> pl.DataFrame:
    """Counting-process episode split at ``cutpoints_years`` (Therneau & Grambsch 2000, §3.7).

    Intervals are [0, c1], (c1, c2], ..., (ck, inf): an event exactly at a cutpoint belongs to
    the earlier interval.  Each patient gets one row per interval entered (duration > start),
    columns ``id, interval, start_years, stop_years, event``; ``event`` is 1 only in the episode
    where the patient's event occurs.  An empty cutpoint list gives one episode per patient.
    """
    t = as_durations(durations)
    e = as_events(events, t.size)
    cuts = _as_cutpoints(cutpoints_years)
    starts = np.concatenate([[0.0], cuts])
    ends = np.concatenate([cuts, [np.inf]])
    parts = []
    for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
        idx = np.flatnonzero(t > a) if k else np.arange(t.size)
        ti = t[idx]
        parts.append(
            pl.DataFrame(
                {
                    "id": idx.astype(np.int64),
                    "interval": np.full(idx.size, k, dtype=np.int64),
                    "start_years": np.full(idx.size, a),
                    "stop_years": np.minimum(ti, b),
                    "event": np.where(ti <= b, e[idx], 0).astype(np.int64),
                }
            )
        )
    return pl.concat(parts).sort(["id", "interval"])


@dataclass(frozen=True)
class IntervalHazardRatio:
    """Hazard ratio within one follow-up interval (start_years, end_years]."""

    start_years: float
    end_years: float
    hazard_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    log_hr: float
    se_log_hr: float
    n_at_risk: int
    n_events_reference: int
    n_events_comparator: int
    note: str = ""


@dataclass(frozen=True)
class PiecewiseHazardRatios:
    """Time-varying HR: one :class:`IntervalHazardRatio` per follow-up interval."""

    comparator: str
    reference: str
    intervals: tuple[IntervalHazardRatio, ...]
    n: int
    confidence: float
    ties: str = "efron"
    unit: str = "hazard_ratio"

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame([vars(iv) for iv in self.intervals])

    def to_rows(self, *, endpoint: str = "hazard_ratio") -> pl.DataFrame:
        """Rows with endpoint "<endpoint> (a-b y)" and timepoint_years = interval end (null=inf)."""
        rows = []
        for iv in self.intervals:
            end = None if math.isinf(iv.end_years) else iv.end_years
            label = f">{iv.start_years:g} y" if end is None else f"{iv.start_years:g}-{end:g} y"
            rows.append(
                endpoint_row(
                    arm=f"{self.comparator} vs {self.reference}",
                    endpoint=f"{endpoint} ({label})",
                    timepoint_years=end,
                    estimate=iv.hazard_ratio,
                    ci_low=iv.ci_low,
                    ci_high=iv.ci_high,
                    unit=self.unit,
                    n=iv.n_at_risk,
                )
            )
        return endpoint_frame(rows)


def piecewise_hazard_ratios(
    durations: Any,
    events: Any,
    group: Any,
    *,
    reference: Any,
    cutpoints_years: Any,
    confidence: float = 0.95,
) -> PiecewiseHazardRatios:
    """Piecewise-constant (time-varying) Cox HR, one per interval between ``cutpoints_years``.

    Model: h(t | arm) = h0(t) exp(beta_k * comparator) for t in interval k, with one common
    unspecified baseline hazard h0 -- i.e. a Cox model with arm x interval interaction after
    episode splitting (:func:`split_episodes`), as used for e.g. the ASTIS trial's HRs for
    0-0.25, 0.25-0.5, 0.5-1, 1-2, >2 years (``cutpoints_years=[0.25, 0.5, 1, 2]``).

    Because every risk set at time t contains only the episodes covering t, the Efron partial
    likelihood factorises over intervals: the joint fit (``CoxTimeVaryingFitter`` on the
    episodes with covariates comparator x 1[interval k]) has a block-diagonal information matrix
    and its beta_k, SE_k equal a separate Cox fit of interval k's episodes.  All episodes in
    interval k start at the same time, so that fit is an ordinary ``CoxPHFitter`` on
    durations stop - start.  Fitting intervals separately keeps an interval with no events in
    one arm (HR not estimable -> NaN, see ``note``) from spoiling the others.
    """
    t = as_durations(durations)
    e = as_events(events, t.size)
    conf = check_confidence(confidence)
    x, comparator, ref = _two_arms(group, t.size, reference)
    cuts = _as_cutpoints(cutpoints_years)
    episodes = split_episodes(t, e, cutpoints_years=cuts)
    bounds = list(zip(np.concatenate([[0.0], cuts]), np.append(cuts, np.inf), strict=True))
    results = []
    for k, (a, b) in enumerate(bounds):
        ep = episodes.filter(pl.col("interval") == k)
        ids = ep["id"].to_numpy()
        ek = ep["event"].to_numpy()
        xk = x[ids]
        dur = ep["stop_years"].to_numpy() - ep["start_years"].to_numpy()
        if ids.size == 0:
            fit = (*(math.nan,) * 6, "nobody at risk in this interval")
        else:
            fit = _fit_cox(dur, ek, xk, conf)
        bk, se, hr, lo, hi, p, note = fit
        results.append(
            IntervalHazardRatio(
                start_years=float(a),
                end_years=float(b),
                hazard_ratio=hr,
                ci_low=lo,
                ci_high=hi,
                p_value=p,
                log_hr=bk,
                se_log_hr=se,
                n_at_risk=int(ids.size),
                n_events_reference=int(ek[xk == 0].sum()),
                n_events_comparator=int(ek[xk == 1].sum()),
                note=note,
            )
        )
    return PiecewiseHazardRatios(comparator, ref, tuple(results), int(t.size), conf)


# =========================================================================== log-rank


@dataclass(frozen=True)
class LogrankResult:
    """Log-rank (Mantel–Cox) chi-square test of equal survival across arms."""

    statistic: float
    p_value: float
    df: int
    n: int
    n_events: int
    arms: tuple[str, ...]
    note: str = ""


def logrank(durations: Any, events: Any, group: Any) -> LogrankResult:
    """Log-rank test (lifelines ``logrank_test``; ``multivariate_logrank_test`` for > 2 arms).

    The statistic equals R ``survdiff`` (rho = 0).  With no events the test is undefined and
    statistic and p are NaN (``note`` says so).  Needs at least two arms with patients.
    """
    t = as_durations(durations)
    e = as_events(events, t.size)
    g = as_groups(group, t.size)
    arms = list(dict.fromkeys(g.tolist()))
    if len(arms) < 2:
        raise InputError("group", f"arms {arms}", "at least two arms, each with >= 1 patient")
    labels = tuple(str(a) for a in arms)
    if e.sum() == 0:
        return LogrankResult(math.nan, math.nan, len(arms) - 1, t.size, 0, labels, "no events")
    with np.errstate(all="ignore"):
        if len(arms) == 2:
            a = np.array([lab == arms[0] for lab in g.tolist()])
            res = logrank_test(t[a], t[~a], e[a], e[~a])
        else:
            res = multivariate_logrank_test(t, g, e)
    return LogrankResult(
        statistic=float(res.test_statistic),
        p_value=float(res.p_value),
        df=int(res.degrees_of_freedom),
        n=int(t.size),
        n_events=int(e.sum()),
        arms=labels,
    )


# =========================================================================== competing risks


def _separate_tied_causes(t: np.ndarray, codes: np.ndarray, protect: np.ndarray) -> np.ndarray:
    """Deterministically separate event times tied across *different* causes.

    lifelines' Aalen–Johansen refuses such ties and jitters them at random (with a warning and
    a global ``np.random.seed``).  Here, at a time u with events of m distinct causes, the cause
    groups are moved to u - (m-1)d, ..., u - d, u (censorings stay at u, i.e. after the events,
    the usual convention; u > 0, see :func:`_aj_time_axis`).  d is far below the smallest gap
    between distinct durations and requested timepoints, so estimates at those timepoints equal
    the tied-data Aalen–Johansen estimate exactly: the product-limit and CIF increments of
    sequential events telescope to S(u-) d_k / n.
    """
    ev = codes > 0
    times, counts = np.unique(t[ev], return_counts=True)
    candidates = times[counts > 1]
    if candidates.size == 0:
        return t
    grid = np.unique(np.concatenate([t, protect, [0.0]]))
    gap = np.min(np.diff(grid)) if grid.size > 1 else 1.0
    n_causes = np.unique(codes[ev]).size
    delta = gap * 1e-6 / max(n_causes, 1)
    out = t.copy()
    for u in candidates:
        at_u = np.flatnonzero(ev & (t == u))
        causes = np.unique(codes[at_u])
        if causes.size < 2:
            continue
        for j, c in enumerate(causes):
            shift = (causes.size - 1 - j) * delta
            out[at_u[codes[at_u] == c]] = u - shift
    return out


def _aj_time_axis(
    t: np.ndarray, codes: np.ndarray, protect: np.ndarray
) -> tuple[np.ndarray, float]:
    """Durations as handed to lifelines' Aalen–Johansen fitter, and the offset to add to lookups.

    lifelines forces the CIF's first row (time 0) to 0, which would silently drop events at
    t = 0; if there are any, the whole time axis is shifted by +1 year for the fit (lookup times
    get the same offset, so equal times stay equal).  Then ties across causes are separated.
    """
    offset = 1.0 if bool(((t == 0) & (codes > 0)).any()) else 0.0
    return _separate_tied_causes(t + offset, codes, protect + offset), offset


def _fit_aj(t: np.ndarray, codes: np.ndarray, cause: int, confidence: float, variance: bool):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # Ties across causes were removed beforehand, so lifelines' jitter warning cannot apply;
        # filtering it here only guards against float round-off re-creating a tie.
        warnings.filterwarnings("ignore", message="Tied event times were detected")
        return AalenJohansenFitter(alpha=1.0 - confidence, calculate_variance=variance).fit(
            t, codes, event_of_interest=cause
        )


@dataclass(frozen=True)
class CIFResult:
    """Cumulative incidence of one cause (Aalen–Johansen), aligned with ``timepoints_years``.

    ``curve`` holds the step curve: ``time_years, cif, ci_low, ci_high``.
    """

    cause: int
    timepoints_years: np.ndarray
    cif: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n: int
    n_events_cause: int
    n_events_competing: int
    confidence: float
    curve: pl.DataFrame
    ci_method: str = _AJ_CI_METHOD
    unit: str = "probability"

    def to_rows(self, *, arm: str, endpoint: str | None = None) -> pl.DataFrame:
        name = endpoint or f"cumulative_incidence_cause_{self.cause}"
        return endpoint_frame(
            endpoint_row(
                arm=arm,
                endpoint=name,
                timepoint_years=tp,
                estimate=f,
                ci_low=lo,
                ci_high=hi,
                unit=self.unit,
                n=self.n,
            )
            for tp, f, lo, hi in zip(
                self.timepoints_years, self.cif, self.ci_low, self.ci_high, strict=True
            )
        )


def _all_failed(t: np.ndarray, codes: np.ndarray) -> bool:
    """True if the overall (any-cause) KM curve reaches 0, i.e. the last duration is an event
    and nobody is censored at it."""
    last = t == t.max()
    return bool((codes[last] > 0).all())


def cumulative_incidence(
    durations: Any,
    event_codes: Any,
    *,
    cause: int,
    timepoints: Any,
    confidence: float = 0.95,
) -> CIFResult:
    """Aalen–Johansen cumulative incidence of ``cause`` with competing causes (codes 1..K).

    Event codes: 0 = censored, 1..K = cause.  CI: lifelines' delta-method variance and log(-log)
    transform (lifelines labels its two limit columns the wrong way round; they are ordered
    here).  NaN CI where the CIF is 0 (or the variance is undefined).  A cause with no
    events gives CIF 0.  Timepoints after the last follow-up are NaN unless everyone failed.
    Ties between causes are separated deterministically (see ``_separate_tied_causes``).
    """
    t = as_durations(durations)
    codes = as_event_codes(event_codes, t.size)
    tp = as_timepoints(timepoints)
    conf = check_confidence(confidence)
    try:
        k = int(cause)
    except (TypeError, ValueError):
        raise InputError("cause", cause, "an integer cause code >= 1") from None
    if k < 1 or k != cause:
        raise InputError("cause", cause, "an integer cause code >= 1")

    tt, offset = _aj_time_axis(t, codes, tp)
    aj = _fit_aj(tt, codes, k, conf, variance=True)
    knots = aj.cumulative_density_.index.to_numpy(dtype=float)
    cif = aj.cumulative_density_.iloc[:, 0].to_numpy(dtype=float)
    ci = aj.confidence_interval_.to_numpy(dtype=float)
    lo, hi = _ordered_ci(ci[:, 0].copy(), ci[:, 1].copy())
    lo[cif <= 0], hi[cif <= 0] = np.nan, np.nan

    unknown = _beyond_follow_up(tp, float(t.max()), _all_failed(t, codes))
    vals = [np.where(unknown, np.nan, _step_lookup(knots, v, tp + offset)) for v in (cif, lo, hi)]
    # Curve on the original time grid (hides the tie-separation knots).
    grid = np.unique(np.concatenate([[0.0], t]))
    curve = {"time_years": grid} | {
        name: _step_lookup(knots, v, grid + offset)
        for name, v in (("cif", cif), ("ci_low", lo), ("ci_high", hi))
    }
    return CIFResult(
        cause=k,
        timepoints_years=frozen(tp),
        cif=frozen(vals[0]),
        ci_low=frozen(vals[1]),
        ci_high=frozen(vals[2]),
        n=int(t.size),
        n_events_cause=int((codes == k).sum()),
        n_events_competing=int(((codes > 0) & (codes != k)).sum()),
        confidence=conf,
        curve=pl.DataFrame(curve),
    )


def check_cif_additivity(
    durations: Any, event_codes: Any, *, timepoints: Any = None, atol: float | None = 1e-9
) -> float:
    """Max over ``timepoints`` of |sum_k CIF_k(t) + S(t) - 1| with all causes k included.

    S is the all-cause Kaplan–Meier survival (any code > 0 is an event), computed on the
    *original* (untied) times; the CIFs come from :func:`cumulative_incidence`'s fitting path.
    Default timepoints: every distinct duration.  Raises ``ArithmeticError`` if the deviation
    exceeds ``atol`` (pass ``atol=None`` to only return it).
    """
    t = as_durations(durations)
    codes = as_event_codes(event_codes, t.size)
    tp = np.unique(t) if timepoints is None else as_timepoints(timepoints)
    tp = tp[tp <= t.max()]
    surv = _km_arrays(_fit_km(t, (codes > 0).astype(np.int64), 0.95))
    total = _step_lookup(surv["time_years"], surv["survival"], tp)
    tt, offset = _aj_time_axis(t, codes, tp)
    for k in np.unique(codes[codes > 0]):
        aj = _fit_aj(tt, codes, int(k), 0.95, variance=False)
        knots = aj.cumulative_density_.index.to_numpy(dtype=float)
        cif = aj.cumulative_density_.iloc[:, 0].to_numpy()
        total = total + _step_lookup(knots, cif, tp + offset)
    dev = float(np.max(np.abs(total - 1.0))) if tp.size else 0.0
    if atol is not None and dev > atol:
        raise ArithmeticError(f"sum of CIFs + KM survival deviates from 1 by {dev:.3g} > {atol}")
    return dev
