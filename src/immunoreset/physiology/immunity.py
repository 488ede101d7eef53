"""Immune reconstitution: thymus, naive/memory CD4 and CD8 T cells with TREC, Tregs, B, NK.

Counts are blood-equivalent cells/µL (whole-body pools scaled by the fraction in blood).

* Lymphoid supply: lymphoid-primed progenitors recover with the marrow's committed
  progenitors (LMPP give rise to GMP and lymphoid progenitors — Adolfsson J et al. Cell
  2005): with ``r = GMP/GMP*``, ``Λ = r(1 + θ)/(r + θ)`` (saturating, 1 at baseline); it
  passes two first-order lag stages (``LQ1``, ``LQ2``). The lag stages stand for marrow
  lymphoid precursors in transit (pro-/pre-B cells, early thymic progenitors), so cytotoxic
  drugs kill them like lymphocytes: ``dLQ1/dt = (Λ − LQ1)/τ − k_chemo LQ1``,
  ``dLQ2/dt = (LQ1 − LQ2)/τ − k_chemo LQ2``. Without this the lagged supply carried the
  pre-conditioning level through conditioning and B-cell production never stopped.
* Thymus: output ``σ4 = θ(age) · THY · LQ2`` (Bains 2009; thymic tissue loss ~3 %/y to
  middle age then ~1 %/y), THY damaged by conditioning and recovering at an age-dependent
  rate (Hakim 2005; Castermans 2011: rebound only ≤ 60 y).
* Naive T: ``dN/dt = (1 − f_R)σ + ρ_N f(T) N − (δ_N + μ) N − k N`` with TREC-bearing cells
  ``dN⁺/dt = α(1 − f_R)σ − (δ_N + μ) N⁺ − k N⁺`` (division makes no TREC⁺ cell).
* Memory T, "old" (pre-transplant lineage: survivors and graft-borne) and "new" (primed
  after transplant): ``dM/dt = [μ N] + ρ_M f(T) M − δ_M M − k M``.
* Lymphopenia-induced proliferation ``f(T) = (1 + Φ K^h/(K^h + (T/T*)^h)) /
  (1 + Φ K^h/(K^h + 1))`` (1 at the baseline count; for CD8 a larger Φ and a smaller K:
  peripheral CD8 expansion is far more efficient than CD4's, Storek).
* Tregs: thymic share ``f_R`` of CD4 output plus homeostatic proliferation.
* B (total blood B cells): new cells only from marrow lymphopoiesis,
  ``dB/dt = δ_B B* LQ2 − (δ_B / f_B(B) + k_B) B``; while B cells are scarce, BAFF
  accumulates and prolongs their survival (Kreuzaler 2012), ``f_B`` the lymphopenia factor
  with ``Φ_B``. Early recovery is therefore limited by the precursor supply, the catch-up by
  the renewal rate δ_B (Macallan 2005: blood B cells divide ~1.9 %/day).
* NK: production proportional to the current supply, boosted in lymphopenia (IL-15);
  first-order loss.
* Memory T cells are killed less than naive (``MEM_KILL`` < 1: tissue residence).
* Killing ``k``: chemotherapy ``Σ κ_a C_a`` plus ATG ``k_max C_act/(EC50 + C_act)`` (weaker on
  B and NK).

Baseline steady state: division rates ρ are set from the patient's counts so that every
pool is at equilibrium before conditioning (the deuterium loss rates δ are fixed).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from immunoreset.engine import layout as L


@nb.njit(cache=True, inline="always")
def lymphopenia_factor(total: float, ref: float, phi: float, k: float, h: float) -> float:
    """Relative homeostatic proliferation, 1 at the baseline count, up to ~1+Φ when empty."""
    x = max(total, 0.0) / ref
    kh = k ** h
    return (1.0 + phi * kh / (kh + x ** h)) / (1.0 + phi * kh / (kh + 1.0))


@nb.njit(cache=True, inline="always")
def thymic_output(y: np.ndarray, p: np.ndarray) -> float:
    """CD4 thymic output (cells/µL/day) at the current thymic function and supply.

    Output rises above the age-expected level while the naive pool is depleted (thymic
    rebound after chemotherapy: Hakim FT et al. J Clin Invest 2005), by up to
    ``1 + THY_REBOUND``.
    """
    boost = lymphopenia_factor(y[L.CD4N], p[L.N4_REF], p[L.THY_REBOUND], p[L.LP_K], p[L.LP_H])
    return p[L.THY_OUT] * max(y[L.THY], 0.0) * max(y[L.LQ2], 0.0) * boost


@nb.njit(cache=True, inline="always")
def immune_rhs(y: np.ndarray, p: np.ndarray, k_chemo: float, k_thy: float, c_atg: float,
               dydt: np.ndarray) -> float:
    """Immune part of the right-hand side; returns the T-cell kill rate (1/day) applied."""
    k_atg = p[L.ATG_KMAX] * c_atg / (p[L.ATG_EC50] + c_atg)
    k_t = k_chemo + k_atg
    k_b = k_chemo + k_atg * p[L.ATG_B_FACTOR]
    k_nk = k_chemo + k_atg * p[L.ATG_NK_FACTOR]
    r = max(y[L.N_GMP], 0.0) / p[L.MPP0]
    lam = r * (1.0 + p[L.LAM_HALF]) / (r + p[L.LAM_HALF])
    # the lag stages are marrow lymphoid precursors in transit (pro-/pre-B cells, early
    # thymic progenitors): cytotoxic drugs kill them like lymphocytes
    dydt[L.LQ1] = (lam - y[L.LQ1]) / p[L.LAG_T] - k_chemo * y[L.LQ1]
    dydt[L.LQ2] = (y[L.LQ1] - y[L.LQ2]) / p[L.LAG_T] - k_chemo * y[L.LQ2]
    dydt[L.THY] = p[L.THY_REC] * (1.0 - y[L.THY]) - k_thy * y[L.THY]
    s4 = thymic_output(y, p)
    s8 = s4 * p[L.THY_CD8]
    t4 = y[L.CD4N] + y[L.CD4MO] + y[L.CD4MN]
    t8 = y[L.CD8N] + y[L.CD8MO] + y[L.CD8MN]
    f4 = lymphopenia_factor(t4, p[L.T4_REF], p[L.LP_PHI4], p[L.LP_K], p[L.LP_H])
    f8 = lymphopenia_factor(t8, p[L.T8_REF], p[L.LP_PHI8], p[L.LP_K8], p[L.LP_H])
    fr = lymphopenia_factor(y[L.TREG], p[L.TREG_REF], p[L.R_PHI], p[L.LP_K], p[L.LP_H])
    out4 = p[L.N4_DEATH] + p[L.N4_ACT] + k_t
    out4 = out4 + p[L.N4_ACT] * (f4 - 1.0)
    dydt[L.CD4N] = (1.0 - p[L.R_FRAC]) * s4 + p[L.N4_RHO0] * f4 * y[L.CD4N] - out4 * y[L.CD4N]
    dydt[L.CD4T] = p[L.TREC_ALPHA] * (1.0 - p[L.R_FRAC]) * s4 - out4 * y[L.CD4T]
    km = k_t * p[L.MEM_KILL]
    gm4 = p[L.M4_RHO0] * f4 - p[L.M4_DEATH] - km
    dydt[L.CD4MO] = gm4 * y[L.CD4MO]
    # lymphopenia also accelerates naive-to-memory conversion (homeostatic proliferation
    # gives naive cells a memory phenotype)
    dydt[L.CD4MN] = p[L.N4_ACT] * f4 * y[L.CD4N] + gm4 * y[L.CD4MN]
    out8 = p[L.N8_DEATH] + p[L.N8_ACT] + k_t
    out8 = out8 + p[L.N8_ACT] * (f8 - 1.0)
    dydt[L.CD8N] = s8 + p[L.N8_RHO0] * f8 * y[L.CD8N] - out8 * y[L.CD8N]
    gm8 = p[L.M8_RHO0] * f8 - p[L.M8_DEATH] - km
    dydt[L.CD8MO] = gm8 * y[L.CD8MO]
    dydt[L.CD8MN] = p[L.N8_ACT] * f8 * y[L.CD8N] + gm8 * y[L.CD8MN]
    # Tregs fill their own (IL-2-limited) niche
    dydt[L.TREG] = p[L.R_FRAC] * s4 + (p[L.R_RHO0] * fr - p[L.R_DEATH] - k_t) * y[L.TREG]
    # B cells: new cells only from marrow lymphopoiesis (the lagged supply); while B cells
    # are scarce, BAFF accumulates and prolongs their survival (loss divided by fb)
    fb = lymphopenia_factor(y[L.BCELL], p[L.B_REF], p[L.B_PHI], p[L.LP_K], p[L.LP_H])
    dydt[L.BCELL] = p[L.B_DEATH] * p[L.B_REF] * y[L.LQ2] - (p[L.B_DEATH] / fb + k_b) * \
        y[L.BCELL]
    # NK cells derive from the lymphoid supply without the thymic/B-lineage lag
    fnk = lymphopenia_factor(y[L.NKCELL], p[L.NK_REF], p[L.NK_PHI], p[L.LP_K], p[L.LP_H])
    dydt[L.NKCELL] = p[L.NK_DEATH] * p[L.NK_REF] * lam * fnk - (p[L.NK_DEATH] + k_nk) * \
        y[L.NKCELL]
    return k_t


def immune_steady_state(p: np.ndarray, y: np.ndarray, counts: dict[str, np.ndarray]) -> None:
    """Fill immune states of ``y`` with the baseline counts and set the division rates in
    ``p`` so that every pool is at equilibrium (arrays over patients; in place).

    A pool cannot receive more cells than it loses: in a lymphopenic young patient the
    age-expected thymic output (or the naive→memory activation flux) can exceed the losses of
    the small pools, which would need a negative division rate. There the sampled physiology
    is bounded so that the pool is held by its influx alone (division rate 0): first the
    activation rates (memory pools), then the thymic output (naive and Treg pools). This is a
    bound on sampled physiology (decision 9), never on user input."""
    n4, m4, r = counts["cd4_naive"], counts["cd4_memory"], counts["treg"]
    n8, m8 = counts["cd8_naive"], counts["cd8_memory"]
    fr = p[:, L.R_FRAC]
    p[:, L.N4_ACT] = np.minimum(p[:, L.N4_ACT], p[:, L.M4_DEATH] * m4 / n4)
    p[:, L.N8_ACT] = np.minimum(p[:, L.N8_ACT], p[:, L.M8_DEATH] * m8 / n8)
    s4_max = np.minimum.reduce([
        (p[:, L.N4_DEATH] + p[:, L.N4_ACT]) * n4 / (1 - fr),
        p[:, L.R_DEATH] * r / fr,
        (p[:, L.N8_DEATH] + p[:, L.N8_ACT]) * n8 / p[:, L.THY_CD8],
    ])
    p[:, L.THY_OUT] = np.minimum(p[:, L.THY_OUT], s4_max)
    s4 = p[:, L.THY_OUT]
    s8 = s4 * p[:, L.THY_CD8]
    p[:, L.N4_RHO0] = p[:, L.N4_DEATH] + p[:, L.N4_ACT] - (1 - fr) * s4 / n4
    p[:, L.M4_RHO0] = p[:, L.M4_DEATH] - p[:, L.N4_ACT] * n4 / m4
    p[:, L.N8_RHO0] = p[:, L.N8_DEATH] + p[:, L.N8_ACT] - s8 / n8
    p[:, L.M8_RHO0] = p[:, L.M8_DEATH] - p[:, L.N8_ACT] * n8 / m8
    p[:, L.R_RHO0] = p[:, L.R_DEATH] - fr * s4 / r
    for name in (L.N4_RHO0, L.M4_RHO0, L.N8_RHO0, L.M8_RHO0, L.R_RHO0):
        p[:, name] = np.where(np.abs(p[:, name]) < 1e-12, 0.0, p[:, name])
        if np.any(p[:, name] < 0):
            raise ValueError("baseline T-cell counts inconsistent with thymic output and loss "
                             "rates (negative homeostatic division)")
    y[:, L.THY] = 1.0
    y[:, L.LQ1] = 1.0
    y[:, L.LQ2] = 1.0
    y[:, L.CD4N] = n4
    y[:, L.CD4T] = p[:, L.TREC_ALPHA] * (1 - fr) * s4 / (p[:, L.N4_DEATH] + p[:, L.N4_ACT])
    y[:, L.CD4MO] = m4
    y[:, L.CD4MN] = 0.0
    y[:, L.CD8N] = n8
    y[:, L.CD8MO] = m8
    y[:, L.CD8MN] = 0.0
    y[:, L.TREG] = r
    y[:, L.BCELL] = p[:, L.B_REF]
    y[:, L.NKCELL] = p[:, L.NK_REF]
    p[:, L.T4_REF] = n4 + m4
    p[:, L.T8_REF] = n8 + m8
    p[:, L.TREG_REF] = r
    p[:, L.T4C_REF] = n4 + m4
    p[:, L.N4_REF] = n4


def thymic_output_at_age(age_years: np.ndarray, ref_output: float, ref_age: float,
                         early_decline: float, late_decline: float, breakpoint: float
                         ) -> np.ndarray:
    """Age-expected CD4 thymic output: −early %/y up to ``breakpoint`` then −late %/y
    (Steinmann's biphasic involution as cited by Mitchell 2010), scaled to ``ref_output``
    at ``ref_age``."""
    def log_level(a: np.ndarray) -> np.ndarray:
        a = np.asarray(a, float)
        early = np.minimum(a, breakpoint)
        late = np.maximum(a - breakpoint, 0.0)
        return -early_decline * early - late_decline * late

    return ref_output * np.exp(log_level(age_years) - log_level(np.array(ref_age)))


def thymic_recovery_rate(age_years: np.ndarray, rate_young: float, age50: float, width: float
                         ) -> np.ndarray:
    """Thymic recovery rate after conditioning, falling with age (logistic in age)."""
    return rate_young / (1.0 + np.exp((np.asarray(age_years, float) - age50) / width))
