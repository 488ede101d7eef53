"""Multiple sclerosis (relapsing-remitting): EDSS (0–10) and sustained EDSS progression.

Score: Kurtzke EDSS. Its reversible part (the residue of recent relapses and inflammation)
follows the autoreactive activity; ``score_floor`` is the fixed (axonal) disability. The
natural regression is *negative*: at unchanged pre-transplant activity EDSS keeps rising
(MIST control arm, 3.31 → 3.98 in 1 year on DMT; Burt JAMA 2019), so the activity
equilibrium lies above the trial-entry EDSS.

Progression: EDSS increase ≥ 1.0 point sustained ≥ 6 months (the MIST definition,
AAN2018 interim abstract), a hazard proportional to the activity.

Remission/response at 1 year approximates NEDA-3 (no relapse, no disability progression, no
new MRI activity): no sustained progression by 1 year and an EDSS at 1 year not above
baseline (``response_improvement`` = 0). Because of the negative natural regression, any
activity near the pre-transplant level (i.e. ongoing relapses) pushes EDSS above baseline,
so "no EDSS rise" stands for "no relapse activity". Clinical relapses are not simulated
as discrete events and MRI lesions are not modelled, so this is an approximation; the
``relapse_day`` column (autoreactive activity regrowing after immunological remission) is
the event used with ``progression_day`` for a NEDA survival end point.
Comparator: ``disease_modifying_therapy`` (``data/comparators.yaml``).
"""

from immunoreset.diseases.base import DiseaseModel

MODEL = DiseaseModel(
    id="multiple_sclerosis",
    score_name="EDSS",
    score_unit="points (0-10)",
    progression_event="EDSS increase >= 1.0 sustained >= 6 months",
    remission_definition="NEDA-3 approximation at 1 year: no sustained EDSS progression and "
                         "EDSS not above baseline",
)
