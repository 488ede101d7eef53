"""Systemic sclerosis: modified Rodnan skin score (mRSS, 0–51) and major organ failure.

Response at 1 year: ≥ 25 % fall of mRSS without major organ failure (the usual skin
response definition of early dcSSc trials; e.g. ASTIS secondary end points, van Laar JAMA
2014; Dobrota R et al. Ann Rheum Dis 2016 for the 25 % rule). Progression: persistent
major organ failure (heart, lung or kidney) — the ASTIS event-free-survival event.
Comparator: monthly IV cyclophosphamide (``data/comparators.yaml``).

Which organ failed is drawn with the shares ``disease.systemic_sclerosis.progression_share.*``
(columns ``heart_failure_day``, ``lung_failure_day``, ``kidney_failure_day`` and
``progression_kind``); the timing is the one organ-failure hazard.

Read-out (``outcomes/disease_readouts``): FVC % predicted, lost at 4.1 % of the remaining
FVC per year of pre-transplant activity (SENSCIS placebo slope, -93 mL/year) and regaining
8 % when the inflammatory part resolves after the activity falls (the sustained FVC gain
of the HSCT trials; magnitude assumed).
"""

from immunoreset.diseases.base import ActivityReadout, DiseaseModel, ProgressionKind

MODEL = DiseaseModel(
    id="systemic_sclerosis",
    score_name="mRSS",
    score_unit="points (0-51)",
    progression_event="major organ failure (heart, lung, kidney)",
    remission_definition=">= 25 % fall of mRSS at 1 year without major organ failure",
    progression_alias="organ_failure_day",
    readouts=(ActivityReadout("fvc_percent_predicted", "forced vital capacity",
                              "% predicted"),),
    progression_kinds=(
        ProgressionKind("heart_failure", "persistent cardiac failure (myocardial disease, "
                        "arrhythmia)"),
        ProgressionKind("lung_failure", "persistent respiratory failure (interstitial lung "
                        "disease or pulmonary arterial hypertension)"),
        ProgressionKind("kidney_failure", "persistent renal failure (scleroderma renal crisis)"),
    ),
)
