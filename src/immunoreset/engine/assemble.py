"""Turn a cohort, a protocol and a parameter set into the arrays the compiled kernel reads.

Everything that is per patient (parameters after inter-individual variability, the host
steady state, dose amounts in mg, impulse vectors for TBI and graft infusion, pre-drawn
event thresholds) is built here, vectorised over patients; the kernel sees only numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from immunoreset.diseases import disease_model
from immunoreset.engine import layout as L
from immunoreset.engine.solver import N_CROSS
from immunoreset.parameters import ParameterSet
from immunoreset.physiology.autoimmunity import baseline_clones
from immunoreset.physiology.hematopoiesis import steady_state
from immunoreset.physiology.immunity import (
    immune_steady_state,
    thymic_output_at_age,
    thymic_recovery_rate,
)
from immunoreset.physiology.pharmacology import (
    AGENT_INDEX,
    AGENTS,
    CYTOTOXIC,
    kill_constant,
    tbi_survival,
    typical_pk,
)
from immunoreset.population import Cohort
from immunoreset.population import streams as st
from immunoreset.protocols.graft_processing import N_DRAWS as N_PROC_DRAWS
from immunoreset.protocols.graft_processing import process
from immunoreset.protocols.mobilisation import N_DRAWS as N_MOB_DRAWS
from immunoreset.protocols.mobilisation import collect
from immunoreset.protocols.protocol import Protocol

_HSC_STATES = (L.N_HSC, L.P_HSC)
_PROG_STATES = (L.N_MPP, L.N_GMP, L.P_MPP, L.P_CMP, L.P_MEP, L.P_MKB, L.P_MK)
_T_STATES = (L.CD4N, L.CD4T, L.CD4MO, L.CD4MN, L.CD8N, L.CD8MO, L.CD8MN, L.TREG)
_LYMPH_STATES = (*_T_STATES, L.BCELL, L.NKCELL)

# slots of the per-patient EVENTS stream (uniforms unless noted)
_EV_CLONE_R0 = 0  # 4 normals (converted from uniforms)
_EV_CLONE_SIZE = 4  # 4
_EV_EXTINCTION = 8  # 4
_EV_PROGRESSION = 12
_EV_SCORE = 13  # normal
_EV_HAZARDS = 14  # 5 thresholds: infection, death (infection, toxicity, disease), cardiac
EV_SEVERE = 19
_EV_HAZARDS2 = 20  # 6 thresholds: CMV, EBV, PTLD, secondary autoimmunity, aGVHD, cGVHD
EV_BACKGROUND = 26  # background-death threshold (life table)
EV_GVHD_GRADE = 27  # grade of acute GVHD
EV_FATAL = 28  # 3: fatal GVHD, fatal PTLD, fatal secondary autoimmunity
EV_INFECTION_COUNTS = 31  # 4: reserved (infection counts by period)
_EV_HAZARDS3 = 35  # 8 thresholds: engraftment syndrome, SOS, mucositis, malignancy, FN,
#                    pulmonary toxicity, VZV, AKI
EV_TOX_LAG = 43  # lag from fatal conditioning toxicity to death (gamma quantile)
EV_ORGAN_DEATH = 44  # 2: fatal major organ failure (share), lag to death (exponential)
EV_PROGRESSION_KIND = 46  # kind of the progression event (SSc: the failed organ)
_EV_SCORE_FLOOR = 47  # the patient's activity-free score (diseases with score_floor_spread)
_EV_FRAILTY = 48  # the patient's event frailty G (diseases with recurrent events)
_EV_PRIOR_EVENTS = 49  # 4: events in the year before entry, one slot per declared event
N_EV_USED = 53


@dataclass(frozen=True)
class Graft:
    """Per-patient graft figures (per kg recipient weight); zeros for comparator arms."""

    cd34_per_kg: np.ndarray
    cd34_collected_per_kg: np.ndarray
    sessions: np.ndarray
    cd3_per_kg: np.ndarray
    cd19_per_kg: np.ndarray


@dataclass(frozen=True)
class KernelInputs:
    """Arrays for :func:`immunoreset.engine.solver.integrate_batch`."""

    p: np.ndarray
    y0: np.ndarray
    d_agent: np.ndarray
    d_t0: np.ndarray
    d_dur: np.ndarray
    d_amount: np.ndarray
    imp_t: np.ndarray
    imp_mult: np.ndarray
    imp_add: np.ndarray
    imp_move: np.ndarray
    atol: np.ndarray
    rules: np.ndarray
    thresholds: np.ndarray  # [n, N_CROSS, 2]
    t_start: float
    graft: Graft
    disease_modelled: bool


def variability_names(params: ParameterSet) -> list[str]:
    """Parameters with inter-individual variability, in the fixed order of their draws."""
    names = sorted(k for k, v in params.items() if v.variability is not None)
    if len(names) > st.BLOCK[st.VARIABILITY]:
        raise ValueError("more variable parameters than the variability block holds")
    return names


def individual_values(params: ParameterSet, cohort: Cohort) -> dict[str, np.ndarray]:
    """Each variable parameter's per-patient value (lognormal/normal around the typical)."""
    names = variability_names(params)
    z = st.normal_block(cohort.seed, cohort.patient_id, st.VARIABILITY)
    out: dict[str, np.ndarray] = {}
    for j, name in enumerate(names):
        par = params[name]
        var = par.variability
        assert var is not None
        if var.distribution == "lognormal":
            vals = par.value * np.exp(var.omega * z[:, j])  # median = typical value
        else:
            vals = par.value * (1.0 + var.cv * z[:, j])
        lo, hi = par.bounds
        out[name] = np.clip(vals, lo, hi)  # sampled physiology stays within plausible bounds
    return out


def sample_graft(cohort: Cohort, protocol: Protocol, params: ParameterSet) -> Graft:
    """Collected and infused graft per patient (mobilisation → apheresis/harvest → processing)."""
    n = len(cohort)
    if not protocol.is_transplant:
        z = np.zeros(n)
        return Graft(z, z, np.zeros(n, dtype=np.int64), z, z)
    zg = st.normal_block(cohort.seed, cohort.patient_id, st.GRAFT)
    coll = collect(
        protocol.graft_source,
        weight_kg=cohort.weight_kg, height_cm=cohort.height_cm, sex_female=cohort.female,
        age_years=cohort.age_years, disease=cohort.disease, z=zg[:, :N_MOB_DRAWS],
        params=params, mobilisation=protocol.mobilisation, apheresis=protocol.apheresis,
        harvest=protocol.harvest, allogeneic=protocol.allogeneic,
    )
    inf = process(coll, protocol.processing,
                  z=zg[:, N_MOB_DRAWS:N_MOB_DRAWS + N_PROC_DRAWS], params=params)
    cd34 = inf.cd34_per_kg
    if protocol.cd34_dose_per_kg is not None:
        cd34 = np.full(n, float(protocol.cd34_dose_per_kg))
    return Graft(cd34_per_kg=cd34, cd34_collected_per_kg=coll.collected_cd34_per_kg,
                 sessions=coll.sessions, cd3_per_kg=inf.cd3_per_kg, cd19_per_kg=inf.cd19_per_kg)


def _rate_from_half_life(days: np.ndarray) -> np.ndarray:
    return math.log(2) / np.asarray(days)


def assemble(cohort: Cohort, protocol: Protocol, params: ParameterSet, *,
             graft: Graft | None = None) -> KernelInputs:
    """Build the kernel arrays for every patient of ``cohort`` under ``protocol``."""
    n = len(cohort)
    ind = individual_values(params, cohort)

    def v(name: str) -> np.ndarray:
        return ind[name] if name in ind else np.full(n, params.value(name))

    p = np.zeros((n, L.N_PARAMS))
    _blood_parameters(p, v, cohort)
    doses, tbis, gcsf, transplant = _schedule(protocol)
    if gcsf is not None:
        p[:, L.GCSF_START], p[:, L.GCSF_END] = gcsf
    else:
        p[:, L.GCSF_START], p[:, L.GCSF_END] = np.inf, np.inf
    _pk_parameters(p, params, ind, cohort)
    bv = p[:, L.BLOOD_VOLUME_UL_PER_KG]
    y0 = steady_state(p, cohort.anc_per_uL * bv, cohort.platelets_per_uL * bv)
    counts = _immune_parameters(p, v, params, cohort, y0)
    immune_steady_state(p, y0, counts)
    ev = st.uniform_block(cohort.seed, cohort.patient_id, st.EVENTS)
    _autoimmune_parameters(p, y0, v, params, cohort, counts, ev)
    p[:, L.D_ACT_FACTOR] = 1.0
    p[:, L.D_EFF_STATE] = 1.0
    p[:, L.D_EFF_QUIESCENT] = 1.0
    p[:, L.D_EFF_SW:L.D_EFF_SW + L.N_EFF_SWITCH] = np.inf
    if not protocol.is_transplant:
        sched = protocol.comparator_schedule
        # immunomodulatory comparator: lowers every family's reproduction ratio from day 0
        p[:, L.AUTO_R0:L.AUTO_R0 + L.N_CLONES] *= sched.r0_factor
        # anti-inflammatory comparator: blocks part of the effector phase from day 0
        p[:, L.D_ACT_FACTOR] = sched.activity_factor
    modelled = _disease_parameters(p, y0, params, cohort, ev)
    _complication_parameters(p, params, cohort, protocol, modelled)
    _late_complication_parameters(p, y0, params, cohort, protocol)

    # doses (mg per patient)
    nd = max(1, len(doses))
    d_agent = np.full((n, nd), -1, dtype=np.int64)
    d_t0 = np.zeros((n, nd))
    d_dur = np.ones((n, nd))
    d_amount = np.zeros((n, nd))
    for j, d in enumerate(doses):
        size = cohort.weight_kg if d.unit == "mg/kg" else cohort.bsa_m2
        d_agent[:, j] = AGENT_INDEX[d.agent]
        d_t0[:, j] = d.day
        d_dur[:, j] = max(d.infusion_hours, 1e-3) / 24.0
        d_amount[:, j] = d.amount * size

    graft = graft if graft is not None else sample_graft(cohort, protocol, params)
    t_first = min([d.day for d in (*doses, *tbis)] + [0.0])
    n_imp = len(tbis) + 2
    imp_t = np.full((n, n_imp), np.nan)
    imp_mult = np.ones((n, n_imp, L.N_STATES))
    imp_add = np.zeros((n, n_imp, L.N_STATES))
    imp_move = np.full((n, n_imp, L.N_STATES), -1, dtype=np.int64)
    if transplant:
        # first conditioning dose: host platelets join the residual pool (Zhu & Stiehl c8)
        imp_t[:, 0] = t_first
        imp_move[:, 0, L.PLT] = L.PLT_TX
        _tbi_impulses(imp_t, imp_mult, imp_add, p, params, tbis)
        _graft_impulse(imp_t, imp_add, p, y0, params, protocol, graft, counts, n_imp - 1)

    atol = np.maximum(np.abs(y0), 1e-3) * 1e-9
    atol[:, L.ACT] = 1e-6
    atol[:, L.DMG] = 1e-9
    rules = np.array([
        params.value("supportive.platelet_transfusion_trigger"),
        params.value("supportive.platelet_transfusion_increment"),
        params.value("supportive.rbc_transfusion_trigger"),
        params.value("supportive.rbc_transfusion_increment"),
        params.value("supportive.rbc_min_interval"),
        params.value("supportive.gcsf_stop_anc"),
    ])
    thresholds = np.empty((n, N_CROSS, 2))
    thresholds[:, 0] = 500.0
    thresholds[:, 1] = 20000.0
    thresholds[:, 2, 0] = np.inf
    thresholds[:, 2, 1] = -np.log(np.clip(ev[:, _EV_PROGRESSION], 1e-300, 1.0))
    thresholds[:, 3, 0] = params.value("autoimmunity.remission_threshold")
    thresholds[:, 3, 1] = params.value("autoimmunity.relapse_threshold")
    thresholds[:, 4:9, 0] = np.inf
    thresholds[:, 4:9, 1] = -np.log(np.clip(ev[:, _EV_HAZARDS:_EV_HAZARDS + 5], 1e-300, 1.0))
    thresholds[:, 9:15, 0] = np.inf
    thresholds[:, 9:15, 1] = -np.log(np.clip(ev[:, _EV_HAZARDS2:_EV_HAZARDS2 + 6], 1e-300, 1.0))
    thresholds[:, 15:23, 0] = np.inf
    thresholds[:, 15:23, 1] = -np.log(np.clip(ev[:, _EV_HAZARDS3:_EV_HAZARDS3 + 8], 1e-300,
                                              1.0))
    return KernelInputs(p=p, y0=y0, d_agent=d_agent, d_t0=d_t0, d_dur=d_dur, d_amount=d_amount,
                        imp_t=imp_t, imp_mult=imp_mult, imp_add=imp_add, imp_move=imp_move,
                        atol=atol, rules=rules, thresholds=thresholds,
                        t_start=float(np.floor(t_first)) - 1.0, graft=graft,
                        disease_modelled=modelled)


def _schedule(protocol: Protocol):
    """(drug doses, TBI fractions, G-CSF window or None, is_transplant)."""
    if not protocol.is_transplant:
        return list(protocol.comparator_schedule.doses), [], None, False
    reg = protocol.conditioning
    g = reg.gcsf_after_infusion
    window = None
    if g is not None and g.ug_per_kg_per_day > 0 and g.days > 0:
        window = (g.start_day, g.start_day + g.days)
    drugs = [d for d in reg.doses if d.agent != "tbi"]
    tbis = [d for d in reg.doses if d.agent == "tbi"]
    return drugs, tbis, window, True


def _blood_parameters(p: np.ndarray, v, cohort: Cohort) -> None:
    hn, hp = "hematopoiesis.neutrophil", "hematopoiesis.platelet"
    p[:, L.NA1], p[:, L.NA2], p[:, L.NA3] = v(f"{hn}.a_hsc"), v(f"{hn}.a_mpp"), v(f"{hn}.a_gmp")
    p[:, L.NP1], p[:, L.NP2], p[:, L.NP3] = v(f"{hn}.p_hsc"), v(f"{hn}.p_mpp"), v(f"{hn}.p_gmp")
    p[:, L.NKTR] = 4.0 / v(f"{hn}.transit_time")
    p[:, L.NDEATH] = v(f"{hn}.death_rate")
    p[:, L.GCSF_PROLIF] = v(f"{hn}.gcsf_proliferation_effect")
    p[:, L.GCSF_TRANSIT] = v(f"{hn}.gcsf_transit_effect")
    for idx, key in ((L.PA1, "a_hsc"), (L.PA2, "a_mpp"), (L.PA3, "a_cmp"), (L.PA4, "a_mep"),
                     (L.PP1, "p_hsc"), (L.PP2, "p_mpp"), (L.PP3, "p_cmp"), (L.PP4, "p_mep"),
                     (L.PP5, "p_mkb"), (L.PP6, "p_mk"), (L.PK_P, "k_p"),
                     (L.PDEATH, "death_rate"), (L.PSHED, "shedding"),
                     (L.PDECLINE, "transfused_clearance")):
        p[:, idx] = v(f"{hp}.{key}")
    he = "hematopoiesis.erythroid"
    p[:, L.E_MAT] = v(f"{he}.maturation_rate")
    p[:, L.E_LIFESPAN] = v(f"{he}.rbc_lifespan")
    p[:, L.E_GAMMA] = v(f"{he}.epo_exponent")
    p[:, L.E_HB0] = cohort.hemoglobin_g_per_dL
    p[:, L.BLOOD_VOLUME_UL_PER_KG] = v("physiology.blood_volume")
    p[:, L.LYMPH_RATE] = v("hematopoiesis.lymphoid_commitment_rate")


def _pk_parameters(p: np.ndarray, params: ParameterSet, ind: dict, cohort: Cohort) -> None:
    for a, agent in enumerate(AGENTS):
        k, vol = typical_pk(params, agent, weight_kg=cohort.weight_kg, bsa_m2=cohort.bsa_m2)
        cl = k * vol
        if f"pk.{agent}.clearance" in ind:
            cl = cl * ind[f"pk.{agent}.clearance"] / params.value(f"pk.{agent}.clearance")
        if f"pk.{agent}.volume" in ind:
            vol = vol * ind[f"pk.{agent}.volume"] / params.value(f"pk.{agent}.volume")
        p[:, L.PK_K0 + a] = cl / vol
        p[:, L.PK_V0 + a] = vol
    for a, agent in enumerate(CYTOTOXIC):
        p[:, L.KILL_HSC0 + a] = kill_constant(params, agent, "hsc")
        p[:, L.KILL_PROG0 + a] = kill_constant(params, agent, "progenitor")
        p[:, L.KILL_LYMPH0 + a] = kill_constant(params, agent, "lymphocyte")
        p[:, L.KILL_THY0 + a] = kill_constant(params, agent, "thymus")
    p[:, L.ATG_ACTIVE_RABBIT] = params.value("pk.rabbit_atg.active_fraction")
    p[:, L.ATG_ACTIVE_EQUINE] = params.value("pk.rabbit_atg.active_fraction") * \
        params.value("pk.equine_atg.potency_vs_rabbit")
    p[:, L.ATG_KMAX] = params.value("pd.atg.kmax")
    p[:, L.ATG_EC50] = params.value("pd.atg.ec50")
    p[:, L.ATG_B_FACTOR] = params.value("pd.atg.b_cell_factor")
    p[:, L.ATG_NK_FACTOR] = params.value("pd.atg.nk_factor")


def _immune_parameters(p: np.ndarray, v, params: ParameterSet, cohort: Cohort,
                       y0: np.ndarray) -> dict[str, np.ndarray]:
    im = "immune"
    age = cohort.age_years
    p[:, L.MPP0] = y0[:, L.N_GMP]
    p[:, L.THY_REBOUND] = v(f"{im}.thymic_rebound")
    p[:, L.LAG_T] = v(f"{im}.lymphoid_lag_time")
    p[:, L.LAM_HALF] = v(f"{im}.lymphoid_supply_half_saturation")
    p[:, L.THY_OUT] = thymic_output_at_age(
        age, params.value(f"{im}.thymic_output_reference"),
        params.value(f"{im}.thymic_output_reference_age"),
        params.value(f"{im}.thymic_decline_early"), params.value(f"{im}.thymic_decline_late"),
        params.value(f"{im}.thymic_decline_breakpoint"))
    p[:, L.THY_CD8] = v(f"{im}.thymic_cd8_ratio")
    p[:, L.THY_REC] = thymic_recovery_rate(age, params.value(f"{im}.thymic_recovery_rate_young"),
                                           params.value(f"{im}.thymic_recovery_age50"),
                                           params.value(f"{im}.thymic_recovery_age_width"))
    p[:, L.TREC_ALPHA] = v(f"{im}.trec_alpha")
    p[:, L.N4_DEATH] = _rate_from_half_life(v(f"{im}.cd4_naive_death"))
    p[:, L.M4_DEATH] = _rate_from_half_life(v(f"{im}.cd4_memory_death"))
    p[:, L.N8_DEATH] = _rate_from_half_life(v(f"{im}.cd8_naive_death"))
    p[:, L.M8_DEATH] = _rate_from_half_life(v(f"{im}.cd8_memory_death"))
    p[:, L.N4_ACT] = v(f"{im}.naive_activation")
    p[:, L.N8_ACT] = v(f"{im}.naive_activation")
    p[:, L.R_FRAC] = v(f"{im}.treg_thymic_fraction")
    p[:, L.R_DEATH] = v(f"{im}.treg_death")
    p[:, L.LP_PHI4] = v(f"{im}.lymphopenia_phi_cd4")
    p[:, L.LP_PHI8] = v(f"{im}.lymphopenia_phi_cd8")
    p[:, L.LP_K] = v(f"{im}.lymphopenia_k")
    p[:, L.LP_H] = v(f"{im}.lymphopenia_h")
    p[:, L.LP_K8] = v(f"{im}.lymphopenia_k_cd8")
    lymph = cohort.lymphocytes_per_uL
    p[:, L.B_REF] = lymph * v(f"{im}.b_fraction")
    p[:, L.B_DEATH] = v(f"{im}.b_cell_turnover")
    p[:, L.NK_REF] = lymph * v(f"{im}.nk_fraction")
    p[:, L.NK_DEATH] = v(f"{im}.nk_turnover")
    p[:, L.B_PHI] = v(f"{im}.b_cell_lymphopenia_phi")
    p[:, L.NK_PHI] = v(f"{im}.nk_lymphopenia_phi")
    p[:, L.R_PHI] = v(f"{im}.treg_lymphopenia_phi")
    p[:, L.MEM_KILL] = v(f"{im}.memory_kill_factor")
    bfrac = v(f"{im}.blood_fraction_of_lymphocytes")
    p[:, L.BODY_CELLS_PER_UL] = p[:, L.BLOOD_VOLUME_UL_PER_KG] * cohort.weight_kg / bfrac
    cd4 = lymph * v(f"{im}.cd4_fraction")
    treg = cd4 * v(f"{im}.treg_fraction")
    conv = cd4 - treg
    nf = np.clip(v(f"{im}.cd4_naive_fraction_at_40") - v(f"{im}.naive_fraction_slope") *
                 (age - 40.0), 0.1, 0.9)
    cd8 = lymph * v(f"{im}.cd8_fraction")
    nf8 = v(f"{im}.cd8_naive_fraction")
    return {"cd4_naive": conv * nf, "cd4_memory": conv * (1 - nf), "treg": treg,
            "cd8_naive": cd8 * nf8, "cd8_memory": cd8 * (1 - nf8)}


def centre_death_multiplier(protocol: Protocol, params: ParameterSet) -> float:
    """Relative risk of a treatment-related death at the protocol's centre against an
    experienced one: ``complications.centre_rr_<category>`` for its CIBMTR category
    (:attr:`Protocol.centre_category`), 1 for an experienced centre."""
    cat = protocol.centre_category
    return 1.0 if cat is None else params.value(f"complications.centre_rr_{cat}")


def _autoimmune_parameters(p: np.ndarray, y0: np.ndarray, v, params: ParameterSet,
                           cohort: Cohort, counts: dict, ev: np.ndarray) -> None:
    from scipy.special import ndtri

    au = "autoimmunity"
    nclo = L.N_CLONES
    r0_patient = v(f"{au}.r0_median")
    omega = params[f"{au}.r0_median"].variability.omega  # type: ignore[union-attr]
    z = ndtri(np.clip(ev[:, _EV_CLONE_R0:_EV_CLONE_R0 + nclo], 1e-12, 1 - 1e-12))
    r0 = np.maximum(r0_patient[:, None] * np.exp(omega * z), 1.02)
    alpha = params.value(f"{au}.clone_size_pareto_alpha")
    u = np.clip(ev[:, _EV_CLONE_SIZE:_EV_CLONE_SIZE + nclo], 1e-12, 1.0)
    size = u ** (-1.0 / alpha)
    share = size / size.sum(axis=1, keepdims=True)
    total = counts["cd4_memory"] * v(f"{au}.load_fraction_of_cd4_memory")
    nu = v(f"{au}.thymic_precursor_rate")
    p[:, L.AUTO_DELTA] = p[:, L.M4_DEATH] * _autoreactive_turnover_factor(params, cohort)
    e, k = baseline_clones(r0, share, total, nu * p[:, L.THY_OUT], p[:, L.AUTO_DELTA])
    tau = params.value(f"{au}.resident_time_constant")
    res = params.value(f"{au}.resident_fraction_max") * \
        (1.0 - np.exp(-cohort.disease_duration_years / tau))
    for j in range(nclo):
        p[:, L.AUTO_R0 + j] = r0[:, j]
        p[:, L.AUTO_K + j] = k[:, j]
        p[:, L.AUTO_SHARE + j] = share[:, j]
        p[:, L.AUTO_RES + j] = res
        p[:, L.AUTO_U + j] = ev[:, _EV_EXTINCTION + j]
        y0[:, L.AUTO0 + j] = e[:, j]
    p[:, L.AUTO_NU] = nu
    p[:, L.AUTO_REF] = total
    p[:, L.TREG_SUPP] = params.value(f"{au}.treg_suppression")
    p[:, L.AUTO_BOTTLENECK] = params.value(f"{au}.bottleneck_day")
    p[:, L.D_REMIT] = params.value(f"{au}.remission_threshold")
    p[:, L.D_RELAPSE] = params.value(f"{au}.relapse_threshold")


def _autoreactive_turnover_factor(params: ParameterSet, cohort: Cohort) -> float:
    """The disease's own turnover of its autoreactive effector memory relative to CD4
    memory (``disease.<id>.autoreactive_turnover_factor``; 1 where a disease sets none)."""
    try:
        dm = disease_model(cohort.disease)
    except (KeyError, ImportError, ValueError):
        return 1.0
    return dm.autoreactive_rate_factor(params)


def _disease_parameters(p: np.ndarray, y0: np.ndarray, params: ParameterSet, cohort: Cohort,
                        ev: np.ndarray) -> bool:
    """Disease-layer parameters; False (layer inactive) when the disease is not modelled."""

    try:
        dm = disease_model(cohort.disease)
        dm.p(params, "score_max")
    except (KeyError, ImportError, ValueError):
        p[:, [L.D_KIN, L.D_KOUT, L.D_DMG_RATE]] = 0.0
        p[:, L.D_SMAX] = 1.0
        return False
    prog = cohort.progressive
    s0 = baseline_scores(dm, params, ev[:, _EV_SCORE], prog)
    recorded = cohort.extra.get("score_baseline")
    if recorded is not None:  # a recorded activity score (e.g. the clinic record's mRSS)
        recorded = np.asarray(recorded, dtype=float)
        smax = dm.p(params, "score_max")
        bad = np.isfinite(recorded) & ((recorded < 0) | (recorded > smax))
        if bad.any():
            from immunoreset.errors import InputError

            raise InputError("score_baseline", float(recorded[bad][0]),
                             f"[0, {smax:g}] {dm.score_name} points")
        s0 = np.where(np.isfinite(recorded), recorded, s0)
    floor = dm.score_floor(params, s0, prog, ev[:, _EV_SCORE_FLOOR])
    k_in, k_out = dm.score_rates(params, s0, floor)
    n = len(s0)
    p[:, L.D_KIN] = k_in
    p[:, L.D_KOUT] = k_out
    p[:, L.D_SMAX] = dm.p(params, "score_max")
    p[:, L.D_SFLOOR] = floor
    # progression hazard h·(c·I)^n: c scales the inflammation itself (progressive MS)
    expo = dm.progression_exponent(params)
    p[:, L.D_DMG_RATE] = dm.progression_rate(params) * \
        dm.inflammation_scale(params, prog, n) ** expo
    if dm.frailty_drives_progression:  # the events' frailty multiplies this intensity too (MS)
        p[:, L.D_DMG_RATE] *= patient_frailty(dm, params, cohort)
    p[:, L.D_PROG_EXP] = expo
    p[:, L.D_PROG_BASE], p[:, L.D_SFLOOR_DRIFT] = dm.neurodegeneration(params, prog, n)
    p[:, L.D_PROG_BASE] += dm.symptomatic_failure_hazard(params, floor)
    y0[:, L.ACT] = s0
    y0[:, L.DMG] = 0.0
    # spontaneous course of the effector phase (none unless the disease sets its rates)
    if dm.has_effector_course(params):
        u = st.uniform_block(cohort.seed, cohort.patient_id, st.EFFECTOR_PHASE)
        p[:, L.D_EFF_SW:L.D_EFF_SW + L.N_EFF_SWITCH] = dm.effector_switch_times(params, u)
        p[:, L.D_EFF_QUIESCENT] = dm.effector_quiescent_share(params)
    return True


def baseline_scores(dm, params: ParameterSet, u: np.ndarray,
                    progressive: np.ndarray | None = None) -> np.ndarray:
    """Baseline disease score from the uniforms of slot ``EV_SCORE`` of the EVENTS stream:
    the one place the entry score is drawn (trial screening reads it too);
    ``progressive`` marks patients with the disease's progressive phenotype."""
    from scipy.special import ndtri

    return dm.baseline_score(params, ndtri(np.clip(u, 1e-12, 1 - 1e-12)), progressive)


def patient_frailty(dm, params: ParameterSet, cohort: Cohort) -> np.ndarray:
    """Each patient's event frailty ``G``: from slot ``EV_FRAILTY`` of its EVENTS stream,
    conditioned on the prior event counts its record holds (``Cohort.extra``,
    ``<event>_prior_year`` or ``<event>_prior_3_years``;
    :meth:`~immunoreset.diseases.base.DiseaseModel.event_frailty`).
    The kernel's progression hazard, the recurrent events and screening's prior-year counts
    all read this draw (``disease_event_outcomes`` redraws the same slot only when called
    without it, for a cohort that records no counts)."""
    u = st.uniform_block(cohort.seed, cohort.patient_id, st.EVENTS)[:, _EV_FRAILTY]
    scale = dm.inflammation_scale(params, cohort.progressive, len(cohort))
    counts, years = dm.recorded_event_history(cohort.extra)
    return dm.event_frailty(params, u, counts, scale, years)


#: public name of the EVENTS-stream slot of the entry score (read by trial screening)
EV_SCORE = _EV_SCORE
#: public name of the EVENTS-stream slot of the patient's activity-free score
EV_SCORE_FLOOR = _EV_SCORE_FLOOR
#: public names of the EVENTS-stream slots of the event frailty and the prior-year counts
EV_FRAILTY = _EV_FRAILTY
EV_PRIOR_EVENTS = _EV_PRIOR_EVENTS


def _complication_parameters(p: np.ndarray, params: ParameterSet, cohort: Cohort,
                             protocol: Protocol, modelled: bool) -> None:
    c = "complications"
    p[:, L.C_INF_NEUT] = params.value(f"{c}.infection_rate_neutropenia")
    p[:, L.C_INF_CD4] = params.value(f"{c}.infection_rate_low_cd4")
    p[:, L.C_INF_BASE] = params.value(f"{c}.infection_rate_baseline")
    p[:, L.C_CD4_LOW] = params.value(f"{c}.cd4_low_threshold")
    p[:, L.C_INF_B] = params.value(f"{c}.infection_rate_low_b")
    p[:, L.C_B_LOW] = params.value(f"{c}.b_low_fraction") * p[:, L.B_REF]
    p[:, L.C_FATAL_NEUT] = params.value(f"{c}.fatal_infection_rate_neutropenia")
    p[:, L.C_FATAL_CD4] = params.value(f"{c}.fatal_infection_rate_low_cd4")
    hct_ci = cohort.extra.get("hct_ci", np.zeros(len(cohort)))
    mult = np.exp(params.value(f"{c}.trm_age_coefficient") * (cohort.age_years - 40.0)
                  + params.value(f"{c}.trm_hct_ci_coefficient") * hct_ci)
    p[:, L.C_TRM_MULT] = mult
    p[:, L.C_CENTRE_MULT] = centre_death_multiplier(protocol, params)
    # hazards per power of exposure, scaled so that the reference regimen (cyclophosphamide
    # 50 mg/kg x 4 in a typical 70-kg adult) gives the reference probabilities
    g_c = params.value(f"{c}.cardiac_exposure_power")
    g_t = params.value(f"{c}.toxicity_intensity_power")
    ref_c, ref_k = _reference_exposures(params, g_c, g_t)
    card = -math.log(1.0 - params.value(f"{c}.cardiac_toxicity_at_reference")) / ref_c
    p[:, L.C_CARD_POWER] = g_c
    p[:, L.C_TOX_POWER] = g_t
    dis_mult = 1.0
    key = f"disease.{cohort.disease}.cardiac_toxicity_multiplier"
    if key in params:
        dis_mult = params.value(key)
    involved = np.asarray(cohort.extra.get("cardiac_involvement", np.zeros(len(cohort))),
                          dtype=bool)
    p[:, L.C_CARD_PER_AUC] = card * dis_mult * np.where(
        involved, params.value(f"{c}.cardiac_involvement_rr"), 1.0)
    p[:, L.C_CARD_FATAL] = params.value(f"{c}.cardiac_toxicity_fatal_share")
    p[:, L.C_TOX_OTHER] = -math.log(1.0 - params.value(f"{c}.other_fatal_toxicity_at_reference")
                                    ) / ref_k
    if modelled:
        p[:, L.C_DIS_ACT] = params.value(f"disease.{cohort.disease}.death_rate_activity")
        p[:, L.C_DIS_DMG] = params.value(f"disease.{cohort.disease}.death_rate_progression")


#: hazard constants copied unchanged from the parameter file (same value for every patient)
_LATE_CONSTANTS = (
    (L.C_CMV_RATE, "complications.cmv_reactivation_rate"),
    (L.C_EBV_RATE, "complications.ebv_reactivation_rate"),
    (L.C_PTLD_RATE, "complications.ptld_rate"),
    (L.C_SAI_TAU, "complications.secondary_autoimmunity_latency"),
    (L.C_ES_WINDOW, "complications.engraftment_syndrome_window"),
    (L.C_SOS_RATE, "complications.sos_rate_per_busulfan"),
    (L.C_MUC_RATE, "complications.mucositis_rate_per_melphalan"),
    (L.C_MAL_RATE, "complications.malignancy_rate_per_exposure"),
    (L.C_MAL_LATENCY, "complications.malignancy_latency"),
    (L.C_FN_RATE, "complications.febrile_neutropenia_rate"),
    (L.C_PULM_RATE, "complications.pulmonary_rate_per_carmustine"),
    (L.C_VZV_RATE, "complications.vzv_reactivation_rate"),
    (L.C_ACV_EFFECT, "supportive.acyclovir_effect"),
    (L.C_AKI_RATE, "complications.aki_rate_aplasia"),
    (L.C_AKI_MEL, "complications.aki_rate_per_melphalan"),
    (L.C_ALLO_RHO, "allogeneic.alloreactive_expansion"),
    (L.C_ALLO_K, "allogeneic.alloreactive_capacity"),
    (L.C_ALLO_DEATH, "allogeneic.alloreactive_loss"),
    (L.C_AGVHD_RATE, "allogeneic.acute_gvhd_rate"),
    (L.C_CGVHD_RATE, "allogeneic.chronic_gvhd_rate"),
    (L.C_GVHD_DAY, "allogeneic.acute_chronic_boundary"),
    (L.C_GVA_KILL, "allogeneic.graft_versus_autoimmunity_kill"),
)


def _late_complication_parameters(p: np.ndarray, y0: np.ndarray, params: ParameterSet,
                                  cohort: Cohort, protocol: Protocol) -> None:
    """Viral reactivation, PTLD, secondary autoimmunity, organ toxicity events, malignancy
    and allogeneic (GVHD) parameters."""
    c = "complications"
    for idx, key in _LATE_CONSTANTS:
        p[:, idx] = params.value(key)
    cmv, ebv = serostatus(cohort)
    p[:, L.C_CMV_SERO] = cmv
    p[:, L.C_EBV_SERO] = ebv
    p[:, L.C_VZV_SERO] = vzv_serostatus(cohort)
    # half-maximal loss of viral control at a fraction of the patient's own memory T pool
    mem0 = y0[:, L.CD4MO] + y0[:, L.CD4MN] + y0[:, L.CD8MO] + y0[:, L.CD8MN]
    p[:, L.C_VIR_TMEM] = params.value(f"{c}.viral_control_memory_fraction") * mem0
    sai = params.value(f"{c}.secondary_autoimmunity_rate")
    key = f"disease.{cohort.disease}.secondary_autoimmunity_multiplier"
    if key in params:
        sai = sai * params.value(key)
    p[:, L.C_SAI_RATE] = sai
    # transplant-only: engraftment syndrome and acyclovir prophylaxis after the graft
    tx = protocol.is_transplant
    p[:, L.C_ES_RATE] = params.value(f"{c}.engraftment_syndrome_rate") if tx else 0.0
    p[:, L.C_ACV_END] = params.value("supportive.acyclovir_prophylaxis_days") if tx else 0.0


def vzv_serostatus(cohort: Cohort) -> np.ndarray:
    """VZV IgG (1/0) from the patient's covariate stream and the population prevalence."""
    from immunoreset.population.cohort import draw_vzv_serostatus

    return draw_vzv_serostatus(cohort).astype(float)


def serostatus(cohort: Cohort) -> tuple[np.ndarray, np.ndarray]:
    """CMV and EBV IgG serostatus (1/0): recorded values, else drawn from the patient's
    covariate stream with the age- and sex-specific prevalence of the population file."""
    if cohort.cmv_seropositive is not None and cohort.ebv_seropositive is not None:
        return (cohort.cmv_seropositive.astype(float), cohort.ebv_seropositive.astype(float))
    from immunoreset.population.cohort import draw_serostatus

    cmv, ebv = draw_serostatus(cohort)
    return cmv.astype(float), ebv.astype(float)


def _reference_exposures(params: ParameterSet, g_c: float, g_t: float) -> tuple[float, float]:
    """∫C_CY^γ_C dt and ∫κ_prog^γ_T dt of cyclophosphamide 50 mg/kg × 4 (1-h infusions,
    24 h apart) in a typical 70-kg, 1.8-m² adult, by quadrature of the closed-form PK."""
    from immunoreset.physiology.pharmacology import one_compartment_infusion

    k, vol = typical_pk(params, "cyclophosphamide", weight_kg=np.array([70.0]),
                        bsa_m2=np.array([1.8]))
    kk, vv = float(k[0]), float(vol[0])
    kappa = kill_constant(params, "cyclophosphamide", "progenitor")
    t = np.linspace(0.0, 8.0, 80001)
    c = np.zeros_like(t)
    for day in range(4):
        c += np.array([one_compartment_infusion(x, kk, vv, float(day), 1.0 / 24.0,
                                                50.0 * 70.0) for x in t])
    dt = t[1] - t[0]
    return float(np.sum(c ** g_c) * dt), float(np.sum((kappa * c) ** g_t) * dt)


def _tbi_impulses(imp_t, imp_mult, imp_add, p, params, tbis) -> None:
    f = params.value("pd.tbi.lymphocyte_sensitive_fraction")
    d1 = params.value("pd.tbi.lymphocyte_d37_sensitive")
    d2 = params.value("pd.tbi.lymphocyte_d37_resistant")
    d_thy = params.value("pd.tbi.thymus_d0")
    for j, d in enumerate(tbis, start=1):
        imp_t[:, j] = d.day
        for s in _HSC_STATES:
            imp_mult[:, j, s] = tbi_survival(params, d.amount, "hsc")
        # genotoxic exposure: the HSC log-kill of the fraction (see complications)
        imp_add[:, j, L.GENO] = -math.log(max(tbi_survival(params, d.amount, "hsc"), 1e-300))
        for s in _PROG_STATES:
            imp_mult[:, j, s] = tbi_survival(params, d.amount, "progenitor")
        s_l = f * math.exp(-d.amount / d1) + (1 - f) * math.exp(-d.amount / d2)
        for s in (*_LYMPH_STATES, L.LQ1, L.LQ2):  # lymphoid precursors in transit too
            imp_mult[:, j, s] = s_l
        imp_mult[:, j, L.THY] = math.exp(-d.amount / d_thy)
        for c in range(L.N_CLONES):
            res = p[:, L.AUTO_RES + c]
            imp_mult[:, j, L.AUTO0 + c] = res + (1 - res) * s_l


def _graft_impulse(imp_t, imp_add, p, y0, params, protocol, graft: Graft, counts, j) -> None:
    """Day-0 infusion: CD34⁺ by composition into both lineages; graft lymphocytes."""
    imp_t[:, j] = 0.0
    gc = "graft.composition"
    committed = 1.0
    if protocol.graft_source == "bone_marrow":
        committed = params.value("graft.bone_marrow.committed_progenitor_factor")
    dose = graft.cd34_per_kg
    imp_add[:, j, L.N_HSC] = dose * params.value(f"{gc}.hsc")
    imp_add[:, j, L.N_MPP] = dose * params.value(f"{gc}.mpp")
    imp_add[:, j, L.N_GMP] = dose * params.value(f"{gc}.gmp") * committed
    imp_add[:, j, L.P_HSC] = dose * params.value(f"{gc}.hsc")
    imp_add[:, j, L.P_MPP] = dose * params.value(f"{gc}.mpp")
    imp_add[:, j, L.P_CMP] = dose * params.value(f"{gc}.cmp") * committed
    imp_add[:, j, L.P_MEP] = dose * params.value(f"{gc}.mep") * committed
    # graft lymphocytes as blood-equivalent counts: cells/kg × (blood fraction / blood volume)
    scale = params.value("immune.blood_fraction_of_lymphocytes") / p[:, L.BLOOD_VOLUME_UL_PER_KG]
    t = graft.cd3_per_kg * scale
    c4 = params.value("immune.graft_cd4_share")
    nv = params.value("immune.graft_naive_share")
    tf = params.value("immune.treg_fraction")
    cd4 = t * c4
    imp_add[:, j, L.CD4N] = cd4 * nv * (1 - tf)
    imp_add[:, j, L.CD4T] = imp_add[:, j, L.CD4N] * y0[:, L.CD4T] / y0[:, L.CD4N]
    imp_add[:, j, L.CD4MO] = cd4 * (1 - nv) * (1 - tf)
    imp_add[:, j, L.TREG] = cd4 * tf
    imp_add[:, j, L.CD8N] = t * (1 - c4) * nv
    imp_add[:, j, L.CD8MO] = t * (1 - c4) * (1 - nv)
    imp_add[:, j, L.BCELL] = graft.cd19_per_kg * scale
    # donor alloreactive T cells: a donor-type-dependent share of the graft's T cells
    if protocol.allogeneic:
        imp_add[:, j, L.ALLO] = t * params.value(
            f"allogeneic.alloreactive_fraction.{protocol.donor}")
    # graft-borne autoreactive memory in the same proportion as in the patient's memory pool
    # (autologous only: a donor's memory carries the donor's, not the patient's, clones)
    mem_ratio = imp_add[:, j, L.CD4MO] / counts["cd4_memory"]
    if protocol.allogeneic:
        mem_ratio = np.zeros_like(mem_ratio)
    for c in range(L.N_CLONES):
        imp_add[:, j, L.AUTO0 + c] = y0[:, L.AUTO0 + c] * mem_ratio
