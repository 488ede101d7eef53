"""Blood formation after conditioning and graft infusion.

Two self-renewing lineage chains of the Marciniak-Czochra / Stiehl type, each as fitted in
its source, seeded by the graft's CD34⁺ cells according to their composition:

* **neutrophils**: HSC → MPP → GMP (self-renewing, drug-sensitive) → three post-mitotic
  transit compartments (Friberg et al. 2002 structure, ``ktr = 4/MTT``) → circulating
  neutrophils (t½ ≈ 7 h). Feedback from circulating neutrophils on self-renewal
  ``s = 1/(1 + k·N)`` (Stiehl et al. 2015); exogenous G-CSF multiplies GMP proliferation
  and the transit rate (Quartino et al. 2014 form, as a step while G-CSF is given).
* **platelets**: the Zhu & Stiehl (2025) ASCT model — HSC → MPP → CMP → MEP → MK-blast → MK →
  platelets, feedback of platelets on self-renewal and proliferation — plus their pool of
  platelets *not made by the post-conditioning marrow* (pre-conditioning and transfused
  platelets), cleared at ``k_decline``. At the first conditioning dose the host's
  circulating platelets move into that pool, as in the source model.
* **red cells**: a read-out driven by MEP output: erythroid precursors mature at rate
  ``E_MAT`` into haemoglobin that is lost with the red-cell lifespan; EPO feedback as
  ``(Hb0/Hb)^γ``.

Conditioning kill acts on HSC (``κ_hsc·C``) and on dividing progenitors and megakaryocytes
(``κ_prog·C``); post-mitotic granulocyte precursors and mature cells are spared (Friberg).
The functions here are plain numba functions of one patient's state, so that the compiled
engine and the scipy oracle run exactly the same equations (DESIGN §4).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from immunoreset.engine import layout as L


@nb.njit(cache=True, inline="always")
def blood_rhs(t: float, y: np.ndarray, p: np.ndarray, kill_hsc: float, kill_prog: float,
              dydt: np.ndarray) -> None:
    """Right-hand side of the blood model for one patient (cells/kg/day; Hb g/dL/day)."""
    # --- neutrophil lineage
    s = 1.0 / (1.0 + p[L.NK_FB] * y[L.NEUT])
    on = 1.0 if (t >= p[L.GCSF_START] and t < p[L.GCSF_END]) else 0.0
    fp = 1.0 + p[L.GCSF_PROLIF] * on
    ktr = p[L.NKTR] * (1.0 + p[L.GCSF_TRANSIT] * on)
    a1, a2, a3 = p[L.NA1] * s, p[L.NA2] * s, p[L.NA3] * s
    p1, p2, p3 = p[L.NP1], p[L.NP2], p[L.NP3] * fp
    h, m, g = y[L.N_HSC], y[L.N_MPP], y[L.N_GMP]
    dydt[L.N_HSC] = (2.0 * a1 - 1.0) * p1 * h - kill_hsc * h
    dydt[L.N_MPP] = (2.0 * a2 - 1.0) * p2 * m + 2.0 * (1.0 - a1) * p1 * h - kill_prog * m
    dydt[L.N_GMP] = (2.0 * a3 - 1.0) * p3 * g + 2.0 * (1.0 - a2) * p2 * m - kill_prog * g
    dydt[L.N_T1] = 2.0 * (1.0 - a3) * p3 * g - ktr * y[L.N_T1]
    dydt[L.N_T2] = ktr * (y[L.N_T1] - y[L.N_T2])
    dydt[L.N_T3] = ktr * (y[L.N_T2] - y[L.N_T3])
    dydt[L.NEUT] = ktr * y[L.N_T3] - p[L.NDEATH] * y[L.NEUT]
    # --- platelet lineage (Zhu & Stiehl)
    ptot = y[L.PLT] + y[L.PLT_TX]
    sa = 1.0 / (1.0 + p[L.PK_A] * ptot)
    sp = 1.0 / (1.0 + p[L.PK_P] * ptot)
    b1, b2, b3, b4 = p[L.PA1] * sa, p[L.PA2] * sa, p[L.PA3] * sa, p[L.PA4] * sa
    q1, q2, q3, q4 = p[L.PP1] * sp, p[L.PP2] * sp, p[L.PP3] * sp, p[L.PP4] * sp
    c1, c2, c3, c4 = y[L.P_HSC], y[L.P_MPP], y[L.P_CMP], y[L.P_MEP]
    dydt[L.P_HSC] = (2.0 * b1 - 1.0) * q1 * c1 - kill_hsc * c1
    dydt[L.P_MPP] = (2.0 * b2 - 1.0) * q2 * c2 + 2.0 * (1.0 - b1) * q1 * c1 - kill_prog * c2
    dydt[L.P_CMP] = (2.0 * b3 - 1.0) * q3 * c3 + 2.0 * (1.0 - b2) * q2 * c2 - kill_prog * c3
    dydt[L.P_MEP] = (2.0 * b4 - 1.0) * q4 * c4 + 2.0 * (1.0 - b3) * q3 * c3 - kill_prog * c4
    dydt[L.P_MKB] = 2.0 * (1.0 - b4) * q4 * c4 - p[L.PP5] * y[L.P_MKB] - kill_prog * y[L.P_MKB]
    dydt[L.P_MK] = p[L.PP5] * y[L.P_MKB] - p[L.PP6] * y[L.P_MK] - kill_prog * y[L.P_MK]
    dydt[L.PLT] = p[L.PSHED] * p[L.PP6] * y[L.P_MK] - p[L.PDEATH] * y[L.PLT]
    dydt[L.PLT_TX] = -p[L.PDECLINE] * y[L.PLT_TX]
    # --- erythroid read-out
    hb0 = p[L.E_HB0]
    life = p[L.E_LIFESPAN]
    epo = (hb0 / max(y[L.HB], 1.0)) ** p[L.E_GAMMA]
    prod = hb0 / life * (c4 / p[L.E_MEP0]) * epo
    dydt[L.E_PROG] = prod - p[L.E_MAT] * y[L.E_PROG]
    dydt[L.HB] = p[L.E_MAT] * y[L.E_PROG] - y[L.HB] / life


def steady_state(p: np.ndarray, neut0: np.ndarray, plt0: np.ndarray) -> np.ndarray:
    """Host steady state for each patient, and fill the feedback constants in ``p``.

    ``p`` is ``[n, N_PARAMS]``; ``neut0`` and ``plt0`` are baseline circulating neutrophils
    and platelets (cells/kg). The HSC equation fixes the set point (``2·a1·s* = 1``), so the
    feedback constants are ``k = (2·a1 − 1)/N*`` (Stiehl 2015; Zhu & Stiehl 2025). Every
    upstream compartment then follows from flux balance. ``p`` is modified in place
    (``NK_FB``, ``PK_A``, ``E_MEP0``); returns ``y0`` of shape ``[n, N_STATES]``.
    """
    n = p.shape[0]
    y = np.zeros((n, L.N_STATES))
    # neutrophils
    a1, a2, a3 = p[:, L.NA1], p[:, L.NA2], p[:, L.NA3]
    p1, p2, p3 = p[:, L.NP1], p[:, L.NP2], p[:, L.NP3]
    _check_order("neutrophil self-renewal", a1, a2, a3)
    p[:, L.NK_FB] = (2 * a1 - 1) / neut0
    s = 1 / (2 * a1)
    flux = neut0 * p[:, L.NDEATH]
    y[:, L.NEUT] = neut0
    y[:, L.N_T1] = y[:, L.N_T2] = y[:, L.N_T3] = flux / p[:, L.NKTR]
    y[:, L.N_GMP] = flux / (2 * (1 - a3 * s) * p3)
    y[:, L.N_MPP] = (1 - 2 * a3 * s) * p3 * y[:, L.N_GMP] / (2 * (1 - a2 * s) * p2)
    y[:, L.N_HSC] = (1 - 2 * a2 * s) * p2 * y[:, L.N_MPP] / (2 * (1 - a1 * s) * p1)
    # platelets
    b1, b2, b3, b4 = p[:, L.PA1], p[:, L.PA2], p[:, L.PA3], p[:, L.PA4]
    q1, q2, q3, q4 = p[:, L.PP1], p[:, L.PP2], p[:, L.PP3], p[:, L.PP4]
    _check_order("platelet self-renewal", b1, b2, b3, b4)
    p[:, L.PK_A] = (2 * b1 - 1) / plt0
    sa = 1 / (2 * b1)
    sp = 1 / (1 + p[:, L.PK_P] * plt0)
    y[:, L.PLT] = plt0
    y[:, L.P_MK] = p[:, L.PDEATH] * plt0 / (p[:, L.PSHED] * p[:, L.PP6])
    y[:, L.P_MKB] = p[:, L.PP6] * y[:, L.P_MK] / p[:, L.PP5]
    y[:, L.P_MEP] = p[:, L.PP5] * y[:, L.P_MKB] / (2 * (1 - b4 * sa) * q4 * sp)
    y[:, L.P_CMP] = (1 - 2 * b4 * sa) * q4 * y[:, L.P_MEP] / (2 * (1 - b3 * sa) * q3)
    y[:, L.P_MPP] = (1 - 2 * b3 * sa) * q3 * y[:, L.P_CMP] / (2 * (1 - b2 * sa) * q2)
    y[:, L.P_HSC] = (1 - 2 * b2 * sa) * q2 * y[:, L.P_MPP] / (2 * (1 - b1 * sa) * q1)
    # erythroid
    p[:, L.E_MEP0] = y[:, L.P_MEP]
    y[:, L.HB] = p[:, L.E_HB0]
    y[:, L.E_PROG] = p[:, L.E_HB0] / p[:, L.E_LIFESPAN] / p[:, L.E_MAT]
    return y


def _check_order(what: str, *a: np.ndarray) -> None:
    """Self-renewal must fall along the chain (a_i < a_1) and a_1 > 1/2 for a steady state."""
    if np.any(a[0] <= 0.5) or np.any(a[0] >= 1.0):
        raise ValueError(f"{what}: a_1 must lie in (0.5, 1)")
    for i, ai in enumerate(a[1:], start=2):
        if np.any(ai >= a[0]):
            raise ValueError(f"{what}: a_{i} must be smaller than a_1 for a steady state")


def anc_per_uL(neut_per_kg: np.ndarray | float, blood_volume_ul_per_kg: float) -> np.ndarray:
    """Circulating neutrophils (cells/kg) → ANC (cells/µL)."""
    return np.asarray(neut_per_kg) / blood_volume_ul_per_kg


def transit_mtt_days(ktr: float) -> float:
    """Mean transit time of the three-compartment post-mitotic chain plus blood entry."""
    return 4.0 / ktr if ktr > 0 else math.inf
