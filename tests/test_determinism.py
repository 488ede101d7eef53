import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from immunoreset.population import sample_cohort
from immunoreset.protocols.protocol import Protocol
from immunoreset.simulate import simulate


def test_same_seed_same_outcomes_whatever_the_chunk_size(params):
    c = sample_cohort("systemic_sclerosis", 60, seed=9)
    a = simulate(c, Protocol(), horizon_days=120, chunk_size=60, params=params)
    b = simulate(c, Protocol(), horizon_days=120, chunk_size=7, params=params)
    assert_frame_equal(a.outcomes, b.outcomes)
    assert_frame_equal(a.trajectories, b.trajectories)


def test_patient_k_has_the_same_outcome_whatever_n(params):
    small = simulate(sample_cohort("systemic_sclerosis", 5, seed=9), Protocol(), horizon_days=120)
    big = simulate(sample_cohort("systemic_sclerosis", 40, seed=9), Protocol(), horizon_days=120)
    assert_frame_equal(small.outcomes, big.outcomes.head(5))
    alone = simulate(sample_cohort("systemic_sclerosis", 1, seed=9, start=3), Protocol(),
                     horizon_days=120)
    assert_frame_equal(alone.outcomes, big.outcomes.filter(pl.col("patient_id") == 3))


def test_different_seed_differs():
    a = simulate(sample_cohort("systemic_sclerosis", 5, seed=1), Protocol(), horizon_days=60)
    b = simulate(sample_cohort("systemic_sclerosis", 5, seed=2), Protocol(), horizon_days=60)
    wa, wb = a.outcomes["weight_kg"].to_numpy(), b.outcomes["weight_kg"].to_numpy()
    assert not np.array_equal(wa, wb)
