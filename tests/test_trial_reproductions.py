"""Reduced-size reproductions of the shipped published trials (smoke tests, issue #6):
they run, produce every endpoint, and point the right way. Inclusion in the published CI
is reported by `immunoreset validate` (docs/validation.md), not asserted here."""

import math

import polars as pl
import pytest

from immunoreset.trials.run import run_trial
from immunoreset.trials.validate import example_specs


def _spec(name: str):
    path = next(p for p in example_specs() if p.stem == name)
    return path


@pytest.fixture(scope="module")
def astis():
    return run_trial(_spec("astis"), seed=3)


def test_astis_runs_with_every_endpoint(astis):
    names = set(astis.endpoints["endpoint"].to_list())
    for ep in ("event_free_survival", "overall_survival", "treatment_related_mortality",
               "event_free_survival_hr", "overall_survival_hr"):
        assert ep in names
    assert astis.flow["arms"]["control"]["simulated"] is True
    assert astis.comparison.height >= 10


def test_astis_points_the_right_way(astis):
    e = astis.endpoints
    late_hr = e.filter((pl.col("endpoint") == "event_free_survival_hr")
                       & (pl.col("timepoint_years") == e.filter(
                           pl.col("endpoint") == "event_free_survival_hr")["timepoint_years"]
                          .max()))["estimate"][0]
    # ASTIS: HSCT harms early (treatment-related deaths) and protects late (HR 0.34, 3-10 y)
    assert late_hr < 1.0
    trm = e.filter(pl.col("endpoint") == "treatment_related_mortality")
    hsct = trm.filter(pl.col("arm") == "hsct")["estimate"][0]
    ctl = trm.filter(pl.col("arm") == "control")["estimate"][0]
    assert hsct > ctl
    assert not math.isnan(hsct)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["assist", "mist", "astic", "burt2006_sle", "voltarelli_t1d"])
def test_other_reproductions_run(name):
    res = run_trial(_spec(name), seed=1)
    assert res.endpoints.height > 0
