"""run_trial: screening, randomisation, time axis, censoring, endpoints, determinism.

The statistics path is exercised with synthetic patient tables carrying the outcome-column
contract of the disease and complication layers (``trial_fixtures``); the real blood-only
path is exercised with the built-in simulator at small n.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from trial_fixtures import spec_obj, synthetic_simulator, synthetic_spec

from immunoreset import run_trial
from immunoreset.cli import main
from immunoreset.errors import InputError
from immunoreset.trials.endpoints import (
    ENDPOINT_CSV_COLUMNS,
    compute_endpoints,
    median_ci,
    time_to_event,
)
from immunoreset.trials.power import estimate_power
from immunoreset.trials.run import ArmSimulation, randomisation_draws
from immunoreset.trials.spec import ComparatorProtocol
from immunoreset.trials.statistics import ENDPOINT_COLUMNS, kaplan_meier


@pytest.fixture(scope="module")
def synthetic():
    return run_trial(spec_obj(160), seed=7, simulator=synthetic_simulator)


def _est(res, endpoint, arm, tp=None):
    df = res.endpoints.filter((pl.col("endpoint") == endpoint) & (pl.col("arm") == arm))
    if tp is not None:
        df = df.filter(pl.col("timepoint_years") == tp)
    assert df.height == 1, df
    return df.row(0, named=True)


# ----------------------------------------------------------------------------- screening

def test_screening_applies_modelled_criteria_and_records_the_rest(synthetic):
    p = synthetic.patients
    assert p.height == 160
    assert p["age_years"].min() >= 18 and p["age_years"].max() <= 65
    assert p["disease_duration_years"].max() <= 4
    crit = {c["criterion"]: c for c in synthetic.flow["criteria"]}
    # the score criterion reads the baseline score the patient is simulated from
    assert crit["mrss >= 15"]["applied"] is True
    assert p["screening_score"].min() >= 15
    assert crit["lvef_percent < 45 excludes"]["applied"] is False
    f = synthetic.flow
    assert f["screened"] == synthetic.screening.height
    assert f["excluded"] == int((~synthetic.screening["eligible"]).sum())
    assert f["screen_failure_rate"] == pytest.approx(f["excluded"] / f["screened"])


def test_strict_criteria_raise_the_screen_failure_rate():
    data = synthetic_spec(40)
    data["population"]["inclusion"][0] = {"covariate": "age_years", "min": 50, "max": 55}
    res = run_trial(data, seed=3, simulator=synthetic_simulator)
    assert res.flow["screen_failure_rate"] > 0.5
    assert res.patients["age_years"].is_between(50, 55).all()
    # the screening table stops at the n-th eligible patient, in id order
    scr = res.screening
    assert scr["eligible"].sum() == 40 and scr["eligible"][-1]
    assert scr["patient_id"].to_list() == list(range(scr.height))
    failed = scr.filter(~pl.col("eligible"))
    assert (failed["screen_failure_reason"] == "inclusion: age_years in [50, 55]").all()


def test_impossible_criteria_are_an_input_error():
    data = synthetic_spec(10)
    data["population"]["inclusion"][0] = {"covariate": "age_years", "min": 99}
    data["population"]["max_screened_per_randomised"] = 5
    with pytest.raises(InputError, match="population"):
        run_trial(data, seed=1, simulator=synthetic_simulator)


# ----------------------------------------------------------------------------- randomisation

def test_randomisation_uses_each_patients_own_stream():
    u = randomisation_draws(5, np.array([3]))
    ss = np.random.SeedSequence(5, spawn_key=(3, 100))
    assert u[0].tolist() == np.random.Generator(np.random.PCG64(ss)).random(3).tolist()
    # arm and drop-out draws are those of the two-draw version: old results are unchanged
    ss = np.random.SeedSequence(5, spawn_key=(3, 100))
    assert u[0, :2].tolist() == np.random.Generator(np.random.PCG64(ss)).random(2).tolist()
    small = run_trial(spec_obj(30), seed=5, simulator=synthetic_simulator)
    big = run_trial(spec_obj(90), seed=5, simulator=synthetic_simulator)
    arms_small = dict(small.patients.select("patient_id", "arm").iter_rows())
    arms_big = dict(big.patients.select("patient_id", "arm").iter_rows())
    assert all(arms_big[k] == v for k, v in arms_small.items())


def test_allocation_ratio_is_respected():
    data = synthetic_spec(400)
    data["arms"][0]["allocation"] = 0.25
    data["arms"][1]["allocation"] = 0.75
    data["endpoints"], data["reference"] = [], []
    res = run_trial(data, seed=11, simulator=synthetic_simulator)
    k = res.flow["arms"]["hsct"]["allocated"]
    sd = math.sqrt(400 * 0.25 * 0.75)
    assert abs(k - 100) < 4 * sd  # binomial(400, 0.25)


# ----------------------------------------------------------------------------- time axis

def test_event_days_are_shifted_by_the_randomisation_to_infusion_interval():
    df = pl.DataFrame({
        "days_randomisation_to_infusion": [60.0, 60.0, 0.0, 60.0],
        "censor_years": [5.0, 5.0, 5.0, 0.5],
        "death_day": [305.25, np.nan, 365.25, np.nan],
        "organ_failure_day": [np.nan, 0.0, np.nan, 300.0],
    })
    t, e = time_to_event(df, ["death", "organ_failure"])
    assert t.tolist() == pytest.approx([1.0, 60 / 365.25, 1.0, 0.5])
    assert e.tolist() == [1, 1, 1, 0]  # patient 4 dropped out before the event
    # death censors an endpoint that does not count it
    t, e = time_to_event(df, ["organ_failure"])
    assert t[0] == pytest.approx(1.0) and e[0] == 0


def test_censoring_at_follow_up_and_dropout(synthetic):
    p = synthetic.patients
    fu = synthetic.spec.follow_up_years
    assert (p["censor_years"] <= fu).all()
    assert p["censor_years"].to_list() == np.minimum(p["dropout_years"].to_numpy(), fu).tolist()
    # exponential drop-out 0.03/year over 5 years: P(drop) = 1 - exp(-0.15) = 0.139
    frac = p["dropped_out"].mean()
    assert abs(frac - (1 - math.exp(-0.15))) < 4 * math.sqrt(0.139 * 0.861 / p.height)
    hsct = p.filter(pl.col("arm") == "hsct")
    assert (hsct["days_randomisation_to_infusion"] == 60.0).all()
    assert (p.filter(pl.col("arm") == "control")["days_randomisation_to_infusion"] == 0).all()


# ----------------------------------------------------------------------------- endpoints

def test_endpoints_csv_columns(synthetic, tmp_path):
    assert tuple(synthetic.endpoints.columns) == ENDPOINT_CSV_COLUMNS
    assert ENDPOINT_CSV_COLUMNS[:-1] == ENDPOINT_COLUMNS
    synthetic.write(tmp_path / "r", report=False)
    header = (tmp_path / "r" / "endpoints.csv").read_text().splitlines()[0]
    assert header == "arm,endpoint,timepoint_years,estimate,ci_low,ci_high,unit,n,note"


def test_km_rows_match_an_independent_fit(synthetic):
    p = synthetic.patients.filter(pl.col("arm") == "control")
    # build durations by hand from the raw columns
    delay = p["days_randomisation_to_infusion"].to_numpy()
    death = (delay + p["death_day"].to_numpy()) / 365.25
    organ = (delay + p["organ_failure_day"].to_numpy()) / 365.25
    first = np.fmin(np.nan_to_num(death, nan=np.inf), np.nan_to_num(organ, nan=np.inf))
    cens = p["censor_years"].to_numpy()
    dur, ev = np.minimum(first, cens), (first <= cens).astype(int)
    km = kaplan_meier(dur, ev, timepoints=[2.0])
    row = _est(synthetic, "event_free_survival", "control", 2.0)
    assert row["estimate"] == pytest.approx(km.survival[0], abs=1e-12)
    assert row["ci_low"] == pytest.approx(km.ci_low[0], abs=1e-12)
    mort = _est(synthetic, "all_cause_mortality", "control", 1.0)
    os1 = kaplan_meier(np.minimum(np.nan_to_num(death, nan=np.inf), cens),
                       (np.nan_to_num(death, nan=np.inf) <= cens).astype(int), timepoints=[1.0])
    assert mort["estimate"] == pytest.approx(1 - os1.survival[0], abs=1e-12)


def test_every_endpoint_type_produces_rows(synthetic):
    e = synthetic.endpoints
    hr = _est(synthetic, "efs_hr", "hsct vs control")
    assert hr["unit"] == "hazard_ratio" and hr["ci_low"] < hr["estimate"] < hr["ci_high"]
    assert hr["estimate"] < 1  # the fixture's comparator has 3-4x the late hazards
    pw = e.filter(pl.col("endpoint") == "efs_hr_piecewise")
    assert pw["timepoint_years"].to_list() == [0.5, 2.0, 5.0]
    assert _est(synthetic, "efs_logrank", "hsct vs control")["unit"] == "p_value"
    trm = _est(synthetic, "trm", "hsct", 1.0)
    assert 0 < trm["estimate"] < 0.3 and trm["unit"] == "probability"
    assert _est(synthetic, "trm", "control", 1.0)["estimate"] == 0.0
    rem = _est(synthetic, "remission_rate", "hsct")
    assert rem["note"].endswith("exact (Clopper-Pearson) CI")
    diff = _est(synthetic, "score_change_2y", "hsct vs control", 2.0)
    assert diff["estimate"] < 0
    anc = _est(synthetic, "anc_day", "hsct")
    assert 9 <= anc["estimate"] <= 13 and anc["unit"] == "day after infusion"
    assert e.filter(pl.col("endpoint") == "anc_day").height == 1  # arms: [hsct]


def test_missing_column_is_reported_not_fabricated(synthetic):
    for arm in ("hsct", "control"):
        row = _est(synthetic, "cmv", arm, 1.0)
        assert math.isnan(row["estimate"]) and math.isnan(row["ci_low"])
        assert row["note"] == "not modelled yet (needs column cmv_reactivation_day)"
    cmp = synthetic.comparison.filter(pl.col("endpoint") == "cmv")
    assert cmp["status"].to_list() == ["not modelled"]


def test_reference_comparison(synthetic):
    c = {r["endpoint"]: r for r in synthetic.comparison.iter_rows(named=True)}
    trm = c["trm"]
    assert trm["published"] == pytest.approx(0.101)  # 10.1 % converted to a probability
    assert trm["published_ci"] == "derived: exact CI from 8/79"
    # Clopper-Pearson 95 % CI for 8/79 (R: binom.test(8, 79)$conf.int = 0.0447, 0.1898)
    assert trm["published_ci_low"] == pytest.approx(0.04474, abs=5e-5)
    assert trm["published_ci_high"] == pytest.approx(0.18982, abs=5e-5)
    assert trm["status"] in ("inside", "outside")
    hr = c["efs_hr"]
    assert hr["direction_agrees"] is True and hr["status"] in ("inside", "outside")


def test_median_ci_order_statistics():
    # Conover (1999), Practical Nonparametric Statistics, 3rd ed., §3.2 / Table A3:
    # for n = 10 the 95 % distribution-free CI of the median is [x(2), x(9)] (coverage 97.9 %).
    x = np.arange(1.0, 11.0)
    assert median_ci(x) == (5.5, 2.0, 9.0)
    # n = 5: the widest interval [x(1), x(5)] covers only 93.75 % -> limits not available
    est, lo, hi = median_ci(np.arange(5.0))
    assert est == 2.0 and math.isnan(lo) and math.isnan(hi)


def test_endpoints_recomputable_from_the_stored_patients_table(synthetic, tmp_path):
    synthetic.write(tmp_path / "r", report=False)
    stored = pl.read_parquet(tmp_path / "r" / "patients.parquet")
    again = compute_endpoints(synthetic.spec, stored, units=synthetic.units)
    assert again.equals(synthetic.endpoints)


# ----------------------------------------------------------------------------- determinism

def test_same_seed_same_endpoints_whatever_workers_synthetic(tmp_path):
    a = run_trial(spec_obj(96), seed=5, simulator=synthetic_simulator, chunk_size=16)
    b = run_trial(spec_obj(96), seed=5, simulator=synthetic_simulator, chunk_size=16,
                  workers=2)
    a.write(tmp_path / "a", report=False)
    b.write(tmp_path / "b", report=False)
    assert (tmp_path / "a" / "endpoints.csv").read_bytes() == \
        (tmp_path / "b" / "endpoints.csv").read_bytes()
    assert a.patients.equals(b.patients)
    c = run_trial(spec_obj(96), seed=6, simulator=synthetic_simulator)
    assert not c.endpoints.equals(a.endpoints)


def _blood_only_spec(n: int = 10) -> dict:
    data = synthetic_spec(n, follow_up_years=0.5)
    data["endpoints"] = [
        {"name": "event_free_survival", "events": ["death", "organ_failure"],
         "timepoints_years": [0.25]},
        {"name": "efs_hr", "endpoint": "event_free_survival", "arms": ["hsct", "control"]},
        {"name": "anc_day", "type": "summary", "column": "anc_engraftment_day",
         "arms": ["hsct"]},
        {"name": "engrafted", "type": "proportion", "column": "engrafted", "arms": ["hsct"]},
    ]
    data["reference"] = []
    return data


def test_real_blood_only_path_same_seed_whatever_workers(tmp_path):
    spec = _blood_only_spec(10)
    a = run_trial(spec, seed=2)
    b = run_trial(spec, seed=2, workers=2)
    a.write(tmp_path / "a", report=False)
    b.write(tmp_path / "b", report=False)
    assert (tmp_path / "a" / "endpoints.csv").read_bytes() == \
        (tmp_path / "b" / "endpoints.csv").read_bytes()
    anc = _est(a, "anc_day", "hsct")
    assert math.isfinite(anc["estimate"]) and anc["unit"] == "day after infusion"
    # death and SSc organ failure are modelled: event-free survival has an estimate
    efs = _est(a, "event_free_survival", "hsct", 0.25)
    assert 0.0 <= efs["estimate"] <= 1.0
    # the comparator (monthly IV cyclophosphamide) is simulated by the engine too
    assert a.flow["arms"]["control"]["simulated"] is True
    ctl = _est(a, "event_free_survival", "control", 0.25)
    assert 0.0 <= ctl["estimate"] <= 1.0
    assert a.patients.filter(pl.col("arm") == "control")["cd34_dose_per_kg"].max() == 0.0


def test_unmodelled_comparator_arm_is_randomised_but_not_simulated():
    data = _blood_only_spec(8)
    data["arms"][1]["protocol"] = {"comparator": "deferred_hsct"}
    res = run_trial(data, seed=4)
    assert res.flow["arms"]["control"]["simulated"] is False
    ctl = res.patients.filter(pl.col("arm") == "control")
    assert ctl.height == res.flow["arms"]["control"]["allocated"]
    assert ctl["anc_engraftment_day"].null_count() == ctl.height  # null = not modelled
    row = _est(res, "event_free_survival", "control", 0.25)
    assert row["note"] == "arm not simulated: comparator 'deferred_hsct' has no model yet"


def test_placeholder_disease_columns_are_not_read_as_no_event():
    """The disease layer marks a disease without a module with score_name 'not modelled' and
    False/NaN placeholders; the trial must report those endpoints as not modelled."""
    def placeholder(cohort, arm, *, horizon_days, disease):
        n = len(cohort)
        return ArmSimulation(pl.DataFrame({
            "patient_id": cohort.patient_id, "death_day": np.full(n, np.nan),
            "remission": np.zeros(n, dtype=bool), "relapse_day": np.full(n, np.nan),
            "progression_day": np.full(n, np.nan), "score_name": ["not modelled"] * n,
            "score_baseline": np.full(n, np.nan), "score_y2": np.full(n, np.nan)}))

    res = run_trial(synthetic_spec(20), seed=1, simulator=placeholder)
    rem = _est(res, "remission_rate", "hsct")
    assert math.isnan(rem["estimate"]) and "needs column remission" in rem["note"]
    neda = _est(res, "neda", "hsct", 2.0)
    assert "needs column relapse_day, progression_day" in neda["note"]
    # death_day is modelled (NaN = alive), so overall survival is estimable
    assert _est(res, "overall_survival", "hsct", 1.0)["estimate"] == 1.0


# ----------------------------------------------------------------------------- power, CLI

def test_power_by_repeated_trials():
    data = synthetic_spec(20)
    res = estimate_power(data, n_values=[30, 120], replicates=3, seed=1,
                         simulator=synthetic_simulator, endpoint="efs_logrank")
    t = res.table
    assert t["n"].to_list() == [30, 120] and (t["replicates"] == 3).all()
    assert t["power"].is_between(0, 1).all()
    assert len(set(res.seeds)) == 3


def test_power_of_an_unmodelled_endpoint_is_nan_with_reason():
    def blood_only(cohort, arm, *, horizon_days, disease):
        if isinstance(arm.protocol, ComparatorProtocol):
            return ArmSimulation(None, note="no comparator model")
        return ArmSimulation(pl.DataFrame({"patient_id": cohort.patient_id}))

    res = estimate_power(synthetic_spec(20), n_values=[20], replicates=2, seed=1,
                         simulator=blood_only)
    row = res.table.row(0, named=True)
    assert math.isnan(row["power"]) and "not simulated" in row["note"]


def test_results_query_cli(synthetic, tmp_path, capsys):
    out = tmp_path / "r"
    synthetic.write(out, report=False)
    assert main(["results", "query", str(out),
                 "SELECT arm, count(*) AS n FROM patients GROUP BY arm ORDER BY arm", "--csv"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == "arm,n"
    assert main(["results", "query", str(out), "SELEC nonsense"]) == 2
    assert "sql" in capsys.readouterr().err
    assert main(["results", "query", str(out), f"COPY patients TO '{out}/x.csv'"]) == 2
    assert not (out / "x.csv").exists()
