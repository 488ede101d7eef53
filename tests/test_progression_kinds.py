"""Kinds of a disease's progression event (SSc: which organ failed), drawn with published
shares from the patient's own stream; the timing stays the one progression hazard."""

import numpy as np
import pytest

import immunoreset as ir
from immunoreset.diseases import disease_model
from immunoreset.errors import InputError
from immunoreset.outcomes.disease_events import progression_kind_outcomes

SSC = disease_model("systemic_sclerosis")


def test_kinds_follow_the_shares_weighted_by_disease_duration(params):
    shares = SSC.progression_shares(params)
    assert shares.sum() == pytest.approx(1.0)
    n = 20000
    rng = np.random.default_rng(3)
    # half the patients fail at day 0 after 1 year of disease, the rest never
    day = np.where(rng.random(n) < 0.5, 0.0, np.nan)
    out = progression_kind_outcomes(SSC, day, rng.random(n), params, np.full(n, 1.0))
    expected = SSC.progression_kind_weights(params, np.array([1.0]))[0]
    happened = np.isfinite(day)
    kinds = out["progression_kind"].to_numpy()
    assert np.all((kinds == None) == ~happened)  # noqa: E711 (null where no event)
    for w, kind in zip(expected, SSC.progression_kinds, strict=True):
        col = out[f"{kind.id}_day"]
        mine = np.isfinite(col)
        np.testing.assert_array_equal(col[mine], day[mine])
        assert np.all(kinds[mine] == kind.id)
        # 10000 events: binomial SD <= 0.005, tolerance 3 SD
        assert mine.sum() / happened.sum() == pytest.approx(w, abs=0.015)
    # each event has exactly one kind
    n_kinds = sum(np.isfinite(out[f"{k.id}_day"]) for k in SSC.progression_kinds)
    np.testing.assert_array_equal(n_kinds, happened.astype(int))


def test_renal_crisis_is_an_early_failure(params):
    # Steen & Medsger 2000: 70 % of renal crises but 45-55 % of severe heart and lung
    # involvement within the first 3 years of disease -> renal failures are a larger share
    # of early than of late organ failures (derived: 0.18 at 1 year, 0.06 at 8 years)
    w = SSC.progression_kind_weights(params, np.array([1.0, 8.0]))
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    kidney = [k.id for k in SSC.progression_kinds].index("kidney_failure")
    assert w[0, kidney] == pytest.approx(0.18, abs=0.01)
    assert w[1, kidney] == pytest.approx(0.06, abs=0.01)


def test_simulated_organ_failures_name_one_organ(params):
    c = ir.sample_cohort("systemic_sclerosis", 300, seed=9)
    o = ir.simulate(c, ir.Protocol(comparator="no_treatment"), seed=9, horizon_days=5 * 365.25,
                    params=params).outcomes
    of = o["organ_failure_day"].to_numpy()
    assert np.isfinite(of).sum() >= 20  # untreated SSc: organ failures within 5 years
    total = np.zeros(len(o))
    for kind in SSC.progression_kinds:
        d = o[f"{kind.id}_day"].to_numpy()
        total += np.isfinite(d)
        np.testing.assert_array_equal(d[np.isfinite(d)], of[np.isfinite(d)])
    np.testing.assert_array_equal(total, np.isfinite(of).astype(float))
    assert o["progression_kind"].null_count() == int((~np.isfinite(of)).sum())


def test_shares_must_sum_to_one(params):
    bad = params.evolve(**{"disease.systemic_sclerosis.progression_share.kidney_failure": 0.9})
    with pytest.raises(InputError, match="progression_share"):
        SSC.progression_shares(bad)


def test_a_disease_without_kinds_has_no_kind_columns(params):
    dm = disease_model("multiple_sclerosis")
    assert progression_kind_outcomes(dm, np.array([1.0, np.nan]), np.array([0.3, 0.4]),
                                     params) == {}


def test_kind_columns_have_units():
    from immunoreset.simulate import disease_event_units

    units = disease_event_units("systemic_sclerosis")
    for col in ("progression_kind", "heart_failure_day", "lung_failure_day",
                "kidney_failure_day"):
        assert units.get(col)
