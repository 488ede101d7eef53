"""Selection on past events (decisions §32): one event frailty per patient, read by its
events, by the prior-year counts screening sees and, in MS, by its progression hazard."""

from dataclasses import replace

import numpy as np
import pytest

import immunoreset as ir
from immunoreset.diseases import disease_model
from immunoreset.engine import layout as L
from immunoreset.engine.assemble import EV_FRAILTY
from immunoreset.engine.run import run_chunk
from immunoreset.population import sample_cohort
from immunoreset.population import streams as st
from immunoreset.protocols.protocol import Protocol
from immunoreset.trials.run import covariate, prior_event_counts

MS = "multiple_sclerosis"
DMT = Protocol(comparator="disease_modifying_therapy")


def _frailty(params, cohort):
    u = st.uniform_block(cohort.seed, cohort.patient_id, st.EVENTS)[:, EV_FRAILTY]
    return disease_model(cohort.disease).event_frailty(params, u)


def test_frailty_is_gamma_with_mean_one(params):
    dm = disease_model(MS)
    k = params.value(f"disease.{MS}.event_frailty_shape")
    g = dm.event_frailty(params, (np.arange(40000) + 0.5) / 40000)
    assert g.mean() == pytest.approx(1.0, rel=0.01)
    assert g.var() == pytest.approx(1.0 / k, rel=0.03)


def test_prior_year_relapses_are_negative_binomial(params):
    # at the reference activity (CARE-MS II interferon arm): P(no relapse in a year)
    # = (1 + λ/k)^-k, the over-dispersed count of the shared gamma frailty
    c = sample_cohort(MS, 20000, seed=2)
    n = prior_event_counts(c, "clinical_relapse")
    lam = params.value(f"disease.{MS}.clinical_relapse.rate_per_year")
    k = params.value(f"disease.{MS}.event_frailty_shape")
    assert np.mean(n == 0) == pytest.approx((1 + lam / k) ** -k, abs=0.01)
    assert n.mean() == pytest.approx(lam, rel=0.03)
    np.testing.assert_array_equal(covariate(c, "clinical_relapse_prior_year"), n)
    # a disease without that event has no such covariate
    assert covariate(sample_cohort("systemic_sclerosis", 5, seed=2),
                     "clinical_relapse_prior_year") is None


def test_kernel_and_events_read_the_screened_frailty(params):
    c = sample_cohort(MS, 300, seed=4)
    g = _frailty(params, c)
    r = run_chunk(c, DMT, params, horizon_days=730)
    h = params.value(f"disease.{MS}.progression_hazard") / 365.25
    np.testing.assert_allclose(r.inputs.p[:, L.D_DMG_RATE], h * g, rtol=1e-12)
    # patients selected on >= 2 prior relapses have the higher frailty, and relapse more
    # after entry (regression to the mean leaves them above average, not at their count)
    prior = prior_event_counts(c, "clinical_relapse")
    hi, lo = prior >= 2, prior == 0
    assert g[hi].mean() > 1.5 > 1.0 > g[lo].mean()
    on = r.outcomes["clinical_relapse_count_y2"]
    assert np.nanmean(on[hi]) > 2 * np.nanmean(on[lo])


def test_selected_patients_progress_more_on_a_dmt(params):
    c = sample_cohort(MS, 600, seed=6)
    prior = prior_event_counts(c, "clinical_relapse")
    o = ir.simulate(c, DMT, horizon_days=730, params=params).outcomes
    prog = np.isfinite(o["progression_day"].to_numpy())
    assert prog[prior >= 2].mean() > prog[prior == 0].mean() + 0.1


def test_a_disease_without_the_flag_keeps_its_progression_rate(params):
    c = sample_cohort("sle", 50, seed=4)
    r = run_chunk(c, Protocol(comparator="no_treatment"), params, horizon_days=30)
    h = params.value("disease.sle.progression_hazard") / 365.25
    np.testing.assert_allclose(r.inputs.p[:, L.D_DMG_RATE], h, rtol=1e-12)


def test_mist_applies_its_relapse_criterion():
    from pathlib import Path

    from immunoreset.trials.spec import load_spec

    spec = load_spec(Path(__file__).resolve().parents[1] / "examples/trials/mist.yaml")
    assert not any("relapse" in n for n in spec.notes_for_user())
    res = ir.run_trial(spec, seed=2)
    assert (res.patients["clinical_relapse_prior_year"] >= 2).all()
    assert (res.screening.filter(~res.screening["eligible"])["clinical_relapse_prior_year"]
            .to_numpy() < 2).any()


def test_a_recorded_count_draws_the_frailty_from_its_posterior(params):
    # conjugate gamma-Poisson: G | n relapses in a year ~ Gamma(k + n, rate k + λ)
    dm = disease_model(MS)
    k = params.value(f"disease.{MS}.event_frailty_shape")
    lam = params.value(f"disease.{MS}.clinical_relapse.rate_per_year")
    u = (np.arange(20000) + 0.5) / 20000
    for n in (0, 4):
        g = dm.event_frailty(params, u, {"clinical_relapse": np.full(u.size, float(n))})
        assert g.mean() == pytest.approx((k + n) / (k + lam), rel=0.01)
    # NaN = not recorded: the unconditioned draw
    g = dm.event_frailty(params, u, {"clinical_relapse": np.full(u.size, np.nan)})
    np.testing.assert_allclose(g, dm.event_frailty(params, u))
    # screening reads a recorded count as it is
    c = sample_cohort(MS, 6, seed=1)
    c = replace(c, extra={**c.extra, "clinical_relapse_prior_year":
                          np.array([0, 1, 2, 3, np.nan, 5.0])})
    got = prior_event_counts(c, "clinical_relapse")
    np.testing.assert_array_equal(got[[0, 1, 2, 3, 5]], [0, 1, 2, 3, 5])
    assert np.isfinite(got[4])


def test_a_three_year_count_weighs_three_years_of_exposure(params):
    dm = disease_model(MS)
    k = params.value(f"disease.{MS}.event_frailty_shape")
    lam = params.value(f"disease.{MS}.clinical_relapse.rate_per_year")
    u = (np.arange(20000) + 0.5) / 20000
    extra = {"clinical_relapse_prior_year": np.full(u.size, 0.0),
             "clinical_relapse_prior_3_years": np.full(u.size, 6.0)}
    counts, years = dm.recorded_event_history(extra)
    g = dm.event_frailty(params, u, counts, years=years)
    # the 3-year count (which contains the last year) is used: Gamma(k + 6, k + 3λ)
    assert g.mean() == pytest.approx((k + 6) / (k + 3 * lam), rel=0.01)
    # without it, the 1-year count
    extra["clinical_relapse_prior_3_years"] = np.full(u.size, np.nan)
    counts, years = dm.recorded_event_history(extra)
    assert dm.event_frailty(params, u, counts, years=years).mean() == \
        pytest.approx(k / (k + lam), rel=0.01)
