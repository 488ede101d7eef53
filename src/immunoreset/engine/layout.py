"""Index layout of the per-patient state and parameter vectors of the compiled model.

The right-hand side is a plain numba function of one patient's state vector ``y``, its
parameter vector ``p`` and time (DESIGN §4); the names below are the only place where a
position in those vectors is spelled. Module-level ints are compile-time constants to numba.
"""

from __future__ import annotations

from typing import Final

# ---- state vector ------------------------------------------------------------------------
# blood (cells/kg body weight): neutrophil lineage (Stiehl-type chain + Friberg transit)
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
#                     and transfused), cleared at k_decline (Zhu & Stiehl's residual pool)
# erythroid read-out
E_PROG: Final = 15  # erythroid output in maturation (g/dL of Hb equivalent)
HB: Final = 16  # haemoglobin, g/dL
# immune system (cells/uL of blood; whole-body pools expressed as blood-equivalent counts)
THY: Final = 17  # thymic function relative to the age-expected level (1 = intact)
LQ1: Final = 18  # lymphoid progenitor supply, first lag stage (ratio to baseline)
LQ2: Final = 19  # second lag stage (feeds thymus and B lymphopoiesis)
CD4N: Final = 20  # naive CD4
CD4T: Final = 21  # TREC-bearing naive CD4
CD4MO: Final = 22  # CD4 memory descended from pre-transplant cells ("old")
CD4MN: Final = 23  # CD4 memory primed after transplant ("new")
CD8N: Final = 24
CD8MO: Final = 25
CD8MN: Final = 26
TREG: Final = 27
BCELL: Final = 28
NKCELL: Final = 29
N_CLONES: Final = 4
AUTO0: Final = 30  # autoreactive effector memory clone families AUTO0 .. AUTO0+3
ACT: Final = AUTO0 + N_CLONES  # disease activity score (disease layer)
DMG: Final = ACT + 1  # integrated progression hazard (disease layer)
# complications: integrated hazards (events fire at pre-drawn unit-exponential thresholds)
H_INF: Final = DMG + 1  # first clinically documented infection
H_DINF: Final = H_INF + 1  # treatment-related death from infection
H_DTOX: Final = H_INF + 2  # treatment-related death from organ toxicity
H_DDIS: Final = H_INF + 3  # disease-related death
H_CARD: Final = H_INF + 4  # cardiac toxicity (any grade)
H_CMV: Final = H_INF + 5  # CMV reactivation (seropositive patients)
H_EBV: Final = H_INF + 6  # EBV reactivation (seropositive patients)
H_PTLD: Final = H_INF + 7  # EBV-driven post-transplant lymphoproliferative disorder
SAI_Z: Final = H_INF + 8  # delayed secondary-autoimmunity drive (dimensionless, 0 at baseline)
H_SAI: Final = H_INF + 9  # secondary autoimmune disease
ALLO: Final = H_INF + 10  # donor alloreactive T cells (cells/uL; 0 for autologous grafts)
H_AGVHD: Final = H_INF + 11  # acute GVHD grade II-IV (days < C_GVHD_DAY)
H_CGVHD: Final = H_INF + 12  # chronic GVHD (days >= C_GVHD_DAY)
H_ES: Final = H_INF + 13  # engraftment syndrome
H_SOS: Final = H_INF + 14  # sinusoidal obstruction syndrome (busulfan exposure)
H_MUC: Final = H_INF + 15  # severe (grade 3-4) oral mucositis (melphalan exposure)
GENO: Final = H_INF + 16  # cumulative genotoxic exposure: HSC log-kill by drugs and TBI
H_MAL: Final = H_INF + 17  # late (therapy-related) malignancy
H_FN: Final = H_INF + 18  # febrile neutropenia (first episode)
H_PULM: Final = H_INF + 19  # pulmonary toxicity (carmustine exposure)
H_VZV: Final = H_INF + 20  # VZV reactivation (zoster)
H_AKI: Final = H_INF + 21  # acute kidney injury
N_STATES: Final = H_AKI + 1

STATE_NAMES: Final = (
    "n_hsc", "n_mpp", "n_gmp", "n_t1", "n_t2", "n_t3", "neutrophils",
    "p_hsc", "p_mpp", "p_cmp", "p_mep", "p_mkb", "p_mk", "platelets", "platelets_residual",
    "erythroid_progenitors", "hemoglobin",
    "thymus", "lymphoid_lag1", "lymphoid_lag2", "cd4_naive", "cd4_trec", "cd4_memory_old",
    "cd4_memory_new", "cd8_naive", "cd8_memory_old", "cd8_memory_new", "treg", "b_cells",
    "nk_cells", "auto_1", "auto_2", "auto_3", "auto_4", "activity", "damage",
    "hazard_infection", "hazard_death_infection", "hazard_death_toxicity",
    "hazard_death_disease", "hazard_cardiac", "hazard_cmv", "hazard_ebv", "hazard_ptld",
    "secondary_autoimmunity_drive", "hazard_secondary_autoimmunity", "donor_alloreactive_t",
    "hazard_acute_gvhd", "hazard_chronic_gvhd", "hazard_engraftment_syndrome", "hazard_sos",
    "hazard_mucositis", "genotoxic_exposure", "hazard_malignancy",
    "hazard_febrile_neutropenia", "hazard_pulmonary_toxicity", "hazard_vzv", "hazard_aki",
)
assert len(STATE_NAMES) == N_STATES


# ---- parameter vector --------------------------------------------------------------------
class _Alloc:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, size: int = 1) -> int:
        i = self.n
        self.n += size
        return i


_a = _Alloc()
# neutrophil lineage
NA1, NA2, NA3 = _a(), _a(), _a()
NP1, NP2, NP3 = _a(), _a(), _a()
NKTR, NDEATH, NK_FB = _a(), _a(), _a()
GCSF_PROLIF, GCSF_TRANSIT, GCSF_START, GCSF_END = _a(), _a(), _a(), _a()
# platelet lineage
PA1, PA2, PA3, PA4 = _a(), _a(), _a(), _a()
PP1, PP2, PP3, PP4, PP5, PP6 = _a(), _a(), _a(), _a(), _a(), _a()
PK_A, PK_P, PDEATH, PSHED, PDECLINE = _a(), _a(), _a(), _a(), _a()
# erythroid
E_MAT, E_LIFESPAN, E_HB0, E_MEP0, E_GAMMA = _a(), _a(), _a(), _a(), _a()
# kill constants per cytotoxic agent (6): HSC, progenitors, lymphocytes, thymus
N_CYTOTOXIC: Final = 6
KILL0: Final = _a(N_CYTOTOXIC)
KILL_HSC0: Final = KILL0
KILL_PROG0: Final = _a(N_CYTOTOXIC)
KILL_LYMPH0: Final = _a(N_CYTOTOXIC)
KILL_THY0: Final = _a(N_CYTOTOXIC)
# PK (k, V) for every agent (8)
N_AGENTS: Final = 8
PK_K0: Final = _a(N_AGENTS)
PK_V0: Final = _a(N_AGENTS)
BLOOD_VOLUME_UL_PER_KG: Final = _a()
LYMPH_RATE: Final = _a()  # lymphoid commitment of MPP, 1/day (read-out)
# immune system
MPP0 = _a()  # baseline lymphoid-primed progenitors (GMP/LMPP compartment, cells/kg)
LAG_T = _a()  # mean time of each lymphoid lag stage (days)
LAM_HALF = _a()  # relative progenitor level at which lymphoid supply is half-saturated
THY_OUT = _a()  # CD4 thymic output at age (cells/uL/day) with intact thymus
THY_CD8 = _a()  # CD8/CD4 thymic output ratio
THY_REC = _a()  # thymic recovery rate at the patient's age (1/day)
THY_REBOUND = _a()  # maximal lymphopenia-driven boost of thymic output
N4_REF = _a()  # baseline naive CD4 (cells/uL)
TREC_ALPHA = _a()
ATG_ACTIVE_RABBIT, ATG_ACTIVE_EQUINE, ATG_KMAX, ATG_EC50 = _a(), _a(), _a(), _a()
ATG_B_FACTOR, ATG_NK_FACTOR = _a(), _a()
N4_RHO0, N4_DEATH, N4_ACT = _a(), _a(), _a()
M4_RHO0, M4_DEATH = _a(), _a()
N8_RHO0, N8_DEATH, N8_ACT = _a(), _a(), _a()
M8_RHO0, M8_DEATH = _a(), _a()
R_FRAC, R_RHO0, R_DEATH = _a(), _a(), _a()
LP_PHI4, LP_PHI8, LP_K, LP_H = _a(), _a(), _a(), _a()
LP_K8 = _a()  # CD8 count (relative to baseline) of half-maximal homeostatic proliferation
T4_REF, T8_REF = _a(), _a()  # baseline total CD4 and CD8 (cells/uL) for lymphopenia
B_REF, B_DEATH, NK_REF, NK_DEATH = _a(), _a(), _a(), _a()
B_PHI = _a()  # maximal lymphopenia boost of B-cell production
NK_PHI = _a()  # maximal lymphopenia boost of NK production (IL-15)
R_PHI = _a()  # maximal lymphopenia boost of Treg division
MEM_KILL = _a()  # kill on memory T cells relative to naive (tissue residence)
# autoimmunity
AUTO_R0 = _a(N_CLONES)  # basic reproduction ratio of each clone family at baseline Tregs
AUTO_RES = _a(N_CLONES)  # kill-resistant (tissue-resident) fraction of each family
AUTO_K = _a(N_CLONES)  # antigen-limitation scale (cells/uL) of each family
AUTO_SHARE = _a(N_CLONES)  # share of new thymic autoreactive precursors per family
AUTO_NU = _a()  # new autoreactive precursors per thymic emigrant
AUTO_U = _a(N_CLONES)  # pre-drawn uniforms deciding stochastic extinction (patient stream)
AUTO_BOTTLENECK = _a()  # day on which small surviving families may go extinct
BODY_CELLS_PER_UL = _a()  # whole-body cells per blood-equivalent cell/uL
TREG_SUPP = _a()  # strength of Treg suppression
TREG_REF = _a()  # baseline Tregs (cells/uL)
T4C_REF = _a()  # baseline conventional CD4 (cells/uL)
AUTO_REF = _a()  # baseline total autoreactive load (cells/uL)
AUTO_DELTA = _a()  # turnover rate of the autoreactive families (1/day; the disease's own)
# disease layer
D_KIN, D_KOUT, D_SMAX, D_SFLOOR, D_DMG_RATE = _a(), _a(), _a(), _a(), _a()
D_PROG_EXP = _a()  # exponent of activity in the progression hazard
D_PROG_BASE = _a()  # activity-independent progression hazard after day 0 (1/day; MS, Crohn's)
D_SFLOOR_DRIFT = _a()  # rise of the score floor after day 0 (score units/day; progressive MS)
D_REMIT, D_RELAPSE = _a(), _a()  # activity thresholds (fraction of baseline) for remission/relapse
# share of the autoreactive load the tissues see (1; < 1 on an anti-inflammatory comparator)
D_ACT_FACTOR = _a()
# spontaneous course of the effector phase (disease.<id>.effector.*): the tissues see the
# load times D_EFF_STATE, 1 while active and D_EFF_QUIESCENT while quiescent; the state
# toggles at the patient's pre-drawn switch times (days after day 0, sorted, inf = none).
# D_EFF_STATE is mutable: the solver sets it at each switch time (a stop time).
N_EFF_SWITCH: Final = 24
D_EFF_STATE = _a()
D_EFF_QUIESCENT = _a()
D_EFF_SW = _a(N_EFF_SWITCH)
# complications
C_INF_NEUT, C_INF_CD4, C_INF_BASE = _a(), _a(), _a()  # infection hazards (1/day)
C_INF_B, C_B_LOW = _a(), _a()  # humoral infection hazard (1/day); B level (cells/uL)
C_FATAL_NEUT, C_FATAL_CD4 = _a(), _a()  # infection-death hazards (1/day)
C_TRM_MULT = _a()  # patient multiplier (age, HCT-CI) on treatment-related hazards
C_CENTRE_MULT = _a()  # centre-experience multiplier on treatment-related death hazards
C_CARD_PER_AUC = _a()  # cardiac toxicity hazard per cyclophosphamide exposure (L/(mg day))
C_CARD_FATAL = _a()  # fatal share of cardiac toxicity
C_CARD_POWER, C_TOX_POWER = _a(), _a()  # dose-intensity exponents
C_TOX_OTHER = _a()  # other fatal organ toxicity per unit cytotoxic kill exposure
C_DIS_ACT, C_DIS_DMG = _a(), _a()  # disease death: per activity, per progression hazard
C_CD4_LOW = _a()  # CD4 level (cells/uL) below which late infections rise
TBI_THY_D0 = _a()  # not used in the rhs; kept for provenance of the TBI impulse
# viral reactivation, PTLD, secondary autoimmunity
C_CMV_SERO, C_EBV_SERO = _a(), _a()  # 1 if seropositive, else 0
C_CMV_RATE, C_EBV_RATE = _a(), _a()  # reactivation hazard without T-cell control (1/day)
C_VIR_TMEM = _a()  # memory T cells (cells/uL) giving half-maximal viral control
C_PTLD_RATE = _a()  # PTLD hazard at full loss of control and baseline B cells (1/day)
C_SAI_RATE = _a()  # secondary autoimmunity hazard per unit drive (1/day)
C_SAI_TAU = _a()  # latency of the secondary-autoimmunity drive (days)
# allogeneic grafts: donor alloreactive T cells and GVHD
C_ALLO_RHO, C_ALLO_K, C_ALLO_DEATH = _a(), _a(), _a()  # expansion, capacity, loss
C_AGVHD_RATE, C_CGVHD_RATE = _a(), _a()  # hazards per alloreactive cell/uL (1/day)
C_GVHD_DAY = _a()  # day separating acute from chronic GVHD
C_GVA_KILL = _a()  # graft-versus-autoimmunity kill of host autoreactive cells per cell/uL
# organ toxicity events and late malignancy
C_ES_RATE, C_ES_WINDOW = _a(), _a()  # per 500/uL of ANC rise (transplant only); window days
C_SOS_RATE = _a()  # per busulfan concentration (L/(mg day))
C_MUC_RATE = _a()  # per melphalan concentration squared
C_MAL_RATE, C_MAL_LATENCY = _a(), _a()  # per unit genotoxic exposure (1/day); latency days
C_FN_RATE = _a()  # febrile neutropenia hazard at full neutropenia (1/day)
C_PULM_RATE = _a()  # pulmonary toxicity per squared carmustine concentration
C_VZV_SERO, C_VZV_RATE = _a(), _a()  # VZV IgG (1/0); zoster hazard with CD4 below threshold
C_ACV_END, C_ACV_EFFECT = _a(), _a()  # last day of acyclovir prophylaxis; relative reduction
C_AKI_RATE, C_AKI_MEL = _a(), _a()  # AKI hazard in aplasia (1/day); per melphalan conc
N_PARAMS: Final = _a.n
