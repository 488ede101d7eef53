"""A study's own baseline distributions (its Table 1) in the population and the trial spec:
they replace the disease defaults, keep each patient's draws (same standard normals), and
set the entry score the engine starts from."""

import numpy as np
import pytest
import yaml

import immunoreset as ir
from immunoreset.errors import InputError
from immunoreset.population import Population
from immunoreset.trials.spec import parse_spec
from immunoreset.trials.validate import example_specs


def test_population_overrides_move_the_distributions_not_the_patients():
    base = ir.sample_cohort("multiple_sclerosis", 4000, seed=3)
    pop = Population(disease="ms", age_mean=50, age_sd=5, female_fraction=0.3,
                     disease_duration_median=2.0, disease_duration_cv=0.5)
    c = ir.sample_cohort(pop, 4000, seed=3)
    assert abs(c.age_years.mean() - 50) < 0.5 and abs(c.age_years.std() - 5) < 0.3
    assert abs(c.female.mean() - 0.3) < 0.03
    assert abs(np.median(c.disease_duration_years) - 2.0) < 0.15
    # same standard normals: the age ranks and the body sizes are those of the default draw
    assert np.array_equal(np.argsort(c.age_years), np.argsort(base.age_years))
    np.testing.assert_array_equal(c.weight_kg[c.female == base.female],
                                  base.weight_kg[c.female == base.female])


def test_entry_score_distribution_is_where_the_simulation_starts():
    pop = Population(disease="ms", score_baseline_mean=5.5, score_baseline_sd=0.4)
    c = ir.sample_cohort(pop, 400, seed=4)
    assert abs(c.extra["score_baseline"].mean() - 5.5) < 0.1
    o = ir.simulate(c.take(slice(0, 15)), ir.Protocol(), seed=4, horizon_days=30).outcomes
    np.testing.assert_allclose(o["score_baseline"].to_numpy(), c.extra["score_baseline"][:15])


def _mist(cov):
    d = yaml.safe_load(next(p for p in example_specs() if p.stem == "mist").read_text())
    d["population"]["covariates"] = cov
    return d


def test_trial_screens_and_simulates_the_studys_population():
    d = _mist({"age_years": {"mean": 45, "sd": 5}, "score_baseline": {"mean": 5.0, "sd": 0.5},
               "source": "a hypothetical Table 1"})
    d["population"]["n"] = 120
    res = ir.run_trial(parse_spec(d), seed=1)
    assert abs(res.patients["age_years"].mean() - 45) < 2.0
    assert abs(res.patients["score_baseline"].mean() - 5.0) < 0.25
    default = ir.run_trial(parse_spec(_mist(None) | {"population": {"n": 120}}), seed=1)
    assert default.patients["score_baseline"].mean() < 4.5


@pytest.mark.parametrize(("cov", "field"), [
    ({"age_years": {"mean": 150}}, "population.covariates.age_years.mean"),
    ({"score_baseline": {"mean": 12}}, "population.covariates.score_baseline.mean"),
    ({"score_baseline": {"mean": 3, "sd": -1}}, "population.covariates.score_baseline.sd"),
    ({"score_baseline": {"mean": 3, "sd": 50}}, "population.covariates.score_baseline.sd"),
    ({"female_fraction": 2}, "population.covariates.female_fraction"),
    ({"disease_duration_years": {"median": 200}},
     "population.covariates.disease_duration_years.median"),
])
def test_bad_study_covariates_name_the_field(cov, field):
    with pytest.raises(InputError) as e:
        parse_spec(_mist(cov | {"source": "x"}))
    assert e.value.field == field


def test_study_covariates_need_a_source():
    with pytest.raises(InputError) as e:
        parse_spec(_mist({"age_years": {"mean": 40}}))
    assert e.value.field == "population.covariates.source"
