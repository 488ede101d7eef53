"""Systemic lupus erythematosus: SLEDAI-2K (0–105) and flares.

Score: SLEDAI-2K. ``score_floor`` is the activity-independent residue (persisting
serology, e.g. low complement or anti-dsDNA, 2 points each).

Progression: first flare (SLEDAI-2K rise ≥ 4, the flare definition of the Portuguese
prospective cohort; hazard at the pre-transplant activity from the Hopkins Lupus Cohort
flare rate, Petri M et al., 0.65 flares per patient-year; disease_models.md §4.2).

Remission at 1 year: SLEDAI-2K below 4 (``remission_threshold``; clinical remission on
treatment) with at least half of the active score gone and no flare. Comparator:
``standard_care`` (continued background immunosuppression, already failed).

Renal flares (lupus nephritis) are a recurrent event whose rate follows the autoreactive
activity (``outcomes/disease_events``; 0.20 per year at the pre-transplant activity,
assumed from a lupus-nephritis cohort): columns ``renal_flare_day`` and
``renal_flare_count_y1/2/5``.
"""

from immunoreset.diseases.base import ActivityEvent, DiseaseModel

MODEL = DiseaseModel(
    id="sle",
    score_name="SLEDAI-2K",
    score_unit="points (0-105)",
    progression_event="flare (SLEDAI-2K rise >= 4)",
    remission_definition="SLEDAI-2K < 4 at 1 year with >= 50 % of the active score gone and "
                         "no flare",
    absolute_remission=True,
    events=(ActivityEvent("renal_flare", "renal (lupus nephritis) flare"),),
)
