"""The single source of the project's public names (DESIGN §6 vocabulary).

Every other module imports names from here; nothing else spells a disease id, a graft
source, a death cause or an outcome column by hand.
"""

from __future__ import annotations

from typing import Final


def _disease_ids() -> tuple[str, ...]:
    """Every disease module under ``immunoreset/diseases/`` (all but ``base`` and private
    ones), sorted: adding a disease is adding its module and data, nothing else
    (``docs/adding_a_disease.md``)."""
    from importlib import resources

    folder = resources.files("immunoreset").joinpath("diseases")
    return tuple(sorted(
        f.name[:-3] for f in folder.iterdir()
        if f.name.endswith(".py") and not f.name.startswith("_") and f.name != "base.py"))


#: disease ids: one per module in ``immunoreset/diseases/``
DISEASES: Final = _disease_ids()
#: Short forms used by the evidence files, accepted on input.
DISEASE_ALIASES: Final = {"ssc": "systemic_sclerosis", "ms": "multiple_sclerosis",
                          "ra": "rheumatoid_arthritis", "crohns": "crohns_disease",
                          "t1d": "type1_diabetes", "lupus": "sle"}

GRAFT_SOURCES: Final = ("pbsc", "bone_marrow", "cord_blood")

DEATH_CAUSES: Final = (
    "treatment_related_infection",
    "treatment_related_toxicity",
    "treatment_related_other",
    "disease",
    "background",
)
TREATMENT_RELATED_CAUSES: Final = DEATH_CAUSES[:3]

#: Day 0 is the day of graft infusion; conditioning days are negative.
DAY_ZERO: Final = "graft infusion"

#: CIBMTR engraftment definitions, evaluated on the daily grid.
ANC_ENGRAFTMENT_PER_UL: Final = 500.0
PLT_ENGRAFTMENT_PER_UL: Final = 20_000.0
ENGRAFTMENT_CONSECUTIVE_DAYS: Final = 3
PLT_TRANSFUSION_TRIGGER_PER_UL: Final = 10_000.0
PLT_TRANSFUSION_FREE_DAYS: Final = 7

#: Outcome columns of ``outcomes.parquet`` written by the blood model, with units.
HEMATOLOGY_OUTCOME_UNITS: Final = {
    "patient_id": "index",
    "age_years": "years",
    "sex": "F/M",
    "weight_kg": "kg",
    "height_cm": "cm",
    "bsa_m2": "m^2",
    "cd34_dose_per_kg": "infused viable CD34+ cells/kg",
    "cd34_collected_per_kg": "collected CD34+ cells/kg (before processing)",
    "apheresis_sessions": "count",
    "cd3_dose_per_kg": "infused CD3+ cells/kg",
    "anc_engraftment_day": "day after infusion (CIBMTR: first of 3 days ANC >= 500/uL)",
    "plt_engraftment_day": "day after infusion (CIBMTR: first of 3 days PLT >= 20,000/uL, "
    "7 days transfusion-free)",
    "anc_first_crossing_day": "day after infusion (continuous first upward crossing of 500/uL)",
    "plt_first_crossing_day": "day after infusion (continuous first upward crossing of 20,000/uL)",
    "anc_nadir_per_uL": "cells/uL",
    "anc_nadir_day": "day after infusion",
    "plt_nadir_per_uL": "cells/uL",
    "hb_nadir_g_per_dL": "g/dL",
    "days_anc_below_500": "days (daily grid, from first conditioning day)",
    "days_anc_below_100": "days (daily grid, from first conditioning day)",
    "platelet_transfusions": "count (days below the transfusion trigger)",
    "rbc_transfusions": "count (days below the Hb trigger, at most one per 7 days)",
    "engrafted": "bool (neutrophil engraftment within the horizon)",
    "hsc_clones_engrafted": "count of graft-derived HSC clones alive at 1 year",
    "hsc_clones_host_fraction_y1": "fraction of HSC clones alive at 1 year that are host-derived",
    "hsc_clonal_diversity_y1": "effective number of clones (inverse Simpson) at 1 year",
    "lymphoid_output_day100": "lymphoid progenitor output, cells/kg/day at day 100",
}

#: Outcome columns of the immune reset and disease layer, with units.
IMMUNE_OUTCOME_UNITS: Final = {
    "cd4_per_uL_day365": "cells/uL",
    "cd4_per_uL_day730": "cells/uL",
    "nk_recovery_day": "day (first day NK >= 80 % of own baseline; weekly grid after day 100)",
    "b_recovery_day": "day (first day B >= 80 % of own baseline; weekly grid after day 100)",
    "trec_ratio_day730": "TREC+ fraction of naive CD4 at day 730 / baseline",
    "repertoire_overlap_day365": "fraction of CD4 memory descending from pre-transplant cells",
    "preexisting_memory_removed_day365": "fraction of the pre-transplant CD4 memory pool "
                                         "(cells) gone at day 365",
    "remission": "bool (disease definition at 1 year; see score_name's disease module)",
    "remission_onset_day": "day (first day the score meets the remission criterion; NaN if "
                           "never, or for MS, whose criterion holds from day 0; weekly grid "
                           "after day 100)",
    "remission_loss_day": "day (first day after the remission onset that the score no longer "
                          "meets the remission criterion, e.g. insulin restarted in T1D; NaN "
                          "if it holds, or never began; weekly grid after day 100)",
    "remission_sustained_days_y1": "days (unbroken run of the remission criterion up to 1 "
                                   "year, 0 if it does not hold at 1 year; weekly grid: "
                                   ">= 90 is 'sustained for 3 months'; NaN for MS)",
    "relapse_day": "day (autoreactive activity back to the relapse threshold; NaN if none)",
    "progression_day": "day (disease progression event, e.g. organ failure in SSc; NaN if none)",
    "score_name": "name of the disease activity score",
    "score_baseline": "score units",
    "score_y1": "score units",
    "score_y2": "score units",
    "score_y5": "score units",
}

#: Complication and death columns, with units.
COMPLICATION_OUTCOME_UNITS: Final = {
    "infection_first_day": "day (first clinically documented infection; NaN if none)",
    "severe_infection": "bool (first infection severe, or fatal)",
    "cardiac_toxicity": "bool (cyclophosphamide cardiac toxicity, any grade)",
    "cmv_reactivation_day": "day (CMV reactivation of a seropositive patient; NaN if none)",
    "ebv_reactivation_day": "day (EBV reactivation of a seropositive patient; NaN if none)",
    "ptld": "bool (EBV-driven post-transplant lymphoproliferative disorder)",
    "ptld_day": "day (PTLD; NaN if none)",
    "secondary_autoimmunity_day": "day (secondary autoimmune disease, e.g. thyroiditis, ITP; "
                                  "NaN if none)",
    "agvhd_grade": "0 (none) or 2-4 (acute GVHD grade II-IV; grade I not modelled)",
    "agvhd_day": "day (onset of acute GVHD grade II-IV; NaN if none)",
    "cgvhd": "bool (chronic GVHD)",
    "cgvhd_day": "day (onset of chronic GVHD; NaN if none)",
    "engraftment_syndrome": "bool (engraftment syndrome in the first 30 days)",
    "sos": "bool (sinusoidal obstruction syndrome; busulfan-driven)",
    "severe_mucositis": "bool (grade 3-4 oral mucositis; melphalan-driven)",
    "pulmonary_toxicity": "bool (drug pneumonitis; carmustine-driven)",
    "febrile_neutropenia": "bool (at least one febrile neutropenic episode)",
    "acute_kidney_injury": "bool (acute kidney injury, any KDIGO stage)",
    "vzv_reactivation_day": "day (VZV reactivation / zoster; NaN if none)",
    "malignancy_day": "day (therapy-related malignancy; NaN if none)",
    "cmv_seropositive": "bool (CMV IgG before transplant: recorded or drawn from prevalence)",
    "ebv_seropositive": "bool (EBV IgG before transplant: recorded or drawn from prevalence)",
    "death_day": "day (NaN if alive at the horizon)",
    "death_cause": "one of DEATH_CAUSES (null if alive); background = SSA 2017 life table",
}


def canonical_disease(name: str) -> str:
    """Return the canonical disease id for ``name`` (aliases accepted)."""
    from immunoreset.errors import InputError

    key = name.strip().lower()
    key = DISEASE_ALIASES.get(key, key)
    if key not in DISEASES:
        raise InputError("disease", name, "one of " + ", ".join(DISEASES))
    return key
