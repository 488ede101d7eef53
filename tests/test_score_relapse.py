"""Clinical relapse read from the disease score (RA "relapse of any degree": loss of a
response beyond measurement error), next to the shared immunological relapse."""

import numpy as np
import pytest

import immunoreset as ir
from immunoreset.diseases import disease_model

RA = "rheumatoid_arthritis"


def test_definition_on_handmade_trajectories(params):
    dm = disease_model(RA)  # DAS28, higher is worse, change 0.6
    t = np.arange(6.0) * 30
    s0 = np.array([6.0, 6.0, 6.0, 6.0])
    s = np.array([
        [5.5, 5.0, 4.9, 5.4, 5.6, 5.7],  # responds (> 0.6 down at day 30), 0.7 above best at 120
        [5.5, 5.5, 5.6, 6.2, 6.5, 6.9],  # never improves by > 0.6: no response, no relapse
        [5.0, 4.0, 4.2, 4.5, 4.6, 4.55],  # responds, rises only 0.6 above best: no relapse
        [5.3, 5.3, 5.3, 5.3, 5.3, 6.0],  # improves by exactly 0.7 then worsens by 0.7 at 150
    ])
    day = dm.score_relapse_day(t, s, s0, params)
    np.testing.assert_array_equal(day, [120.0, np.nan, np.nan, 150.0])


def test_lower_is_worse_scores_flip(params):
    from dataclasses import replace

    dm = replace(disease_model(RA), higher_is_worse=False)
    t = np.array([10.0, 20.0, 30.0])
    day = dm.score_relapse_day(t, np.array([[7.0, 7.5, 6.8]]), np.array([6.0]), params)
    assert day[0] == 30.0  # rose 1.5 (response), then fell 0.7 below its best


@pytest.fixture(scope="module")
def ra(params):
    c = ir.sample_cohort(RA, 80, seed=9)
    run = {k: ir.simulate(c, ir.Protocol(**kw), horizon_days=1.5 * 365.25,
                          params=params).outcomes
           for k, kw in (("none", {"comparator": "no_treatment"}),
                         ("cy_atg", {"regimen": "cy200_ratg"}))}
    return run


def test_no_treatment_no_response_no_relapse(ra):
    assert np.isnan(ra["none"]["score_relapse_day"].to_numpy()).all()


def test_clinical_relapse_only_after_a_response(ra):
    o = ra["cy_atg"]
    clin = o["score_relapse_day"].to_numpy()
    assert 0.05 < np.mean(np.isfinite(clin)) < 0.95
    # every clinical relapse is a worsening of a response, after the nadir: not in the first
    # weeks of aplasia
    assert np.nanmin(clin) > 30.0
    assert "score_relapse_day" not in ir.simulate(
        ir.sample_cohort("systemic_sclerosis", 3, seed=1), ir.Protocol(regimen="cy200_ratg"),
        horizon_days=30).outcomes.columns


def test_remission_loss_follows_its_onset(params):
    # T1D: insulin independence (requirement below the stopping threshold) and its loss
    c = ir.sample_cohort("type1_diabetes", 60, seed=3)
    o = ir.simulate(c, ir.Protocol(regimen="cy200_ratg", cd34_selection=False),
                    horizon_days=2.5 * 365.25, params=params).outcomes
    on = o["remission_onset_day"].to_numpy()
    lost = o["remission_loss_day"].to_numpy()
    assert np.isfinite(on).any() and np.isfinite(lost).any()
    assert not (np.isfinite(lost) & ~np.isfinite(on)).any()  # no loss without an onset
    both = np.isfinite(lost)
    assert (lost[both] > on[both]).all()
    # MS: the criterion holds from day 0, so neither an onset nor a loss is marked
    ms = ir.simulate(ir.sample_cohort("multiple_sclerosis", 5, seed=1),
                     ir.Protocol(regimen="cy200_ratg"), horizon_days=60,
                     params=params).outcomes
    assert ms["remission_loss_day"].is_nan().all()


def test_sustained_remission_run_on_handmade_criterion():
    from immunoreset.outcomes.immune import _sustained_days

    t = np.array([1.0, 100.0, 268.0, 275.0, 300.0, 365.0, 400.0])
    ok = np.array([
        [False, True, True, True, True, True, False],    # from day 100: 265 days
        [True, True, False, True, True, True, True],     # broken at 268: run from 275, 90 days
        [True, True, True, True, True, False, True],     # not in remission at 1 year: 0
        [True, True, True, True, True, True, True],      # never broken: from the first day
    ])
    np.testing.assert_array_equal(_sustained_days(t, ok, 365.0), [265.0, 90.0, 0.0, 364.0])
    # a horizon that ends before 1 year has no value
    assert np.isnan(_sustained_days(t[:4], ok[:, :4], 365.0)).all()


def test_sustained_remission_column(params):
    # Crohn's after HSCT: a remission at 1 year has held for some time; none without one
    c = ir.sample_cohort("crohns_disease", 60, seed=4)
    o = ir.simulate(c, ir.Protocol(regimen="cy200_ratg"), horizon_days=1.1 * 365.25,
                    params=params).outcomes
    run = o["remission_sustained_days_y1"].to_numpy()
    rem = o["remission"].to_numpy()
    alive = ~(o["death_day"].to_numpy() <= 365.0)
    assert np.isnan(run[~alive]).all()  # a read-out at 1 year, missing after death
    run, rem, onset = run[alive], rem[alive], o["remission_onset_day"].to_numpy()[alive]
    assert (run >= 0).all() and (run < 365).all()
    assert (run[rem] > 0).all()
    held = run > 0
    assert (365.0 - run[held] >= onset[held] - 1e-9).all()  # the run starts at or after onset
    # MS has no onset (the criterion holds from day 0): no run either
    ms = ir.simulate(ir.sample_cohort("multiple_sclerosis", 3, seed=1),
                     ir.Protocol(regimen="cy200_ratg"), horizon_days=400,
                     params=params).outcomes
    assert ms["remission_sustained_days_y1"].is_nan().all()
