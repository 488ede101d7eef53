"""Multiple sclerosis (relapsing-remitting and progressive): EDSS (0–10) and sustained EDSS
progression.

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
so "no EDSS rise" stands for "no relapse activity".

Clinical relapses and new or enlarging T2 MRI lesions are recurrent events whose rate
follows the autoreactive activity (``outcomes/disease_events``): at the pre-transplant
activity 0.52 relapses and 0.92 new lesions per year with a shared gamma frailty, the
interferon arm of CARE-MS II (patients relapsing on prior DMT). NEDA-3 (``neda3_y1/2/5``)
is freedom from relapse, new MRI lesion and sustained EDSS progression, counted from
infusion (no re-baseline scan). The ``relapse_day`` column is the immunological relapse
(autoreactive activity back to its threshold); ``clinical_relapse_day`` is the clinical one.
Comparator: ``disease_modifying_therapy`` (``data/comparators.yaml``).

Phenotypes (``Population.progressive_fraction``, ``Patient.progressive``; column
``progressive``). The defaults describe relapsing-remitting MS (MIST). A *progressive*
patient (secondary or primary progressive) differs in three ways, each a
``disease.multiple_sclerosis.progressive.*`` parameter: (1) less inflammation — relapse and
lesion rates and the activity-driven progression hazard are scaled by ``activity_factor``;
(2) disability is mostly fixed at entry — the score floor is the entry EDSS less a small
reversible part ``reversible_score``, and the entry EDSS is higher
(``score_baseline_mean/_sd``); (3) neurodegeneration that immune reset does not touch — an
activity-independent progression hazard ``neurodegeneration_hazard`` after day 0 and a floor
rising by ``neurodegeneration_hazard × score_step`` EDSS points a year.

A *relapsing* patient carries a smaller activity-independent hazard of the same form,
``relapsing.neurodegeneration_hazard`` (progression independent of relapse activity, PIRA,
about 1.2 %/year in relapsing patients without inflammatory activity): after an immune reset
that removes nearly all inflammation, this is most of the progression that remains.
"""

from immunoreset.diseases.base import ActivityEvent, ActivityFree, DiseaseModel

MODEL = DiseaseModel(
    id="multiple_sclerosis",
    score_name="EDSS",
    score_unit="points (0-10)",
    progression_event="EDSS increase >= 1.0 sustained >= 6 months",
    remission_definition="NEDA-3 approximation at 1 year: no sustained EDSS progression and "
                         "EDSS not above baseline",
    events=(
        ActivityEvent("clinical_relapse", "clinical MS relapse"),
        ActivityEvent("new_mri_lesion", "new or enlarging T2 MRI lesion"),
    ),
    activity_free=ActivityFree(
        id="neda3", event_id="disease_activity",
        description="no evidence of disease activity (no relapse, new MRI lesion or "
                    "sustained EDSS progression; NEDA-3)",
        events=("clinical_relapse", "new_mri_lesion")),
    progressive_phenotype=True,
    progressive_subtypes=("secondary_progressive", "primary_progressive",
                          "progressive_relapsing", "progressive"),
    frailty_drives_progression=True,
)
