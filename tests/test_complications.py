"""Risks of the therapy: property tests of the complications model (issue: risks).

Each test states a mechanism and checks its direction on simulated cohorts; the published
calibration figures are compared in ``docs/complications_calibration.md`` (a scorecard
produced by ``python -m immunoreset.outcomes.scorecard``), not asserted here.
"""

from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from polars.testing import assert_frame_equal
from pydantic import ValidationError

from immunoreset.outcomes.background import background_death_day, background_survival, life_table
from immunoreset.outcomes.complications import CAUSES
from immunoreset.population import sample_cohort
from immunoreset.protocols.protocol import Protocol
from immunoreset.simulate import simulate

EVENT_COLUMNS = ("infection_first_day", "cmv_reactivation_day", "ebv_reactivation_day",
                 "ptld_day", "secondary_autoimmunity_day", "agvhd_day", "cgvhd_day",
                 "death_day")


def _frac(o: pl.DataFrame, col: str, day: float, mask: np.ndarray | None = None) -> float:
    x = o[col].to_numpy()
    hit = np.isfinite(x) & (x <= day)
    return float(hit[mask].mean() if mask is not None else hit.mean())


@pytest.fixture(scope="module")
def ssc():
    """SSc cohort, cy200_ratg with CD34 selection (ASTIS-like: < 5 transplants per centre),
    3 years."""
    c = sample_cohort("systemic_sclerosis", 300, seed=11)
    return c, simulate(c, Protocol(regimen="cy200_ratg", centre_autoimmune_transplants=3),
                       seed=11, horizon_days=1096)


def test_longer_neutropenia_more_early_infections(params):
    """A smaller graft prolongs aplasia (Bodey 1966: risk rises with the duration of
    granulocytopenia), so more patients have an infection by day 30."""
    c = sample_cohort("multiple_sclerosis", 250, seed=3)
    lo = simulate(c, Protocol(regimen="beam_atg", cd34_dose_per_kg=1.0e6), seed=3,
                  horizon_days=40, params=params).outcomes
    hi = simulate(c, Protocol(regimen="beam_atg", cd34_dose_per_kg=8.0e6), seed=3,
                  horizon_days=40, params=params).outcomes
    assert np.nanmedian(lo["anc_engraftment_day"].to_numpy()) > \
        np.nanmedian(hi["anc_engraftment_day"].to_numpy())
    assert _frac(lo, "infection_first_day", 30) > _frac(hi, "infection_first_day", 30) + 0.03


def test_more_atg_more_viral_reactivation(params):
    """ATG depletes memory T cells, which hold CMV and EBV latent: more ATG, more
    reactivation among seropositive patients (haplo 7.5 vs 10 mg/kg: EBV 20.7 vs 40.0 %)."""
    c = sample_cohort("systemic_sclerosis", 250, seed=4)
    cmv = np.asarray(c.cmv_seropositive)
    ebv = np.asarray(c.ebv_seropositive)
    out = []
    for atg in (0.0, 7.5, 15.0):
        o = simulate(c, Protocol(regimen="cy200_ratg", atg_total_mg_per_kg=atg), seed=4,
                     horizon_days=365, params=params).outcomes
        out.append((_frac(o, "cmv_reactivation_day", 365, cmv),
                    _frac(o, "ebv_reactivation_day", 365, ebv)))
    (c0, e0), (c1, e1), (c2, e2) = out
    assert c0 < c1 < c2
    assert e0 < e1 <= e2


def test_seronegative_patients_never_reactivate(params):
    c = sample_cohort("multiple_sclerosis", 80, seed=5)
    neg = np.zeros(len(c), dtype=bool)
    c = replace(c, cmv_seropositive=neg, ebv_seropositive=neg)
    o = simulate(c, Protocol(regimen="cy200_ratg", atg_total_mg_per_kg=15.0), seed=5,
                 horizon_days=365, params=params).outcomes
    assert o["cmv_reactivation_day"].is_nan().all()
    assert o["ebv_reactivation_day"].is_nan().all()
    assert not o["ptld"].any()


def test_serostatus_follows_the_published_prevalence():
    """CMV IgG prevalence rises with age and is higher in women (Flanders 2024: 61.5 % vs
    50.0 % at 38-39 y); EBV is near-universal in adults (> 85 % at 18-19 y, NHANES)."""
    c = sample_cohort("multiple_sclerosis", 4000, seed=6)
    age, fem = c.age_years, c.female
    cmv, ebv = np.asarray(c.cmv_seropositive), np.asarray(c.ebv_seropositive)
    band = (age >= 30) & (age <= 45)
    assert cmv[band & fem].mean() > cmv[band & ~fem].mean()
    assert 0.45 < cmv[band].mean() < 0.7
    assert ebv.mean() > 0.85


def test_autologous_grafts_never_get_gvhd(ssc):
    _, res = ssc
    o = res.outcomes
    assert (o["agvhd_grade"] == 0).all()
    assert not o["cgvhd"].any()
    assert o["agvhd_day"].is_nan().all()


def test_atg_and_t_cell_depletion_lower_gvhd_haplo_raises_it(params):
    """Allogeneic grafts: ATG kills infused donor T cells (aGVHD II-IV 24 vs 33 %, Blood
    Adv 2019); CD34 selection removes them (Blood 2002;100:724); a haplo-identical donor has
    far more alloreactive T cells than a sibling."""
    c = sample_cohort("multiple_sclerosis", 250, seed=7)

    def agvhd(**kw) -> float:
        o = simulate(c, Protocol(regimen="cy_tbi_atg", **kw), seed=7, horizon_days=120,
                     params=params).outcomes
        assert (o["agvhd_grade"].to_numpy() != 1).all()  # events are grade II-IV
        return float((o["agvhd_grade"].to_numpy() >= 2).mean())

    with_atg = agvhd(donor="matched_sibling", cd34_selection=False)
    without = agvhd(donor="matched_sibling", cd34_selection=False, atg_total_mg_per_kg=0.0)
    selected = agvhd(donor="matched_sibling", cd34_selection=True)
    haplo = agvhd(donor="haploidentical", cd34_selection=False, atg_total_mg_per_kg=0.0)
    assert with_atg < without
    assert selected < with_atg
    assert haplo > without
    assert with_atg > 0.05  # the allogeneic path really produces GVHD


def test_cd34_selection_and_atg_raise_secondary_autoimmunity(params):
    """Daikeler 2011 (EBMT): ATG plus CD34 selection is a risk factor for secondary
    autoimmune disease (deeper, longer lymphopenia drives homeostatic expansion)."""
    c = sample_cohort("multiple_sclerosis", 300, seed=8)
    deep = simulate(c, Protocol(regimen="cy200_ratg", cd34_selection=True), seed=8,
                    horizon_days=1826, params=params).outcomes
    light = simulate(c, Protocol(regimen="cy200_ratg", cd34_selection=False,
                                 atg_total_mg_per_kg=0.0), seed=8, horizon_days=1826,
                     params=params).outcomes
    assert _frac(deep, "secondary_autoimmunity_day", 1826) > \
        _frac(light, "secondary_autoimmunity_day", 1826)
    d = deep["secondary_autoimmunity_day"].to_numpy()
    d = d[np.isfinite(d)]
    # onset months to years after transplant (median 21.9 months, range 0.6-49)
    assert 180 < np.median(d) < 1500


def test_causes_of_death_are_exclusive_and_cifs_sum_to_one_minus_os(ssc):
    """Every death has exactly one cause from the vocabulary; with no censoring before the
    horizon the Aalen–Johansen cumulative incidences of all causes add up to 1 − KM OS."""
    _, res = ssc
    o = res.outcomes
    died = o["death_day"].is_not_nan().to_numpy()
    cause = o["death_cause"].to_list()
    assert all((c in CAUSES) == d for c, d in zip(cause, died, strict=True))
    assert died.sum() >= 20
    horizon = 1096.0
    # time from the start of conditioning (deaths can precede the day-0 infusion)
    t = np.where(died, o["death_day"].to_numpy(), horizon) + 30.0
    km = KaplanMeierFitter().fit(t, died)
    grid = np.array([100.0, 365.0, 730.0, 1000.0]) + 30.0
    total = np.zeros(len(grid))
    codes = np.array([0 if c is None else CAUSES.index(c) + 1 for c in cause])
    for k in np.unique(codes[codes > 0]):
        ajf = AalenJohansenFitter(calculate_variance=False)
        ajf.fit(t, codes, event_of_interest=int(k))
        cif = ajf.cumulative_density_  # a step function of time
        idx = np.searchsorted(cif.index.to_numpy(), grid, side="right") - 1
        total += cif.iloc[:, 0].to_numpy()[idx]
    os = km.survival_function_at_times(grid).to_numpy()
    np.testing.assert_allclose(total, 1.0 - os, atol=1e-9)


def test_events_after_death_did_not_happen(ssc):
    _, res = ssc
    o = res.outcomes
    death = o["death_day"].to_numpy()
    for col in EVENT_COLUMNS[:-1]:
        x = o[col].to_numpy()
        assert not np.any(x > death), col


def test_life_table_reproduces_the_published_life_expectancy():
    """SSA 2017 period table (2020 Trustees Report): e(0) = 75.97 y for males and 80.96 y
    for females; the piecewise-constant hazard gives the same within 0.6 y (the SSA's
    L_x uses a different within-year split)."""
    days = np.arange(0, 120 * 365.25, 5.0)
    for female, e0 in ((False, 75.97), (True, 80.96)):
        s = background_survival(0.0, female, days)
        e = float(np.sum(s) * 5.0 / 365.25)
        assert abs(e - e0) < 0.6, (female, e)
    assert life_table()["year"] == 2017


def test_background_death_rises_with_age():
    u = np.random.default_rng(0).random(20000)
    fem = np.zeros(len(u), dtype=bool)
    young = background_death_day(np.full(len(u), 30.0), fem, u)
    old = background_death_day(np.full(len(u), 70.0), fem, u)
    assert np.all(old <= young)
    p5_old = np.mean(old <= 5 * 365.25)
    # SSA 2017 males: 5-year death probability from 70 is about 11 %
    assert 0.08 < p5_old < 0.14
    assert np.mean(young <= 5 * 365.25) < 0.015


def test_complication_events_do_not_depend_on_the_batch(params):
    """Hazards are integrated with the ODEs and thresholds drawn from each patient's own
    stream: patient 7's history is the same alone and inside a cohort."""
    prot = Protocol(regimen="cy_tbi_atg", donor="matched_sibling", cd34_selection=False)
    big = simulate(sample_cohort("multiple_sclerosis", 40, seed=21), prot, seed=21,
                   horizon_days=400, params=params).outcomes
    alone = simulate(sample_cohort("multiple_sclerosis", 1, seed=21, start=7), prot, seed=21,
                     horizon_days=400, params=params).outcomes
    assert_frame_equal(alone, big.filter(pl.col("patient_id") == 7))
    hits = sum(int(big[c].is_not_nan().sum()) for c in EVENT_COLUMNS)
    assert hits > 40  # the comparison covers real events, not only empty columns


@pytest.mark.parametrize(("kw", "field"), [
    ({"allogeneic": True}, "donor"),
    ({"graft_source": "cord_blood"}, "graft_source"),
    ({"donor": "cord_blood"}, "donor"),
    ({"donor": "matched_sibling", "allogeneic": False}, "allogeneic"),
])
def test_bad_donor_specs_name_the_field(kw, field):
    with pytest.raises(ValidationError, match=f"invalid {field}="):
        Protocol(regimen="cy200_ratg", **kw)


def test_cord_blood_graft_from_a_cord_donor_runs(params):
    c = sample_cohort("sle", 30, seed=2)
    prot = Protocol(regimen="bu_cy_atg", graft_source="cord_blood", donor="cord_blood")
    assert prot.allogeneic
    o = simulate(c, prot, seed=2, horizon_days=100, params=params).outcomes
    assert o["anc_engraftment_day"].is_not_nan().sum() > 0


def test_organ_toxicity_follows_its_drug(params):
    """SOS only with busulfan; severe mucositis rises with the melphalan dose (AUC–mucositis,
    model_gaps §4.2) and pneumonitis with the carmustine dose (5 % vs 22 % fatal at 450 vs
    600 mg/m², Wheeler 1990); engraftment syndrome only where a graft engrafts; late
    malignancy rises with genotoxic exposure (TBI > cyclophosphamide alone)."""
    from immunoreset.protocols.regimens import Conditioning, Dose

    c = sample_cohort("multiple_sclerosis", 150, seed=12)

    def run(prot, days=120):
        return simulate(c, prot, seed=12, horizon_days=days, params=params).outcomes

    bu = run(Protocol(regimen="bu_cy_atg"))
    cy = run(Protocol(regimen="cy200_ratg"))
    assert bu["sos"].mean() > 0.05 and not cy["sos"].any()

    def mel(mg: float) -> Protocol:
        return Protocol(regimen=None, conditioning=Conditioning(doses=(
            Dose(agent="melphalan", amount=mg, unit="mg/m2", day=-1, infusion_hours=0.5),)))

    assert run(mel(220))["severe_mucositis"].mean() > run(mel(100))["severe_mucositis"].mean()
    assert not cy["severe_mucositis"].any()
    comp = run(Protocol(comparator="iv_cyclophosphamide_monthly"))
    assert cy["engraftment_syndrome"].mean() > 0.1 and not comp["engraftment_syndrome"].any()
    def bcnu(mg: float) -> Protocol:
        return Protocol(regimen=None, conditioning=Conditioning(doses=(
            Dose(agent="carmustine", amount=mg, unit="mg/m2", day=-6, infusion_hours=2),)))

    assert run(bcnu(600))["pulmonary_toxicity"].mean() > \
        run(bcnu(300))["pulmonary_toxicity"].mean() + 0.03
    assert not cy["pulmonary_toxicity"].any()
    # febrile neutropenia follows the depth and length of aplasia (Crohn's pooled 83 %)
    assert cy["febrile_neutropenia"].mean() > 0.5
    assert cy["febrile_neutropenia"].mean() > comp["febrile_neutropenia"].mean()
    tbi5 = run(Protocol(regimen="cy_tbi_atg"), days=1826)
    cy5 = run(Protocol(regimen="cy200_ratg"), days=1826)
    assert _frac(tbi5, "malignancy_day", 1826) > _frac(cy5, "malignancy_day", 1826)


def test_acyclovir_prophylaxis_prevents_most_zoster(params):
    """VZV reactivation 25-30 % in year 1 without prophylaxis, 4-5 % with a year of
    acyclovir (Han 2017); the model's control is CD4-dependent."""
    c = sample_cohort("multiple_sclerosis", 200, seed=13)
    prot = Protocol(regimen="cy_tbi_atg")
    with_acv = simulate(c, prot, seed=13, horizon_days=365, params=params).outcomes
    without = simulate(c, prot, seed=13, horizon_days=365, params=params.evolve(
        **{"supportive.acyclovir_prophylaxis_days": 0.0})).outcomes
    a = _frac(with_acv, "vzv_reactivation_day", 365)
    b = _frac(without, "vzv_reactivation_day", 365)
    assert a < 0.5 * b
    assert 0.15 < b < 0.45


def test_recorded_cardiac_involvement_raises_cardiac_toxicity(params):
    """A patient's recorded cardiac involvement feeds the engine's cardiac hazard (EBMT 2017:
    cardiac complications drive TRM in SSc)."""
    c = sample_cohort("systemic_sclerosis", 300, seed=14)
    prot = Protocol(regimen="cy200_ratg")
    base = simulate(c, prot, seed=14, horizon_days=60, params=params).outcomes
    inv = replace(c, extra={**c.extra, "cardiac_involvement": np.ones(len(c), dtype=bool)})
    hit = simulate(inv, prot, seed=14, horizon_days=60, params=params).outcomes
    assert hit["cardiac_toxicity"].mean() > base["cardiac_toxicity"].mean()
    assert np.all(hit["cardiac_toxicity"].to_numpy() >= base["cardiac_toxicity"].to_numpy())


def test_toxicity_deaths_follow_the_conditioning_by_weeks(ssc):
    # the toxicity hazard acts while the drugs act (days -5 to 0); death follows by a gamma
    # lag of median complications.toxicity_death_lag_median = 40 days, so the median
    # toxicity death lies near day 37 (early deaths after autologous HCT: median day 38,
    # nationwide survey quoted in the parameter's source); tolerance +/- 15 days
    o = ssc[1].outcomes
    days = o.filter(pl.col("death_cause") == "treatment_related_toxicity")["death_day"]
    assert len(days) >= 10
    assert 22.0 <= float(np.median(days.to_numpy())) <= 52.0
    assert days.min() > -6.0


def test_fatal_organ_failure_follows_the_progression_event(params):
    from immunoreset.outcomes.complications import death_after_progression

    prog = np.array([100.0, 200.0, np.inf, 50.0])
    u = np.full((4, 64), 0.5)
    u[3, 44] = 0.99  # this organ failure is not fatal (share 0.6)
    d = death_after_progression(prog, u, params, "systemic_sclerosis")
    lag = -params.value("disease.systemic_sclerosis.progression_death_lag") * np.log(0.5)
    np.testing.assert_allclose(d[:2], prog[:2] + lag)
    assert np.isinf(d[2]) and np.isinf(d[3])
    # a disease without the optional keys: no deaths after progression from this path
    assert np.isinf(death_after_progression(prog, u, params, "multiple_sclerosis")).all()
