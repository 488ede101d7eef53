"""Index layout of the per-patient state and parameter vectors of the compiled model.

The right-hand side is a plain numba function of one patient's state vector ``y``, its
parameter vector ``p`` and time (DESIGN §4); the names below are the only place where a
position in those vectors is spelled. Module-level ints are compile-time constants to numba.
"""

from __future__ import annotations

from typing import Final

# ---- state vector (cells/kg body weight unless stated) ----------------------------------
# neutrophil lineage (Stiehl-type self-renewing chain + Friberg-type post-mitotic transit)
N_HSC: Final = 0
N_MPP: Final = 1
N_GMP: Final = 2
N_T1: Final = 3
N_T2: Final = 4
N_T3: Final = 5
NEUT: Final = 6
# platelet lineage (Zhu & Stiehl 2025)
P_HSC: Final = 7
P_MPP: Final = 8
P_CMP: Final = 9
P_MEP: Final = 10
P_MKB: Final = 11
P_MK: Final = 12
PLT: Final = 13
PLT_TX: Final = 14  # platelets not made by the post-conditioning marrow (pre-conditioning
#                      and transfused), cleared at k_decline (Zhu & Stiehl's residual pool)
# erythroid read-out
E_PROG: Final = 15  # erythroid output in maturation (g/dL of Hb equivalent)
HB: Final = 16  # haemoglobin, g/dL
N_STATES: Final = 17

STATE_NAMES: Final = (
    "n_hsc", "n_mpp", "n_gmp", "n_t1", "n_t2", "n_t3", "neutrophils",
    "p_hsc", "p_mpp", "p_cmp", "p_mep", "p_mkb", "p_mk", "platelets", "platelets_transfused",
    "erythroid_progenitors", "hemoglobin",
)

# ---- parameter vector --------------------------------------------------------------------
(
    # neutrophil lineage
    NA1, NA2, NA3, NP1, NP2, NP3, NKTR, NDEATH, NK_FB,
    GCSF_PROLIF, GCSF_TRANSIT, GCSF_START, GCSF_END,
    # platelet lineage
    PA1, PA2, PA3, PA4, PP1, PP2, PP3, PP4, PP5, PP6, PK_A, PK_P, PDEATH, PSHED, PDECLINE,
    # erythroid
    E_MAT, E_LIFESPAN, E_HB0, E_MEP0, E_GAMMA,
    # kill constants: hsc then progenitor, per cytotoxic agent (6 agents)
    KILL0,
) = range(34)
N_CYTOTOXIC: Final = 6
KILL_HSC0: Final = KILL0
KILL_PROG0: Final = KILL0 + N_CYTOTOXIC
# PK (k, V) for every agent (8 agents)
N_AGENTS: Final = 8
PK_K0: Final = KILL_PROG0 + N_CYTOTOXIC
PK_V0: Final = PK_K0 + N_AGENTS
BLOOD_VOLUME_UL_PER_KG: Final = PK_V0 + N_AGENTS
LYMPH_RATE: Final = BLOOD_VOLUME_UL_PER_KG + 1  # lymphoid commitment of MPP, 1/day
N_PARAMS: Final = LYMPH_RATE + 1
