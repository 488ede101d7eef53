"""Comparator arms: named schedules (data/comparators.yaml) and explicit ones written in a
trial spec or the Python API, read by one model (protocols.comparators.ComparatorSpec)."""

import numpy as np
import polars as pl
import pytest
import yaml

import immunoreset as ir
from immunoreset.errors import InputError
from immunoreset.protocols.comparators import ComparatorSpec, comparator
from immunoreset.trials.spec import parse_spec
from immunoreset.trials.validate import example_specs

#: the ASTIS control arm written out (van Laar JAMA 2014: 12 monthly pulses of 750 mg/m2)
ASTIS_CONTROL = {
    "name": "astis_control_explicit",
    "title": "IV cyclophosphamide 750 mg/m2 monthly x 12",
    "citation": "van Laar JM et al. JAMA 2014;311(24):2490-2498",
    "dose": {"agent": "cyclophosphamide", "amount": 750, "unit": "mg/m2", "infusion_hours": 1},
    "every_days": 30.4,
    "count": 12,
}


def test_named_and_explicit_comparators_build_the_same_schedule():
    named = comparator("iv_cyclophosphamide_monthly")
    explicit = ComparatorSpec(**ASTIS_CONTROL).to_comparator()
    assert explicit.doses == named.doses
    assert [d.day for d in named.doses] == pytest.approx([30.4 * i for i in range(12)])
    assert "cyclophosphamide: 750 mg/m2 x 12" in explicit.describe()


def test_explicit_comparator_simulates_like_the_named_one(params):
    c = ir.sample_cohort("systemic_sclerosis", 12, seed=4)
    a = ir.simulate(c, ir.Protocol(comparator="iv_cyclophosphamide_monthly"), seed=4,
                    horizon_days=400, params=params).outcomes
    b = ir.simulate(c, ir.Protocol(comparator=ASTIS_CONTROL), seed=4, horizon_days=400,
                    params=params).outcomes
    for col in ("score_y1", "relapse_day", "death_day", "progression_day"):
        np.testing.assert_array_equal(a[col].to_numpy(), b[col].to_numpy())


def test_more_cyclophosphamide_pulses_lower_activity_more(params):
    # mechanism: the comparator's doses act through the same pharmacology as conditioning
    c = ir.sample_cohort("systemic_sclerosis", 30, seed=5)
    two = dict(ASTIS_CONTROL, name="two", count=2)
    o2 = ir.simulate(c, ir.Protocol(comparator=two), seed=5, horizon_days=400,
                     params=params).outcomes
    o12 = ir.simulate(c, ir.Protocol(comparator=ASTIS_CONTROL), seed=5, horizon_days=400,
                      params=params).outcomes
    assert np.nanmedian(o12["score_y1"].to_numpy()) < np.nanmedian(o2["score_y1"].to_numpy())


@pytest.mark.parametrize(("bad", "field"), [
    ({"dose": {"agent": "tbi", "amount": 1, "unit": "mg/kg"}}, "comparator.dose.agent"),
    ({"dose": {"agent": "cyclophosphamide", "amount": 9000, "unit": "mg/m2"}},
     "comparator.dose"),
    ({"every_days": 0}, "comparator"),
    ({"r0_factor": 0.8}, "comparator"),
    ({"citation": None}, "comparator.citation"),
])
def test_bad_explicit_comparator_names_the_field(bad, field):
    d = yaml.safe_load(next(p for p in example_specs() if p.stem == "astis").read_text())
    sched = {k: v for k, v in {**ASTIS_CONTROL, **bad}.items() if v is not None}
    d["arms"][1]["protocol"] = {"comparator": sched}
    with pytest.raises(InputError) as e:
        parse_spec(d)
    assert e.value.field == f"arms[1].protocol.{field}"


def test_trial_with_an_explicit_comparator_arm_is_simulated(tmp_path):
    d = yaml.safe_load(next(p for p in example_specs() if p.stem == "astis").read_text())
    d["population"]["n"] = 40
    d["arms"][1]["protocol"] = {"comparator": ASTIS_CONTROL}
    spec = parse_spec(d)
    assert spec.arms[1].protocol.is_modelled
    res = ir.run_trial(spec, seed=2)
    ctl = res.endpoints.filter((pl.col("arm") == "control")
                               & (pl.col("endpoint") == "overall_survival"))
    assert ctl.height >= 1 and ctl["estimate"].is_not_nan().all()
    out = res.write(tmp_path / "run")
    html = (out / "report.html").read_text("utf-8")
    assert "astis_control_explicit" in html and "750 mg/m2 x 12" in html


def test_an_anti_inflammatory_comparator_acts_at_once_an_immunomodulator_slowly(params):
    # Both lower the disease activity to about half: activity_factor 0.5 blocks half the
    # effector phase from day 0; r0_factor 0.845 lowers the families' reproduction ratio so
    # that their equilibrium, (R0 f - 1)/(R0 - 1), is 0.5 at R0 = 1.45, which the load
    # approaches only as autoreactive memory turns over (MS: half-life ~0.8 years)
    c = ir.sample_cohort("multiple_sclerosis", 600, seed=8)

    def run(**kw):
        spec = {"name": "x", "citation": "test", **kw}
        return ir.simulate(c, ir.Protocol(comparator=spec), seed=8, horizon_days=400,
                           params=params).outcomes

    none = run()
    fast = run(activity_factor=0.5, activity_factor_source="test")
    slow = run(r0_factor=0.845, r0_factor_source="test")

    def early(o):  # share with a relapse in the first 3 months
        return float(np.mean(o["clinical_relapse_day"].to_numpy() <= 90.0))

    assert early(none) > 0.05
    assert early(fast) < 0.7 * early(none)
    assert early(slow) > 0.8 * early(none)
    # the anti-inflammatory arm's EDSS is lower at 1 year than without therapy
    assert np.nanmean(fast["score_y1"].to_numpy()) < np.nanmean(none["score_y1"].to_numpy())


def test_an_activity_factor_needs_its_source():
    with pytest.raises(ValueError, match="activity_factor_source"):
        ComparatorSpec(name="x", citation="t", activity_factor=0.5)
    with pytest.raises(ValueError, match="activity_factor"):
        ComparatorSpec(name="x", citation="t", activity_factor=0.0, activity_factor_source="t")
    text = ComparatorSpec(name="x", citation="t", activity_factor=0.5,
                          activity_factor_source="t").to_comparator().describe()
    assert "anti-inflammatory: disease activity x 0.5" in text
