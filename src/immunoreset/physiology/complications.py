"""Complications as time-varying hazards driven by the simulated state (issue: risks).

Each hazard is integrated as an extra state; an event fires when its integral reaches a
unit-exponential threshold pre-drawn from the patient's own stream (DESIGN §4), so a
patient's history never depends on batch or worker. Causes of death compete: the first
cause whose threshold is reached is the cause (mutually exclusive, DESIGN vocabulary).

* infection: ``h = b + h_N·n(ANC) + h_4·c(CD4)`` with ``n = 1/(1 + (ANC/500)^4)``
  (neutropenia, Bodey 1966) and ``c = 1/(1 + (CD4/CD4_low)^4)`` (late, CD4-driven;
  Storek's infection counts by period);
* treatment-related infection death: ``m·(f_N·n(ANC) + f_4·c(CD4))``;
* cardiac toxicity of cyclophosphamide: ``m·k_C·C_CY(t)^γ_C``; its fatal part goes to
  treatment-related toxicity death (raised in SSc with heart involvement: the disease's
  ``toxicity_multiplier``);
* other fatal toxicity: ``m·k_T·κ(t)^γ_T`` with κ the marrow-kill rate of the regimen
  (both powers > 1: toxicity follows dose intensity, so monthly pulses add little);
* disease death: ``d_A·I(t) + d_D·D(t)`` (activity and accumulated progression hazard).

``m`` multiplies every treatment-related hazard: age, comorbidity (HCT-CI), transplant-centre
experience (CIBMTR: relative risk 3.5 for centres with < 5 autoimmune transplants).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from immunoreset.engine import layout as L


@nb.njit(cache=True, inline="always")
def hazard_rhs(y: np.ndarray, p: np.ndarray, anc: float, cd4: float, c_cy: float,
               kill_prog: float, act: float, dydt: np.ndarray) -> None:
    """Integrated hazards (per day)."""
    x = max(anc, 0.0) / 500.0
    neut = 1.0 / (1.0 + x * x * x * x)
    z = max(cd4, 0.0) / p[L.C_CD4_LOW]
    low4 = 1.0 / (1.0 + z * z * z * z)
    m = p[L.C_TRM_MULT]
    dydt[L.H_INF] = p[L.C_INF_BASE] + p[L.C_INF_NEUT] * neut + p[L.C_INF_CD4] * low4
    dydt[L.H_DINF] = m * (p[L.C_FATAL_NEUT] * neut + p[L.C_FATAL_CD4] * low4)
    # dose-intensity dependence (Goldberg 1986: toxicity above a daily-dose threshold):
    # hazards rise with a power of concentration / kill rate, not with cumulative exposure
    card = m * p[L.C_CARD_PER_AUC] * c_cy ** p[L.C_CARD_POWER]
    dydt[L.H_CARD] = card
    dydt[L.H_DTOX] = card * p[L.C_CARD_FATAL] + \
        m * p[L.C_TOX_OTHER] * kill_prog ** p[L.C_TOX_POWER]
    dydt[L.H_DDIS] = p[L.C_DIS_ACT] * act + p[L.C_DIS_DMG] * max(y[L.DMG], 0.0)
