"""The assembled per-patient model: exposures → kill → blood, discrete supportive-care rules
and observed read-outs. Plain numba functions of one patient, shared by the compiled batch
solver and the scipy oracle.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from immunoreset.engine import layout as L
from immunoreset.physiology.hematopoiesis import blood_rhs
from immunoreset.physiology.pharmacology import agent_concentrations

#: Observed variables written to trajectories (name, unit).
OBSERVED = (
    ("anc", "cells/uL"),
    ("platelets", "cells/uL"),
    ("hemoglobin", "g/dL"),
    ("hsc", "cells/kg"),
    ("lymphoid_output", "cells/kg/day"),
)
N_OBS = len(OBSERVED)
OBS_ANC, OBS_PLT, OBS_HB, OBS_HSC, OBS_LYMPH = range(N_OBS)

# rule constants (index into the rules vector)
R_PLT_TRIGGER, R_PLT_DOSE, R_HB_TRIGGER, R_HB_DOSE, R_HB_MIN_INTERVAL, R_GCSF_STOP = range(6)
N_RULES = 6


@nb.njit(cache=True)
def rhs(t: float, y: np.ndarray, p: np.ndarray, d_agent: np.ndarray, d_t0: np.ndarray,
        d_dur: np.ndarray, d_amount: np.ndarray, conc: np.ndarray, dydt: np.ndarray) -> None:
    """Full right-hand side for one patient; ``conc`` is scratch space of length N_AGENTS."""
    agent_concentrations(t, p[L.PK_K0:L.PK_K0 + L.N_AGENTS], p[L.PK_V0:L.PK_V0 + L.N_AGENTS],
                         d_agent, d_t0, d_dur, d_amount, conc)
    kh = 0.0
    kp = 0.0
    for a in range(L.N_CYTOTOXIC):
        kh += p[L.KILL_HSC0 + a] * conc[a]
        kp += p[L.KILL_PROG0 + a] * conc[a]
    blood_rhs(t, y, p, kh, kp, dydt)


@nb.njit(cache=True)
def observe(y: np.ndarray, p: np.ndarray, out: np.ndarray) -> None:
    """Clinical read-outs of a state (ANC/µL, platelets/µL, Hb g/dL, HSC/kg, lymphoid flux)."""
    bv = p[L.BLOOD_VOLUME_UL_PER_KG]
    out[OBS_ANC] = y[L.NEUT] / bv
    out[OBS_PLT] = (y[L.PLT] + y[L.PLT_TX]) / bv
    out[OBS_HB] = y[L.HB]
    out[OBS_HSC] = y[L.N_HSC]
    # lymphoid progenitor output (interface to the immune model): a read-out proportional to
    # the multipotent progenitor pool; the myeloid chain's fit already absorbs this drain
    out[OBS_LYMPH] = p[L.LYMPH_RATE] * y[L.N_MPP]


TX_PLATELETS = 1
TX_RBC = 2


@nb.njit(cache=True)
def apply_rules(t: float, y: np.ndarray, p: np.ndarray, rules: np.ndarray,
                last_rbc: np.ndarray) -> int:
    """Daily supportive-care rules (DESIGN §6): platelet and red-cell transfusion.

    A platelet transfusion is given when the morning platelet count < trigger; a red-cell
    unit when Hb < trigger (at most one per ``min_interval`` days); G-CSF after infusion stops
    on the first morning with ANC above ``gcsf_stop_anc``. Returns a bit mask of
    what was given (``TX_PLATELETS | TX_RBC``); 0 when nothing changed.
    """
    bv = p[L.BLOOD_VOLUME_UL_PER_KG]
    flags = 0
    # G-CSF is given until the morning ANC exceeds the stop threshold
    if p[L.GCSF_START] <= t < p[L.GCSF_END] and y[L.NEUT] / bv >= rules[R_GCSF_STOP]:
        p[L.GCSF_END] = t
    if (y[L.PLT] + y[L.PLT_TX]) / bv < rules[R_PLT_TRIGGER]:
        y[L.PLT_TX] += rules[R_PLT_DOSE] * bv
        flags |= TX_PLATELETS
    if y[L.HB] < rules[R_HB_TRIGGER] and t - last_rbc[0] >= rules[R_HB_MIN_INTERVAL]:
        y[L.HB] += rules[R_HB_DOSE]
        last_rbc[0] = t
        flags |= TX_RBC
    return flags
