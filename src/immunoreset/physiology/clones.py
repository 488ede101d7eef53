"""Stochastic HSC clone layer: how many stem-cell clones make blood after transplant.

Each engrafting HSC founds a clone that follows a neutral, critical linear birth–death
process (division = loss rate λ = 1/division interval; Catlin et al. Blood 2011: one
division per ~40 weeks). For a critical process started from one cell, the probability of
being alive at time t is ``1/(1 + λt)`` and a surviving clone's size is geometric with
success probability ``q = 1/(1 + λt)`` (Kendall 1948). So with N founders:

* surviving clones ``K ~ Binomial(N, q)`` (drawn from the patient's own stream);
* inverse-Simpson diversity ``D = (Σs)²/Σs² ≈ K·E[s]²/E[s²] = K/(2 − q)``.

Founders are the engrafting fraction of infused phenotypic HSC plus the host's actively
contributing clones (Lee-Six et al. Nature 2018: 50,000–200,000) that survived
conditioning. Nothing here feeds back into the deterministic compartments.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from immunoreset.parameters import ParameterSet


def clone_outcomes(params: ParameterSet, *, hsc_dose_per_kg: np.ndarray, weight_kg: np.ndarray,
                   host_hsc_survival: np.ndarray, u: np.ndarray, t_days: float = 365.0
                   ) -> dict[str, np.ndarray]:
    """Clone counts and diversity at ``t_days`` for each patient.

    ``u`` are uniforms ``[n, 2]`` from each patient's clone stream (inversion keeps the
    draw a function of the patient alone).
    """
    lam = 1.0 / params.value("hsc_clones.division_interval")
    q = 1.0 / (1.0 + lam * t_days)
    f = params.value("hsc_clones.engrafting_fraction")
    graft_founders = f * np.asarray(hsc_dose_per_kg) * np.asarray(weight_kg)
    host_founders = params.value("hsc_clones.host_active_clones") * np.clip(host_hsc_survival,
                                                                           0.0, 1.0)
    graft_alive = _binomial_normal(graft_founders, q, u[:, 0])
    host_alive = _binomial_normal(host_founders, q, u[:, 1])
    total = graft_alive + host_alive
    with np.errstate(invalid="ignore", divide="ignore"):
        host_share = np.where(total > 0, host_alive / total, np.nan)
    return {
        "hsc_clones_engrafted": np.rint(graft_alive).astype(np.int64),
        "hsc_clones_host_fraction_y1": host_share,
        "hsc_clonal_diversity_y1": total / (2.0 - q),
    }


def _binomial_normal(n: np.ndarray, q: float, u: np.ndarray) -> np.ndarray:
    """Binomial(n, q) by normal approximation with continuity (n is large here)."""
    mean = n * q
    sd = np.sqrt(np.maximum(n * q * (1 - q), 0.0))
    z = ndtri(np.clip(u, 1e-12, 1 - 1e-12))
    return np.clip(np.rint(mean + sd * z), 0.0, n)
