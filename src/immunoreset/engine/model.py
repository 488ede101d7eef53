"""The assembled per-patient model: exposures → kill → blood, immune system, autoimmunity and
disease activity; discrete supportive-care rules and observed read-outs. Plain numba
functions of one patient, shared by the compiled batch solver and the scipy oracle.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from immunoreset.engine import layout as L
from immunoreset.physiology.autoimmunity import auto_rhs, effective_r
from immunoreset.physiology.complications import hazard_rhs
from immunoreset.physiology.hematopoiesis import blood_rhs
from immunoreset.physiology.immunity import immune_rhs, lymphopenia_factor, thymic_output
from immunoreset.physiology.pharmacology import AGENT_INDEX, agent_concentrations

_RABBIT = AGENT_INDEX["rabbit_atg"]
_EQUINE = AGENT_INDEX["equine_atg"]

#: Observed variables written to trajectories (name, unit).
OBSERVED = (
    ("anc", "cells/uL"),
    ("platelets", "cells/uL"),
    ("hemoglobin", "g/dL"),
    ("hsc", "cells/kg"),
    ("lymphoid_output", "cells/kg/day"),
    ("cd4", "cells/uL"),
    ("cd8", "cells/uL"),
    ("cd4_naive", "cells/uL"),
    ("treg", "cells/uL"),
    ("b_cells", "cells/uL"),
    ("nk_cells", "cells/uL"),
    ("trec_per_naive_cd4", "TREC+ fraction of naive CD4"),
    ("memory_old_fraction", "fraction of CD4 memory from pre-transplant lineages"),
    ("thymus", "fraction of age-expected thymic function"),
    ("autoreactive_activity", "fraction of pre-transplant autoreactive load"),
    ("disease_score", "disease score units"),
    ("organ_hazard_integral", "cumulative hazard"),
    ("atg_active", "ug/mL"),
    ("expected_infections", "cumulative infection hazard (expected count since day t0)"),
    ("donor_alloreactive_t", "cells/uL"),
)
N_OBS = len(OBSERVED)
(OBS_ANC, OBS_PLT, OBS_HB, OBS_HSC, OBS_LYMPH, OBS_CD4, OBS_CD8, OBS_CD4N, OBS_TREG, OBS_B,
 OBS_NK, OBS_TREC, OBS_MOLD, OBS_THY, OBS_ACT, OBS_SCORE, OBS_DMG, OBS_ATG, OBS_HINF,
 OBS_ALLO) = range(N_OBS)

# rule constants (index into the rules vector)
R_PLT_TRIGGER, R_PLT_DOSE, R_HB_TRIGGER, R_HB_DOSE, R_HB_MIN_INTERVAL, R_GCSF_STOP = range(6)
N_RULES = 6
TX_PLATELETS = 1
TX_RBC = 2
EXTINCTION = 4
#: families larger than this (whole-body cells) are not subject to stochastic extinction
SMALL_CLONE_CELLS = 1.0e5


@nb.njit(cache=True)
def active_atg(conc: np.ndarray, p: np.ndarray) -> float:
    """Active (lymphocyte-binding) ATG, rabbit-equivalent µg/mL."""
    return conc[_RABBIT] * p[L.ATG_ACTIVE_RABBIT] + conc[_EQUINE] * p[L.ATG_ACTIVE_EQUINE]


@nb.njit(cache=True)
def rhs(t: float, y: np.ndarray, p: np.ndarray, d_agent: np.ndarray, d_t0: np.ndarray,
        d_dur: np.ndarray, d_amount: np.ndarray, conc: np.ndarray, dydt: np.ndarray) -> None:
    """Full right-hand side for one patient; ``conc`` is scratch space of length N_AGENTS."""
    agent_concentrations(t, p[L.PK_K0:L.PK_K0 + L.N_AGENTS], p[L.PK_V0:L.PK_V0 + L.N_AGENTS],
                         d_agent, d_t0, d_dur, d_amount, conc)
    kh = 0.0
    kp = 0.0
    kl = 0.0
    kthy = 0.0
    for a in range(L.N_CYTOTOXIC):
        c = conc[a]
        kh += p[L.KILL_HSC0 + a] * c
        kp += p[L.KILL_PROG0 + a] * c
        kl += p[L.KILL_LYMPH0 + a] * c
        kthy += p[L.KILL_THY0 + a] * c
    blood_rhs(t, y, p, kh, kp, dydt)
    k_t = immune_rhs(y, p, kl, kthy, active_atg(conc, p), dydt)
    s4 = thymic_output(y, p)
    t4 = y[L.CD4N] + y[L.CD4MO] + y[L.CD4MN]
    f4 = lymphopenia_factor(t4, p[L.T4_REF], p[L.LP_PHI4], p[L.LP_K], p[L.LP_H])
    # the disease sees the load through the effector phase (an anti-inflammatory comparator
    # blocks part of it at once; the load itself changes only through the clones)
    act = auto_rhs(y, p, k_t, s4, f4, dydt) * p[L.D_ACT_FACTOR] * p[L.D_EFF_STATE]
    # disease layer: score relaxes towards an activity-dependent level; organ hazard integral
    # (a progressive phenotype adds neurodegeneration after day 0: a rising floor and an
    # activity-independent progression hazard, both zero otherwise)
    tpos = max(t, 0.0)
    dydt[L.ACT] = p[L.D_KIN] * act * (p[L.D_SMAX] - y[L.ACT]) / p[L.D_SMAX] \
        - p[L.D_KOUT] * (y[L.ACT] - p[L.D_SFLOOR] - p[L.D_SFLOOR_DRIFT] * tpos)
    dydt[L.DMG] = p[L.D_DMG_RATE] * max(act, 0.0) ** p[L.D_PROG_EXP]
    if t > 0.0:
        dydt[L.DMG] += p[L.D_PROG_BASE]
    # graft-versus-autoimmunity: donor alloreactive cells kill host autoreactive cells
    gva = p[L.C_GVA_KILL] * max(y[L.ALLO], 0.0)
    for j in range(L.N_CLONES):
        dydt[L.AUTO0 + j] -= gva * y[L.AUTO0 + j]
    anc = y[L.NEUT] / p[L.BLOOD_VOLUME_UL_PER_KG]
    tmem = y[L.CD4MO] + y[L.CD4MN] + y[L.CD8MO] + y[L.CD8MN]
    hazard_rhs(t, y, p, anc, t4 + y[L.TREG], conc, kh, kp, act, tmem, f4 - 1.0, k_t, dydt)


@nb.njit(cache=True)
def activity(y: np.ndarray, p: np.ndarray) -> float:
    """Disease activity: the autoreactive load relative to its pre-transplant level, times
    the share of it that reaches the tissues (``D_ACT_FACTOR``: 1, lower while an
    anti-inflammatory comparator blocks the effector phase; ``D_EFF_STATE``: 1, lower
    while the effector phase is spontaneously quiescent)."""
    tot = 0.0
    for j in range(L.N_CLONES):
        tot += max(y[L.AUTO0 + j], 0.0)
    return tot / p[L.AUTO_REF] * p[L.D_ACT_FACTOR] * p[L.D_EFF_STATE]


@nb.njit(cache=True)
def effector_switch(t: float, p: np.ndarray) -> bool:
    """Set the effector-phase state for the interval that starts at ``t``: active (1) after
    an even number of the patient's pre-drawn switch times, quiescent (``D_EFF_QUIESCENT``)
    after an odd number. Called at stop times only (every switch time is one), so the
    right-hand side stays smooth within a step; True when a switch falls on ``t``."""
    n = 0
    hit = False
    for j in range(L.N_EFF_SWITCH):
        s = p[L.D_EFF_SW + j]
        if s <= t + 1e-9:
            n += 1
            if abs(s - t) <= 1e-9:
                hit = True
    p[L.D_EFF_STATE] = 1.0 if n % 2 == 0 else p[L.D_EFF_QUIESCENT]
    return hit


@nb.njit(cache=True)
def observe(y: np.ndarray, p: np.ndarray, out: np.ndarray) -> None:
    """Clinical read-outs of a state."""
    bv = p[L.BLOOD_VOLUME_UL_PER_KG]
    out[OBS_ANC] = y[L.NEUT] / bv
    out[OBS_PLT] = (y[L.PLT] + y[L.PLT_TX]) / bv
    out[OBS_HB] = y[L.HB]
    out[OBS_HSC] = y[L.N_HSC]
    # lymphoid progenitor output (interface to the immune model): lymphoid-primed
    # progenitors recover with the committed (GMP/LMPP) compartment
    out[OBS_LYMPH] = p[L.LYMPH_RATE] * y[L.N_GMP]
    out[OBS_CD4] = y[L.CD4N] + y[L.CD4MO] + y[L.CD4MN] + y[L.TREG]
    out[OBS_CD8] = y[L.CD8N] + y[L.CD8MO] + y[L.CD8MN]
    out[OBS_CD4N] = y[L.CD4N]
    out[OBS_TREG] = y[L.TREG]
    out[OBS_B] = y[L.BCELL]
    out[OBS_NK] = y[L.NKCELL]
    out[OBS_TREC] = y[L.CD4T] / y[L.CD4N] if y[L.CD4N] > 1e-9 else math.nan
    mem = y[L.CD4MO] + y[L.CD4MN]
    out[OBS_MOLD] = y[L.CD4MO] / mem if mem > 1e-12 else math.nan
    out[OBS_THY] = y[L.THY]
    out[OBS_ACT] = activity(y, p)
    out[OBS_SCORE] = y[L.ACT]
    out[OBS_DMG] = y[L.DMG]
    out[OBS_ATG] = 0.0  # needs the dosing history: filled by observe_at
    out[OBS_HINF] = y[L.H_INF]
    out[OBS_ALLO] = y[L.ALLO]


@nb.njit(cache=True)
def observe_at(t: float, y: np.ndarray, p: np.ndarray, d_agent: np.ndarray,
               d_t0: np.ndarray, d_dur: np.ndarray, d_amount: np.ndarray, conc: np.ndarray,
               out: np.ndarray) -> None:
    """Read-outs at time ``t``: :func:`observe` plus those that need the dosing history
    (active ATG, rabbit-equivalent µg/mL); ``conc`` is scratch space of length N_AGENTS."""
    observe(y, p, out)
    agent_concentrations(t, p[L.PK_K0:L.PK_K0 + L.N_AGENTS], p[L.PK_V0:L.PK_V0 + L.N_AGENTS],
                         d_agent, d_t0, d_dur, d_amount, conc)
    out[OBS_ATG] = active_atg(conc, p)


@nb.njit(cache=True)
def apply_rules(t: float, y: np.ndarray, p: np.ndarray, rules: np.ndarray,
                last_rbc: np.ndarray) -> int:
    """Daily rules (DESIGN §6): transfusions, G-CSF stop, autoreactive extinction.

    A platelet transfusion is given when the morning platelet count < trigger; a red-cell
    unit when Hb < trigger (at most one per ``min_interval`` days); G-CSF after infusion stops
    on the first morning with ANC above ``gcsf_stop_anc``. On the bottleneck day each
    autoreactive family of ``n`` whole-body cells dies out with probability ``(1/R_eff)^n``
    (linear birth–death), decided by the patient's pre-drawn uniform. Returns a bit mask.
    """
    bv = p[L.BLOOD_VOLUME_UL_PER_KG]
    flags = 0
    if p[L.GCSF_START] <= t < p[L.GCSF_END] and y[L.NEUT] / bv >= rules[R_GCSF_STOP]:
        p[L.GCSF_END] = t
    if (y[L.PLT] + y[L.PLT_TX]) / bv < rules[R_PLT_TRIGGER]:
        y[L.PLT_TX] += rules[R_PLT_DOSE] * bv
        flags |= TX_PLATELETS
    if y[L.HB] < rules[R_HB_TRIGGER] and t - last_rbc[0] >= rules[R_HB_MIN_INTERVAL]:
        y[L.HB] += rules[R_HB_DOSE]
        last_rbc[0] = t
        flags |= TX_RBC
    if abs(t - p[L.AUTO_BOTTLENECK]) < 1e-9:
        t4 = y[L.CD4N] + y[L.CD4MO] + y[L.CD4MN]
        f4 = lymphopenia_factor(t4, p[L.T4_REF], p[L.LP_PHI4], p[L.LP_K], p[L.LP_H])
        for j in range(L.N_CLONES):
            n = max(y[L.AUTO0 + j], 0.0) * p[L.BODY_CELLS_PER_UL]
            if n <= 0.0 or n > SMALL_CLONE_CELLS:
                continue  # absent, or large enough to follow the deterministic course
            r = effective_r(y, p, j, f4)
            q = 1.0 if r <= 1.0 else math.exp(-n * math.log(r))
            if p[L.AUTO_U + j] < q:
                y[L.AUTO0 + j] = 0.0
                flags |= EXTINCTION
    return flags
