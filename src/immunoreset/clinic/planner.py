"""Protocol planner: per-dose amounts for this patient, ATG, mobilisation and apheresis.

Doses are written as the clinic writes them (mg/kg, mg/m²); the amount in mg is the dose
times the dosing weight (actual, ideal or adjusted, :mod:`immunoreset.clinic.bodysize`) or
the Mosteller BSA. The dosing-weight basis applies to the cytotoxic per-kg doses; ATG is
dosed on actual body weight (stated in the plan). CD34 target and the expected number of
apheresis sessions come from the mobilisation model (:func:`immunoreset.protocols.
mobilisation.collect`) run on the patient's digital twins, i.e. with the patient's
covariates and the population variability of mobilisation and collection efficiency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from immunoreset.clinic.bodysize import (
    FORMULAS,
    adjusted_body_weight_kg,
    bsa_mosteller_m2,
    dosing_weight_kg,
    ideal_body_weight_kg,
)
from immunoreset.clinic.record import ClinicalRecord
from immunoreset.parameters import ParameterSet, default_parameters
from immunoreset.physiology.pharmacology import ATG_AGENTS
from immunoreset.population import cohort_from_patient
from immunoreset.protocols import Protocol


@dataclass(frozen=True)
class DoseLine:
    """One administration for this patient."""

    day: float
    agent: str
    dose: float
    unit: str
    basis: str
    basis_value: float
    amount: float
    amount_unit: str
    infusion_hours: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Plan:
    """A printable plan for one protocol."""

    protocol: str
    description: str
    body_size: dict
    doses: tuple[DoseLine, ...]
    totals: dict
    atg: dict | None
    mobilisation: dict | None
    apheresis: dict | None
    graft: dict | None
    supportive: dict | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"protocol": self.protocol, "description": self.description,
                "body_size": self.body_size, "doses": [d.to_dict() for d in self.doses],
                "totals": self.totals, "atg": self.atg, "mobilisation": self.mobilisation,
                "apheresis": self.apheresis, "graft": self.graft, "supportive": self.supportive,
                "notes": list(self.notes)}

    def text(self) -> str:
        """The plan as plain text (printable)."""
        b = self.body_size
        lines = [f"Plan: {self.protocol}", self.description,
                 f"body size: actual {b['actual_weight_kg']:.1f} kg, ideal "
                 f"{b['ideal_weight_kg']:.1f} kg, adjusted {b['adjusted_weight_kg']:.1f} kg, "
                 f"BSA {b['bsa_m2']:.2f} m2 "
                 f"(per-kg cytotoxic doses on {b['dosing_weight_basis']} weight)"]
        if self.mobilisation:
            m = self.mobilisation
            lines.append(f"mobilisation: cyclophosphamide {m['cyclophosphamide_g_per_m2']:g} g/m2"
                         f" = {m['cyclophosphamide_total_g']:.2f} g; G-CSF "
                         f"{m['gcsf_ug_per_kg_per_day']:g} ug/kg/day = "
                         f"{m['gcsf_ug_per_day']:.0f} ug/day")
        if self.apheresis:
            a = self.apheresis
            lines.append(f"apheresis: target {a['target_cd34_per_kg']:.2g} CD34+/kg "
                         f"({a['target_cd34_total']:.3g} cells), expected sessions "
                         f"{a['expected_sessions']:.2f} (90 % range {a['sessions_p5']}-"
                         f"{a['sessions_p95']}, at most {a['max_sessions']}), "
                         f"P(target reached) {a['p_target_reached']:.2f}, first collection "
                         f"on mobilisation day {a['first_collection_day']:.0f}")
        for d in self.doses:
            lines.append(f"  day {d.day:+g}: {d.agent} {d.dose:g} {d.unit} x "
                         f"{d.basis_value:.2f} ({d.basis}) = {d.amount:.1f} {d.amount_unit}, "
                         f"over {d.infusion_hours:g} h")
        for agent, t in self.totals.items():
            lines.append(f"  total {agent}: {t['dose']:g} {t['unit']} = {t['amount']:.1f} "
                         f"{t['amount_unit']}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def body_size(record: ClinicalRecord, basis: str) -> dict:
    """Weights and BSA of the record, with the formulas named."""
    w, h, s = record.weight_kg, record.height_cm, record.sex
    return {"actual_weight_kg": w, "ideal_weight_kg": ideal_body_weight_kg(h, s),
            "adjusted_weight_kg": adjusted_body_weight_kg(w, h, s),
            "bsa_m2": bsa_mosteller_m2(w, h), "bmi_kg_m2": record.bmi_kg_m2,
            "dosing_weight_basis": basis,
            "dosing_weight_kg": dosing_weight_kg(basis, w, h, s), "formulas": dict(FORMULAS)}


def dosed_protocol(protocol: Protocol, record: ClinicalRecord, basis: str) -> Protocol:
    """``protocol`` with per-kg cytotoxic doses rescaled so that the simulator, which doses on
    actual weight, gives the mg the plan gives on ``basis`` weight (ATG unchanged)."""
    if basis == "actual" or not protocol.is_transplant:
        return protocol
    f = dosing_weight_kg(basis, record.weight_kg, record.height_cm, record.sex) / record.weight_kg
    reg = protocol.conditioning
    doses = tuple(d.model_copy(update={"amount": d.amount * f})
                  if d.unit == "mg/kg" and d.agent not in ATG_AGENTS else d for d in reg.doses)
    return protocol.model_copy(update={"conditioning_spec": reg.model_copy(
        update={"doses": doses}), "atg_total_mg_per_kg": None})


def plan_protocol(record: ClinicalRecord, protocol: Protocol, *, name: str, seed: int,
                  n_twins: int = 400, dosing_weight: str = "actual",
                  params: ParameterSet | None = None) -> Plan:
    """Plan ``protocol`` for ``record`` (mobilisation and apheresis over ``n_twins`` twins)."""
    params = params or default_parameters()
    bs = body_size(record, dosing_weight)
    w, bsa = record.weight_kg, bs["bsa_m2"]
    lines: list[DoseLine] = []
    notes: list[str] = []
    if protocol.is_transplant:
        reg = protocol.conditioning
        doses = [(d.day, d.agent, d.amount, d.unit, d.infusion_hours) for d in reg.doses]
    else:
        comp = protocol.comparator_schedule
        doses = [(d.day, d.agent, d.amount, d.unit, d.infusion_hours) for d in comp.doses]
        notes.append("comparator arm: day 0 = first treatment day; no graft")
    totals: dict[str, dict] = {}
    for day, agent, dose, unit, hours in doses:
        if unit == "mg/kg":
            basis = "actual" if agent in ATG_AGENTS else dosing_weight
            bval = dosing_weight_kg(basis, w, record.height_cm, record.sex)
            amount, aunit, bname = dose * bval, "mg", f"{basis} weight kg"
        elif unit == "mg/m2":
            bval, amount, aunit, bname = bsa, dose * bsa, "mg", "BSA m2 (Mosteller)"
        else:  # cGy: no body-size scaling
            bval, amount, aunit, bname = 1.0, dose, unit, "fraction"
        lines.append(DoseLine(day=day, agent=agent, dose=dose, unit=unit, basis=bname,
                              basis_value=bval, amount=amount, amount_unit=aunit,
                              infusion_hours=hours))
        t = totals.setdefault(agent, {"dose": 0.0, "unit": unit, "amount": 0.0,
                                      "amount_unit": aunit})
        t["dose"] += dose
        t["amount"] += amount
    atg = None
    atg_agents = [a for a in totals if a in ATG_AGENTS]
    if atg_agents:
        a = atg_agents[0]
        atg = {"product": a, "total_mg_per_kg": totals[a]["dose"],
               "total_mg": totals[a]["amount"], "basis": "actual body weight",
               "days": [d.day for d in lines if d.agent == a]}
    if not protocol.is_transplant:
        return Plan(protocol=name, description=protocol.describe(), body_size=bs,
                    doses=tuple(lines), totals=totals, atg=atg, mobilisation=None,
                    apheresis=None, graft=None, supportive=None, notes=tuple(notes))
    from immunoreset.engine.assemble import sample_graft

    twins = cohort_from_patient(record.simulator_patient(), seed=seed, n_twins=n_twins)
    graft = sample_graft(twins, protocol, params)
    mob, aph = protocol.mobilisation, protocol.apheresis
    mobilisation = apheresis = None
    if protocol.graft_source == "pbsc":
        from immunoreset.protocols.mobilisation import _peak_day

        mobilisation = {"cyclophosphamide_g_per_m2": mob.cyclophosphamide_g_per_m2,
                        "cyclophosphamide_total_g": mob.cyclophosphamide_g_per_m2 * bsa,
                        "gcsf_ug_per_kg_per_day": mob.gcsf_ug_per_kg_per_day,
                        "gcsf_ug_per_day": mob.gcsf_ug_per_kg_per_day * w,
                        "plerixafor": mob.plerixafor,
                        "source": "protocol mobilisation spec (MobilisationSpec)"}
        s = graft.sessions.astype(float)
        reached = graft.cd34_collected_per_kg >= aph.target_cd34_per_kg
        apheresis = {
            "target_cd34_per_kg": aph.target_cd34_per_kg,
            "target_cd34_total": aph.target_cd34_per_kg * w,
            "max_sessions": aph.max_sessions,
            "blood_volumes_processed": aph.blood_volumes_processed,
            "expected_sessions": float(s.mean()),
            "sessions_p5": int(np.percentile(s, 5)), "sessions_p95": int(np.percentile(s, 95)),
            "sessions_distribution": {str(k): float((s == k).mean())
                                      for k in range(1, aph.max_sessions + 1)},
            "p_target_reached": float(reached.mean()),
            "first_collection_day": float(_peak_day(mob, params)),
            "interval_days_between_sessions": 1,
            "collected_cd34_per_kg_median": float(np.median(graft.cd34_collected_per_kg)),
            "collected_cd34_per_kg_p5": float(np.percentile(graft.cd34_collected_per_kg, 5)),
            "collected_cd34_per_kg_p95": float(np.percentile(graft.cd34_collected_per_kg, 95)),
            "n_twins": n_twins,
            "model": "immunoreset.protocols.mobilisation.collect (peak PB CD34 x CE2 x litres "
                     "processed; consecutive daily sessions until the target or max_sessions)",
        }
    proc = protocol.processing
    graft_d = {"source": protocol.graft_source, "cd34_selection": proc.cd34_selection,
               "cryopreserved": proc.cryopreserved,
               "infused_cd34_per_kg_median": float(np.median(graft.cd34_per_kg)),
               "infused_cd34_per_kg_p5": float(np.percentile(graft.cd34_per_kg, 5)),
               "infused_cd34_per_kg_p95": float(np.percentile(graft.cd34_per_kg, 95)),
               "fixed_dose": protocol.cd34_dose_per_kg}
    g = protocol.conditioning.gcsf_after_infusion
    supportive = None if g is None else {
        "gcsf_after_infusion_ug_per_kg_per_day": g.ug_per_kg_per_day,
        "gcsf_ug_per_day": g.ug_per_kg_per_day * w, "start_day": g.start_day, "days": g.days}
    if dosing_weight != "actual":
        notes.append(f"per-kg cytotoxic doses on {dosing_weight} weight; the forecast simulates "
                     "these amounts")
    notes.append("ATG on actual body weight")
    return Plan(protocol=name, description=protocol.describe(), body_size=bs,
                doses=tuple(lines), totals=totals, atg=atg, mobilisation=mobilisation,
                apheresis=apheresis, graft=graft_d, supportive=supportive, notes=tuple(notes))
