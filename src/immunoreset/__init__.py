"""immunoreset: mechanistic simulation and in-silico trials of autologous and allogeneic
haematopoietic stem cell transplantation for autoimmune disease.

Research software, not a medical device: no output of this package is a clinical
recommendation for any patient.
"""

__version__ = "0.1.0"

from immunoreset import _numba_cache

_numba_cache.configure()  # before anything compiles: see _numba_cache.py

from immunoreset.engine.parallel import CohortSpec, simulate_to_parquet  # noqa: E402
from immunoreset.population import Cohort, Patient, Population, sample_cohort  # noqa: E402
from immunoreset.protocols import Protocol  # noqa: E402
from immunoreset.simulate import SaveSpec, SimulationResult, simulate  # noqa: E402
from immunoreset.trials.run import TrialResult, run_trial  # noqa: E402

__all__ = [
    "Cohort", "CohortSpec", "Patient", "Population", "Protocol", "SaveSpec",
    "SimulationResult", "TrialResult", "__version__", "run_trial", "sample_cohort", "simulate",
    "simulate_to_parquet",
]
