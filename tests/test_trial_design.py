"""Trial design realism (issue 6): staggered accrual with a calendar data cut-off, block and
stratified randomisation from a per-trial stream, and screening on the disease score the
simulated patient actually starts from."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from trial_fixtures import synthetic_simulator, synthetic_spec

from immunoreset import run_trial
from immunoreset.errors import InputError
from immunoreset.trials.run import median_follow_up, randomise
from immunoreset.trials.spec import parse_spec


def _design(n=200, **over):
    data = synthetic_spec(n)
    data["endpoints"] = [e for e in data["endpoints"] if e["name"] in
                         ("event_free_survival", "overall_survival", "efs_hr_piecewise")]
    data["reference"] = []
    data.update(over)
    return data


# ----------------------------------------------------------------------------- accrual

def test_default_is_fixed_follow_up_for_everyone():
    res = run_trial(_design(60), seed=2, simulator=synthetic_simulator)
    p = res.patients
    assert (p["entry_years"] == 0).all()
    fu = res.spec.follow_up_years
    assert (p["censor_years"] == np.minimum(p["dropout_years"], fu)).all()


def test_staggered_accrual_censors_at_the_calendar_cut_off():
    res = run_trial(_design(300, accrual={"years": 4.0, "source": "test"}, follow_up_years=2.0,
                            dropout_per_year=0.0),
                    seed=3, simulator=synthetic_simulator)
    p = res.patients
    entry = p["entry_years"].to_numpy()
    assert entry.min() >= 0 and entry.max() <= 4.0
    # uniform entry: mean 2, SD 4/sqrt(12) -> 4 SE of the mean for n = 300 is 0.27 years
    assert abs(entry.mean() - 2.0) < 4 * (4 / np.sqrt(12)) / np.sqrt(300)
    np.testing.assert_allclose(p["censor_years"].to_numpy(), 6.0 - entry)
    assert res.spec.max_follow_up_years == 6.0
    # follow-up varies between patients, as in a published trial; median reported
    med = res.flow["median_follow_up_years"]
    assert 2.0 < med < 6.0
    assert res.flow["arms"]["hsct"]["median_follow_up_years"] > 2.0
    # the last hazard-ratio interval ends at the longest follow-up
    hr = res.endpoints.filter(pl.col("endpoint") == "efs_hr_piecewise")
    assert hr["timepoint_years"].max() == pytest.approx(6.0)


def test_median_follow_up_is_the_reverse_kaplan_meier_median():
    # no deaths: reverse KM of censoring times = their empirical distribution
    df = pl.DataFrame({"death_day": [np.nan] * 5, "days_randomisation_to_infusion": [0.0] * 5,
                       "censor_years": [1.0, 2.0, 3.0, 4.0, 5.0]})
    assert median_follow_up(df) == pytest.approx(3.0)
    # a death at 0.5 years censors that patient's potential follow-up (the naive median of
    # observed times would be 1.5): reverse KM 2/3 at 1 year, 1/3 at 2 years -> median 2
    df2 = pl.DataFrame({"death_day": [np.nan, np.nan, np.nan, 0.5 * 365.25],
                        "days_randomisation_to_infusion": [0.0] * 4,
                        "censor_years": [1.0, 2.0, 3.0, 4.0]})
    assert median_follow_up(df2) == pytest.approx(2.0)


# ----------------------------------------------------------------------------- randomisation

def _block(sizes, strata=()):
    return {"method": "block", "block_sizes": list(sizes), "strata": list(strata),
            "source": "test"}


def test_block_randomisation_balances_every_block():
    spec = parse_spec(_design(200, randomisation=_block([4])))
    ids = np.arange(200)
    a = randomise(spec, 9, ids)
    arm = a.arm
    for start in range(0, 200, 4):  # every complete block holds 2 + 2
        assert np.bincount(arm[start:start + 4], minlength=2).tolist() == [2, 2]
    # unequal allocation: 1:3 in blocks of 4 and 8
    data = _design(200, randomisation=_block([4, 8]))
    data["arms"][0]["allocation"], data["arms"][1]["allocation"] = 0.25, 0.75
    arm = randomise(parse_spec(data), 9, ids).arm
    running = np.cumsum(arm == 0)
    assert np.all(np.abs(running - 0.25 * np.arange(1, 201)) <= 0.75 * 8)
    assert not np.array_equal(arm, randomise(parse_spec(data), 10, ids).arm)


def test_stratified_blocks_balance_within_each_stratum():
    data = _design(240, randomisation=_block([2, 4], [{"covariate": "sex"},
                                                      {"covariate": "age_years",
                                                       "cutpoints": [40]}]))
    res = run_trial(data, seed=5, simulator=synthetic_simulator)
    p = res.patients.sort("patient_id")
    assert p["stratum"].n_unique() == 4
    for _, g in p.group_by("stratum"):
        n_hsct = int((g["arm"] == "hsct").sum())
        assert abs(n_hsct - (g.height - n_hsct)) <= 2  # at most half a block of 4 apart
    fem = (p["sex"] == "F").to_numpy()
    old = (p["age_years"] >= 40).to_numpy()
    np.testing.assert_array_equal(p["stratum"].to_numpy(), fem * 2 + old)
    assert "permuted blocks" in res.provenance["randomisation"]


def test_block_randomisation_is_identical_whatever_the_workers():
    data = _design(48, randomisation=_block([4], [{"covariate": "sex"}]),
                   accrual={"years": 3.0})
    one = run_trial(data, seed=4, simulator=synthetic_simulator, chunk_size=8)
    two = run_trial(data, seed=4, simulator=synthetic_simulator, chunk_size=8, workers=2)
    assert_frame_equal(one.patients, two.patients)
    assert_frame_equal(one.endpoints, two.endpoints)


def test_accrual_orders_block_randomisation_by_entry():
    spec = parse_spec(_design(100, randomisation=_block([2]), accrual={"years": 5.0}))
    a = randomise(spec, 1, np.arange(100))
    by_entry = a.arm[np.argsort(a.entry_years, kind="stable")]
    for start in range(0, 100, 2):
        assert sorted(by_entry[start:start + 2].tolist()) == [0, 1]


@pytest.mark.parametrize(("over", "field"), [
    ({"randomisation": _block([3])}, "randomisation.block_sizes"),
    ({"randomisation": {"method": "block"}}, "block_sizes"),
    ({"randomisation": {"method": "simple", "block_sizes": [4]}}, "method"),
    ({"randomisation": _block([4], [{"covariate": "eye_colour", "cutpoints": [1]}])},
     "covariate"),
    ({"randomisation": _block([4], [{"covariate": "age_years"}])}, "cutpoints"),
    ({"accrual": {"years": -1}}, "accrual.years"),
])
def test_bad_design_names_the_field(over, field):
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        parse_spec(_design(20, **over))


# ----------------------------------------------------------------------------- screening

def _one_arm(n, inclusion, disease="systemic_sclerosis"):
    return {"name": "screen", "disease": disease, "follow_up_years": 0.1,
            "population": {"n": n, "inclusion": inclusion},
            "arms": [{"name": "hsct", "allocation": 1.0,
                      "protocol": {"regimen": "cy200_ratg",
                                   "days_randomisation_to_infusion": 0}}],
            "endpoints": []}


def test_score_criterion_screens_the_score_the_patient_is_simulated_from():
    """ASTIS-style 'mRSS >= 30': every randomised patient starts the simulation with the
    screened mRSS (outcome column score_baseline), and patients below it fail screening."""
    res = run_trial(_one_arm(10, [{"covariate": "mrss", "min": 30}]), seed=3)
    p = res.patients
    np.testing.assert_array_equal(p["score_baseline"].to_numpy(),
                                  p["screening_score"].to_numpy())
    assert p["score_baseline"].min() >= 30
    assert res.flow["screen_failure_rate"] > 0.3  # mean 25, SD 7 in data/parameters.yaml
    failed = res.screening.filter(~pl.col("eligible"))
    assert (failed["screening_score"] < 30).all()


def test_score_name_of_another_disease_is_an_error():
    with pytest.raises(InputError, match=r"population\.inclusion\[0\]\.covariate"):
        parse_spec(_one_arm(5, [{"covariate": "edss", "max": 6}]))
    parse_spec(_one_arm(5, [{"covariate": "edss", "max": 6}], disease="multiple_sclerosis"))
