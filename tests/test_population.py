import numpy as np
import pytest
from pydantic import ValidationError

from immunoreset.errors import InputError
from immunoreset.population import Population, sample_cohort


def test_patient_k_is_the_same_whatever_the_cohort_size():
    small = sample_cohort("systemic_sclerosis", 10, seed=4)
    big = sample_cohort("systemic_sclerosis", 500, seed=4)
    for f in ("age_years", "weight_kg", "height_cm", "anc_per_uL", "platelets_per_uL"):
        np.testing.assert_array_equal(getattr(small, f), getattr(big, f)[:10])
    alone = sample_cohort("systemic_sclerosis", 1, seed=4, start=7)
    assert alone.weight_kg[0] == big.weight_kg[7]


def test_covariates_in_published_ranges():
    c = sample_cohort("ssc", 3000, seed=1)  # alias accepted
    assert c.disease == "systemic_sclerosis"
    assert 18 <= c.age_years.min() and c.age_years.max() <= 65  # ASTIS inclusion 18-65
    assert 0.7 < c.female.mean() < 0.86  # populations.yaml: 78.3 % female (EUSTAR proxy)
    assert 1.4 < np.median(c.bsa_m2) < 2.1
    assert np.all(c.anc_per_uL > 0)


def test_fixed_age_and_bad_inputs():
    c = sample_cohort(Population(disease="multiple_sclerosis", age_years=50), 5, seed=1)
    assert np.all(c.age_years == 50)
    with pytest.raises((InputError, ValidationError), match="age_years"):
        Population(disease="multiple_sclerosis", age_years=150)
    with pytest.raises((InputError, ValidationError), match="disease"):
        Population(disease="psoriasis")
    with pytest.raises(InputError, match="n="):
        sample_cohort("sle", 0, seed=1)
