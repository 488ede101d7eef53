"""Turn a cohort, a protocol and a parameter set into the arrays the compiled kernel reads.

Everything that is per patient (parameters after inter-individual variability, the host
steady state, dose amounts in mg, impulse vectors for TBI and graft infusion) is built
here, vectorised over patients; the kernel sees only numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from immunoreset.engine import layout as L
from immunoreset.parameters import ParameterSet
from immunoreset.physiology.hematopoiesis import steady_state
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
_PROG_STATES = (L.N_MPP, L.N_GMP, L.P_MPP, L.P_CMP, L.P_MEP, L.P_MKB)


@dataclass(frozen=True)
class Graft:
    """Per-patient graft figures (per kg recipient weight)."""

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
    t_start: float
    graft: Graft


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
            # median = typical value
            vals = par.value * np.exp(var.omega * z[:, j])
        else:
            vals = par.value * (1.0 + var.cv * z[:, j])
        lo, hi = par.bounds
        out[name] = np.clip(vals, lo, hi)  # the tails of the variability stay physiological
    return out


def sample_graft(cohort: Cohort, protocol: Protocol, params: ParameterSet) -> Graft:
    """Collected and infused graft per patient (mobilisation → apheresis/harvest → processing)."""
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
        cd34 = np.full(len(cohort), float(protocol.cd34_dose_per_kg))
    return Graft(cd34_per_kg=cd34, cd34_collected_per_kg=coll.collected_cd34_per_kg,
                 sessions=coll.sessions, cd3_per_kg=inf.cd3_per_kg, cd19_per_kg=inf.cd19_per_kg)


def assemble(cohort: Cohort, protocol: Protocol, params: ParameterSet, *,
             graft: Graft | None = None) -> KernelInputs:
    """Build the kernel arrays for every patient of ``cohort`` under ``protocol``."""
    n = len(cohort)
    ind = individual_values(params, cohort)

    def v(name: str) -> np.ndarray:
        return ind[name] if name in ind else np.full(n, params.value(name))

    p = np.zeros((n, L.N_PARAMS))
    hn, hp = "hematopoiesis.neutrophil", "hematopoiesis.platelet"
    p[:, L.NA1], p[:, L.NA2], p[:, L.NA3] = v(f"{hn}.a_hsc"), v(f"{hn}.a_mpp"), v(f"{hn}.a_gmp")
    p[:, L.NP1], p[:, L.NP2], p[:, L.NP3] = v(f"{hn}.p_hsc"), v(f"{hn}.p_mpp"), v(f"{hn}.p_gmp")
    p[:, L.NKTR] = 4.0 / v(f"{hn}.transit_time")
    p[:, L.NDEATH] = v(f"{hn}.death_rate")
    p[:, L.GCSF_PROLIF] = v(f"{hn}.gcsf_proliferation_effect")
    p[:, L.GCSF_TRANSIT] = v(f"{hn}.gcsf_transit_effect")
    reg = protocol.conditioning
    g = reg.gcsf_after_infusion
    if g is not None and g.ug_per_kg_per_day > 0 and g.days > 0:
        p[:, L.GCSF_START], p[:, L.GCSF_END] = g.start_day, g.start_day + g.days
    else:
        p[:, L.GCSF_START], p[:, L.GCSF_END] = np.inf, np.inf
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
    bv = v("physiology.blood_volume")
    p[:, L.BLOOD_VOLUME_UL_PER_KG] = bv
    p[:, L.LYMPH_RATE] = v("hematopoiesis.lymphoid_commitment_rate")

    # pharmacology: per-patient k, V (typical × variability) and kill constants
    for a, agent in enumerate(AGENTS):
        k, vol = typical_pk(params, agent, weight_kg=cohort.weight_kg, bsa_m2=cohort.bsa_m2)
        cl = k * vol
        cl = cl * (ind[f"pk.{agent}.clearance"] / params.value(f"pk.{agent}.clearance")
                   if f"pk.{agent}.clearance" in ind else 1.0)
        vol = vol * (ind[f"pk.{agent}.volume"] / params.value(f"pk.{agent}.volume")
                     if f"pk.{agent}.volume" in ind else 1.0)
        p[:, L.PK_K0 + a] = cl / vol
        p[:, L.PK_V0 + a] = vol
    for a, agent in enumerate(CYTOTOXIC):
        p[:, L.KILL_HSC0 + a] = kill_constant(params, agent, "hsc")
        p[:, L.KILL_PROG0 + a] = kill_constant(params, agent, "progenitor")

    y0 = steady_state(p, cohort.anc_per_uL * bv, cohort.platelets_per_uL * bv)

    # doses (mg per patient) and TBI impulses
    drugs = [d for d in reg.doses if d.agent != "tbi"]
    tbis = [d for d in reg.doses if d.agent == "tbi"]
    nd = max(1, len(drugs))
    d_agent = np.full((n, nd), -1, dtype=np.int64)
    d_t0 = np.zeros((n, nd))
    d_dur = np.ones((n, nd))
    d_amount = np.zeros((n, nd))
    for j, d in enumerate(drugs):
        size = cohort.weight_kg if d.unit == "mg/kg" else cohort.bsa_m2
        d_agent[:, j] = AGENT_INDEX[d.agent]
        d_t0[:, j] = d.day
        d_dur[:, j] = max(d.infusion_hours, 1e-3) / 24.0
        d_amount[:, j] = d.amount * size
    graft = graft if graft is not None else sample_graft(cohort, protocol, params)
    n_imp = len(tbis) + 2
    imp_t = np.full((n, n_imp), np.nan)
    imp_mult = np.ones((n, n_imp, L.N_STATES))
    imp_add = np.zeros((n, n_imp, L.N_STATES))
    imp_move = np.full((n, n_imp, L.N_STATES), -1, dtype=np.int64)
    # first conditioning dose: host platelets join the residual pool (Zhu & Stiehl c8)
    t_first = min([d.day for d in reg.doses] + [0.0])
    imp_t[:, n_imp - 2] = t_first
    imp_move[:, n_imp - 2, L.PLT] = L.PLT_TX
    for j, d in enumerate(tbis):
        imp_t[:, j] = d.day
        for s in _HSC_STATES:
            imp_mult[:, j, s] = tbi_survival(params, d.amount, "hsc")
        for s in _PROG_STATES:
            imp_mult[:, j, s] = tbi_survival(params, d.amount, "progenitor")
    # graft infusion at day 0: CD34+ cells by composition into both lineages
    j = n_imp - 1
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

    atol = np.maximum(y0, 1e-3) * 1e-9
    rules = np.array([
        params.value("supportive.platelet_transfusion_trigger"),
        params.value("supportive.platelet_transfusion_increment"),
        params.value("supportive.rbc_transfusion_trigger"),
        params.value("supportive.rbc_transfusion_increment"),
        params.value("supportive.rbc_min_interval"),
        params.value("supportive.gcsf_stop_anc"),
    ])
    return KernelInputs(p=p, y0=y0, d_agent=d_agent, d_t0=d_t0, d_dur=d_dur, d_amount=d_amount,
                        imp_t=imp_t, imp_mult=imp_mult, imp_add=imp_add, imp_move=imp_move,
                        atol=atol, rules=rules,
                        t_start=float(np.floor(t_first)) - 1.0, graft=graft)
