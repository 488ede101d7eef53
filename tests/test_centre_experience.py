"""Centre experience: the CIBMTR relative risk of death acts on treatment-related deaths,
not on how often complications happen, and trial specs carry their centres' figure.

Pasquini MC et al. (CIBMTR autoimmune HSCT report, PMC3950896, abstract): risk of death
3.5 (1.1-11.1) at centres with < 5 and 4.2 (1.5-11.7) with 5-15 autoimmune transplants
against > 15; EBMT: centre experience lowers 100-day TRM (Farge D et al. Haematologica
2010;95:284, p = 0.003).
"""

import numpy as np
import pytest

from immunoreset.engine.assemble import centre_death_multiplier
from immunoreset.parameters import default_parameters
from immunoreset.population import sample_cohort
from immunoreset.protocols.protocol import Protocol
from immunoreset.simulate import simulate
from immunoreset.trials.spec import load_spec
from immunoreset.vocabulary import TREATMENT_RELATED_CAUSES


@pytest.mark.parametrize(("transplants", "key"), [
    (None, None), (0, "centre_rr_lt5"), (4, "centre_rr_lt5"), (5, "centre_rr_5_15"),
    (15, "centre_rr_5_15"), (16, None), (500, None)])
def test_centre_categories_follow_cibmtr(transplants, key):
    ps = default_parameters()
    want = 1.0 if key is None else ps.value(f"complications.{key}")
    prot = Protocol(regimen="cy200_ratg", centre_autoimmune_transplants=transplants)
    assert centre_death_multiplier(prot, ps) == want


def _trm(o, day):
    d = o["death_day"].to_numpy()
    cause = np.array([c in TREATMENT_RELATED_CAUSES for c in o["death_cause"].to_list()])
    return np.isfinite(d) & (d <= day) & cause


def test_a_small_centre_multiplies_treatment_related_deaths_not_complications():
    c = sample_cohort("systemic_sclerosis", 500, seed=5)
    small = simulate(c, Protocol(regimen="cy200_ratg", centre_autoimmune_transplants=3),
                     seed=5, horizon_days=365.25).outcomes
    big = simulate(c, Protocol(regimen="cy200_ratg"), seed=5, horizon_days=365.25).outcomes
    a, b = _trm(small, 365.0).mean(), _trm(big, 365.0).mean()
    # hazard ratio 3.5 on the death hazards: the 1-year risk ratio lies a little below it
    # (saturation) and binomial noise at 500 patients is wide; 2-5 keeps the direction
    # and the size
    assert b > 0 and 2.0 <= a / b <= 5.0
    # complications themselves are the same patient by patient where both runs keep the
    # patient alive (the same seed draws the same thresholds; the adaptive solver's steps
    # differ, hence the tolerance on event days)
    alive = ~(small["death_day"].to_numpy() <= 365.0) & ~(big["death_day"].to_numpy() <= 365.0)
    assert np.array_equal(small["cardiac_toxicity"].to_numpy()[alive],
                          big["cardiac_toxicity"].to_numpy()[alive])
    for col in ("infection_first_day", "secondary_autoimmunity_day"):
        x, y = small[col].to_numpy()[alive], big[col].to_numpy()[alive]
        assert np.allclose(x, y, rtol=1e-5, equal_nan=True), col


def test_trial_specs_carry_their_centres_to_both_arms():
    astis = load_spec("examples/trials/astis.yaml")
    protocols = [arm.protocol.to_protocol() for arm in astis.arms]
    # 79 transplanted patients in 29 centres: the "< 5" category, for the transplant arm
    # and for the cyclophosphamide arm treated in the same centres
    assert [p.centre_autoimmune_transplants for p in protocols] == [3, 3]
    assert protocols[1].comparator == "iv_cyclophosphamide_monthly"
    assert "29 centres" in astis.arms[0].protocol.centre_source
    # a single experienced centre
    burt = load_spec("examples/trials/burt2021_rrms.yaml")
    assert burt.arms[0].protocol.to_protocol().centre_autoimmune_transplants == 507


def test_a_protocol_says_which_centre_it_assumes():
    assert "< 5" in Protocol(regimen="cy200_ratg", centre_autoimmune_transplants=3).describe()
    assert "5-15" in Protocol(regimen="cy200_ratg", centre_autoimmune_transplants=9).describe()
    assert "experienced" in Protocol(regimen="cy200_ratg").describe()
    # a comparator arm names its centre only where one was given
    assert "centre" not in Protocol(comparator="no_treatment").describe()
    assert "< 5" in Protocol(comparator="iv_cyclophosphamide_monthly",
                             centre_autoimmune_transplants=3).describe()
