"""Individual forecasts: interval maths, outcome table, direction checks, consistency with the
trial-level simulation, planner, assess() and the CLI."""

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from immunoreset.clinic import ClinicalRecord, assess, load_record, plan_protocol
from immunoreset.clinic.bodysize import adjusted_body_weight_kg, ideal_body_weight_kg
from immunoreset.clinic.forecast import (
    OUTCOMES,
    forecast_rows,
    probability_interval,
    simulate_twins,
    wilson,
)
from immunoreset.population import sample_cohort
from immunoreset.protocols import Protocol
from immunoreset.simulate import simulate

EX = Path(__file__).resolve().parents[1] / "examples" / "patients"
SSC = load_record(EX / "ssc_eligible.yaml")
CY = Protocol(regimen="cy200_ratg")


def _row(rows, outcome, horizon):
    return next(r for r in rows if r["outcome"] == outcome and r["horizon_years"] == horizon)


def _forecast(record, *, seed=5, n_groups=10, per_group=20, hct=None, protocol=CY):
    from immunoreset.clinic import hct_ci

    h = hct_ci(record).score if hct is None else hct
    out = simulate_twins(record, protocol, seed=seed, n_groups=n_groups, per_group=per_group,
                         hct_ci=h)
    return forecast_rows(out, "p", is_transplant=protocol.is_transplant, n_groups=n_groups,
                         per_group=per_group, disease=record.disease)


# ---------------------------------------------------------------------------- interval maths

def test_wilson_reference():
    # Wilson score interval for 10/100: 0.0552-0.1744 (Newcombe RG, Stat Med 1998;17:857,
    # Table I method 3 gives 0.0552, 0.1744 for 10/100... checked with statsmodels
    # proportion_confint(10, 100, method="wilson") = (0.05523, 0.17437))
    lo, hi = wilson(0.1, 100)
    assert lo == pytest.approx(0.05523, abs=2e-5) and hi == pytest.approx(0.17437, abs=2e-5)


def test_wilson_brackets_the_estimate_exactly():
    # at 0/400 the rounding of c - h used to leave a lower bound of 1e-19 above the estimate,
    # which made the benefit-risk figure crash (negative error bar) for MS patients
    assert wilson(0.0, 400)[0] == 0.0 and wilson(0.0, 400)[1] > 0.0
    assert wilson(1.0, 400)[1] == 1.0 and wilson(1.0, 400)[0] < 1.0


def test_ms_assessment_renders(tmp_path):
    a = assess(EX / "ms_relapsing.yaml", ["cy200_ratg_assist"], seed=3, n_twins=400)
    out = a.write(tmp_path / "ms")
    assert (out / "assessment.html").read_text(encoding="utf-8").count("<img") >= 1


def test_interval_no_covariate_spread_equals_wilson():
    ev = np.full(20, 4.0)  # every group 4/20: no between-group spread
    iv = probability_interval(ev, 20)
    assert iv.sd_unknown_covariates == 0.0
    lo, hi = wilson(0.2, 400)
    # contains the Wilson interval and is no wider than it by more than the Beta tail shape
    assert iv.ci_low <= lo and iv.ci_high >= hi
    assert (iv.ci_high - iv.ci_low) < 1.05 * (hi - lo)


def test_interval_widens_with_between_group_spread():
    ev = np.array([0, 8] * 10, dtype=float)  # same mean 0.2, groups at 0 and 0.4
    iv = probability_interval(ev, 20)
    w0 = wilson(0.2, 400)
    assert iv.sd_unknown_covariates > 0.15
    assert iv.ci_high - iv.ci_low > 3 * (w0[1] - w0[0])
    assert 0 <= iv.ci_low <= 0.2 <= iv.ci_high <= 1


# ---------------------------------------------------------------------------- outcome table

def test_missing_columns_are_not_modelled_never_dropped():
    rows = _forecast(SSC, n_groups=4, per_group=10)
    assert len(rows) == len(OUTCOMES)
    cmv = _row(rows, "cmv_reactivation", 1.0)
    # issue 5 adds cmv_reactivation_day; until then the row says why it is empty
    if cmv["status"] == "not_modelled":
        assert "cmv_reactivation_day" in cmv["reason"] and cmv["probability"] is None
    rem = _row(rows, "remission", 2.0)
    assert rem["status"] == "modelled" and "25 %" in rem["definition"]
    assert 0 <= rem["ci_low"] <= rem["probability"] <= rem["ci_high"] <= 1


# ---------------------------------------------------------------------------- direction checks

def test_worse_lvef_and_higher_hct_ci_raise_trm():
    base = _row(_forecast(SSC), "treatment_related_death", 1.0)["probability"]
    low_ef = SSC.model_copy(update={"lvef_percent": 45.0})  # HCT-CI cardiac item: +1
    p_ef = _row(_forecast(low_ef), "treatment_related_death", 1.0)["probability"]
    p_hct = _row(_forecast(SSC, hct=6), "treatment_related_death", 1.0)["probability"]
    assert base < p_ef < p_hct, (base, p_ef, p_hct)


def test_older_age_lowers_benefit():
    young = _row(_forecast(SSC.model_copy(update={"age_years": 25.0})), "remission", 5.0)
    old = _row(_forecast(SSC.model_copy(update={"age_years": 62.0})), "remission", 5.0)
    assert old["probability"] < young["probability"], (young["probability"], old["probability"])


def test_interval_narrows_as_more_is_known():
    unknown = SSC.model_copy(update={"disease_duration_years": None, "anc_per_uL": None,
                                     "platelets_per_uL": None, "hemoglobin_g_per_dL": None,
                                     "cmv_igg": None})
    known_rows, unk_rows = _forecast(SSC), _forecast(unknown)

    def width(rows, outcome, horizon):
        r = _row(rows, outcome, horizon)
        return r["ci_high"] - r["ci_low"]

    eng = ("time_to_neutrophil_engraftment", None)
    assert width(unk_rows, *eng) > 1.5 * width(known_rows, *eng)
    # an unknown CMV serostatus is sampled from the prevalence: the twins' reactivation risk
    # then ranges from none (seronegative) to the seropositive risk, so the interval widens
    cmv = ("cmv_reactivation", 1.0)
    assert width(unk_rows, *cmv) > 1.5 * width(known_rows, *cmv)


# ---------------------------------------------------------------------------- consistency

def _consistency(n_patients, per_group, n_groups, n_trial):
    """Mean of individual forecasts over sampled patients vs the trial-level simulation of
    the same population; returns {outcome: (forecast mean, se, trial, se)}."""
    pop = sample_cohort("systemic_sclerosis", n_patients, seed=21)
    keys = [("remission", 2.0), ("progression", 5.0), ("treatment_related_death", 1.0)]
    per = {k: [] for k in keys}
    for i in range(n_patients):
        rec = ClinicalRecord(disease="systemic_sclerosis", age_years=float(pop.age_years[i]),
                             sex="F" if pop.female[i] else "M",
                             weight_kg=float(pop.weight_kg[i]), height_cm=float(pop.height_cm[i]),
                             disease_duration_years=float(pop.disease_duration_years[i]),
                             anc_per_uL=float(pop.anc_per_uL[i]),
                             platelets_per_uL=float(pop.platelets_per_uL[i]),
                             hemoglobin_g_per_dL=float(pop.hemoglobin_g_per_dL[i]))
        rows = _forecast(rec, seed=1000 + i, n_groups=n_groups, per_group=per_group, hct=0)
        for k in keys:
            per[k].append(_row(rows, *k)["probability"])
    trial = simulate(sample_cohort("systemic_sclerosis", n_trial, seed=77), CY,
                     horizon_days=1827.0).outcomes
    t_rows = forecast_rows(trial, "t", is_transplant=True, n_groups=1, per_group=n_trial,
                           disease="systemic_sclerosis")
    out = {}
    for k in keys:
        p = np.array(per[k])
        pt = _row(t_rows, *k)["probability"]
        out[k] = (p.mean(), p.std(ddof=1) / math.sqrt(len(p)), pt,
                  math.sqrt(pt * (1 - pt) / n_trial))
    return out


def _assert_consistent(res):
    for k, (pf, sf, pt, st) in res.items():
        z = abs(pf - pt) / math.sqrt(sf ** 2 + st ** 2 + 1e-12)
        assert z < 3.5, (k, pf, sf, pt, st, z)


def test_consistency_with_trial_level_cheap():
    _assert_consistent(_consistency(n_patients=12, per_group=10, n_groups=4, n_trial=600))


@pytest.mark.slow
def test_consistency_with_trial_level_astis_like():
    _assert_consistent(_consistency(n_patients=40, per_group=20, n_groups=5, n_trial=4000))


# ---------------------------------------------------------------------------- planner

def test_body_size_formulas():
    # Devine 1974: man 180 cm = 50 + 2.3 x (70.87 - 60) = 75.0 kg;
    # woman 160 cm = 45.5 + 2.3 x (62.99 - 60) = 52.38 kg
    assert ideal_body_weight_kg(180, "M") == pytest.approx(75.0, abs=0.01)
    assert ideal_body_weight_kg(160, "F") == pytest.approx(52.38, abs=0.01)
    # adjusted = IBW + 0.4 (actual - IBW) (Traynor 1995): 75 + 0.4 x 45 = 93.0
    assert adjusted_body_weight_kg(120, 180, "M") == pytest.approx(93.0, abs=0.01)


def test_plan_doses_and_apheresis():
    p = plan_protocol(SSC, CY, name="cy200_ratg", seed=1, n_twins=100, dosing_weight="adjusted")
    cy = p.totals["cyclophosphamide"]
    adj = adjusted_body_weight_kg(SSC.weight_kg, SSC.height_cm, SSC.sex)
    assert cy["dose"] == 200 and cy["amount"] == pytest.approx(200 * adj)
    assert p.atg["total_mg"] == pytest.approx(7.5 * SSC.weight_kg)  # ATG on actual weight
    a = p.apheresis
    assert 1 <= a["expected_sessions"] <= a["max_sessions"]
    assert sum(a["sessions_distribution"].values()) == pytest.approx(1.0)
    assert a["target_cd34_total"] == pytest.approx(5e6 * SSC.weight_kg)
    assert "Plan: cy200_ratg" in p.text()


# ---------------------------------------------------------------------------- assess and CLI

def test_assess_writes_json_and_html(tmp_path):
    t = time.perf_counter()
    a = assess(EX / "ssc_eligible.yaml", ["cy200_ratg"], seed=3, n_twins=100)
    elapsed = time.perf_counter() - t
    a.write(tmp_path / "out")
    d = json.loads((tmp_path / "out" / "assessment.json").read_text())
    assert d["eligibility"]["status"] == "eligible" and d["hct_ci"]["score"] == 2
    assert {r["protocol"] for r in d["forecasts"]} == {"cy200_ratg",
                                                       "iv_cyclophosphamide_monthly"}
    for r in d["forecasts"]:
        assert {"protocol", "outcome", "horizon_years", "probability", "ci_low",
                "ci_high"} <= set(r)
    html = (tmp_path / "out" / "assessment.html").read_text()
    assert "data:image/png;base64," in html and "Research use only" in html
    assert elapsed < 120


def _cli():
    from immunoreset.cli_clinic import assess_command

    app = typer.Typer()
    app.command("assess")(assess_command)
    app.command("noop")(lambda: None)
    return app


def test_cli_assess_fhir_and_bad_input(tmp_path):
    runner = CliRunner()
    res = runner.invoke(_cli(), ["assess", str(EX / "ssc_fhir_bundle.json"), "--out",
                                 str(tmp_path / "a"), "--protocol", "cy200_ratg",
                                 "--twins", "40", "--comparator", "none"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "a" / "assessment.html").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text((EX / "ssc_eligible.yaml").read_text().replace("lvef_percent: 62",
                                                                  "lvef_percent: 150"))
    res = runner.invoke(_cli(), ["assess", str(bad), "--out", str(tmp_path / "b"),
                                 "--protocol", "cy200_ratg"])
    assert res.exit_code == 2 and "lvef_percent" in res.output
    assert not (tmp_path / "b").exists()
    res = runner.invoke(_cli(), ["assess", str(EX / "ms_relapsing.yaml"), "--out",
                                 str(tmp_path / "c"), "--protocol", "no_such_regimen"])
    assert res.exit_code == 2 and "protocol" in res.output


def test_ms_forecast_has_relapse_lesion_and_neda_outcomes():
    ms = load_record(next(EX.glob("ms*.yaml")))
    dmt = Protocol(comparator="disease_modifying_therapy")
    hsct = _forecast(ms, n_groups=5, per_group=20, protocol=Protocol(regimen="cy200_ratg_assist"))
    comp = _forecast(ms, n_groups=5, per_group=20, protocol=dmt)
    for outcome, horizon in (("clinical_relapse", 2.0), ("new_mri_lesion", 2.0),
                             ("neda3", 2.0), ("neda3", 5.0)):
        assert _row(hsct, outcome, horizon)["status"] == "modelled"
    assert _row(hsct, "neda3", 2.0)["side"] == "benefit"
    # the transplant lowers relapses and raises NEDA-3 for this patient
    assert _row(hsct, "clinical_relapse", 2.0)["probability"] < \
        _row(comp, "clinical_relapse", 2.0)["probability"]
    assert _row(hsct, "neda3", 2.0)["probability"] > _row(comp, "neda3", 2.0)["probability"]
    # an SSc forecast carries no MS events
    assert not any(r["outcome"] == "neda3" for r in _forecast(SSC, n_groups=2, per_group=5))


def test_recorded_relapses_condition_the_ms_forecast():
    """The record's relapses in the past year set the twins' event frailty (its posterior,
    decisions §32): on a DMT, a patient with four relapses last year is forecast more
    relapses and more progression than the same patient with none."""
    ms = load_record(next(EX.glob("ms*.yaml")))
    dmt = Protocol(comparator="disease_modifying_therapy")

    def fc(n):  # the 3-year count, where recorded, would take precedence: leave it out
        rec = ms.model_copy(update={"relapses_past_year": n, "relapses_past_3_years": None})
        return _forecast(rec, n_groups=4, per_group=25, protocol=dmt)

    calm, active = fc(0), fc(4)
    assert _row(active, "clinical_relapse", 2.0)["probability"] > \
        _row(calm, "clinical_relapse", 2.0)["probability"] + 0.2
    assert _row(active, "progression", 5.0)["probability"] > \
        _row(calm, "progression", 5.0)["probability"]
