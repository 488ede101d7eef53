"""Virtual patients: covariate distributions, variability, per-patient random streams."""

from immunoreset.population.cohort import (
    Cohort,
    Patient,
    Population,
    cohort_from_patient,
    sample_cohort,
)

__all__ = ["Cohort", "Patient", "Population", "cohort_from_patient", "sample_cohort"]
