"""Systemic sclerosis: modified Rodnan skin score (mRSS, 0–51) and major organ failure.

Response at 1 year: ≥ 25 % fall of mRSS without major organ failure (the usual skin
response definition of early dcSSc trials; e.g. ASTIS secondary end points, van Laar JAMA
2014; Dobrota R et al. Ann Rheum Dis 2016 for the 25 % rule). Progression: persistent
major organ failure (heart, lung or kidney) — the ASTIS event-free-survival event.
Comparator: monthly IV cyclophosphamide (``data/comparators.yaml``).
"""

from immunoreset.diseases.base import DiseaseModel

MODEL = DiseaseModel(
    id="systemic_sclerosis",
    score_name="mRSS",
    score_unit="points (0-51)",
    progression_event="major organ failure (heart, lung, kidney)",
    remission_definition=">= 25 % fall of mRSS at 1 year without major organ failure",
    progression_alias="organ_failure_day",
)
