"""Immune reconstitution and autoimmunity against published figures, and the mechanism's
directions (issue: the immune reset). Medians over 200 virtual SSc patients, 5 years.
Each reference names its source and the tolerance beside the assertion."""

import numpy as np
import polars as pl
import pytest

import immunoreset as ir
from immunoreset.population import Population

H = 5 * 365.25


def _run(params, kw, pop="systemic_sclerosis", n=200, seed=17):
    c = ir.sample_cohort(pop, n, seed=seed)
    return ir.simulate(c, ir.Protocol(**kw), horizon_days=H, params=params).outcomes


def _relapse_5y(o):
    return np.mean(o["relapse_day"].to_numpy() <= H)


@pytest.fixture(scope="module")
def tbi_result(params):
    # Storek (PMC2956741): 56 adults with MS/SSc, TBI + Cy + ATG, CD34-selected graft
    c = ir.sample_cohort("systemic_sclerosis", 200, seed=17)
    return ir.simulate(c, ir.Protocol(regimen="cy_tbi_atg"), horizon_days=H, params=params,
                       save=ir.SaveSpec(variables=("b_cells", "cd4", "cd8"), max_patients=200,
                                        day_max=730.0))


@pytest.fixture(scope="module")
def tbi(tbi_result):
    return tbi_result.outcomes


def _b_fraction_of_baseline(result, day):
    """Per-patient B count on ``day`` over the patient's pre-conditioning count."""
    return _fraction_of_baseline(result, "b_cells", day)


def _fraction_of_baseline(result, variable, day):
    """Per-patient ``variable`` on ``day`` over the patient's pre-conditioning value."""
    tr = result.trajectories.filter(pl.col("variable") == variable)
    first = tr.filter(pl.col("day") == tr["day"].min()).sort("patient_id")["value"].to_numpy()
    at = tr.filter(pl.col("day") == day).sort("patient_id")["value"].to_numpy()
    return at / first


@pytest.fixture(scope="module")
def astis(params):
    return _run(params, {"regimen": "cy200_ratg"})


def test_storek_cd4_two_years(tbi):
    # CD4 median 388/uL at 2 years (Storek, PMC2956741); tolerance +/- 30 %
    assert 0.7 * 388 <= np.nanmedian(tbi["cd4_per_uL_day730"]) <= 1.3 * 388


def test_cd4_still_low_at_one_year(astis):
    # CD4 < 50 % of pre-treatment at 12-14 months (Mackall CL et al. Blood 1997;90:3789)
    base = 0.45 * 1844  # typical baseline CD4 (populations.yaml lymphocytes x CD4 share)
    assert np.nanmedian(astis["cd4_per_uL_day365"]) < 0.5 * base


def test_b_cells_absent_one_month_after_tbi_cy_atg(tbi_result):
    # B cells essentially absent early after TBI + Cy + ATG with a CD34-selected graft
    # (conditioning depletes them and CD34 selection removes the graft's B cells; B cells
    # normal only by ~6 months, Storek PMC2956741): median B at day 30 < 10 % of baseline
    assert np.median(_b_fraction_of_baseline(tbi_result, 30.0)) < 0.10
    # and no early rebound: still below 10 % at day 15 (tolerance: same bound)
    assert np.median(_b_fraction_of_baseline(tbi_result, 15.0)) < 0.10


def test_cd8_expand_robustly_cd4_only_moderately(tbi_result):
    # Storek J et al. (PMC2956741; J Allergy Clin Immunol 2004, doi:10.1016/j.jaci.2003.12.462,
    # 56 adults with MS/SSc, TBI + Cy + ATG, CD34-selected graft): "initial peripheral
    # expansion was robust for CD8 T cells but only moderate for CD4"; T cells recover by
    # peripheral expansion in the first 3 months; CD8 counts normal by 2 years while CD4 stay
    # low. Medians of each patient's count relative to the pre-conditioning count.
    cd8 = {d: np.median(_fraction_of_baseline(tbi_result, "cd8", d)) for d in (30, 90, 182, 730)}
    cd4 = {d: np.median(_fraction_of_baseline(tbi_result, "cd4", d)) for d in (90, 182, 365)}
    # expansion in the first 3 months: at least tenfold from day 30 to day 90
    assert cd8[90] > 10 * cd8[30]
    # CD8 normal by 2 years: >= 70 % of baseline (tolerance for "normal" vs pre-treatment)
    assert cd8[730] >= 0.7
    # robust vs moderate: CD8 recover (relative to baseline) at least twice as far as CD4
    assert cd8[90] > 2 * cd4[90] and cd8[182] > 2 * cd4[182]


def test_cd4_cd8_ratio_inverted_for_the_first_year(tbi_result):
    # continuous inversion of the CD4:CD8 ratio after aHSCT for autoimmune disease (Pavletic
    # 2001 J Rheumatol, abstract; Mackall CL et al. Blood 1997: prolonged T-cell subset
    # imbalance after intensive chemotherapy): median ratio < 1 at 6 and 12 months, where the
    # pre-treatment ratio is ~1.8 (populations.yaml CD4 and CD8 shares)
    for day in (182, 365):
        tr = tbi_result.trajectories.filter(pl.col("day") == day)
        cd4 = tr.filter(pl.col("variable") == "cd4").sort("patient_id")["value"].to_numpy()
        cd8 = tr.filter(pl.col("variable") == "cd8").sort("patient_id")["value"].to_numpy()
        assert np.median(cd4 / cd8) < 1.0, day


def test_b_cells_back_by_three_to_six_months(tbi):
    # B cells normal by ~6 months (Storek PMC2956741; reference_figures.yaml
    # lineage_time_to_normal_count_autologous_ad: b_cells 6 months): median day of 80 % of
    # baseline between ~3 and ~9 months (90-270 days; tolerance for "normal by 3-6 months")
    assert 90 <= np.nanmedian(tbi["b_recovery_day"]) <= 270


def test_nk_cells_recover_by_about_one_month(tbi):
    # NK normal by ~1 month (Storek PMC2956741; reference_figures.yaml: nk_cells 1 month):
    # median day of 80 % of baseline <= 45 (one month + 50 % tolerance), yet not before
    # day 10 (TBI and ATG deplete NK cells), and NK before B
    nk = np.nanmedian(tbi["nk_recovery_day"])
    assert 10 < nk <= 45
    assert nk < np.nanmedian(tbi["b_recovery_day"])


def _old_memory_share(params, pop, n, kw, days=(90.0, 365.0)):
    """Median share of CD4 memory descending from pre-transplant cells on ``days``."""
    c = ir.sample_cohort(pop, n, seed=17)
    tr = ir.simulate(c, ir.Protocol(**kw), horizon_days=400, params=params,
                     save=ir.SaveSpec(variables=("memory_old_fraction",), max_patients=n,
                                      day_max=max(days))).trajectories
    return tuple(np.nanmedian(tr.filter(pl.col("day") == d)["value"].to_numpy())
                 for d in days)


def test_repertoire_overlap_falls_to_about_15_percent(params, astis):
    # EM CD4 repertoire overlap with pre-HSCT 26 % early, 15 % at 12 months
    # (Ruder J et al. Sci Transl Med 2022, MS aHSCT); tolerance 5-35 % at 1 year
    assert 0.05 <= np.nanmedian(astis["repertoire_overlap_day365"]) <= 0.35
    # and it falls from early to 1 year (the decline is compared with Ruder's in
    # test_em_overlap_declines_like_ruder_after_beam_atg; the absolute early overlap is a
    # clonotype index with an unreported ceiling, docs/model.md "Known misses")
    early, late = _old_memory_share(params, "systemic_sclerosis", 100,
                                    {"regimen": "cy200_ratg"})
    assert late < 0.5 * early


def test_em_overlap_declines_like_ruder_after_beam_atg(params):
    # Ruder J et al. Sci Transl Med 2022 (27 MS patients, abstract): effector-memory CD4 TCR
    # repertoire overlap with pre-aHSCT, median 26 % early and 15 % at 12 months, i.e. the
    # overlap keeps 15/26 = 0.58 of its early value. The cohort was treated in Zurich, where
    # every MS aHSCT used BEAM + ATG (Jelcic I, Martin R, MS State of the Art Symposium 2022,
    # brainwork.md report). The overlap is a clonotype overlap between two blood samples,
    # whose value for an unchanged repertoire (sampling ceiling) is not reported, so only
    # its decline is compared with the model's share of CD4 memory descending from
    # pre-transplant cells (overlap = ceiling x share). The early time point is not in the
    # abstract: day 90 is used (the share is 0.97-1.0 before). Graft processing is not
    # reported: unselected (the Zurich default is not verified). Tolerance 0.58 +/- 0.23.
    early, late = _old_memory_share(params, "multiple_sclerosis", 150,
                                    {"regimen": "beam_atg", "cd34_selection": False})
    assert early > 0.75  # "substantial survival of pre-aHSCT EM CD4 T cells early"
    assert 0.35 <= late / early <= 0.81


def test_more_than_90_percent_of_the_preexisting_repertoire_removed(params, tbi):
    # > 90 % of the pre-existing (CSF and blood) T-cell repertoire removed after BEAM + rATG
    # with a CD34-selected graft (HALT-MS; Harris KM, Lim N, Lindau P, et al. JCI Insight
    # 2020;5(2):e127655): median fraction of the pre-transplant CD4 memory pool gone at
    # 1 year > 0.90 (the model counts cells, not clonotypes: a pool cut by more than 90 %
    # loses at least as large a share of its small clones); TBI + Cy + ATG removes more
    o = _run(params, {"regimen": "beam_atg", "cd34_selection": True}, "multiple_sclerosis")
    beam = np.nanmedian(o["preexisting_memory_removed_day365"])
    assert beam > 0.90
    assert np.nanmedian(tbi["preexisting_memory_removed_day365"]) > beam


def test_ssc_responders_have_lower_early_cd4(params):
    # SSc responders had significantly lower CD4 T cells at months 1 and 3 after aHSCT than
    # non-responders (Tuebingen cohort, n = 32, Arthritis Res Ther 2024, doi
    # 10.1186/s13075-024-03300-1); non-responders reconstituted CD4 faster (Farge D et al.
    # Arthritis Rheum 2005). Direction only: in the model the patients whose conditioning
    # spared more T cells also keep more autoreactive memory.
    c = ir.sample_cohort("systemic_sclerosis", 300, seed=21)
    r = ir.simulate(c, ir.Protocol(regimen="cy200_ratg"), horizon_days=1.1 * 365.25,
                    params=params, save=ir.SaveSpec(variables=("cd4",), max_patients=300,
                                                    day_max=100.0))
    o = r.outcomes.sort("patient_id")
    responder = o["remission"].to_numpy()
    alive = ~(o["death_day"].to_numpy() <= 365.0)
    assert 10 <= np.sum(~responder & alive) and 10 <= np.sum(responder & alive)
    cd4 = r.trajectories.filter(pl.col("variable") == "cd4")
    for day in (30.0, 90.0):
        x = cd4.filter(pl.col("day") == day).sort("patient_id")["value"].to_numpy()
        assert np.median(x[responder & alive]) < 0.5 * np.median(x[~responder & alive])


def test_cd4_recovery_falls_with_age(params):
    # CD4 at 12 months inversely related to age (Blood 2000;96:754, rho = -0.78); relapse
    # compared with the age effect on treatment-related death switched off, so that deaths
    # do not censor relapses differently
    no_age_trm = params.evolve(**{"complications.trm_age_coefficient": 0.0})
    young = _run(no_age_trm, {"regimen": "cy200_ratg"}, Population(disease="ssc", age_years=25))
    old = _run(no_age_trm, {"regimen": "cy200_ratg"}, Population(disease="ssc", age_years=60))
    assert np.nanmedian(old["cd4_per_uL_day365"]) < 0.8 * np.nanmedian(young["cd4_per_uL_day365"])
    assert _relapse_5y(old) >= _relapse_5y(young)


def test_no_conditioning_no_remission(params):
    # natural history: activity stays at its pre-treatment level, no remission
    nat = _run(params, {"comparator": "no_treatment"})
    assert nat["remission"].mean() < 0.05
    assert np.isnan(nat["relapse_day"].to_numpy()).all()


def test_deeper_lymphodepletion_lowers_relapse(params):
    light = _run(params, {"regimen": "cy200_ratg", "atg_total_mg_per_kg": 2.5})
    standard = _run(params, {"regimen": "cy200_ratg", "atg_total_mg_per_kg": 7.5})
    heavy = _run(params, {"regimen": "cy_tbi_atg"})
    assert _relapse_5y(light) > _relapse_5y(standard) > _relapse_5y(heavy)


def test_longer_disease_raises_relapse(params):
    # the resident, conditioning-resistant autoreactive niche grows with disease duration
    # (autoimmunity.resident_fraction_max, resident_time_constant): same patients, same
    # draws, only the duration differs; direction asserted, with a margin of 3 points
    from dataclasses import replace

    c = ir.sample_cohort("systemic_sclerosis", 300, seed=17)
    rel = []
    for years in (0.5, 10.0):
        cd = replace(c, disease_duration_years=np.full(300, years))
        o = ir.simulate(cd, ir.Protocol(regimen="cy200_ratg"), horizon_days=H,
                        params=params).outcomes
        rel.append(_relapse_5y(o))
    assert rel[1] > rel[0] + 0.03


def test_removing_thymic_output_removes_late_tolerance(params, astis):
    no_thymus = params.evolve(**{"immune.thymic_output_reference": 0.001,
                                 "immune.thymic_rebound": 0.0})
    o = _run(no_thymus, {"regimen": "cy200_ratg"})
    assert _relapse_5y(o) > _relapse_5y(astis) + 0.1


def test_cd34_selection_lowers_graft_borne_autoreactivity(params):
    sel = _run(params, {"regimen": "cy200_ratg", "cd34_selection": True})
    uns = _run(params, {"regimen": "cy200_ratg", "cd34_selection": False})
    assert np.nanmedian(sel["repertoire_overlap_day365"]) < \
        np.nanmedian(uns["repertoire_overlap_day365"])
    assert _relapse_5y(sel) <= _relapse_5y(uns)


def test_without_atg_the_unmanipulated_graft_slows_regrowth(params):
    # Cyclophosphamide alone (no ATG to kill graft T cells): the unmanipulated graft's Tregs
    # and conventional CD4 outweigh its autoreactive cells; same direction as the RA RCT of
    # Moore J et al. Arthritis Rheum 2002 (median time to recurrence 147 days CD34-selected
    # vs 201 unmanipulated, n.s.; examples/checks/ra_cd34_selection.py). Direction only.
    cy = {"name": "cy200_alone", "title": "Cy 200 mg/kg", "citation": "test",
          "doses": [{"agent": "cyclophosphamide", "amount": 50, "unit": "mg/kg", "day": d}
                    for d in (-5, -4, -3, -2)]}
    c = ir.sample_cohort("rheumatoid_arthritis", 150, seed=11)
    relapsed = {}
    for sel in (True, False):
        o = ir.simulate(c, ir.Protocol(conditioning=cy, cd34_selection=sel, graft_source="pbsc"),
                        horizon_days=365.25, params=params).outcomes
        relapsed[sel] = np.mean(np.isfinite(o["score_relapse_day"].to_numpy()))
    assert relapsed[False] < relapsed[True]


def test_lymphopenic_young_patients_have_a_consistent_steady_state(params):
    """A 20-year-old with 300 lymphocytes/uL: the age-expected thymic output exceeds what the
    small naive pools lose, so it is bounded (division rate 0) instead of failing; found by a
    10^6-patient streamed run."""
    from dataclasses import replace

    from immunoreset.engine import layout as L
    from immunoreset.engine.assemble import assemble

    c = ir.sample_cohort("systemic_sclerosis", 50, seed=2024)
    c = replace(c, lymphocytes_per_uL=np.full(50, 300.0), age_years=np.full(50, 20.0))
    ki = assemble(c, ir.Protocol(), params)
    for idx in (L.N4_RHO0, L.M4_RHO0, L.N8_RHO0, L.M8_RHO0, L.R_RHO0):
        assert np.all(ki.p[:, idx] >= 0)
    o = ir.simulate(c, ir.Protocol(), seed=2024, horizon_days=60, params=params).outcomes
    assert o["anc_engraftment_day"].is_not_nan().sum() >= 45  # early deaths may precede it
