"""Rheumatoid arthritis: DAS28 (0–9.4) and treatment failure.

Score: DAS28. ``score_floor`` is the activity-independent part (joint damage, patient
global assessment without inflammation).

Progression: treatment failure — restart of DMARD or biologic therapy for active disease,
the post-transplant event the EBMT/ABMTR registry reports (Snowden JA et al. J Rheumatol
2004;31:482), a hazard proportional to the activity.

Remission at 1 year: DAS28 < 2.6 (``remission_threshold``) without treatment failure.
Comparator: ``standard_care`` (conventional DMARDs, already failed before transplant).
"""

from immunoreset.diseases.base import DiseaseModel

MODEL = DiseaseModel(
    id="rheumatoid_arthritis",
    score_name="DAS28",
    score_unit="points (0-9.4)",
    progression_event="treatment failure (DMARD/biologic restart for active disease)",
    remission_definition="DAS28 < 2.6 at 1 year without treatment failure",
    absolute_remission=True,
)
