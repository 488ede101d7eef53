"""Tests of the trial statistics layer against published reference values.

Every reference number below is quoted with its source and the tolerance used (normally half a
unit in the last printed digit of the source).  Datasets are written out literally.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunoreset.errors import InputError
from immunoreset.trials import survival as survival_module
from immunoreset.trials.statistics import (
    ENDPOINT_COLUMNS,
    check_cif_additivity,
    cox_hazard_ratio,
    cumulative_incidence,
    difference_in_means_ci,
    endpoint_frame,
    kaplan_meier,
    logrank,
    mean_change_ci,
    piecewise_hazard_ratios,
    proportion_ci,
    restricted_mean_survival_time,
    split_episodes,
    survival_at,
)

# ----------------------------------------------------------------------------------- datasets

# AML maintenance trial: Embury et al. (1977); Miller, "Survival Analysis" (1981), p. 49;
# R package `survival`, data set `aml` (time in weeks, status 1 = relapse).
AML_MAINTAINED_T = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161]
AML_MAINTAINED_E = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0]
AML_NONMAINT_T = [5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
AML_NONMAINT_E = [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]
AML_T = np.array(AML_MAINTAINED_T + AML_NONMAINT_T, dtype=float)
AML_E = np.array(AML_MAINTAINED_E + AML_NONMAINT_E)
AML_G = np.array(["Maintained"] * 11 + ["Nonmaintained"] * 12)

# Leukaemia remission (weeks), 6-MP vs placebo: Freireich et al., Blood 21:699 (1963);
# Gehan, Biometrika 52:203 (1965); MASS::gehan; Kleinbaum & Klein, "Survival Analysis", ch. 1-2.
GEHAN_6MP_T = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
GEHAN_6MP_E = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
GEHAN_PLACEBO_T = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]
GEHAN_PLACEBO_E = [1] * 21
GEHAN_T = np.array(GEHAN_6MP_T + GEHAN_PLACEBO_T, dtype=float)
GEHAN_E = np.array(GEHAN_6MP_E + GEHAN_PLACEBO_E)
GEHAN_G = np.array(["6-MP"] * 21 + ["placebo"] * 21)

# Student's sleep data (extra hours of sleep, 10 patients, two drugs): Cushny & Peebles (1905);
# Student, Biometrika 6:1 (1908); R data set `sleep`.
SLEEP_DRUG1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_DRUG2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


# ----------------------------------------------------------------------------------- Kaplan–Meier


def test_km_gehan_6mp_matches_stata_loglog_intervals():
    """KM and log(-log) 95 % CI of the 6-MP arm.

    Source: Stata ``sts list, by(group)`` on the Gehan data (Stata's default CI is the
    log(-log) one), as printed in G. Rodríguez, WWS 509 notes "The Gehan Survival Data"
    (data.princeton.edu/pop509/gehan.html); the survivor column is also Kleinbaum & Klein,
    "Survival Analysis" (3rd ed.), ch. 2, KM table for group 1 (6-MP): 0.8571 ... 0.4482.
    Printed to 4 decimals -> tolerance 6e-5.
    """
    times = [6, 7, 10, 13, 16, 22, 23]
    expected_s = [0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482]
    expected_lo = [0.6197, 0.5631, 0.5032, 0.4316, 0.3675, 0.2678, 0.1881]
    expected_hi = [0.9516, 0.9228, 0.8894, 0.8491, 0.8049, 0.7468, 0.6801]
    km = kaplan_meier(GEHAN_6MP_T, GEHAN_6MP_E, timepoints=times)
    np.testing.assert_allclose(km.survival, expected_s, atol=6e-5)
    np.testing.assert_allclose(km.ci_low, expected_lo, atol=6e-5)
    np.testing.assert_allclose(km.ci_high, expected_hi, atol=6e-5)
    # n at risk (R/Stata convention: duration >= t): 21 at 6, 17 at 7, 15 at 10, 12 at 13.
    np.testing.assert_array_equal(km.n_at_risk[:4], [21, 17, 15, 12])


def test_km_gehan_placebo_first_row_matches_stata():
    """Placebo arm, t = 1 week: S = 0.9048, SE 0.0641, CI 0.6700-0.9753 (Stata sts list, same
    source as above; 4 decimals -> tolerance 6e-5)."""
    km = kaplan_meier(GEHAN_PLACEBO_T, GEHAN_PLACEBO_E, timepoints=[1])
    assert km.survival[0] == pytest.approx(0.9048, abs=6e-5)
    assert km.ci_low[0] == pytest.approx(0.6700, abs=6e-5)
    assert km.ci_high[0] == pytest.approx(0.9753, abs=6e-5)


def test_km_aml_maintained_matches_r_survfit():
    """R ``summary(survfit(Surv(time, status) ~ x, data = aml))``, x = Maintained:
    time 9 13 18 23 31 34 48; n.risk 11 10 8 7 5 4 2; survival 0.909 0.818 0.716 0.614 0.491
    0.368 0.184 (printed to 3 decimals -> tolerance 6e-4)."""
    times = [9, 13, 18, 23, 31, 34, 48]
    km = kaplan_meier(AML_MAINTAINED_T, AML_MAINTAINED_E, timepoints=times)
    np.testing.assert_allclose(
        km.survival, [0.909, 0.818, 0.716, 0.614, 0.491, 0.368, 0.184], atol=6e-4
    )
    np.testing.assert_array_equal(km.n_at_risk, [11, 10, 8, 7, 5, 4, 2])


def test_km_loglog_interval_equals_kalbfleisch_prentice_formula():
    """Hand formula (Kalbfleisch & Prentice 2002, §1.4): Greenwood V = sum d/(n(n-d));
    se(log(-log S)) = sqrt(V)/|log S|; CI = S^exp(+/- z se).  AML Maintained at t = 13:
    S = (10/11)(9/10), V = 1/(11*10) + 1/(10*9).  Exact identity -> tolerance 1e-10."""
    s = (10 / 11) * (9 / 10)
    v = 1 / (11 * 10) + 1 / (10 * 9)
    se = math.sqrt(v) / abs(math.log(s))
    z = 1.959963984540054
    km = kaplan_meier(AML_MAINTAINED_T, AML_MAINTAINED_E, timepoints=[13])
    assert km.survival[0] == pytest.approx(s, abs=1e-12)
    assert km.ci_low[0] == pytest.approx(s ** math.exp(z * se), abs=1e-10)
    assert km.ci_high[0] == pytest.approx(s ** math.exp(-z * se), abs=1e-10)


def test_km_curve_risk_table_and_follow_up_horizon():
    km = kaplan_meier(
        AML_MAINTAINED_T, AML_MAINTAINED_E, timepoints=[0, 50, 161, 200], risk_table_times=[0, 45]
    )
    assert km.curve.columns == [
        "time_years",
        "survival",
        "ci_low",
        "ci_high",
        "n_at_risk",
        "n_events",
        "n_censored",
    ]
    assert km.curve["time_years"][0] == 0.0 and km.curve["survival"][0] == 1.0
    assert km.risk_table.to_dict(as_series=False) == {
        "time_years": [0.0, 45.0],
        "n_at_risk": [11, 3],
    }
    assert km.survival[0] == 1.0 and math.isnan(km.ci_low[0])  # S = 1: log-log CI undefined
    assert km.survival[2] == pytest.approx(0.184, abs=6e-4)
    assert math.isnan(km.survival[3])  # after the last follow-up (161): unknown
    # Placebo arm: everyone relapsed by week 23, so S(30) = 0 is known (CI undefined -> NaN).
    km0 = kaplan_meier(GEHAN_PLACEBO_T, GEHAN_PLACEBO_E, timepoints=[30])
    assert km0.survival[0] == 0.0 and math.isnan(km0.ci_high[0])


def test_km_no_events_returns_one_with_nan_ci():
    km = kaplan_meier([0.5, 1.0, 2.0], [0, 0, 0], timepoints=[0.0, 1.0, 2.0])
    np.testing.assert_array_equal(km.survival, [1.0, 1.0, 1.0])
    assert np.isnan(km.ci_low).all() and np.isnan(km.ci_high).all()
    assert km.n_events == 0


def test_survival_at_and_endpoint_rows():
    est = survival_at(AML_MAINTAINED_T, AML_MAINTAINED_E, 31)
    assert est.estimate == pytest.approx(0.491, abs=6e-4)  # R summary(survfit), see above
    rows = kaplan_meier(AML_MAINTAINED_T, AML_MAINTAINED_E, timepoints=[9, 31]).to_rows(
        arm="maintained", endpoint="relapse_free_survival"
    )
    assert tuple(rows.columns) == ENDPOINT_COLUMNS
    assert rows["n"].to_list() == [11, 11]
    assert rows["unit"].to_list() == ["probability"] * 2
    assert est.to_rows(arm="m").schema == rows.schema


def test_rmst_aml_matches_r_print_survfit():
    """R ``print(survfit(Surv(time, status) ~ x, data = aml), rmean = 161)`` (restricted mean
    with upper limit 161 weeks): Maintained rmean 52.6, se(rmean) 19.83; Nonmaintained 22.7,
    4.18.  Tolerances: half a printed unit (0.05, 0.005)."""
    m = restricted_mean_survival_time(AML_MAINTAINED_T, AML_MAINTAINED_E, tau_years=161)
    n = restricted_mean_survival_time(AML_NONMAINT_T, AML_NONMAINT_E, tau_years=161)
    assert m.estimate == pytest.approx(52.6, abs=0.05)
    assert m.se == pytest.approx(19.83, abs=0.005)
    assert n.estimate == pytest.approx(22.7, abs=0.05)
    assert n.se == pytest.approx(4.18, abs=0.005)
    assert m.ci_low < m.estimate < m.ci_high
    with pytest.raises(InputError):  # beyond the Maintained arm's last follow-up, S > 0 there
        restricted_mean_survival_time(AML_MAINTAINED_T, AML_MAINTAINED_E, tau_years=200)


# ----------------------------------------------------------------------------------- Cox / log-rank


def test_cox_aml_matches_r_coxph():
    """R ``summary(coxph(Surv(time, status) ~ x, data = aml))`` (Efron ties):
    coef 0.9155, exp(coef) 2.4981, se(coef) 0.5119, Pr(>|z|) 0.0737; lower .95 0.9159,
    upper .95 6.8135 (tolerance: half a printed unit)."""
    hr = cox_hazard_ratio(AML_T, AML_E, AML_G, reference="Maintained")
    assert (hr.comparator, hr.reference) == ("Nonmaintained", "Maintained")
    assert hr.log_hr == pytest.approx(0.9155, abs=5e-5)
    assert hr.hazard_ratio == pytest.approx(2.4981, abs=5e-5)
    assert hr.se_log_hr == pytest.approx(0.5119, abs=5e-5)
    assert hr.p_value == pytest.approx(0.0737, abs=5e-5)
    assert hr.ci_low == pytest.approx(0.9159, abs=5e-5)
    assert hr.ci_high == pytest.approx(6.8135, abs=5e-4)
    assert (hr.n, hr.n_events_reference, hr.n_events_comparator) == (23, 7, 11)


def test_cox_gehan_matches_mass_efron():
    """Venables & Ripley, MASS (4th ed.), §13.3: ``coxph(Surv(time, cens) ~ treat, gehan)``
    (Efron) gives coef 1.57, exp(coef) 4.82, se 0.412, p = 0.00014 for control vs 6-MP
    (tolerance: half a printed unit).  Kleinbaum & Klein's HR 4.523 uses Breslow ties, which
    lifelines does not offer, so it is not asserted."""
    hr = cox_hazard_ratio(GEHAN_T, GEHAN_E, GEHAN_G, reference="6-MP")
    assert hr.log_hr == pytest.approx(1.57, abs=0.005)
    assert hr.hazard_ratio == pytest.approx(4.82, abs=0.005)
    assert hr.se_log_hr == pytest.approx(0.412, abs=5e-4)
    assert hr.p_value == pytest.approx(0.00014, abs=5e-6)
    # Swapping the reference inverts the HR exactly.
    inv = cox_hazard_ratio(GEHAN_T, GEHAN_E, GEHAN_G, reference="placebo")
    assert inv.hazard_ratio == pytest.approx(1 / hr.hazard_ratio, rel=1e-6)


def test_logrank_aml_matches_r_survdiff():
    """R ``survdiff(Surv(time, status) ~ x, data = aml)``: Chisq = 3.4 on 1 df, p = 0.0653
    (tolerance 0.05 on the 1-decimal chi-square, 5e-5 on p)."""
    res = logrank(AML_T, AML_E, AML_G)
    assert res.statistic == pytest.approx(3.4, abs=0.05)
    assert res.p_value == pytest.approx(0.0653, abs=5e-5)
    assert res.df == 1 and res.n == 23 and res.n_events == 18


def test_logrank_gehan_matches_textbook():
    """Kleinbaum & Klein, "Survival Analysis" (3rd ed.), ch. 2: log-rank chi-square 16.793 for
    the remission data (R survdiff: Chisq = 16.8, p = 4.17e-05).  Tolerance 5e-4 / 5e-7."""
    res = logrank(GEHAN_T, GEHAN_E, GEHAN_G)
    assert res.statistic == pytest.approx(16.793, abs=5e-4)
    assert res.p_value == pytest.approx(4.17e-5, abs=5e-7)


def test_logrank_three_arms_and_no_events():
    g = np.array(["a", "b", "c"] * 4)
    t = np.arange(1.0, 13.0)
    e = np.array([1, 0] * 6)
    assert logrank(t, e, g).df == 2
    none = logrank(t, np.zeros(12, dtype=int), g)
    assert math.isnan(none.statistic) and math.isnan(none.p_value) and none.note == "no events"


def test_cox_identical_arms_give_hr_one():
    """Property: two arms with identical data have HR = 1 exactly (score = 0 at beta = 0)."""
    t = np.concatenate([AML_T, AML_T])
    e = np.concatenate([AML_E, AML_E])
    g = np.array(["A"] * AML_T.size + ["B"] * AML_T.size)
    hr = cox_hazard_ratio(t, e, g, reference="A")
    assert hr.hazard_ratio == pytest.approx(1.0, abs=1e-8)
    assert hr.p_value == pytest.approx(1.0, abs=1e-6)
    assert hr.ci_low < 1.0 < hr.ci_high


def test_cox_no_events_in_one_arm_is_nan_with_note():
    t = [1.0, 2.0, 3.0, 1.5, 2.5, 3.5]
    e = [1, 1, 0, 0, 0, 0]
    hr = cox_hazard_ratio(t, e, ["x", "x", "x", "y", "y", "y"], reference="x")
    assert math.isnan(hr.hazard_ratio) and "comparator" in hr.note
    assert hr.to_rows()["estimate"].is_nan().all()


# ----------------------------------------------------------------------------------- piecewise HR


def _piecewise_data(seed: int = 7, n: int = 600):
    """Piecewise-exponential arms: comparator HR 3 on (0, 0.5], 0.5 after; ties via rounding."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 2, n)
    e1 = rng.exponential(1.0, n) / np.where(g == 1, 3.0, 1.0)
    late = 0.5 + rng.exponential(1.0, n) / np.where(g == 1, 0.5, 1.0)
    t_event = np.where(e1 <= 0.5, e1, late)
    cens = rng.uniform(0.0, 3.0, n)
    return np.round(np.minimum(t_event, cens), 3), (t_event <= cens).astype(int), g


def test_piecewise_first_interval_equals_cox_censored_at_cutpoint():
    """Interval (0, c1] of the episode-split model = a Cox fit with administrative censoring
    at c1 (same risk sets, Efron partial likelihood)."""
    t, e, g = _piecewise_data()
    pw = piecewise_hazard_ratios(t, e, g, reference=0, cutpoints_years=[0.5, 1.0])
    cox = cox_hazard_ratio(np.minimum(t, 0.5), np.where(t <= 0.5, e, 0), g, reference=0)
    first = pw.intervals[0]
    assert first.log_hr == pytest.approx(cox.log_hr, abs=1e-7)
    assert first.se_log_hr == pytest.approx(cox.se_log_hr, abs=1e-7)
    # No cutpoints: one interval, the ordinary Cox HR.
    whole = piecewise_hazard_ratios(t, e, g, reference=0, cutpoints_years=[])
    assert whole.intervals[0].log_hr == pytest.approx(
        cox_hazard_ratio(t, e, g, reference=0).log_hr, abs=1e-7
    )


def test_piecewise_equals_joint_time_varying_interaction_model():
    """Documented equivalence: lifelines CoxTimeVaryingFitter on the split episodes with
    covariates comparator x 1[interval k] gives the same beta_k and SE_k (factorised
    partial likelihood).  Tolerance 1e-5 (Newton-Raphson convergence)."""
    from lifelines import CoxTimeVaryingFitter

    t, e, g = _piecewise_data()
    cuts = [0.5, 1.0]
    pw = piecewise_hazard_ratios(t, e, g, reference=0, cutpoints_years=cuts)
    ep = split_episodes(t, e, cutpoints_years=cuts).to_pandas()
    for k in range(3):
        ep[f"x{k}"] = g[ep["id"]] * (ep["interval"] == k)
    ctv = CoxTimeVaryingFitter().fit(
        ep.drop(columns="interval"),
        event_col="event",
        start_col="start_years",
        stop_col="stop_years",
        id_col="id",
    )
    for k, iv in enumerate(pw.intervals):
        assert iv.log_hr == pytest.approx(ctv.summary.loc[f"x{k}", "coef"], abs=1e-5)
        assert iv.se_log_hr == pytest.approx(ctv.summary.loc[f"x{k}", "se(coef)"], abs=1e-5)


def test_piecewise_recovers_simulated_hazard_ratios():
    """Simulated truth: HR 3 on (0, 0.5], 0.5 on (0.5, inf); each 95 % CI must cover it."""
    t, e, g = _piecewise_data(seed=11, n=1500)
    pw = piecewise_hazard_ratios(t, e, g, reference=0, cutpoints_years=[0.5])
    early, late = pw.intervals
    assert early.ci_low < 3.0 < early.ci_high
    assert late.ci_low < 0.5 < late.ci_high
    assert early.end_years == 0.5 and math.isinf(late.end_years)
    rows = pw.to_rows()
    assert rows["endpoint"].to_list() == ["hazard_ratio (0-0.5 y)", "hazard_ratio (>0.5 y)"]
    assert rows["timepoint_years"].to_list() == [0.5, None]


def test_piecewise_astis_intervals_and_non_estimable_interval():
    """ASTIS-style cutpoints; the aml data's last interval (>40 weeks) has monotone likelihood
    (all comparator events precede the reference event) -> NaN with a note, not a crash."""
    pw = piecewise_hazard_ratios(
        AML_T, AML_E, AML_G, reference="Maintained", cutpoints_years=[20, 40]
    )
    assert [iv.start_years for iv in pw.intervals] == [0.0, 20.0, 40.0]
    assert math.isfinite(pw.intervals[0].hazard_ratio)
    assert math.isnan(pw.intervals[2].hazard_ratio) and "not estimable" in pw.intervals[2].note
    t, e, g = _piecewise_data(n=300)
    astis = piecewise_hazard_ratios(t, e, g, reference=0, cutpoints_years=[0.25, 0.5, 1, 2])
    assert len(astis.intervals) == 5
    assert sum(iv.n_events_reference + iv.n_events_comparator for iv in astis.intervals) == e.sum()


def test_split_episodes_boundaries():
    ep = split_episodes([0.25, 0.7, 0.0], [1, 0, 1], cutpoints_years=[0.25, 0.5])
    # 0.25 (event exactly at the cutpoint) stays in the first interval only.
    assert ep.filter(pl.col("id") == 0)["interval"].to_list() == [0]
    assert ep.filter(pl.col("id") == 1)["stop_years"].to_list() == [0.25, 0.5, 0.7]
    assert ep.filter(pl.col("id") == 1)["event"].to_list() == [0, 0, 0]
    assert ep.filter(pl.col("id") == 2)["event"].to_list() == [1]  # death at time 0


# ------------------------------------------------------------------------------ competing risks

# Hand example (8 patients; 0 censored, 1 / 2 causes; a cause-1/cause-2 tie at t = 5).
CR_T = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 5.0, 6.0]
CR_C = [1, 2, 0, 1, 0, 2, 1, 0]


def test_cif_hand_computed_aalen_johansen():
    """Aalen–Johansen by hand, CIF_k(t) = sum_{t_j <= t} S(t_j-) d_kj / n_j (Kalbfleisch &
    Prentice 2002, eq. 8.8): cause 1: 1/8 at t=1; +(7/8)(6/7)(1/5) = 0.15 at t=3 -> 0.275; at
    t=5 S(5-) = 0.6, n = 3, +0.6/3 -> 0.475.  Cause 2: (7/8)(1/7) = 0.125 at t=2; +0.2 at t=5
    -> 0.325.  Exact arithmetic -> tolerance 1e-12."""
    c1 = cumulative_incidence(CR_T, CR_C, cause=1, timepoints=[0.5, 1, 3, 4.9, 5, 6])
    c2 = cumulative_incidence(CR_T, CR_C, cause=2, timepoints=[2, 5])
    np.testing.assert_allclose(c1.cif, [0.0, 0.125, 0.275, 0.275, 0.475, 0.475], atol=1e-12)
    np.testing.assert_allclose(c2.cif, [0.125, 0.325], atol=1e-12)
    assert (c1.n_events_cause, c1.n_events_competing) == (3, 2)
    fin = np.isfinite(c1.ci_low)
    assert (c1.ci_low[fin] <= c1.cif[fin]).all() and (c1.cif[fin] <= c1.ci_high[fin]).all()
    assert c1.curve["time_years"].to_list() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert check_cif_additivity(CR_T, CR_C, timepoints=[1, 3, 5, 6]) < 1e-12


def test_cif_counts_events_at_time_zero():
    """lifelines' AJ forces CIF(0) = 0; events at t = 0 (e.g. death on the day of transplant)
    must still count.  By hand: n = 4, one cause-1 and one cause-2 event at 0 -> CIF_1(0) =
    1/4, S(0) = 1/2; CIF_1(1) = 1/4 + (1/2)(1/2) = 1/2.  Tolerance 1e-12."""
    t, c = [0.0, 0.0, 1.0, 2.0], [1, 2, 1, 0]
    res = cumulative_incidence(t, c, cause=1, timepoints=[0.0, 1.0])
    np.testing.assert_allclose(res.cif, [0.25, 0.5], atol=1e-12)
    assert check_cif_additivity(t, c) < 1e-12


def test_cif_equals_lifelines_jitter_away_from_ties():
    """Our deterministic tie separation vs lifelines' own random jitter (seeded; its documented
    "Tied event times" warning is expected here): same CIF between event times."""
    from lifelines import AalenJohansenFitter

    t = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 6.0, 7.0, 7.0, 9.0])
    c = np.array([1, 1, 2, 0, 2, 1, 1, 0, 2, 0])
    # lifelines' jitter reseeds numpy's legacy global RNG; restore it afterwards.
    state = np.random.get_state()  # noqa: NPY002
    try:
        with pytest.warns(Warning, match="Tied event times"):
            ref = AalenJohansenFitter(seed=3, calculate_variance=False).fit(
                t, c, event_of_interest=1
            )
    finally:
        np.random.set_state(state)  # noqa: NPY002
    at = np.array([1.5, 2.5, 5.0, 6.5, 8.0])
    ours = cumulative_incidence(t, c, cause=1, timepoints=at)
    knots = ref.cumulative_density_.index.to_numpy()
    expected = ref.cumulative_density_.iloc[np.searchsorted(knots, at, side="right") - 1, 0]
    np.testing.assert_allclose(ours.cif, expected.to_numpy(), atol=1e-12)


def test_cif_single_cause_is_one_minus_km():
    km = kaplan_meier(GEHAN_6MP_T, GEHAN_6MP_E, timepoints=[6, 10, 23, 30])
    cif = cumulative_incidence(GEHAN_6MP_T, GEHAN_6MP_E, cause=1, timepoints=[6, 10, 23, 30])
    np.testing.assert_allclose(cif.cif, 1.0 - km.survival, atol=1e-12)


def test_cif_absent_cause_and_rows():
    res = cumulative_incidence(CR_T, CR_C, cause=3, timepoints=[2, 6])
    np.testing.assert_array_equal(res.cif, [0.0, 0.0])
    rows = res.to_rows(arm="hsct")
    assert tuple(rows.columns) == ENDPOINT_COLUMNS
    assert rows["endpoint"][0] == "cumulative_incidence_cause_3"


@settings(max_examples=25, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(1, 8), st.integers(0, 3)), min_size=2, max_size=30).filter(
        lambda rows: any(c > 0 for _, c in rows)
    )
)
def test_property_cif_sum_plus_km_is_one(data):
    """Property: sum over all causes of CIF_k(t) + all-cause KM S(t) = 1 (many ties)."""
    t = np.array([r[0] for r in data], dtype=float) / 4.0
    c = np.array([r[1] for r in data])
    assert check_cif_additivity(t, c, atol=1e-10) <= 1e-10


@settings(max_examples=25, deadline=None)
@given(data=st.lists(st.tuples(st.integers(0, 12), st.integers(0, 2)), min_size=1, max_size=30))
def test_property_km_and_cif_intervals_contain_estimate(data):
    """Property: wherever a CI is defined it brackets the estimate, within [0, 1]."""
    t = np.array([r[0] for r in data], dtype=float) / 2.0
    c = np.array([r[1] for r in data])
    grid = np.unique(t)
    km = kaplan_meier(t, (c > 0).astype(int), timepoints=grid)
    cif = cumulative_incidence(t, c, cause=1, timepoints=grid)
    for est, lo, hi in ((km.survival, km.ci_low, km.ci_high), (cif.cif, cif.ci_low, cif.ci_high)):
        ok = np.isfinite(lo)
        assert (np.isfinite(hi) == ok).all()
        assert (0.0 <= lo[ok]).all() and (lo[ok] <= est[ok] + 1e-12).all()
        assert (est[ok] <= hi[ok] + 1e-12).all() and (hi[ok] <= 1.0).all()


# ----------------------------------------------------------------------------------- proportions


@pytest.mark.parametrize(
    ("k", "n", "low", "high", "tol", "source"),
    [
        (8, 79, 0.0447, 0.1898, 6e-5, "R binom.test(8, 79)"),
        (682, 925, 0.7076683, 0.7654066, 6e-8, "R ?binom.test example (Conover 1971, p. 97f)"),
        (81, 263, 0.2527, 0.3676, 6e-5, "Newcombe, Stat Med 17:857 (1998), Table II, method 5"),
        (15, 148, 0.0578, 0.1617, 6e-5, "Newcombe 1998, Table II, method 5"),
        (0, 20, 0.0, 0.1684, 6e-5, "Newcombe 1998, Table II, method 5"),
        (1, 29, 0.0009, 0.1776, 6e-5, "Newcombe 1998, Table II, method 5"),
    ],
)
def test_clopper_pearson_published(k, n, low, high, tol, source):
    est = proportion_ci(k, n, method="exact")
    assert est.ci_low == pytest.approx(low, abs=tol), source
    assert est.ci_high == pytest.approx(high, abs=tol), source
    assert est.method == "clopper-pearson"


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_newcombe_table(k, n, low, high):
    """Newcombe, Stat Med 17:857 (1998), Table II, method 3 (score, no continuity correction).
    4 decimals -> tolerance 6e-5."""
    est = proportion_ci(k, n, method="wilson")
    assert est.ci_low == pytest.approx(low, abs=6e-5)
    assert est.ci_high == pytest.approx(high, abs=6e-5)


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 500), frac=st.floats(0, 1), method=st.sampled_from(["exact", "wilson"]))
def test_property_proportion_ci_contains_estimate(n, frac, method):
    k = round(frac * n)
    est = proportion_ci(k, n, method=method)
    assert 0.0 <= est.ci_low <= est.estimate <= est.ci_high <= 1.0


def test_mean_change_sleep_paired():
    """R ``t.test(extra ~ group, data = sleep, paired = TRUE)``: t = -4.0621, df = 9,
    p-value = 0.002833, 95 % CI -2.4598858 -0.7001142, mean difference -1.58 (group 1 - 2).
    Here change = drug2 - drug1, so signs flip.  Tolerance half a printed unit."""
    res = mean_change_ci(SLEEP_DRUG1, SLEEP_DRUG2)
    assert res.estimate == pytest.approx(1.58, abs=1e-12)
    assert res.ci_low == pytest.approx(0.7001142, abs=5e-8)
    assert res.ci_high == pytest.approx(2.4598858, abs=5e-8)
    assert res.statistic == pytest.approx(4.0621, abs=5e-5)
    assert res.df == 9 and res.n == 10
    assert res.p_value == pytest.approx(0.002833, abs=5e-7)


def test_difference_in_means_sleep_welch():
    """R ``t.test(extra ~ group, data = sleep)`` (Welch): t = -1.8608, df = 17.776,
    p-value = 0.07939, 95 % CI -3.3654832 0.2054832.  Tolerance half a printed unit."""
    res = difference_in_means_ci(SLEEP_DRUG1, SLEEP_DRUG2, unit="hours")
    assert res.estimate == pytest.approx(-1.58, abs=1e-12)
    assert res.ci_low == pytest.approx(-3.3654832, abs=5e-8)
    assert res.ci_high == pytest.approx(0.2054832, abs=5e-8)
    assert res.statistic == pytest.approx(-1.8608, abs=5e-5)
    assert res.df == pytest.approx(17.776, abs=5e-4)
    assert res.p_value == pytest.approx(0.07939, abs=5e-6)
    row = res.to_rows(arm="drug1 - drug2", endpoint="extra_sleep", timepoint_years=None)
    assert row["unit"][0] == "hours" and row["n"][0] == 20


def test_mean_change_nan_policy_and_degenerate():
    with pytest.raises(InputError, match="baseline"):
        mean_change_ci([1.0, math.nan, 3.0], [2.0, 2.0, 4.0])
    res = mean_change_ci([1.0, math.nan, 3.0, 4.0], [2.0, 2.0, 5.0, 6.0], nan_policy="omit")
    assert res.n == 3
    flat = mean_change_ci([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])
    assert (flat.estimate, flat.ci_low, flat.ci_high) == (1.0, 1.0, 1.0)
    assert math.isnan(flat.p_value) and flat.note == "zero variance"


# ----------------------------------------------------------------------------------- input errors


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: kaplan_meier([1, 2], [1], timepoints=[1]), "events"),
        (lambda: kaplan_meier([1, -2], [1, 1], timepoints=[1]), "durations"),
        (lambda: kaplan_meier([1, math.nan], [1, 1], timepoints=[1]), "durations"),
        (lambda: kaplan_meier([], [], timepoints=[1]), "durations"),
        (lambda: kaplan_meier([1, 2], [1, 2], timepoints=[1]), "events"),
        (lambda: kaplan_meier([1, 2], [1, 1], timepoints=[-1]), "timepoints"),
        (lambda: kaplan_meier([1, 2], [1, 1], timepoints=[1], confidence=95), "confidence"),
        (lambda: cox_hazard_ratio([1, 2], [1, 1], ["a", "a"], reference="a"), "group"),
        (lambda: cox_hazard_ratio([1, 2], [1, 1], ["a", "b"], reference="c"), "reference"),
        (lambda: cox_hazard_ratio([1, 2], [1, 1], ["a"], reference="a"), "group"),
        (lambda: logrank([1, 2], [1, 1], ["a", "a"]), "group"),
        (
            lambda: piecewise_hazard_ratios(
                [1, 2], [1, 1], ["a", "b"], reference="a", cutpoints_years=[1, 0.5]
            ),
            "cutpoints_years",
        ),
        (lambda: cumulative_incidence([1, 2], [1, -1], cause=1, timepoints=[1]), "event_codes"),
        (lambda: cumulative_incidence([1, 2], [1, 2], cause=0, timepoints=[1]), "cause"),
        (lambda: proportion_ci(5, 0), "n"),
        (lambda: proportion_ci(6, 5), "successes"),
        (lambda: proportion_ci(1.5, 5), "successes"),
        (lambda: proportion_ci(1, 5, method="wald"), "method"),
        (lambda: mean_change_ci([1.0], [2.0]), "baseline"),
        (lambda: mean_change_ci([1.0, 2.0], [2.0]), "follow_up"),
        (lambda: difference_in_means_ci([1.0], [2.0, 3.0]), "group_a"),
    ],
)
def test_input_errors_name_the_field(call, field):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.field == field


def test_endpoint_frame_schema_and_empty():
    empty = endpoint_frame([])
    assert tuple(empty.columns) == ENDPOINT_COLUMNS and empty.height == 0
    with pytest.raises(InputError):
        endpoint_frame([{"arm": "a"}])


def test_estimators_importable_from_survival_module_first():
    """The lazy re-export must not create an import cycle when survival is imported first."""
    code = (
        "import immunoreset.trials.survival as s, immunoreset.trials.statistics as st; "
        "assert st.kaplan_meier is s.kaplan_meier"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert survival_module.kaplan_meier is kaplan_meier
