"""Compiled batch solver: per-patient adaptive Dormand–Prince 5(4), patients in parallel.

Each patient is integrated with its own step size (DESIGN §4) over a sorted list of *stop
times*: output grid points, supportive-care check days, impulse times (graft infusion,
TBI fractions) and the start/end of every drug infusion (kinks of the closed-form PK
forcing). Steps are clipped to land on stop times, so daily values are exact solver
values rather than interpolations. Upward threshold crossings (engraftment) are located
inside a step by cubic Hermite interpolation on the step's end-point derivatives.

The Butcher tableau is the standard Dormand & Prince (1980) pair (J Comput Appl Math
6:19–26), with the error-control rule of Hairer, Nørsett & Wanner, *Solving ODEs I*, §II.4.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from immunoreset.engine import layout as L
from immunoreset.engine.model import (
    N_OBS,
    OBS_ANC,
    activity,
    apply_rules,
    effector_switch,
    observe_at,
    rhs,
)

# Dormand–Prince coefficients
C2, C3, C4, C5 = 1 / 5, 3 / 10, 4 / 5, 8 / 9
A21 = 1 / 5
A31, A32 = 3 / 40, 9 / 40
A41, A42, A43 = 44 / 45, -56 / 15, 32 / 9
A51, A52, A53, A54 = 19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729
A61, A62, A63, A64, A65 = 9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656
B1, B3, B4, B5, B6 = 35 / 384, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84
E1, E3, E4, E5, E6, E7 = (-71 / 57600, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525,
                          1 / 40)

#: crossing channels: 0 = ANC (observed), 1 = own platelets (state PLT, excludes
#: transfused), 2 = organ-failure hazard integral (event when it reaches the patient's
#: pre-drawn unit-exponential threshold), 3 = autoreactive activity (relapse).
#: ``thresholds[j] = (below, cross)``: a crossing is the first upward crossing of ``cross``
#: at or after ``CROSS_FROM[j]`` that follows a value below ``below`` at or after that time.
#: 4–15: integrated complication hazards (first infection, infection death, toxicity death,
#: disease death, cardiac toxicity, CMV, EBV, PTLD, secondary autoimmunity, acute and
#: chronic GVHD, engraftment syndrome, SOS, severe mucositis, late malignancy, febrile
#: neutropenia, pulmonary toxicity, VZV, acute kidney injury), events at
#: pre-drawn unit-exponential thresholds.
N_CROSS = 23
(CROSS_ANC, CROSS_PLT, CROSS_ORGAN, CROSS_RELAPSE, CROSS_INFECTION, CROSS_DEATH_INFECTION,
 CROSS_DEATH_TOXICITY, CROSS_DEATH_DISEASE, CROSS_CARDIAC, CROSS_CMV, CROSS_EBV, CROSS_PTLD,
 CROSS_SAI, CROSS_AGVHD, CROSS_CGVHD, CROSS_ES, CROSS_SOS, CROSS_MUC,
 CROSS_MAL, CROSS_FN, CROSS_PULM, CROSS_VZV, CROSS_AKI) = range(N_CROSS)
#: first channel that reads an integrated hazard, and the state each such channel reads
FIRST_HAZARD_CHANNEL = CROSS_INFECTION
HAZARD_STATES = np.array([L.H_INF, L.H_DINF, L.H_DTOX, L.H_DDIS, L.H_CARD, L.H_CMV, L.H_EBV,
                          L.H_PTLD, L.H_SAI, L.H_AGVHD, L.H_CGVHD, L.H_ES, L.H_SOS, L.H_MUC,
                          L.H_MAL, L.H_FN, L.H_PULM, L.H_VZV, L.H_AKI], dtype=np.int64)
CROSS_FROM = np.array([0.0, 0.0, -1e9, 0.0] + [-1e9] * (N_CROSS - 4))

STATUS_OK, STATUS_MAX_STEPS, STATUS_STEP_UNDERFLOW = 0, 1, 2


@nb.njit(cache=True)
def _cross_value(y: np.ndarray, p: np.ndarray, j: int) -> float:
    bv = p[L.BLOOD_VOLUME_UL_PER_KG]
    if j == 0:
        return y[L.NEUT] / bv
    if j == 1:
        return y[L.PLT] / bv
    if j == 2:
        return y[L.DMG]
    if j == 3:
        return activity(y, p)
    return y[HAZARD_STATES[j - FIRST_HAZARD_CHANNEL]]


@nb.njit(cache=True)
def _hermite(y0: np.ndarray, y1: np.ndarray, f0: np.ndarray, f1: np.ndarray, h: float,
             th: float, out: np.ndarray) -> None:
    h00 = (1 + 2 * th) * (1 - th) ** 2
    h10 = th * (1 - th) ** 2
    h01 = th * th * (3 - 2 * th)
    h11 = th * th * (th - 1)
    for i in range(y0.shape[0]):
        out[i] = h00 * y0[i] + h10 * h * f0[i] + h01 * y1[i] + h11 * h * f1[i]


@nb.njit(cache=True)
def _stop_times(out_times, check_times, imp_t, d_t0, d_dur, t_start, t_end, switches):
    n = out_times.shape[0] + check_times.shape[0] + imp_t.shape[0] + 2 * d_t0.shape[0] + 1 \
        + switches.shape[0]
    buf = np.empty(n)
    k = 0
    for v in out_times:
        buf[k] = v
        k += 1
    for v in check_times:
        buf[k] = v
        k += 1
    for v in imp_t:
        if not math.isnan(v):
            buf[k] = v
            k += 1
    for i in range(d_t0.shape[0]):
        if d_dur[i] > 0:
            buf[k] = d_t0[i]
            buf[k + 1] = d_t0[i] + d_dur[i]
            k += 2
    for v in switches:
        if v <= t_end:
            buf[k] = v
            k += 1
    buf[k] = t_end
    k += 1
    s = np.sort(buf[:k])
    res = np.empty(k)
    m = 0
    for v in s:
        if v <= t_start or v > t_end:
            continue
        if m == 0 or v - res[m - 1] > 1e-12:
            res[m] = v
            m += 1
    return res[:m]


@nb.njit(cache=True)
def integrate_patient(y0, p, d_agent, d_t0, d_dur, d_amount, imp_t, imp_mult, imp_add, imp_move,
                      check_times, rules, out_times, t_start, t_end, atol, rtol,
                      thresholds, obs_out, cross_out, tx_log, max_steps):
    """Integrate one patient; fill ``obs_out[M, N_OBS]``, ``cross_out[N_CROSS]`` and
    ``tx_log[C]`` (transfusion bit mask on each check day).

    Returns ``(status, n_accepted_steps, n_rhs_evaluations)``.
    """
    ns = y0.shape[0]
    y = y0.copy()
    p = p.copy()  # rules may change per-patient settings (G-CSF stop day)
    ynew = np.empty(ns)
    ytmp = np.empty(ns)
    k1 = np.empty(ns)
    k2 = np.empty(ns)
    k3 = np.empty(ns)
    k4 = np.empty(ns)
    k5 = np.empty(ns)
    k6 = np.empty(ns)
    k7 = np.empty(ns)
    conc = np.empty(L.N_AGENTS)
    obs = np.empty(N_OBS)
    last_rbc = np.array([-1e9])
    below = np.zeros(N_CROSS, dtype=np.bool_)
    for j in range(N_CROSS):
        cross_out[j] = np.nan
    stops = _stop_times(out_times, check_times, imp_t, d_t0, d_dur, t_start, t_end,
                        p[L.D_EFF_SW:L.D_EFF_SW + L.N_EFF_SWITCH])
    effector_switch(t_start, p)
    t = t_start
    h = 1e-2
    n_acc = 0
    n_eval = 0
    i_out = 0
    i_chk = 0
    # record outputs at t_start if requested
    while i_out < out_times.shape[0] and out_times[i_out] <= t_start + 1e-12:
        observe_at(t, y, p, d_agent, d_t0, d_dur, d_amount, conc, obs)
        for q in range(N_OBS):
            obs_out[i_out, q] = obs[q]
        i_out += 1
    rhs(t, y, p, d_agent, d_t0, d_dur, d_amount, conc, k1)
    n_eval += 1
    for s_idx in range(stops.shape[0]):
        t_stop = stops[s_idx]
        while t < t_stop - 1e-12:
            if n_acc > max_steps:
                return STATUS_MAX_STEPS, n_acc, n_eval
            last = False
            if t + h >= t_stop - 1e-12:
                hh = t_stop - t
                last = True
            else:
                hh = h
            for i in range(ns):
                ytmp[i] = y[i] + hh * A21 * k1[i]
            rhs(t + C2 * hh, ytmp, p, d_agent, d_t0, d_dur, d_amount, conc, k2)
            for i in range(ns):
                ytmp[i] = y[i] + hh * (A31 * k1[i] + A32 * k2[i])
            rhs(t + C3 * hh, ytmp, p, d_agent, d_t0, d_dur, d_amount, conc, k3)
            for i in range(ns):
                ytmp[i] = y[i] + hh * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i])
            rhs(t + C4 * hh, ytmp, p, d_agent, d_t0, d_dur, d_amount, conc, k4)
            for i in range(ns):
                ytmp[i] = y[i] + hh * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i])
            rhs(t + C5 * hh, ytmp, p, d_agent, d_t0, d_dur, d_amount, conc, k5)
            for i in range(ns):
                ytmp[i] = y[i] + hh * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i]
                                       + A65 * k5[i])
            rhs(t + hh, ytmp, p, d_agent, d_t0, d_dur, d_amount, conc, k6)
            for i in range(ns):
                ynew[i] = y[i] + hh * (B1 * k1[i] + B3 * k3[i] + B4 * k4[i] + B5 * k5[i]
                                       + B6 * k6[i])
            rhs(t + hh, ynew, p, d_agent, d_t0, d_dur, d_amount, conc, k7)
            n_eval += 6
            err = 0.0
            for i in range(ns):
                sc = atol[i] + rtol * max(abs(y[i]), abs(ynew[i]))
                e = hh * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i]
                          + E7 * k7[i]) / sc
                err += e * e
            err = math.sqrt(err / ns)
            if err <= 1.0:
                # threshold crossings inside the accepted step
                for j in range(N_CROSS):
                    if t < CROSS_FROM[j] or not math.isnan(cross_out[j]):
                        continue
                    v0 = _cross_value(y, p, j)
                    v1 = _cross_value(ynew, p, j)
                    thr = thresholds[j, 1]
                    if v0 < thresholds[j, 0]:
                        below[j] = True
                    if below[j] and v0 < thr <= v1:
                        lo, hi = 0.0, 1.0
                        for _ in range(50):
                            mid = 0.5 * (lo + hi)
                            _hermite(y, ynew, k1, k7, hh, mid, ytmp)
                            if _cross_value(ytmp, p, j) < thr:
                                lo = mid
                            else:
                                hi = mid
                        cross_out[j] = t + 0.5 * (lo + hi) * hh
                    if v1 < thresholds[j, 0]:
                        below[j] = True
                t = t_stop if last else t + hh
                for i in range(ns):
                    y[i] = ynew[i]
                    k1[i] = k7[i]
                n_acc += 1
                fac = 0.9 * err ** -0.2 if err > 1e-10 else 10.0
                hnew = hh * min(10.0, max(0.2, fac))
                if not last or hnew > h:
                    h = hnew
            else:
                fac = 0.9 * err ** -0.2
                h = hh * max(0.2, fac)
                if h < 1e-12:
                    return STATUS_STEP_UNDERFLOW, n_acc, n_eval
        # at the stop: record, rules, impulses
        changed = False
        while i_out < out_times.shape[0] and abs(out_times[i_out] - t) <= 1e-9:
            observe_at(t, y, p, d_agent, d_t0, d_dur, d_amount, conc, obs)
            for q in range(N_OBS):
                obs_out[i_out, q] = obs[q]
            i_out += 1
        while i_chk < check_times.shape[0] and check_times[i_chk] < t - 1e-9:
            i_chk += 1
        if i_chk < check_times.shape[0] and abs(check_times[i_chk] - t) <= 1e-9:
            flags = apply_rules(t, y, p, rules, last_rbc)
            tx_log[i_chk] = flags
            if flags != 0:
                changed = True
            i_chk += 1
        for m in range(imp_t.shape[0]):
            if not math.isnan(imp_t[m]) and abs(imp_t[m] - t) <= 1e-9:
                for i in range(ns):
                    dest = imp_move[m, i]
                    if dest >= 0:
                        y[dest] += y[i]
                        y[i] = 0.0
                for i in range(ns):
                    y[i] = y[i] * imp_mult[m, i] + imp_add[m, i]
                changed = True
        if effector_switch(t, p):
            changed = True
            # a flare lifts the activity at once: a relapse if it crosses the threshold
            if (t >= CROSS_FROM[CROSS_RELAPSE] and math.isnan(cross_out[CROSS_RELAPSE])
                    and below[CROSS_RELAPSE]
                    and _cross_value(y, p, CROSS_RELAPSE) >= thresholds[CROSS_RELAPSE, 1]):
                cross_out[CROSS_RELAPSE] = t
        # refresh the derivative: the state jumped or the forcing has a kink here
        rhs(t, y, p, d_agent, d_t0, d_dur, d_amount, conc, k1)
        n_eval += 1
        if changed:
            for j in range(N_CROSS):
                if t >= CROSS_FROM[j] and _cross_value(y, p, j) < thresholds[j, 0]:
                    below[j] = True
    return STATUS_OK, n_acc, n_eval


@nb.njit(cache=True, parallel=True)
def integrate_batch(y0, p, d_agent, d_t0, d_dur, d_amount, imp_t, imp_mult, imp_add, imp_move,
                    check_times, rules, out_times, t_start, t_end, atol, rtol, thresholds,
                    obs_out, cross_out, tx_log, status, steps, max_steps):
    """Integrate every patient of a batch in parallel (``prange`` over patients)."""
    n = y0.shape[0]
    for i in nb.prange(n):
        st, na, _ = integrate_patient(
            y0[i], p[i], d_agent[i], d_t0[i], d_dur[i], d_amount[i], imp_t[i], imp_mult[i],
            imp_add[i], imp_move[i], check_times, rules, out_times, t_start, t_end, atol[i], rtol,
            thresholds[i], obs_out[i], cross_out[i], tx_log[i], max_steps)
        status[i] = st
        steps[i] = na


ANC_CHANNEL = OBS_ANC
