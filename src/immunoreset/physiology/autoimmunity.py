"""Autoreactive memory clone families under Treg control (Alexander–Wahl-type dynamics).

Each patient carries ``N_CLONES`` autoreactive effector-memory clone families ``E_j``
(blood-equivalent cells/µL). A family expands by antigen-driven division with basic
reproduction ratio ``R0_j`` (offspring per memory cell lifetime at baseline Tregs),
limited by its own epitope (``A_j = 1/(1 + E_j/K_j)``), suppressed by Tregs
(``Ψ = (1 + c)/(1 + c·ρ)``, ρ the Treg : conventional-CD4 ratio relative to baseline;
Alexander & Wahl 2011: arbitrary-specificity Tregs raise the threshold) and accelerated
by lymphopenia (``f(T)``, as all memory):

``dE_j/dt = δ_A (R0_j Ψ A_j f(T) − 1) E_j + ν s_j σ(t) − m k(t) max(E_j − ρ_j E_j*, 0)``

with ``δ_A = φ_d δ_M``: the CD4-memory turnover times the disease's own factor
(``disease.<id>.autoreactive_turnover_factor``, 1 if the disease sets none; MS 0.5). It sets
how fast the families move, not where they settle.

* baseline = chronic autoimmunity: ``E_j* = K_j (R0_j − 1)`` at ``Ψ = f = 1``;
* conditioning, ATG and graft processing remove ``E_j`` down to a tissue-resident,
  kill-resistant niche of ``ρ_j E_j*`` cells that grows with disease duration (the kill acts
  on the cells above it; ``m`` the memory kill factor);
* small survivors go extinct with probability ``(1/R_eff)^n`` (linear birth–death;
  :func:`extinction_probability`), applied once at the bottleneck day by the engine;
* survivors regrow at the slow memory rate δ_A(R_eff − 1): relapse after months–years;
* the renewed thymus adds Tregs (tolerance: Ψ < 1 can push ``R_eff`` below 1) and a few
  new autoreactive precursors (``ν``).

Disease activity is ``I = Σ E_j / Σ E_j*`` (1 = the pre-transplant level).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from immunoreset.engine import layout as L


@nb.njit(cache=True, inline="always")
def treg_suppression(y: np.ndarray, p: np.ndarray) -> float:
    """Ψ: 1 at the baseline Treg : conventional-CD4 ratio, < 1 when Tregs are relatively
    more numerous (they reconstitute faster than conventional memory after lymphoablation)."""
    c = p[L.TREG_SUPP]
    conv = y[L.CD4N] + y[L.CD4MO] + y[L.CD4MN]
    ratio = (max(y[L.TREG], 0.0) / max(conv, 1e-9)) / (p[L.TREG_REF] / p[L.T4C_REF])
    return (1.0 + c) / (1.0 + c * ratio)


@nb.njit(cache=True, inline="always")
def effective_r(y: np.ndarray, p: np.ndarray, j: int, f4: float) -> float:
    """Effective reproduction ratio of clone family ``j`` in the current state."""
    e = max(y[L.AUTO0 + j], 0.0)
    a = 1.0 / (1.0 + e / p[L.AUTO_K + j])
    return p[L.AUTO_R0 + j] * treg_suppression(y, p) * a * f4


@nb.njit(cache=True, inline="always")
def auto_rhs(y: np.ndarray, p: np.ndarray, k_t: float, s4: float, f4: float,
             dydt: np.ndarray) -> float:
    """Autoreactive families; returns the activity ``I``."""
    tot = 0.0
    for j in range(L.N_CLONES):
        e = y[L.AUTO0 + j]
        r = effective_r(y, p, j, f4)
        # cells up to the resident niche rho_j * E_j* sit in tissue out of the drugs' reach
        exposed = max(e - p[L.AUTO_RES + j] * p[L.AUTO_SHARE + j] * p[L.AUTO_REF], 0.0)
        dydt[L.AUTO0 + j] = p[L.AUTO_DELTA] * (r - 1.0) * e \
            + p[L.AUTO_NU] * p[L.AUTO_SHARE + j] * s4 \
            - k_t * p[L.MEM_KILL] * exposed
        tot += max(e, 0.0)
    return tot / p[L.AUTO_REF]


def extinction_probability(n_cells: float, r_eff: float) -> float:
    """Probability that a linear birth–death lineage of ``n_cells`` dies out (1/R)^n."""
    if r_eff <= 1.0 or n_cells <= 0:
        return 1.0
    return math.exp(-n_cells * math.log(r_eff)) if n_cells < 1e6 else 0.0


def baseline_clones(r0: np.ndarray, share: np.ndarray, total: np.ndarray, nu_sigma: np.ndarray,
                    death: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Baseline family sizes ``E* = total·share`` and the antigen scales ``K`` that make them
    equilibria including the thymic inflow ``ν s σ`` (arrays ``[n, N_CLONES]``)."""
    e = total[:, None] * share
    inflow = nu_sigma[:, None] * share
    a = (1.0 - inflow / (death[:, None] * e)) / r0  # A_j at equilibrium
    if np.any(a <= 0) or np.any(a >= 1):
        raise ValueError("autoreactive baseline not an equilibrium (R0 must exceed 1)")
    k = e / (1.0 / a - 1.0)
    return e, k
