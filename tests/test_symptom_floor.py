"""Symptoms without inflammation (``disease.<id>.score_floor_spread`` and
``.symptomatic_failure_rate``): a patient's own activity-free score, and therapy restarted
for symptoms no immune reset removes (docs/model.md, Crohn's disease; decisions §31)."""

import numpy as np
import pytest
from scipy.special import ndtr

from immunoreset.diseases import disease_model
from immunoreset.engine import layout as L
from immunoreset.engine.run import run_chunk
from immunoreset.population import sample_cohort
from immunoreset.protocols.protocol import Protocol

HSCT = Protocol(regimen="cy200_ratg", cd34_selection=False, graft_source="pbsc")
CD = "disease.crohns_disease"


def test_crohns_floor_puts_a_fifth_of_patients_outside_clinical_remission(params):
    # SONIC 18/90 and Dai 2014 16/78 mucosally healed patients score CDAI >= 150: 20 %
    dm = disease_model("crohns_disease")
    sigma = params.value(f"{CD}.score_floor_spread")
    median = params.value(f"{CD}.score_floor")
    thr = params.value(f"{CD}.remission_threshold")
    assert 1 - ndtr(np.log(thr / median) / sigma) == pytest.approx(0.20, abs=0.01)
    u = (np.arange(20000) + 0.5) / 20000
    s0 = np.full(u.size, 600.0)
    floor = dm.score_floor(params, s0, None, u)
    assert np.median(floor) == pytest.approx(median, rel=0.01)
    assert np.mean(floor >= thr) == pytest.approx(0.20, abs=0.01)
    # the non-inflammatory part never exceeds the entry score
    low = dm.score_floor(params, np.full(u.size, 250.0), None, u)
    assert low.max() == pytest.approx(250.0) and np.all(low <= 250.0)


def test_a_disease_without_spread_keeps_one_floor(params):
    dm = disease_model("systemic_sclerosis")
    u = np.linspace(0.01, 0.99, 50)
    floor = dm.score_floor(params, np.full(50, 30.0), None, u)
    assert np.all(floor == params.value("disease.systemic_sclerosis.score_floor"))
    assert np.all(dm.symptomatic_failure_hazard(params, floor) == 0.0)


def test_symptomatic_hazard_only_for_floors_outside_remission(params):
    dm = disease_model("crohns_disease")
    rate = params.value(f"{CD}.symptomatic_failure_rate")
    h = dm.symptomatic_failure_hazard(params, np.array([80.0, 149.0, 150.0, 220.0]))
    np.testing.assert_allclose(h, [0.0, 0.0, rate / 365.25, rate / 365.25])
    off = params.evolve(**{f"{CD}.symptomatic_failure_rate": 0.0})
    assert np.all(dm.symptomatic_failure_hazard(off, np.array([220.0])) == 0.0)


def test_after_hsct_patients_with_a_high_floor_neither_remit_nor_stay_off_therapy(params):
    c = sample_cohort("crohns_disease", 120, seed=5)
    r = run_chunk(c, HSCT, params, horizon_days=730)
    floor = r.inputs.p[:, L.D_SFLOOR]
    high = floor >= params.value(f"{CD}.remission_threshold")
    assert 0.08 < high.mean() < 0.35
    o = r.outcomes
    assert not np.any(o["remission"][high].astype(bool))
    failed = np.isfinite(o["progression_day"])
    # restarted for symptoms at 2/year: most within 2 years (1 - e^-4 = 98 % if alive)
    assert failed[high].mean() > 0.8
    assert failed[high].mean() > failed[~high].mean()
    # without the spread the same patients share one floor and some of them remit
    one = params.evolve(**{f"{CD}.score_floor_spread": 0.0})
    r1 = run_chunk(c, HSCT, one, horizon_days=730)
    assert np.all(r1.inputs.p[:, L.D_SFLOOR] == params.value(f"{CD}.score_floor"))
    assert np.any(r1.outcomes["remission"][high].astype(bool))
    assert r1.outcomes["remission"].astype(bool).mean() > o["remission"].astype(bool).mean()
