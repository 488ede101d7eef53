"""Rheumatoid arthritis: DAS28 (0–9.4) and treatment failure.

Score: DAS28. ``score_floor`` is the activity-independent part (joint damage, patient
global assessment without inflammation).

Progression: treatment failure — restart of DMARD or biologic therapy for active disease,
the post-transplant event the EBMT/ABMTR registry reports (Snowden JA et al. J Rheumatol
2004;31:482), a hazard proportional to the activity.

Remission at 1 year: DAS28 < 2.6 (``remission_threshold``) without treatment failure.

Clinical relapse ("relapse of any degree", ``score_relapse_day``): a responder's DAS28 rises
by more than 0.6 above its best after having fallen by more than 0.6 from entry
(``score_relapse_change``; a DAS28 change of 0.6 or less is no response under the EULAR
criteria, i.e. within measurement error). The shared ``relapse_day`` stays the
immunological relapse (activity back through half the pre-transplant load).
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
    score_relapse=True,
)
