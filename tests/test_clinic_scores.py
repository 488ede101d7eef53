"""HCT-CI item by item (boundary values on both sides) and the comorbidity/age index.

Item definitions and thresholds: Sorror ML et al. Blood 2005;106:2912 (doi:10.1182/blood-2005-
05-2004) as tabulated by the ASH table, NCI PDQ Table 4 and the QxMD HCT-CI calculator; weights
from the public calculator documentation (nobra_calculator, commit 819ed017a2f1), see
data/selection/hct_ci.yaml. Comorbidity/age: Sorror ML et al. J Clin Oncol 2014;32:3249.
"""

import pytest

from immunoreset.clinic import ClinicalRecord, Comorbidities, comorbidity_age, hct_ci

BASE = dict(disease="systemic_sclerosis", age_years=35, sex="F", weight_kg=70, height_cm=170,
            lvef_percent=60, dlco_percent_predicted=90, fev1_percent_predicted=90,
            creatinine_mg_per_dl=0.8, bilirubin_mg_per_dl=0.5, bilirubin_uln_mg_per_dl=1.0,
            alt_u_per_l=20, alt_uln_u_per_l=40, ast_u_per_l=20, ast_uln_u_per_l=40,
            infection_requiring_antimicrobials=False)


def rec(comorb=None, **kw):
    c = Comorbidities.none_present().model_copy(update=comorb or {})
    return ClinicalRecord(**{**BASE, **kw, "comorbidities": c})


def status(r, item):
    return next(i for i in hct_ci(r).items if i.id == item)


def test_clean_record_scores_zero_and_is_complete():
    h = hct_ci(rec())
    assert h.score == 0 and h.complete and h.risk_group == "low"


FLAG_ITEMS = [("arrhythmia", "arrhythmia", 1), ("coronary_artery_disease", "cardiac", 1),
              ("congestive_heart_failure", "cardiac", 1), ("myocardial_infarction", "cardiac", 1),
              ("inflammatory_bowel_disease", "inflammatory_bowel_disease", 1),
              ("diabetes_on_treatment", "diabetes", 1),
              ("cerebrovascular_disease", "cerebrovascular_disease", 1),
              ("psychiatric_disturbance", "psychiatric_disturbance", 1),
              ("chronic_hepatitis", "hepatic_mild", 1), ("rheumatologic", "rheumatologic", 2),
              ("peptic_ulcer", "peptic_ulcer", 2), ("dialysis", "renal_moderate_severe", 2),
              ("prior_renal_transplant", "renal_moderate_severe", 2),
              ("prior_solid_tumour", "prior_solid_tumour", 3),
              ("heart_valve_disease", "heart_valve_disease", 3),
              ("liver_cirrhosis", "hepatic_moderate_severe", 3)]


@pytest.mark.parametrize(("flag", "item", "weight"), FLAG_ITEMS)
def test_flag_items(flag, item, weight):
    assert status(rec(), item).status == "absent"
    r = rec({flag: True})
    assert status(r, item).status == "present" and hct_ci(r).score == weight
    assert status(rec({flag: None}), item).status == "unknown"


# (item, weight, values just outside -> absent, values just inside -> present)
BOUNDARIES = [
    ("cardiac", 1, dict(lvef_percent=51), dict(lvef_percent=50)),
    ("hepatic_mild", 1, dict(bilirubin_mg_per_dl=1.0), dict(bilirubin_mg_per_dl=1.01)),
    ("hepatic_mild", 1, dict(bilirubin_mg_per_dl=1.0), dict(bilirubin_mg_per_dl=1.5)),
    ("hepatic_mild", 1, dict(alt_u_per_l=40), dict(alt_u_per_l=41)),
    ("hepatic_mild", 1, dict(ast_u_per_l=40), dict(ast_u_per_l=100)),  # 2.5 x ULN: mild
    ("hepatic_moderate_severe", 3, dict(bilirubin_mg_per_dl=1.5), dict(bilirubin_mg_per_dl=1.51)),
    ("hepatic_moderate_severe", 3, dict(ast_u_per_l=100), dict(ast_u_per_l=101)),
    ("obesity", 1, dict(weight_kg=140.0, height_cm=200), dict(weight_kg=140.4, height_cm=200)),
    ("renal_moderate_severe", 2, dict(creatinine_mg_per_dl=2.0), dict(creatinine_mg_per_dl=2.01)),
    ("pulmonary_moderate", 2, dict(dlco_percent_predicted=81), dict(dlco_percent_predicted=80)),
    ("pulmonary_moderate", 2, dict(fev1_percent_predicted=81), dict(fev1_percent_predicted=80)),
    ("pulmonary_moderate", 2, dict(dlco_percent_predicted=81), dict(dlco_percent_predicted=66)),
    ("pulmonary_severe", 3, dict(dlco_percent_predicted=66), dict(dlco_percent_predicted=65)),
    ("pulmonary_severe", 3, dict(fev1_percent_predicted=66), dict(fev1_percent_predicted=65)),
    ("infection", 1, dict(infection_requiring_antimicrobials=False),
     dict(infection_requiring_antimicrobials=True)),
]


@pytest.mark.parametrize(("item", "weight", "outside", "inside"), BOUNDARIES)
def test_item_boundaries_both_sides(item, weight, outside, inside):
    assert status(rec(**outside), item).status == "absent"
    s = status(rec(**inside), item)
    assert s.status == "present" and s.points == weight
    assert hct_ci(rec(**inside)).score == weight
    # the reason names the patient's value
    assert "present:" in s.reason and "=" in s.reason


def test_tiers_only_the_higher_counts():
    r = rec(dlco_percent_predicted=60, fev1_percent_predicted=75, bilirubin_mg_per_dl=2.0,
            alt_u_per_l=60)
    h = hct_ci(r)
    assert status(r, "pulmonary_moderate").status == "superseded"
    assert status(r, "hepatic_mild").status == "superseded"
    assert h.score == 3 + 3


def test_dyspnoea_tiers():
    assert hct_ci(rec({"dyspnoea": "slight_activity"})).score == 2
    assert hct_ci(rec({"dyspnoea": "rest_or_oxygen"})).score == 3


def test_indication_itself_scores():
    # SLE/RA score the rheumatologic item, Crohn's the IBD item, T1D the diabetes item
    # (Sorror 2005 item lists; systemic sclerosis and MS are not listed)
    assert hct_ci(rec(disease="sle")).score == 2
    assert hct_ci(rec(disease="rheumatoid_arthritis")).score == 2
    assert hct_ci(rec(disease="crohns_disease")).score == 1
    assert hct_ci(rec(disease="type1_diabetes")).score == 1
    assert hct_ci(rec(disease="multiple_sclerosis")).score == 0


def test_worked_example_multiple_items():
    # Worked by hand from the Sorror 2005 definitions and calculator weights (QxMD, nobra doc):
    # atrial fibrillation 1 + LVEF 45 % (cardiac) 1 + depression treated 1 + DLCO 60 % (severe
    # pulmonary) 3 + creatinine 2.4 mg/dL 2 + treated prior breast cancer 3 = 11 -> high risk;
    # HCT-CI/age at 52 years = 12 (Sorror 2014: +1 at age >= 40) -> high.
    r = rec({"arrhythmia": True, "psychiatric_disturbance": True, "prior_solid_tumour": True},
            lvef_percent=45, dlco_percent_predicted=60, creatinine_mg_per_dl=2.4, age_years=52)
    h = hct_ci(r)
    assert h.score == 11 and h.risk_group == "high"
    ca = comorbidity_age(r, h)
    assert ca.score == 12 and ca.risk_group == "high"


def test_unknown_items_scored_zero_and_upper_bound_reported():
    r = ClinicalRecord(disease="ssc", age_years=30, sex="M", weight_kg=80, height_cm=180)
    h = hct_ci(r)
    assert h.score == 0 and not h.complete
    assert "cardiac" in h.unknown_items and "obesity" not in h.unknown_items  # BMI is known
    assert h.score_max == 26 - 1  # every item but obesity could be present (tiers respected)


@pytest.mark.parametrize(("age", "pts"), [(39.9, 0), (40.0, 1)])
def test_comorbidity_age_boundary(age, pts):
    ca = comorbidity_age(rec(age_years=age))
    assert ca.age_points == pts and ca.score == pts


@pytest.mark.parametrize(("score_flags", "group"), [
    ({}, "low"), ({"arrhythmia": True}, "low"), ({"peptic_ulcer": True}, "intermediate"),
    ({"heart_valve_disease": True}, "intermediate"),
    ({"heart_valve_disease": True, "peptic_ulcer": True}, "high")])
def test_comorbidity_age_groups(score_flags, group):
    # Sorror 2014 groups 0-2 / 3-4 / >= 5; age 45 adds 1
    assert comorbidity_age(rec(score_flags, age_years=45)).risk_group == group
