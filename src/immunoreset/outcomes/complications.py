"""Complication and death outcomes from the integrated-hazard crossings."""

from __future__ import annotations

import numpy as np
import polars as pl

from immunoreset.engine.solver import (
    CROSS_CARDIAC,
    CROSS_DEATH_DISEASE,
    CROSS_DEATH_INFECTION,
    CROSS_DEATH_TOXICITY,
    CROSS_INFECTION,
)
from immunoreset.parameters import ParameterSet

_CAUSES = (
    (CROSS_DEATH_INFECTION, "treatment_related_infection"),
    (CROSS_DEATH_TOXICITY, "treatment_related_toxicity"),
    (CROSS_DEATH_DISEASE, "disease"),
)
#: day columns that stop being observable after death
_AFTER_DEATH_DAYS = ("relapse_day", "progression_day", "organ_failure_day",
                     "infection_first_day",
                     "nk_recovery_day", "b_recovery_day", "anc_engraftment_day",
                     "plt_engraftment_day")
_SCORE_DAYS = (("score_y1", 365.0), ("score_y2", 730.0), ("score_y5", 1826.0),
               ("cd4_per_uL_day365", 365.0), ("cd4_per_uL_day730", 730.0),
               ("trec_ratio_day730", 730.0), ("repertoire_overlap_day365", 365.0))


def complication_outcomes(cross: np.ndarray, u_severe: np.ndarray, params: ParameterSet
                          ) -> dict[str, np.ndarray]:
    """Death (first competing cause), first infection, severity, cardiac toxicity."""
    n = cross.shape[0]
    times = np.stack([cross[:, j] for j, _ in _CAUSES], axis=1)
    finite = np.isfinite(times)
    first = np.where(finite, times, np.inf).argmin(axis=1)
    died = finite.any(axis=1)
    death_day = np.where(died, times[np.arange(n), first], np.nan)
    names = np.array([c for _, c in _CAUSES], dtype=object)
    cause = np.where(died, names[first], None)
    inf_day = cross[:, CROSS_INFECTION]
    had_inf = np.isfinite(inf_day) & ~(inf_day > death_day)
    severe = had_inf & ((u_severe < params.value("complications.severe_infection_share"))
                        | (died & (cause == "treatment_related_infection")))
    card = np.isfinite(cross[:, CROSS_CARDIAC]) & ~(cross[:, CROSS_CARDIAC] > death_day)
    return {
        "infection_first_day": np.where(had_inf, inf_day, np.nan),
        "severe_infection": severe,
        "cardiac_toxicity": card,
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
