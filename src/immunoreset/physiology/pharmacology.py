"""Conditioning pharmacology: closed-form exposure of each agent and the kill it causes.

Every agent is a one-compartment model with zero-order infusion, solved in closed form
between doses (DESIGN §4: exact, non-stiff). The concentration of agent *a* at time *t* is
the superposition of its doses::

    during infusion   C = R/(k V) · (1 − exp(−k (t − t0)))
    after infusion    C = R/(k V) · (1 − exp(−k τ)) · exp(−k (t − t0 − τ))

with ``R = amount/τ``. Cytotoxic kill is first order in concentration: a compartment X
loses ``κ_a · C_a(t) · X`` per day, so the surviving fraction after a dose is
``exp(−κ_a · AUC)``. κ is not a free number in the registry: it is derived from an
interpretable *surviving fraction at a reference dose in a typical patient*
(:func:`kill_constant`), which is what a haematologist can argue about.

Radiation (TBI) is not a drug: each fraction multiplies the surviving fraction of a
compartment by ``exp(−D/D0)`` at the time it is given (an impulse event of the engine).
"""

from __future__ import annotations

import math
from typing import Final

import numba as nb
import numpy as np

from immunoreset.parameters import ParameterSet

AGENTS: Final = (
    "cyclophosphamide",
    "busulfan",
    "melphalan",
    "carmustine",
    "etoposide",
    "cytarabine",
    "rabbit_atg",
    "equine_atg",
)
AGENT_INDEX: Final = {a: i for i, a in enumerate(AGENTS)}
N_AGENTS: Final = len(AGENTS)
#: Agents whose kill acts on the marrow (ATG acts on lymphocytes: immune model).
CYTOTOXIC: Final = AGENTS[:6]
ATG_AGENTS: Final = ("rabbit_atg", "equine_atg")


@nb.njit(cache=True, inline="always")
def one_compartment_infusion(t: float, k: float, v: float, t0: float, dur: float,
                             amount: float) -> float:
    """Concentration (amount/volume) at ``t`` from one zero-order infusion."""
    if t <= t0:
        return 0.0
    rate = amount / dur
    css = rate / (k * v)
    if t <= t0 + dur:
        return css * (1.0 - math.exp(-k * (t - t0)))
    return css * (1.0 - math.exp(-k * dur)) * math.exp(-k * (t - t0 - dur))


@nb.njit(cache=True)
def agent_concentrations(t: float, pk_k: np.ndarray, pk_v: np.ndarray, d_agent: np.ndarray,
                         d_t0: np.ndarray, d_dur: np.ndarray, d_amount: np.ndarray,
                         out: np.ndarray) -> None:
    """Fill ``out[a]`` with the concentration (mg/L) of every agent at time ``t`` (days)."""
    for a in range(out.shape[0]):
        out[a] = 0.0
    for i in range(d_agent.shape[0]):
        a = d_agent[i]
        if a < 0:
            continue
        out[a] += one_compartment_infusion(t, pk_k[a], pk_v[a], d_t0[i], d_dur[i], d_amount[i])


def exposure_auc(amount_mg: float, k_per_day: float, v_l: float) -> float:
    """AUC (mg·day/L) of one dose in a one-compartment model: ``amount / (k V)``."""
    return amount_mg / (k_per_day * v_l)


def typical_pk(params: ParameterSet, agent: str, *, weight_kg: np.ndarray,
               bsa_m2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Typical-value elimination rate (1/day) and volume (L) of ``agent`` for each patient.

    Clearance and volume scale with body size as the source model states
    (``pk.<agent>.cl_size`` = "weight" (allometric 0.75 on CL, 1 on V) or "bsa" (linear)).
    """
    w = np.asarray(weight_kg, float)
    b = np.asarray(bsa_m2, float)
    p = f"pk.{agent}"
    cl_ref = params.value(f"{p}.clearance")  # L/day at the reference size
    v_ref = params.value(f"{p}.volume")  # L at the reference size
    if f"{p}.reference_bsa_m2" in params:
        ref = params.value(f"{p}.reference_bsa_m2")
        cl = cl_ref * (b / ref) ** params.value(f"{p}.cl_bsa_exponent")
        v = v_ref * (b / ref) ** params.value(f"{p}.v_bsa_exponent")
    else:
        ref = params.value(f"{p}.reference_weight_kg")
        cl = cl_ref * (w / ref) ** params.value(f"{p}.cl_weight_exponent")
        v = v_ref * (w / ref) ** params.value(f"{p}.v_weight_exponent")
    return cl / v, v


def kill_constant(params: ParameterSet, agent: str, target: str) -> float:
    """κ (L/(mg·day)) of ``agent`` on ``target`` ("hsc" or "progenitor").

    Derived from ``pd.<agent>.<target>_survival_at_reference``: the surviving fraction of
    that compartment after ``pd.<agent>.reference_dose`` in a typical 70-kg, 1.8-m² adult.
    """
    p = f"pd.{agent}"
    surv = params.value(f"{p}.{target}_survival_at_reference")
    dose = params.value(f"{p}.reference_dose")
    unit = params[f"{p}.reference_dose"].unit
    amount = dose * (70.0 if unit == "mg/kg" else 1.8)
    k, v = typical_pk(params, agent, weight_kg=np.array([70.0]), bsa_m2=np.array([1.8]))
    auc = exposure_auc(amount, float(k[0]), float(v[0]))
    if f"pk.{agent}.active_fraction" in params:
        auc *= params.value(f"pk.{agent}.active_fraction")
    return -math.log(surv) / auc


def tbi_survival(params: ParameterSet, dose_cgy: float, target: str) -> float:
    """Surviving fraction of ``target`` after one TBI fraction of ``dose_cgy`` (no shoulder)."""
    d0 = params.value(f"pd.tbi.{target}_d0")  # cGy
    return math.exp(-dose_cgy / d0)
