"""Complication and death outcomes from the integrated-hazard crossings."""

from __future__ import annotations

import numpy as np
import polars as pl

from immunoreset.engine.assemble import (
    EV_BACKGROUND,
    EV_FATAL,
    EV_GVHD_GRADE,
    EV_ORGAN_DEATH,
    EV_SEVERE,
    EV_TOX_LAG,
)
from immunoreset.engine.solver import (
    CROSS_AGVHD,
    CROSS_AKI,
    CROSS_CARDIAC,
    CROSS_CGVHD,
    CROSS_CMV,
    CROSS_DEATH_DISEASE,
    CROSS_DEATH_INFECTION,
    CROSS_DEATH_TOXICITY,
    CROSS_EBV,
    CROSS_ES,
    CROSS_FN,
    CROSS_INFECTION,
    CROSS_MAL,
    CROSS_MUC,
    CROSS_ORGAN,
    CROSS_PTLD,
    CROSS_PULM,
    CROSS_SAI,
    CROSS_SOS,
    CROSS_VZV,
)
from immunoreset.outcomes.background import background_death_day
from immunoreset.parameters import ParameterSet
from immunoreset.vocabulary import DEATH_CAUSES

#: causes of death, in the order of the columns of the candidate-death matrix (mutually
#: exclusive: the earliest candidate is the cause)
CAUSES = DEATH_CAUSES
#: day columns that stop being observable after death
_AFTER_DEATH_DAYS = ("relapse_day", "score_relapse_day", "progression_day", "organ_failure_day",
                     "remission_onset_day", "remission_loss_day",
                     "infection_first_day", "cmv_reactivation_day", "ebv_reactivation_day",
                     "ptld_day", "secondary_autoimmunity_day", "agvhd_day", "cgvhd_day",
                     "malignancy_day", "vzv_reactivation_day",
                     "nk_recovery_day", "b_recovery_day", "anc_engraftment_day",
                     "plt_engraftment_day")
_SCORE_DAYS = (("score_y1", 365.0), ("score_y2", 730.0), ("score_y5", 1826.0),
               ("cd4_per_uL_day365", 365.0), ("cd4_per_uL_day730", 730.0),
               ("trec_ratio_day730", 730.0), ("repertoire_overlap_day365", 365.0),
               ("preexisting_memory_removed_day365", 365.0),
               ("remission_sustained_days_y1", 365.0))


def _fatal_after(day: np.ndarray, u: np.ndarray, share: float | np.ndarray, lag: float
                 ) -> np.ndarray:
    """Death ``lag`` days after an event that is fatal with probability ``share``."""
    return np.where(np.isfinite(day) & (u < share), day + lag, np.inf)


#: shape of the gamma distribution of the lag from fatal conditioning toxicity to death
TOXICITY_LAG_SHAPE = 2.0


def toxicity_death_lag(u: np.ndarray, params: ParameterSet) -> np.ndarray:
    """Days from the fatal organ-toxicity event (the hazard acts while the conditioning
    drugs act, days -5 to 0) to death: a gamma quantile (shape 2) with median
    ``complications.toxicity_death_lag_median``."""
    from scipy.stats import gamma

    median = params.value("complications.toxicity_death_lag_median")
    scale = median / gamma.median(TOXICITY_LAG_SHAPE)
    return gamma.ppf(u, TOXICITY_LAG_SHAPE, scale=scale)


def death_after_progression(progression_day: np.ndarray, u: np.ndarray,
                            params: ParameterSet, disease: str | None) -> np.ndarray:
    """Disease death following the progression event (e.g. major organ failure in SSc):
    with probability ``disease.<id>.progression_fatal_share``, after an exponential lag of
    mean ``disease.<id>.progression_death_lag``; ``inf`` otherwise, or for a disease that
    does not give these optional keys."""
    share_key = f"disease.{disease}.progression_fatal_share"
    n = len(progression_day)
    if disease is None or share_key not in params:
        return np.full(n, np.inf)
    share = params.value(share_key)
    lag = -params.value(f"disease.{disease}.progression_death_lag") * np.log(
        np.clip(u[:, EV_ORGAN_DEATH + 1], 1e-300, 1.0))
    return np.where(np.isfinite(progression_day) & (u[:, EV_ORGAN_DEATH] < share),
                    progression_day + lag, np.inf)


def complication_outcomes(cross: np.ndarray, u: np.ndarray, params: ParameterSet, *,
                          age_years: np.ndarray, female: np.ndarray, horizon_days: float,
                          disease: str | None = None,
                          centre_death_multiplier: float | np.ndarray = 1.0
                          ) -> dict[str, np.ndarray]:
    """Complication events and death (earliest competing cause) per patient.

    ``u`` is the patient's EVENTS block of uniforms (severity, grade, fatality and
    background-death draws). Day columns are NaN and booleans false where the event did not
    happen before death or the horizon. ``centre_death_multiplier`` (the centre-experience
    relative risk, :func:`immunoreset.engine.assemble.centre_death_multiplier`) multiplies
    the fatal share of secondary autoimmunity, as it multiplies the infection and toxicity
    death hazards in the kernel.
    """
    n = cross.shape[0]
    c, a = "complications", "allogeneic"
    inf = np.inf
    day = {k: np.where(np.isfinite(cross[:, j]), cross[:, j], inf) for k, j in (
        ("infection", CROSS_INFECTION), ("cardiac", CROSS_CARDIAC), ("cmv", CROSS_CMV),
        ("ebv", CROSS_EBV), ("ptld", CROSS_PTLD), ("sai", CROSS_SAI), ("agvhd", CROSS_AGVHD),
        ("cgvhd", CROSS_CGVHD), ("es", CROSS_ES), ("sos", CROSS_SOS), ("muc", CROSS_MUC),
        ("mal", CROSS_MAL), ("fn", CROSS_FN), ("pulm", CROSS_PULM), ("vzv", CROSS_VZV),
        ("aki", CROSS_AKI))}
    # acute GVHD grade among grade II-IV events
    ug = u[:, EV_GVHD_GRADE]
    p34 = params.value(f"{a}.acute_gvhd_grade_3_4_share")
    p4 = params.value(f"{a}.acute_gvhd_grade_4_share_of_3_4")
    grade = np.where(ug < p34 * p4, 4, np.where(ug < p34, 3, 2))
    # deaths from events (treatment-related, other than infection and organ toxicity)
    fatal_gvhd = np.where(grade >= 3, params.value(f"{a}.acute_gvhd_3_4_fatal_share"), 0.0)
    other = np.minimum.reduce([
        _fatal_after(day["agvhd"], u[:, EV_FATAL], fatal_gvhd,
                     params.value(f"{a}.acute_gvhd_death_lag")),
        _fatal_after(day["cgvhd"], u[:, EV_FATAL], params.value(f"{a}.chronic_gvhd_fatal_share"),
                     params.value(f"{a}.chronic_gvhd_death_lag")),
        _fatal_after(day["ptld"], u[:, EV_FATAL + 1], params.value(f"{c}.ptld_fatal_share"),
                     params.value(f"{c}.ptld_death_lag")),
        _fatal_after(day["sai"], u[:, EV_FATAL + 2],
                     np.minimum(params.value(f"{c}.secondary_autoimmunity_fatal_share")
                                * np.asarray(centre_death_multiplier, dtype=float), 1.0),
                     params.value(f"{c}.secondary_autoimmunity_death_lag")),
    ])
    candidates = np.stack([
        np.where(np.isfinite(cross[:, CROSS_DEATH_INFECTION]), cross[:, CROSS_DEATH_INFECTION],
                 inf),
        np.where(np.isfinite(cross[:, CROSS_DEATH_TOXICITY]),
                 cross[:, CROSS_DEATH_TOXICITY] + toxicity_death_lag(u[:, EV_TOX_LAG], params),
                 inf),
        other,
        np.minimum(np.where(np.isfinite(cross[:, CROSS_DEATH_DISEASE]),
                            cross[:, CROSS_DEATH_DISEASE], inf),
                   death_after_progression(np.where(np.isfinite(cross[:, CROSS_ORGAN]),
                                                    cross[:, CROSS_ORGAN], inf),
                                           u, params, disease)),
        background_death_day(age_years, female, u[:, EV_BACKGROUND]),
    ], axis=1)
    first = candidates.argmin(axis=1)
    t_death = candidates[np.arange(n), first]
    # deaths derived from an event (lagged) or from the life table can fall beyond the
    # simulated horizon: those are censored like any later event
    died = t_death <= horizon_days
    death_day = np.where(died, t_death, np.nan)
    names = np.array(CAUSES, dtype=object)
    cause = np.where(died, names[first], None)

    def happened(d: np.ndarray) -> np.ndarray:
        return np.isfinite(d) & ~(d > death_day)

    had_inf = happened(day["infection"])
    severe = had_inf & ((u[:, EV_SEVERE] < params.value(f"{c}.severe_infection_share"))
                        | (died & (cause == "treatment_related_infection")))
    agvhd = happened(day["agvhd"])

    def col(k: str) -> np.ndarray:
        return np.where(happened(day[k]), day[k], np.nan)

    return {
        "infection_first_day": np.where(had_inf, day["infection"], np.nan),
        "severe_infection": severe,
        "cardiac_toxicity": happened(day["cardiac"]),
        "cmv_reactivation_day": col("cmv"),
        "ebv_reactivation_day": col("ebv"),
        "ptld": happened(day["ptld"]),
        "ptld_day": col("ptld"),
        "secondary_autoimmunity_day": col("sai"),
        "agvhd_grade": np.where(agvhd, grade, 0).astype(np.int64),
        "agvhd_day": col("agvhd"),
        "cgvhd": happened(day["cgvhd"]),
        "cgvhd_day": col("cgvhd"),
        "engraftment_syndrome": happened(day["es"]),
        "sos": happened(day["sos"]),
        "severe_mucositis": happened(day["muc"]),
        "pulmonary_toxicity": happened(day["pulm"]),
        "febrile_neutropenia": happened(day["fn"]),
        "acute_kidney_injury": happened(day["aki"]),
        "vzv_reactivation_day": col("vzv"),
        "malignancy_day": col("mal"),
        "death_day": death_day,
        "death_cause": pl.Series("death_cause", cause.tolist(), dtype=pl.Utf8),
    }


def censor_after_death(out: dict[str, np.ndarray]) -> None:
    """Events after death did not happen; read-outs after death are missing (in place)."""
    death = out["death_day"]
    for col in _AFTER_DEATH_DAYS:
        if col in out:
            x = out[col]
            out[col] = np.where(x > death, np.nan, x)
    for col, day in _SCORE_DAYS:
        if col in out:
            out[col] = np.where(death <= day, np.nan, out[col])
    if "remission" in out:
        out["remission"] = out["remission"] & ~(death <= 365.0)
    if "engrafted" in out:
        out["engrafted"] = out["engrafted"] & ~np.isnan(out.get("anc_engraftment_day",
                                                               np.zeros(len(death))))
