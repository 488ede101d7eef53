"""Guideline eligibility: each criterion on both sides of its threshold, missing values,
protocol-specific exclusions. Criteria and sources: data/selection/eligibility.yaml (EBMT 2025
Alexander et al. Tables 2 and 5; EBMT 2017 Farge et al.; ECTRIMS-EBMT 2022; ASTCT 2019; NMDP)."""

from pathlib import Path

import pytest

from immunoreset.clinic import evaluate_eligibility, load_record
from immunoreset.protocols import Protocol

EX = Path(__file__).resolve().parents[1] / "examples" / "patients"
SSC = load_record(EX / "ssc_eligible.yaml")
MS = load_record(EX / "ms_relapsing.yaml")


def judge(base, **upd):
    return evaluate_eligibility(base.model_copy(update=upd))


def reason(e, cid):
    return next(r for r in e.reasons if r.criterion == cid)


def test_examples():
    assert evaluate_eligibility(SSC).status == "eligible"
    assert evaluate_eligibility(MS).status == "eligible"
    e = evaluate_eligibility(load_record(EX / "ssc_cardiac_exclusion.yaml"))
    assert e.status == "not_eligible"
    r = reason(e, "ssc_lvef")
    assert r.values == {"lvef_percent": 41.0} and "45" in r.threshold and "FARGE2017" in r.source


# (base, criterion, passing update, failing update, effect when failing)
CASES = [
    (SSC, "rmd_age_min", dict(age_years=18), dict(age_years=17.9), "not_eligible"),
    (SSC, "ssc_age", dict(age_years=60), dict(age_years=60.5), "needs_review"),
    (SSC, "rmd_age_max", dict(age_years=65), dict(age_years=65.5), "needs_review"),
    (SSC, "rmd_refractory", dict(refractory_to_standard_therapy=True),
     dict(refractory_to_standard_therapy=False), "not_eligible"),
    (SSC, "rmd_performance_status", dict(ecog=1), dict(ecog=2), "needs_review"),
    (SSC, "rmd_performance_status", dict(karnofsky_percent=70), dict(karnofsky_percent=60),
     "needs_review"),
    (SSC, "ssc_diffuse", dict(disease_subtype="diffuse"), dict(disease_subtype="limited"),
     "not_eligible"),
    (SSC, "ssc_duration", dict(disease_duration_years=4.9), dict(disease_duration_years=5.0),
     "needs_review"),
    (SSC, "ssc_prior_treatment", dict(first_line_therapy_months=6),
     dict(first_line_therapy_months=5), "needs_review"),
    (SSC, "ssc_activity", dict(mrss=16), dict(mrss=15, crp_mg_per_l=5), "not_eligible"),
    (SSC, "ssc_activity", dict(mrss=21, visceral_organ_involvement=False, crp_mg_per_l=10.5),
     dict(mrss=21, visceral_organ_involvement=False, crp_mg_per_l=10), "not_eligible"),
    (SSC, "ssc_cardiac_structural", dict(septal_bounce=False), dict(septal_bounce=True),
     "not_eligible"),
    (SSC, "ssc_pah_rest", dict(pasp_mmhg=40), dict(pasp_mmhg=41), "not_eligible"),
    (SSC, "ssc_pah_rest", dict(mpap_mmhg=25), dict(mpap_mmhg=26), "not_eligible"),
    (SSC, "ssc_pah_fluid_challenge", dict(pasp_fluid_challenge_mmhg=45),
     dict(pasp_fluid_challenge_mmhg=46), "not_eligible"),
    (SSC, "ssc_pah_fluid_challenge", dict(mpap_fluid_challenge_mmhg=30),
     dict(mpap_fluid_challenge_mmhg=31), "not_eligible"),
    (SSC, "ssc_lvef", dict(lvef_percent=45), dict(lvef_percent=44.9), "not_eligible"),
    (SSC, "ssc_pvr", dict(pvr_wood_units=3), dict(pvr_wood_units=3.1), "not_eligible"),
    (SSC, "ssc_tapse", dict(tapse_cm=1.8), dict(tapse_cm=1.7), "not_eligible"),
    (SSC, "ssc_cardiac_other", dict(symptomatic_cardiac_disease=False),
     dict(symptomatic_cardiac_disease=True), "not_eligible"),
    (SSC, "ssc_renal_trial", dict(egfr_ml_min_1_73m2=40), dict(egfr_ml_min_1_73m2=39),
     "needs_review"),
    (SSC, "pregnancy", dict(pregnant=False), dict(pregnant=True), "not_eligible"),
    (SSC, "active_infection", dict(active_infection=False), dict(active_infection=True),
     "needs_review"),
    (MS, "ms_inflammatory_activity", dict(inflammatory_activity=True),
     dict(inflammatory_activity=False), "not_eligible"),
    (MS, "ms_dmt_failure", dict(high_efficacy_dmt_failures=1),
     dict(high_efficacy_dmt_failures=0), "needs_review"),
    (MS, "ms_age", dict(age_years=44.9), dict(age_years=45), "needs_review"),
    (MS, "ms_duration", dict(disease_duration_years=9.9), dict(disease_duration_years=10),
     "needs_review"),
    (MS, "ms_edss", dict(edss=5.5), dict(edss=6.0), "needs_review"),
    (MS, "ms_ambulation", dict(able_to_walk_100m=True), dict(able_to_walk_100m=False),
     "needs_review"),
]


@pytest.mark.parametrize(("base", "cid", "ok", "bad", "effect"), CASES,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_criterion_both_sides(base, cid, ok, bad, effect):
    good = judge(base, **ok)
    assert reason(good, cid).effect == "eligible"
    e = judge(base, **bad)
    r = reason(e, cid)
    assert r.result == "not_met" and r.effect == effect
    assert e.status == effect
    assert r.source and r.threshold and set(r.values) & set(bad)


@pytest.mark.parametrize("field", ["lvef_percent", "mrss", "pasp_mmhg", "tapse_cm"])
def test_missing_value_needs_review_never_eligible(field):
    e = judge(SSC, **{field: None})
    assert e.status == "needs_review"
    assert any(r.result == "unknown" and field in r.values for r in e.reasons)


def test_missing_hct_ci_item_needs_review():
    c = SSC.comorbidities.model_copy(update={"arrhythmia": None})
    assert reason(judge(SSC, comorbidities=c), "hct_ci_assessed").effect == "needs_review"


def test_progressive_ild_exception_turns_exclusion_into_review():
    e = judge(SSC, disease_subtype="limited", progressive_ild=True)
    assert reason(e, "ssc_diffuse").effect == "needs_review"


def test_pah_exclusion_applies_to_cy200_protocols_only():
    r = SSC.model_copy(update={"mpap_mmhg": 28})
    e = evaluate_eligibility(r, [Protocol(regimen="cy200_ratg"), Protocol(regimen="beam_atg")],
                             names=["cy200_ratg", "beam_atg"])
    assert e.by_protocol == {"cy200_ratg": "not_eligible", "beam_atg": "eligible"}
    assert e.status == "eligible"
    assert reason(e, "ssc_pah_rest").protocols == ("cy200_ratg",)


def test_t1d_is_developmental():
    r = SSC.model_copy(update={"disease": "type1_diabetes"})
    e = evaluate_eligibility(r)
    assert reason(e, "t1d_developmental").effect == "needs_review"
    assert any("D/III" in n for n in e.notes)
