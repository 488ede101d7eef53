"""Endpoints of an in-silico trial, computed from the patients table alone.

:func:`compute_endpoints` turns ``patients.parquet`` (one row per randomised patient) and the
spec into the rows of ``endpoints.csv``: columns exactly ``arm, endpoint, timepoint_years,
estimate, ci_low, ci_high, unit, n`` (:data:`ENDPOINT_COLUMNS`) **plus a trailing ``note``**
that says how a number was obtained or why it is missing.

Column contract of the patients table (what the simulators provide):

* ``patient_id``, ``arm``; ``simulated`` (bool) and ``simulation_note`` (why an arm was not
  simulated);
* ``days_randomisation_to_infusion`` (0 for comparator arms), ``censor_years`` (the earlier of
  the administrative follow-up and the patient's drop-out time, years from randomisation);
* outcome **day columns** in days after graft infusion (comparator arms: after randomisation),
  **NaN when the event did not happen** — ``death_day`` (+ ``death_cause`` from
  :data:`~immunoreset.vocabulary.DEATH_CAUSES`), ``relapse_day``, ``progression_day``,
  ``organ_failure_day``, ``infection_first_day``, ``cmv_reactivation_day`` …; event names map to
  columns by :func:`~immunoreset.trials.spec.event_definition`;
* boolean and score columns (``remission``, ``score_baseline``, ``score_y1`` …).

A column that is absent, or **null** for every patient of an arm, is *not modelled* for that
arm: the endpoint's rows then have estimate NaN and the note "not modelled yet (needs column
X)". NaN is "no event", null is "no model" — the two are never confused.

Time-to-event conventions: trial time is years from randomisation, ``(delay + day) / 365.25``;
death always ends observation (it censors endpoints that do not count it, and competes in
cumulative incidences); administrative censoring and drop-out come from ``censor_years``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from immunoreset.trials.spec import (
    SPECIAL_EVENTS,
    CumulativeIncidenceEndpoint,
    HazardRatioEndpoint,
    LogrankEndpoint,
    MeanChangeEndpoint,
    ProportionEndpoint,
    ReferenceValue,
    SummaryEndpoint,
    SurvivalEndpoint,
    TrialSpec,
    event_definition,
)
from immunoreset.trials.statistics import ENDPOINT_COLUMNS, ENDPOINT_SCHEMA

DAYS_PER_YEAR = 365.25

#: ``endpoints.csv`` columns: the DESIGN §6 contract plus a trailing ``note``.
ENDPOINT_CSV_COLUMNS: tuple[str, ...] = (*ENDPOINT_COLUMNS, "note")

#: Units of the outcome columns the disease and complication layers will add (the contract
#: this module is built against); hematology units come from the simulator.
CONTRACT_UNITS: dict[str, str] = {
    "death_day": "day after graft infusion (NaN: alive)",
    "death_cause": "one of vocabulary.DEATH_CAUSES",
    "relapse_day": "day after graft infusion (NaN: no relapse)",
    "progression_day": "day after graft infusion (NaN: no progression)",
    "organ_failure_day": "day after graft infusion (NaN: none)",
    "infection_first_day": "day after graft infusion (NaN: none)",
    "cmv_reactivation_day": "day after graft infusion (NaN: none)",
    "remission": "bool",
    "severe_infection": "bool",
    "score_name": "name of the disease activity score",
    "score_baseline": "points",
    "score_y1": "points",
    "score_y2": "points",
    "score_y5": "points",
}


def short_unit(unit: str) -> str:
    """The unit without its parenthesised explanation: ``"day after infusion (CIBMTR …)"`` →
    ``"day after infusion"``."""
    return unit.split(" (")[0].strip()


# ----------------------------------------------------------------------------- rows

def _row(arm: str, endpoint: str, tp: float | None, est: float, lo: float, hi: float,
         unit: str, n: int, note: str = "") -> dict[str, Any]:
    return {"arm": arm, "endpoint": endpoint,
            "timepoint_years": None if tp is None else float(tp),
            "estimate": float(est), "ci_low": float(lo), "ci_high": float(hi),
            "unit": unit, "n": int(n), "note": note}


def endpoint_table(rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """Typed frame with :data:`ENDPOINT_CSV_COLUMNS`."""
    rows = list(rows)
    schema = dict(ENDPOINT_SCHEMA) | {"note": pl.String}
    return pl.DataFrame({c: [r[c] for r in rows] for c in ENDPOINT_CSV_COLUMNS}, schema=schema)


def _missing(arm: str, endpoint: str, tps: list[float | None], unit: str, n: int,
             note: str) -> list[dict[str, Any]]:
    nan = math.nan
    return [_row(arm, endpoint, tp, nan, nan, nan, unit, n, note) for tp in tps]


# ----------------------------------------------------------------------------- availability

def arm_frame(patients: pl.DataFrame, arm: str) -> pl.DataFrame:
    """The rows of one arm."""
    return patients.filter(pl.col("arm") == arm)


#: cause columns: null for every patient without the event (no death: no cause), so an
#: all-null cause column means "no events", not "not modelled"
_CAUSE_COLUMNS = frozenset(d.cause_column for d in SPECIAL_EVENTS.values() if d.cause_column)


def missing_columns(df: pl.DataFrame, columns: Iterable[str]) -> list[str]:
    """Columns absent from ``df`` or null for every row (not modelled for these patients)."""
    out = []
    for c in columns:
        if c not in df.columns or df.height == 0 or (
                c not in _CAUSE_COLUMNS and df[c].null_count() == df.height):
            out.append(c)
    return out


def unavailable_reason(df: pl.DataFrame, columns: Iterable[str]) -> str | None:
    """Why an endpoint cannot be computed for this arm's rows (``None`` if it can)."""
    if df.height == 0:
        return "no patients randomised to this arm"
    if "simulated" in df.columns and not bool(df["simulated"].any()):
        note = df["simulation_note"][0] if "simulation_note" in df.columns else ""
        return f"arm not simulated: {note}" if note else "arm not simulated"
    miss = missing_columns(df, columns)
    if miss:
        return "not modelled yet (needs column " + ", ".join(miss) + ")"
    return None


# ----------------------------------------------------------------------------- event times

def _float(df: pl.DataFrame, col: str) -> np.ndarray:
    return df[col].cast(pl.Float64).fill_null(np.nan).to_numpy().astype(float)


def event_years(df: pl.DataFrame, event: str) -> np.ndarray:
    """Years from randomisation to the first ``event`` per patient (``inf``: none)."""
    d = event_definition(event)
    day = _float(df, d.column)
    if d.cause_column is not None:
        cause = df[d.cause_column].cast(pl.String).fill_null("").to_numpy()
        day = np.where(np.isin(cause, list(d.causes)), day, np.nan)
    delay = _float(df, "days_randomisation_to_infusion")
    t = np.maximum((delay + day) / DAYS_PER_YEAR, 0.0)
    return np.where(np.isfinite(t), t, np.inf)


def time_to_event(df: pl.DataFrame, events: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(durations in years, 0/1 event) for "first of ``events``"; death censors otherwise."""
    first = np.min(np.vstack([event_years(df, e) for e in events]), axis=0)
    end = _float(df, "censor_years")
    if "death" not in events:
        end = np.minimum(end, event_years(df, "death"))
    observed = first <= end
    return np.where(observed, first, end), observed.astype(np.int64)


def competing_risks(df: pl.DataFrame, event: str, competing: list[str]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(durations, codes) with code 1 = ``event``, 2 = a competing event (death always
    competes unless it is the event itself), 0 = censored; ties go to ``event``."""
    t1 = event_years(df, event)
    others = [c for c in dict.fromkeys([*competing, "death"]) if c != event]
    t2 = np.min(np.vstack([event_years(df, c) for c in others]), axis=0)
    end = _float(df, "censor_years")
    code = np.where((t1 <= t2) & (t1 <= end), 1, np.where(t2 <= end, 2, 0))
    dur = np.where(code == 1, t1, np.where(code == 2, t2, end))
    return dur, code.astype(np.int64)


# ----------------------------------------------------------------------------- estimators

def median_ci(x: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Sample median with the distribution-free order-statistic CI [x_(r), x_(n−r+1)].

    r is the largest rank with P(Bin(n, ½) ≤ r − 1) ≤ α/2, so the coverage is at least
    ``confidence`` (Conover, *Practical Nonparametric Statistics*, 3rd ed. 1999, §3.2; for
    n = 10 at 95 % the interval is [x_(2), x_(9)]). NaN limits when n is too small.
    """
    x = np.sort(np.asarray(x, dtype=float))
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    alpha = 1.0 - confidence
    k = int(stats.binom.ppf(alpha / 2, n, 0.5))
    if stats.binom.cdf(k, n, 0.5) > alpha / 2:
        k -= 1
    r = k + 1  # 1-based rank of the lower limit
    med = float(np.median(x))
    if r < 1:
        return med, math.nan, math.nan
    return med, float(x[r - 1]), float(x[n - r])


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "NaN"
    return "<0.001" if p < 0.001 else f"{p:.3g}"


# ----------------------------------------------------------------------------- per type

def _survival_rows(e: SurvivalEndpoint, patients: pl.DataFrame, arms: list[str]) -> list[dict]:
    from immunoreset.trials.statistics import kaplan_meier

    rows = []
    unit = "probability"
    for arm in arms:
        df = arm_frame(patients, arm)
        why = unavailable_reason(df, e.needed_columns())
        if why:
            rows += _missing(arm, e.name, list(e.timepoints_years), unit, df.height, why)
            continue
        dur, ev = time_to_event(df, e.events)
        km = kaplan_meier(dur, ev, timepoints=e.timepoints_years)
        for tp, s, lo, hi in zip(km.timepoints_years, km.survival, km.ci_low, km.ci_high,
                                 strict=True):
            note = f"Kaplan-Meier, log(-log) CI; {km.n_events} events"
            if e.report_as == "incidence":
                s, lo, hi = 1.0 - s, 1.0 - hi, 1.0 - lo
                note = "1 - " + note
            if not math.isfinite(s):
                note += "; timepoint after the last follow-up"
            rows.append(_row(arm, e.name, tp, s, lo, hi, unit, km.n, note))
    return rows


def _cif_rows(e: CumulativeIncidenceEndpoint, patients: pl.DataFrame, arms: list[str]
              ) -> list[dict]:
    from immunoreset.trials.statistics import cumulative_incidence

    rows = []
    for arm in arms:
        df = arm_frame(patients, arm)
        why = unavailable_reason(df, e.needed_columns())
        if why:
            rows += _missing(arm, e.name, list(e.timepoints_years), "probability", df.height,
                             why)
            continue
        dur, code = competing_risks(df, e.event, e.competing)
        res = cumulative_incidence(dur, code, cause=1, timepoints=e.timepoints_years)
        note = (f"Aalen-Johansen; {res.n_events_cause} events, {res.n_events_competing} "
                "competing")
        for tp, f, lo, hi in zip(res.timepoints_years, res.cif, res.ci_low, res.ci_high,
                                 strict=True):
            rows.append(_row(arm, e.name, tp, f, lo, hi, "probability", res.n, note))
    return rows


def _pair_data(spec: TrialSpec, e: HazardRatioEndpoint | LogrankEndpoint,
               patients: pl.DataFrame) -> tuple[str | None, Any]:
    target = spec.endpoint(e.endpoint)
    a, b = e.arms
    dfa, dfb = arm_frame(patients, a), arm_frame(patients, b)
    reasons = []
    for arm, df in ((a, dfa), (b, dfb)):
        why = unavailable_reason(df, target.needed_columns())
        if why:
            reasons.append(f"{arm}: {why}")
    if reasons:
        return "; ".join(reasons), dfa.height + dfb.height
    da, ea = time_to_event(dfa, target.events)
    db, eb = time_to_event(dfb, target.events)
    group = np.array([a] * da.size + [b] * db.size)
    return None, (np.concatenate([da, db]), np.concatenate([ea, eb]), group)


def _hr_rows(spec: TrialSpec, e: HazardRatioEndpoint, patients: pl.DataFrame) -> list[dict]:
    from immunoreset.trials.statistics import cox_hazard_ratio, piecewise_hazard_ratios

    label = f"{e.arms[0]} vs {e.arms[1]}"
    unit = "hazard_ratio"
    fu = spec.max_follow_up_years
    cuts = [c for c in (e.cutpoints_years or []) if c < fu]
    tps: list[float | None] = [*cuts, fu] if e.cutpoints_years else [None]
    why, data = _pair_data(spec, e, patients)
    if why:
        return _missing(label, e.name, tps, unit, data, why)
    t, ev, g = data
    if not e.cutpoints_years:
        hr = cox_hazard_ratio(t, ev, g, reference=e.arms[1])
        note = (f"Cox PH (Efron), Wald p = {_p(hr.p_value)}; events {e.arms[0]} "
                f"{hr.n_events_comparator}, {e.arms[1]} {hr.n_events_reference}")
        if hr.note:
            note += f"; {hr.note}"
        return [_row(label, e.name, None, hr.hazard_ratio, hr.ci_low, hr.ci_high, unit, hr.n,
                     note)]
    pw = piecewise_hazard_ratios(t, ev, g, reference=e.arms[1], cutpoints_years=cuts)
    rows = []
    for iv in pw.intervals:
        end = spec.max_follow_up_years if math.isinf(iv.end_years) else iv.end_years
        note = (f"piecewise Cox, interval ({iv.start_years:g}, {end:g}] y, Wald p = "
                f"{_p(iv.p_value)}; events {e.arms[0]} {iv.n_events_comparator}, "
                f"{e.arms[1]} {iv.n_events_reference}")
        if iv.note:
            note += f"; {iv.note}"
        rows.append(_row(label, e.name, end, iv.hazard_ratio, iv.ci_low, iv.ci_high, unit,
                         iv.n_at_risk, note))
    return rows


def _logrank_rows(spec: TrialSpec, e: LogrankEndpoint, patients: pl.DataFrame) -> list[dict]:
    from immunoreset.trials.statistics import logrank

    label = f"{e.arms[0]} vs {e.arms[1]}"
    why, data = _pair_data(spec, e, patients)
    if why:
        return _missing(label, e.name, [None], "p_value", data, why)
    t, ev, g = data
    res = logrank(t, ev, g)
    note = f"log-rank chi2 = {res.statistic:.3g}, df = {res.df}; {res.n_events} events"
    if res.note:
        note += f"; {res.note}"
    return [_row(label, e.name, None, res.p_value, math.nan, math.nan, "p_value", res.n, note)]


def _proportion_rows(e: ProportionEndpoint, patients: pl.DataFrame, arms: list[str]
                     ) -> list[dict]:
    from immunoreset.trials.statistics import proportion_ci

    rows = []
    for arm in arms:
        df = arm_frame(patients, arm)
        why = unavailable_reason(df, e.needed_columns())
        if why:
            rows += _missing(arm, e.name, [e.timepoint_years], "proportion", df.height, why)
            continue
        col = df[e.column]
        if col.dtype == pl.Boolean:
            known = col.is_not_null().to_numpy()
            hit = col.fill_null(False).to_numpy().astype(bool)
        else:
            x = _float(df, e.column)
            known = np.isfinite(x)
            hit = known.copy()
            with np.errstate(invalid="ignore"):
                if e.above is not None:
                    hit &= x > e.above
                if e.below is not None:
                    hit &= x < e.below
                if e.above is None and e.below is None:
                    hit &= x != 0
        for extra in e.all_of:
            hit &= df[extra].fill_null(False).to_numpy().astype(bool)
        if e.missing == "exclude":
            k, m = int(hit[known].sum()), int(known.sum())
        else:
            k, m = int((hit & known).sum()), int(df.height)
        if m == 0:
            rows += _missing(arm, e.name, [e.timepoint_years], "proportion", 0,
                             f"no patient with a value of {e.column}")
            continue
        pr = proportion_ci(k, m)
        rows.append(_row(arm, e.name, e.timepoint_years, pr.estimate, pr.ci_low, pr.ci_high,
                         "proportion", m, f"{k}/{m}, exact (Clopper-Pearson) CI"))
    return rows


def _changes(df: pl.DataFrame, e: MeanChangeEndpoint) -> tuple[np.ndarray, np.ndarray]:
    return _float(df, e.baseline), _float(df, e.follow_up)


def _mean_change_rows(e: MeanChangeEndpoint, patients: pl.DataFrame, arms: list[str]
                      ) -> list[dict]:
    from immunoreset.errors import InputError
    from immunoreset.trials.statistics import difference_in_means_ci, mean_change_ci

    rows = []
    for arm in arms:
        df = arm_frame(patients, arm)
        why = unavailable_reason(df, e.needed_columns())
        if why:
            rows += _missing(arm, e.name, [e.timepoint_years], e.unit, df.height, why)
            continue
        b, f = _changes(df, e)
        try:
            mc = mean_change_ci(b, f, unit=e.unit, nan_policy="omit")
        except InputError as exc:
            rows += _missing(arm, e.name, [e.timepoint_years], e.unit, df.height, str(exc))
            continue
        rows.append(_row(arm, e.name, e.timepoint_years, mc.estimate, mc.ci_low, mc.ci_high,
                         e.unit, mc.n, f"paired t, p = {_p(mc.p_value)}"))
    if e.compare:
        a, c = e.compare
        label = f"{a} vs {c}"
        dfa, dfc = arm_frame(patients, a), arm_frame(patients, c)
        why = [f"{arm}: {w}" for arm, d in ((a, dfa), (c, dfc))
               if (w := unavailable_reason(d, e.needed_columns()))]
        if why:
            rows += _missing(label, e.name, [e.timepoint_years], e.unit,
                             dfa.height + dfc.height, "; ".join(why))
        else:
            ba, fa = _changes(dfa, e)
            bc, fc = _changes(dfc, e)
            try:
                d = difference_in_means_ci(fa - ba, fc - bc, unit=e.unit, nan_policy="omit")
                rows.append(_row(label, e.name, e.timepoint_years, d.estimate, d.ci_low,
                                 d.ci_high, e.unit, d.n,
                                 f"difference of mean changes, Welch t, p = {_p(d.p_value)}"))
            except InputError as exc:
                rows += _missing(label, e.name, [e.timepoint_years], e.unit,
                                 dfa.height + dfc.height, str(exc))
    return rows


def _summary_rows(e: SummaryEndpoint, patients: pl.DataFrame, arms: list[str],
                  units: dict[str, str]) -> list[dict]:
    rows = []
    unit = short_unit(units.get(e.column, ""))
    for arm in arms:
        df = arm_frame(patients, arm)
        why = unavailable_reason(df, e.needed_columns())
        if why:
            rows += _missing(arm, e.name, [None], unit, df.height, why)
            continue
        x = _float(df, e.column)
        x = x[np.isfinite(x)]
        if x.size == 0:
            rows += _missing(arm, e.name, [None], unit, 0, f"no finite value of {e.column}")
            continue
        if e.statistic == "median":
            est, lo, hi = median_ci(x)
            note = "median, distribution-free order-statistic CI"
        else:
            est = float(np.mean(x))
            if x.size > 1 and np.ptp(x) > 0:
                sem = float(stats.sem(x))
                lo, hi = stats.t.interval(0.95, x.size - 1, loc=est, scale=sem)
            else:
                lo = hi = math.nan
            note = "mean, t CI"
        missing = df.height - x.size
        if missing:
            note += f"; {missing} of {df.height} patients without a value (excluded)"
        rows.append(_row(arm, e.name, None, est, lo, hi, unit, x.size, note))
    return rows


# ----------------------------------------------------------------------------- public

def compute_endpoints(spec: TrialSpec, patients: pl.DataFrame, *,
                      units: dict[str, str] | None = None) -> pl.DataFrame:
    """Every endpoint of ``spec`` from the patients table, as ``endpoints.csv`` rows.

    Returns a frame with :data:`ENDPOINT_CSV_COLUMNS` (the DESIGN §6 columns plus a trailing
    ``note``), in spec order, arms in spec order. Hazard-ratio and log-rank rows have
    ``arm = "<arm> vs <reference arm>"``. Rows that cannot be computed have NaN estimates and
    say why in ``note`` ("not modelled yet (needs column death_day)", "arm not simulated: …").
    """
    units = {**CONTRACT_UNITS, **(units or {})}
    all_arms = [a.name for a in spec.arms]
    rows: list[dict] = []
    for e in spec.endpoints:
        arms = e.arms if getattr(e, "arms", None) and not isinstance(
            e, HazardRatioEndpoint | LogrankEndpoint) else all_arms
        if isinstance(e, SurvivalEndpoint):
            rows += _survival_rows(e, patients, arms)
        elif isinstance(e, CumulativeIncidenceEndpoint):
            rows += _cif_rows(e, patients, arms)
        elif isinstance(e, HazardRatioEndpoint):
            rows += _hr_rows(spec, e, patients)
        elif isinstance(e, LogrankEndpoint):
            rows += _logrank_rows(spec, e, patients)
        elif isinstance(e, ProportionEndpoint):
            rows += _proportion_rows(e, patients, arms)
        elif isinstance(e, MeanChangeEndpoint):
            rows += _mean_change_rows(e, patients, arms)
        elif isinstance(e, SummaryEndpoint):
            rows += _summary_rows(e, patients, arms, units)
    return endpoint_table(rows)


# ----------------------------------------------------------------------------- reference

_PROBABILITY_UNITS = ("probability", "proportion")


def _reference_scale(ref: ReferenceValue, row_unit: str) -> float:
    if ref.unit == "percent" and row_unit in _PROBABILITY_UNITS:
        return 0.01
    return 1.0


def published_ci(ref: ReferenceValue) -> tuple[float, float, str]:
    """The published CI, or an exact Clopper–Pearson CI derived from ``n_events/n``
    (labelled), or NaNs; in the reference's own unit."""
    from immunoreset.trials.statistics import proportion_ci

    if ref.ci is not None:
        return float(ref.ci[0]), float(ref.ci[1]), "published"
    if ref.n_events is not None and ref.n is not None and ref.n_events <= ref.n:
        pr = proportion_ci(ref.n_events, ref.n)
        scale = 100.0 if ref.unit == "percent" else 1.0
        return pr.ci_low * scale, pr.ci_high * scale, (
            f"derived: exact CI from {ref.n_events}/{ref.n}")
    return math.nan, math.nan, "none"


def _match(endpoints: pl.DataFrame, ref: ReferenceValue) -> dict | None:
    for r in endpoints.iter_rows(named=True):
        if r["endpoint"] != ref.endpoint or r["arm"] != ref.arm:
            continue
        tp = r["timepoint_years"]
        if (tp is None) != (ref.timepoint_years is None):
            continue
        if tp is not None and abs(tp - ref.timepoint_years) > 1e-9:
            continue
        return r
    return None


def compare_with_reference(spec: TrialSpec, endpoints: pl.DataFrame) -> pl.DataFrame:
    """Simulated vs published, one row per ``spec.reference`` entry.

    ``status`` is ``inside`` / ``outside`` (simulated estimate vs the published 95 % CI),
    ``no published CI``, ``not modelled`` (simulated estimate NaN) or ``no matching row``.
    For hazard ratios ``direction_agrees`` says whether both are on the same side of 1 and
    ``significance_agrees`` whether both CIs exclude 1 (or both include it). Published values
    are converted to the row's unit (percent → probability).
    """
    out = []
    for ref in spec.reference:
        row = _match(endpoints, ref)
        lo, hi, ci_kind = published_ci(ref)
        unit = row["unit"] if row else (ref.unit or "")
        scale = _reference_scale(ref, unit)
        pub, plo, phi = ref.estimate * scale, lo * scale, hi * scale
        rec = {"endpoint": ref.endpoint, "arm": ref.arm, "timepoint_years": ref.timepoint_years,
               "published": pub, "published_ci_low": plo, "published_ci_high": phi,
               "published_ci": ci_kind, "source": ref.source,
               "confidence": ref.confidence or "", "simulated": math.nan,
               "simulated_ci_low": math.nan, "simulated_ci_high": math.nan, "n": None,
               "unit": unit, "status": "no matching row", "direction_agrees": None,
               "significance_agrees": None, "note": ref.note}
        if row is not None:
            est = row["estimate"]
            rec.update(simulated=est, simulated_ci_low=row["ci_low"],
                       simulated_ci_high=row["ci_high"], n=row["n"])
            if not math.isfinite(est):
                rec["status"] = "not estimable" if "not estimable" in (row["note"] or "") \
                    else "not modelled"
                rec["note"] = "; ".join(x for x in (row["note"], ref.note) if x)
            elif not (math.isfinite(plo) and math.isfinite(phi)):
                rec["status"] = "no published CI"
            else:
                rec["status"] = "inside" if plo <= est <= phi else "outside"
            if unit == "hazard_ratio" and math.isfinite(est):
                rec["direction_agrees"] = bool((est < 1) == (pub < 1))
                sim_sig = row["ci_high"] < 1 or row["ci_low"] > 1
                if math.isfinite(plo) and math.isfinite(phi):
                    rec["significance_agrees"] = bool(sim_sig == (phi < 1 or plo > 1))
        out.append(rec)
    schema = {"endpoint": pl.String, "arm": pl.String, "timepoint_years": pl.Float64,
              "published": pl.Float64, "published_ci_low": pl.Float64,
              "published_ci_high": pl.Float64, "published_ci": pl.String, "source": pl.String,
              "confidence": pl.String, "simulated": pl.Float64, "simulated_ci_low": pl.Float64,
              "simulated_ci_high": pl.Float64, "n": pl.Int64, "unit": pl.String,
              "status": pl.String, "direction_agrees": pl.Boolean,
              "significance_agrees": pl.Boolean, "note": pl.String}
    return pl.DataFrame({k: [r[k] for r in out] for k in schema}, schema=schema)
