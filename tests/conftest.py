import pytest

from immunoreset.parameters import default_parameters
from immunoreset.population import sample_cohort


@pytest.fixture(scope="session")
def params():
    return default_parameters()


@pytest.fixture(scope="session")
def ssc_cohort():
    return sample_cohort("systemic_sclerosis", 200, seed=11)
