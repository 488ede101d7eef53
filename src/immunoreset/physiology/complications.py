"""Complications as time-varying hazards driven by the simulated state (issue: risks).

Each hazard is integrated as an extra state; an event fires when its integral reaches a
unit-exponential threshold pre-drawn from the patient's own stream (DESIGN §4), so a
patient's history never depends on batch or worker. Causes of death compete: the first
cause whose threshold is reached is the cause (mutually exclusive, DESIGN vocabulary).

* infection: ``h = b + h_N·n(ANC) + h_4·c(CD4) + h_B·β(B)`` with
  ``n = 1/(1 + (ANC/500)^4)`` (neutropenia, Bodey 1966), ``c = 1/(1 + (CD4/CD4_low)^4)``
  (late, CD4-driven) and ``β = 1/(1 + (B/B_low)^4)`` (humoral deficiency in the first
  months; Storek's infection counts by period);
* treatment-related infection death: ``m·c_C·(f_N·n(ANC) + f_4·c(CD4))``;
* cardiac toxicity of cyclophosphamide: ``m·k_C·C_CY(t)^γ_C``; its fatal part goes to
  treatment-related toxicity death, times ``c_C`` (raised in SSc with heart involvement:
  the disease's ``cardiac_toxicity_multiplier``);
* other fatal toxicity: ``m·c_C·k_T·κ(t)^γ_T`` with κ the marrow-kill rate of the regimen
  (both powers > 1: toxicity follows dose intensity, so monthly pulses add little);
* disease death: ``d_A·I(t) + d_D·D(t)`` (activity and accumulated progression hazard).

``m`` multiplies every treatment-related hazard: age and comorbidity (HCT-CI). ``c_C``, the
transplant centre's experience (CIBMTR relative risk of death: 3.5 for < 5, 4.2 for 5-15
autoimmune transplants, 1 above), multiplies only the death hazards (and, in
``outcomes/complications``, the fatal share of secondary autoimmunity).

Viral reactivation and its consequences (seropositive patients only, ``s`` = 1):

* loss of virus-specific T-cell control ``v = 1/(1 + (M/M_v)^4)`` with ``M`` the memory
  CD4 + CD8 pool and ``M_v`` a fraction of the patient's own baseline memory pool (about
  0.4 % of the maximal hazard at baseline; virus-specific T cells are memory cells, ATG and
  conditioning deplete them, so more ATG means less control — no separate ATG term);
* CMV: ``s_CMV·k_CMV·v``; EBV: ``s_EBV·k_EBV·v``;
* PTLD: ``s_EBV·k_PTLD·v²·B/B*`` (EBV-driven B-cell expansion without T-cell control).

Secondary autoimmunity (thyroiditis, ITP, AIHA…; Daikeler 2011): homeostatic expansion of
T cells under lymphopenia once B cells are back, ``D = (f(T) − 1)·min(B/B*, 1)``, seen with
a latency ``τ`` (``dZ/dt = (D − Z)/τ``), hazard ``k_SAI·Z``.

Allogeneic grafts: donor alloreactive T cells ``A`` (infused with the graft in proportion to
its T-cell content and the HLA disparity of the donor) expand while the host is lymphopenic
towards an antigen-limited capacity and are killed like host T cells by ATG and
chemotherapy (post-graft ATG exposure and post-transplant cyclophosphamide act through that
kill): ``dA/dt = A(ρ_A(f(T) − 1)(1 − A/K_A) − δ_A − k_T)``; acute GVHD (grade II–IV)
hazard ``k_a·A`` before day ``d_c`` (100), chronic GVHD ``k_c·A`` after it;
graft-versus-autoimmunity kills host autoreactive cells at ``κ_GvA·A`` (model right-hand side).

Organ toxicity events and late malignancy:

* engraftment syndrome: ``k_ES·max(dANC/dt, 0)/500`` on days 0–30 of a transplant (fever,
  rash, capillary leak as neutrophils return; Oyama 2002, Strunz 2021);
* sinusoidal obstruction syndrome: ``m·k_SOS·C_BU(t)`` (busulfan exposure);
* severe oral mucositis: ``k_muc·C_MEL(t)²`` (melphalan AUC–mucositis relation);
* pulmonary toxicity: ``m·k_pulm·C_BCNU(t)²`` (dose-dependent carmustine pneumonitis);
* febrile neutropenia: ``k_FN·n(ANC)``;
* VZV reactivation (zoster): ``s_VZV·k_VZV·c(CD4)·(1 − e_acv·1[t < T_acv])`` — CD4-dependent
  control, acyclovir prophylaxis during the first ``T_acv`` days;
* acute kidney injury: ``m·(k_AKI·n(ANC) + k_mel·C_MEL)`` (sepsis and nephrotoxic
  anti-infectives during aplasia; high-dose melphalan);
* late malignancy: ``k_mal·G·t/(t + T_lat)`` with ``G`` the cumulative log-kill of HSC by
  drugs and TBI (genotoxic exposure), rising after a latency.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from immunoreset.engine import layout as L


@nb.njit(cache=True, inline="always")
def hazard_rhs(t: float, y: np.ndarray, p: np.ndarray, anc: float, cd4: float,
               conc: np.ndarray, kill_hsc: float, kill_prog: float, act: float, tmem: float,
               lp_drive: float, k_t: float, dydt: np.ndarray) -> None:
    """Integrated hazards (per day) and the donor alloreactive pool."""
    x = max(anc, 0.0) / 500.0
    neut = 1.0 / (1.0 + x * x * x * x)
    z = max(cd4, 0.0) / p[L.C_CD4_LOW]
    low4 = 1.0 / (1.0 + z * z * z * z)
    m = p[L.C_TRM_MULT]
    zb = max(y[L.BCELL], 0.0) / p[L.C_B_LOW]
    lowb = 1.0 / (1.0 + zb * zb * zb * zb)
    dydt[L.H_INF] = p[L.C_INF_BASE] + p[L.C_INF_NEUT] * neut + p[L.C_INF_CD4] * low4 + \
        p[L.C_INF_B] * lowb
    # the centre's experience acts on deaths (CIBMTR: risk of death), not on how often
    # complications happen
    mc = m * p[L.C_CENTRE_MULT]
    dydt[L.H_DINF] = mc * (p[L.C_FATAL_NEUT] * neut + p[L.C_FATAL_CD4] * low4)
    # dose-intensity dependence (Goldberg 1986: toxicity above a daily-dose threshold):
    # hazards rise with a power of concentration / kill rate, not with cumulative exposure
    card = m * p[L.C_CARD_PER_AUC] * conc[0] ** p[L.C_CARD_POWER]
    dydt[L.H_CARD] = card
    dydt[L.H_DTOX] = p[L.C_CENTRE_MULT] * card * p[L.C_CARD_FATAL] + \
        mc * p[L.C_TOX_OTHER] * kill_prog ** p[L.C_TOX_POWER]
    dydt[L.H_DDIS] = p[L.C_DIS_ACT] * act + p[L.C_DIS_DMG] * max(y[L.DMG], 0.0)
    # viral reactivation: loss of memory T-cell control
    w = max(tmem, 0.0) / p[L.C_VIR_TMEM]
    w2 = w * w
    v = 1.0 / (1.0 + w2 * w2)
    dydt[L.H_CMV] = p[L.C_CMV_SERO] * p[L.C_CMV_RATE] * v
    dydt[L.H_EBV] = p[L.C_EBV_SERO] * p[L.C_EBV_RATE] * v
    dydt[L.H_PTLD] = p[L.C_EBV_SERO] * p[L.C_PTLD_RATE] * v * v * \
        max(y[L.BCELL], 0.0) / p[L.B_REF]
    # secondary autoimmunity: homeostatic expansion once B cells are back, with latency
    b_back = min(max(y[L.BCELL], 0.0) / p[L.B_REF], 1.0)
    dydt[L.SAI_Z] = (max(lp_drive, 0.0) * b_back - y[L.SAI_Z]) / p[L.C_SAI_TAU]
    dydt[L.H_SAI] = p[L.C_SAI_RATE] * max(y[L.SAI_Z], 0.0)
    # donor alloreactive T cells and GVHD (all zero for autologous grafts)
    a = max(y[L.ALLO], 0.0)
    expand = p[L.C_ALLO_RHO] * max(lp_drive, 0.0) * (1.0 - a / p[L.C_ALLO_K])
    dydt[L.ALLO] = a * (expand - p[L.C_ALLO_DEATH] - k_t)
    if t < p[L.C_GVHD_DAY]:
        dydt[L.H_AGVHD] = p[L.C_AGVHD_RATE] * a
        dydt[L.H_CGVHD] = 0.0
    else:
        dydt[L.H_AGVHD] = 0.0
        dydt[L.H_CGVHD] = p[L.C_CGVHD_RATE] * a
    # organ toxicity events: engraftment syndrome while neutrophils come back after the
    # graft; SOS from busulfan; severe mucositis from melphalan (dose intensity, squared)
    if 0.0 <= t <= p[L.C_ES_WINDOW]:
        rise = max(dydt[L.NEUT], 0.0) / (p[L.BLOOD_VOLUME_UL_PER_KG] * 500.0)
        dydt[L.H_ES] = p[L.C_ES_RATE] * rise
    else:
        dydt[L.H_ES] = 0.0
    dydt[L.H_SOS] = m * p[L.C_SOS_RATE] * conc[1]
    dydt[L.H_MUC] = p[L.C_MUC_RATE] * conc[2] * conc[2]
    dydt[L.H_PULM] = m * p[L.C_PULM_RATE] * conc[3] * conc[3]
    # febrile neutropenia: fever during neutropenia, far more common than a documented
    # infection
    dydt[L.H_FN] = p[L.C_FN_RATE] * neut
    # VZV (zoster): CD4-dependent control, suppressed while acyclovir prophylaxis is given
    acv = 1.0 - p[L.C_ACV_EFFECT] if 0.0 <= t < p[L.C_ACV_END] else 1.0
    dydt[L.H_VZV] = p[L.C_VZV_SERO] * p[L.C_VZV_RATE] * low4 * acv
    # acute kidney injury: sepsis and nephrotoxic anti-infectives during aplasia, melphalan
    dydt[L.H_AKI] = m * (p[L.C_AKI_RATE] * neut + p[L.C_AKI_MEL] * conc[2])
    # late malignancy: genotoxic exposure (drug log-kill of HSC; TBI adds at its impulse)
    # with a latency ramp
    dydt[L.GENO] = kill_hsc
    if t > 0.0:
        dydt[L.H_MAL] = p[L.C_MAL_RATE] * max(y[L.GENO], 0.0) * t / (t + p[L.C_MAL_LATENCY])
    else:
        dydt[L.H_MAL] = 0.0
