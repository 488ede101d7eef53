"""Spontaneous course of the effector phase (``disease.<id>.effector.*``): a two-state
process, active ⇄ quiescent, that changes what the tissues see of the autoreactive load
and not the load itself (docs/model.md §5c, decisions §30)."""

import numpy as np
import pytest

import immunoreset as ir
from immunoreset.diseases import disease_model
from immunoreset.engine import layout as L
from immunoreset.engine.model import OBS_ACT, OBS_SCORE
from immunoreset.engine.oracle import integrate_patient_scipy
from immunoreset.engine.run import run_chunk
from immunoreset.population import sample_cohort
from immunoreset.protocols.protocol import Protocol

CONTROL = Protocol(comparator="conventional_therapy")


def _switches(r) -> np.ndarray:
    return r.inputs.p[:, L.D_EFF_SW:L.D_EFF_SW + L.N_EFF_SWITCH]


def test_a_disease_without_effector_rates_has_no_switches(params):
    c = sample_cohort("systemic_sclerosis", 20, seed=3)
    r = run_chunk(c, Protocol(comparator="no_treatment"), params, horizon_days=400)
    assert np.isinf(_switches(r)).all()
    assert not disease_model("systemic_sclerosis").has_effector_course(params)


def test_switch_times_follow_the_two_rates(params):
    dm = disease_model("crohns_disease")
    lam_q = params.value("disease.crohns_disease.effector.quiescence_rate")
    lam_f = params.value("disease.crohns_disease.effector.flare_rate")
    u = np.random.default_rng(0).random((20000, L.N_EFF_SWITCH))
    sw = dm.effector_switch_times(params, u)
    assert np.all(np.diff(sw, axis=1) > 0)
    # mean first gap 1/λ_q years, mean second 1/λ_f years (20000 draws: within 3 %)
    assert np.mean(sw[:, 0]) / 365.25 == pytest.approx(1 / lam_q, rel=0.03)
    assert np.mean(sw[:, 1] - sw[:, 0]) / 365.25 == pytest.approx(1 / lam_f, rel=0.03)
    # long-run share of time quiescent λ_q / (λ_q + λ_f): the state after 15 years
    t = 15 * 365.25
    quiescent = (sw <= t).sum(axis=1) % 2 == 1
    assert quiescent.mean() == pytest.approx(lam_q / (lam_q + lam_f), abs=0.015)


def test_quiescence_hides_the_load_from_the_tissues_only(params):
    # untreated refractory Crohn's: the memory load is the same whatever the effector state;
    # the activity the tissues see is that load times the state (1 active, the quiescent
    # share while quiescent), switching exactly at the pre-drawn times
    share = 0.25
    with_course = params.evolve(**{"disease.crohns_disease.effector.quiescent_share": share})
    without = params.evolve(**{"disease.crohns_disease.effector.quiescence_rate": 0.0})
    c = sample_cohort("crohns_disease", 60, seed=7)
    a = run_chunk(c, CONTROL, with_course, horizon_days=730)
    b = run_chunk(c, CONTROL, without, horizon_days=730)
    assert np.isinf(_switches(b)).all()
    t = a.grid.out_times
    sw = _switches(a)
    # an observation at a switch time is the left limit (recorded before the switch)
    state = np.where((sw[:, None, :] < t[None, :, None] - 1e-9).sum(axis=2) % 2 == 1,
                     share, 1.0)
    expected = b.obs[:, :, OBS_ACT] * state
    np.testing.assert_allclose(a.obs[:, :, OBS_ACT], expected, rtol=1e-3, atol=1e-9)
    assert (state < 1).any(axis=1).sum() >= 5  # some patients go quiescent within 2 years


def test_engine_matches_oracle_across_effector_switches(params):
    c = sample_cohort("crohns_disease", 12, seed=11)
    r = run_chunk(c, CONTROL, params, horizon_days=730)
    g = r.grid
    sw = _switches(r)
    assert np.isfinite(sw[:, 0]).sum() >= 3  # switches inside the horizon to compare across
    for i in range(len(c)):
        obs, cross, _, _ = integrate_patient_scipy(r.inputs, i, g.out_times, g.check_times,
                                                   730.0)
        for col in (OBS_ACT, OBS_SCORE):
            rel = np.abs(r.obs[i, :, col] - obs[:, col]) / np.maximum(np.abs(obs[:, col]), 1.0)
            assert np.nanmax(rel) <= 1e-2
        assert np.array_equal(np.isfinite(cross), np.isfinite(r.crossings[i]))


def test_quiescent_patients_score_lower_and_fail_treatment_less(params):
    c = ir.sample_cohort("crohns_disease", 400, seed=5)
    res = ir.simulate(c, CONTROL, seed=5, horizon_days=400, params=params)
    o = res.outcomes
    r = run_chunk(c, CONTROL, params, horizon_days=400)
    sw = _switches(r)
    # quiescent for the whole second half of the year
    quiet = (sw[:, 0] < 182) & (sw[:, 1] > 365.25)
    active = sw[:, 0] > 365.25
    assert quiet.sum() >= 10 and active.sum() >= 100
    s1 = o["score_y1"].to_numpy()
    assert np.nanmedian(s1[quiet]) < np.nanmedian(s1[active]) - 80
    prog = np.isfinite(o["progression_day"].to_numpy()) & (o["progression_day"].to_numpy() <= 365)
    assert prog[quiet].mean() < prog[active].mean()
