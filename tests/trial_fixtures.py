"""Synthetic patient tables with the full outcome-column contract (for trial-machinery tests).

The disease and complication models do not exist yet; these fixtures write the columns they
will write (``death_day``, ``death_cause``, ``organ_failure_day``, ``relapse_day``, scores …)
from simple, known hazards, so that screening, randomisation, time conversion, censoring,
statistics and the report are exercised now. Nothing here is a model of any disease.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from immunoreset.trials.run import ArmSimulation
from immunoreset.trials.spec import ComparatorProtocol, parse_spec

#: exponential event rates per year (transplant, comparator) and early transplant mortality
RATES = {"organ_failure": (0.04, 0.15), "disease_death": (0.02, 0.08), "relapse": (0.08, 0.3),
         "progression": (0.05, 0.25), "infection": (0.6, 0.2)}
EARLY_TRM = 0.10  # probability of treatment-related death in the first 120 days (transplant)


def synthetic_simulator(cohort, arm, *, horizon_days, disease):
    """Known-hazard outcomes; patient *k*'s draws depend only on (cohort seed, k)."""
    transplant = not isinstance(arm.protocol, ComparatorProtocol)
    j = 0 if transplant else 1
    n = len(cohort)
    u = np.empty((n, 12))
    for i, k in enumerate(cohort.patient_id):
        ss = np.random.SeedSequence(cohort.seed, spawn_key=(int(k), 900))
        u[i] = np.random.Generator(np.random.PCG64(ss)).random(12)

    def exp_day(col: int, name: str) -> np.ndarray:
        d = -np.log1p(-u[:, col]) / RATES[name][j] * 365.25
        return np.where(d <= horizon_days, d, np.nan)

    organ = exp_day(0, "organ_failure")
    dis_death = exp_day(1, "disease_death")
    trm = np.where(transplant & (u[:, 2] < EARLY_TRM), 5 + 115 * u[:, 3], np.nan)
    background = np.full(n, np.nan)
    death = np.fmin(trm, dis_death)
    death = np.fmin(death, background)
    cause = np.where(np.isfinite(trm) & ~(dis_death < trm), "treatment_related_infection",
                     np.where(np.isfinite(dis_death), "disease", None))
    # events after death do not happen
    organ = np.where(organ <= np.nan_to_num(death, nan=np.inf), organ, np.nan)
    relapse = exp_day(4, "relapse")
    relapse = np.where(relapse <= np.nan_to_num(death, nan=np.inf), relapse, np.nan)
    prog = exp_day(5, "progression")
    prog = np.where(prog <= np.nan_to_num(death, nan=np.inf), prog, np.nan)
    inf = exp_day(6, "infection")
    base = 20 + 10 * u[:, 7]
    drop = (10.0 if transplant else 3.0) + 4 * (u[:, 8] - 0.5)
    frame = pl.DataFrame({
        "patient_id": cohort.patient_id,
        "death_day": death,
        "death_cause": pl.Series(cause.tolist(), dtype=pl.String),
        "organ_failure_day": organ,
        "relapse_day": relapse,
        "progression_day": prog,
        "infection_first_day": inf,
        "severe_infection": u[:, 9] < 0.2,
        "remission": u[:, 10] < (0.7 if transplant else 0.3),
        "score_name": ["mrss"] * n,
        "score_baseline": base,
        "score_y1": base - 0.6 * drop,
        "score_y2": base - drop,
        "score_y5": base - 1.1 * drop,
        "anc_engraftment_day": np.where(transplant, 9 + np.floor(5 * u[:, 11]), np.nan),
    })
    return ArmSimulation(frame, units={"anc_engraftment_day": "day after infusion"},
                         note="synthetic test fixture")


def synthetic_spec(n: int = 120, **overrides) -> dict:
    """An ASTIS-shaped spec (as a mapping) with every endpoint type and references."""
    spec = {
        "name": "synthetic",
        "disease": "systemic_sclerosis",
        "follow_up_years": 5.0,
        "dropout_per_year": 0.03,
        "population": {
            "n": n,
            "inclusion": [
                {"covariate": "age_years", "min": 18, "max": 65},
                {"covariate": "disease_duration_years", "max": 4},
                {"covariate": "mrss", "min": 15, "text": "mRSS >= 15"},
            ],
            "exclusion": [{"covariate": "lvef_percent", "below": 45}],
        },
        "arms": [
            {"name": "hsct", "allocation": 0.5,
             "protocol": {"regimen": "cy200_ratg", "atg_total_mg_per_kg": 7.5,
                          "cd34_selection": True, "days_randomisation_to_infusion": 60}},
            {"name": "control", "allocation": 0.5,
             "protocol": {"comparator": "iv_cyclophosphamide_monthly"}},
        ],
        "endpoints": [
            {"name": "event_free_survival", "events": ["death", "organ_failure"],
             "timepoints_years": [1, 2, 4]},
            {"name": "overall_survival", "events": ["death"], "timepoints_years": [1, 4]},
            {"name": "all_cause_mortality", "events": ["death"], "report_as": "incidence",
             "timepoints_years": [1]},
            {"name": "trm", "type": "cumulative_incidence", "event": "treatment_related_death",
             "competing": ["death", "relapse"], "timepoints_years": [1]},
            {"name": "efs_hr", "endpoint": "event_free_survival", "arms": ["hsct", "control"]},
            {"name": "efs_hr_piecewise", "type": "hazard_ratio",
             "endpoint": "event_free_survival", "arms": ["hsct", "control"],
             "cutpoints_years": [0.5, 2]},
            {"name": "efs_logrank", "type": "logrank", "endpoint": "event_free_survival",
             "arms": ["hsct", "control"]},
            {"name": "neda", "events": ["relapse", "progression"], "timepoints_years": [2]},
            {"name": "remission_rate", "type": "proportion", "column": "remission"},
            {"name": "score_change_2y", "type": "mean_change", "baseline": "score_baseline",
             "follow_up": "score_y2", "timepoint_years": 2, "compare": ["hsct", "control"]},
            {"name": "anc_day", "type": "summary", "column": "anc_engraftment_day",
             "arms": ["hsct"]},
            {"name": "cmv", "events": ["cmv_reactivation"], "timepoints_years": [1]},
        ],
        "reference": [
            {"endpoint": "efs_hr", "arm": "hsct vs control", "estimate": 0.34,
             "ci": [0.16, 0.74], "source": "JAMA-fig Fig 2A legend (ASTIS)"},
            {"endpoint": "trm", "arm": "hsct", "timepoint_years": 1, "estimate": 10.1,
             "unit": "percent", "n_events": 8, "n": 79, "source": "WALKER2018 Table 1"},
            {"endpoint": "cmv", "arm": "hsct", "timepoint_years": 1, "estimate": 0.3,
             "ci": [0.2, 0.4], "source": "made-up reference for the not-modelled path"},
        ],
    }
    spec.update(overrides)
    return spec


def spec_obj(n: int = 120, **overrides):
    return parse_spec(synthetic_spec(n, **overrides))
