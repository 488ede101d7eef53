"""Per-patient scipy reference ("oracle") of the same model, for tests and benchmarks.

The right-hand side is the very numba function the batch kernel uses (or its pure-Python
``.py_func`` to measure the model as a modeller would write it); the integration is scipy's
``solve_ivp`` between the same stop times, with the same rules and impulses.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from immunoreset.engine import layout as L
from immunoreset.engine.assemble import KernelInputs
from immunoreset.engine.model import N_OBS, apply_rules, effector_switch, observe_at, rhs
from immunoreset.engine.solver import CROSS_FROM, CROSS_RELAPSE, N_CROSS, _cross_value, _stop_times


def integrate_patient_scipy(ki: KernelInputs, i: int, out_times: np.ndarray,
                            check_times: np.ndarray, t_end: float,
                            thresholds: np.ndarray | None = None, *,
                            method: str = "LSODA", rtol: float = 1e-9, python_rhs: bool = False,
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Integrate patient ``i`` of ``ki``; returns ``(obs[M, N_OBS], crossings, tx_log, nfev)``."""
    f = rhs.py_func if python_rhs else rhs
    thresholds = ki.thresholds[i] if thresholds is None else thresholds
    p = ki.p[i].copy()
    da, dt0, ddur, damt = ki.d_agent[i], ki.d_t0[i], ki.d_dur[i], ki.d_amount[i]
    conc = np.empty(L.N_AGENTS)
    atol = ki.atol[i] * 1e-2

    def fun(t: float, y: np.ndarray) -> np.ndarray:
        dy = np.empty_like(y)
        f(t, y, p, da, dt0, ddur, damt, conc, dy)
        return dy

    obs = np.full((len(out_times), N_OBS), np.nan)
    cross = np.full(N_CROSS, np.nan)
    tx = np.zeros(len(check_times), dtype=np.int64)
    below = np.zeros(N_CROSS, dtype=bool)
    last_rbc = np.array([-1e9])
    o = np.empty(N_OBS)
    stops = _stop_times(out_times, check_times, ki.imp_t[i], dt0, ddur, ki.t_start, t_end,
                        p[L.D_EFF_SW:L.D_EFF_SW + L.N_EFF_SWITCH])
    effector_switch(ki.t_start, p)
    y = ki.y0[i].copy()
    t = ki.t_start
    nfev = 0
    idx_out = {round(float(v), 9): k for k, v in enumerate(out_times)}
    idx_chk = {round(float(v), 9): k for k, v in enumerate(check_times)}
    if round(t, 9) in idx_out:
        observe_at(t, y, p, da, dt0, ddur, damt, conc, o)
        obs[idx_out[round(t, 9)]] = o

    def cval(yy: np.ndarray, j: int) -> float:
        return float(_cross_value(yy, p, j))

    for ts in stops:
        sol = solve_ivp(fun, (t, ts), y, method=method, rtol=rtol, atol=atol, dense_output=True)
        if not sol.success:
            raise RuntimeError(f"scipy failed for patient {i}: {sol.message}")
        nfev += sol.nfev
        for j in range(N_CROSS):
            if t < CROSS_FROM[j] or not np.isnan(cross[j]):
                continue
            vals = np.array([cval(sol.y[:, k], j) for k in range(sol.y.shape[1])])
            lo_thr, thr = thresholds[j]
            for k in range(len(vals) - 1):
                if vals[k] < lo_thr:
                    below[j] = True
                if below[j] and np.isnan(cross[j]) and vals[k] < thr <= vals[k + 1]:
                    lo, hi = sol.t[k], sol.t[k + 1]
                    for _ in range(60):
                        mid = 0.5 * (lo + hi)
                        if cval(sol.sol(mid), j) < thr:
                            lo = mid
                        else:
                            hi = mid
                    cross[j] = 0.5 * (lo + hi)
            if vals[-1] < lo_thr:
                below[j] = True
        y = sol.y[:, -1].copy()
        t = ts
        key = round(float(t), 9)
        if key in idx_out:
            observe_at(t, y, p, da, dt0, ddur, damt, conc, o)
            obs[idx_out[key]] = o
        if key in idx_chk:
            tx[idx_chk[key]] = apply_rules(t, y, p, ki.rules, last_rbc)
        for m in range(ki.imp_t.shape[1]):
            if not np.isnan(ki.imp_t[i, m]) and abs(ki.imp_t[i, m] - t) <= 1e-9:
                for s in range(len(y)):
                    dest = ki.imp_move[i, m, s]
                    if dest >= 0:
                        y[dest] += y[s]
                        y[s] = 0.0
                y = y * ki.imp_mult[i, m] + ki.imp_add[i, m]
        if effector_switch(t, p):
            j = CROSS_RELAPSE
            if (t >= CROSS_FROM[j] and np.isnan(cross[j]) and below[j]
                    and cval(y, j) >= thresholds[j][1]):
                cross[j] = t
        for j in range(N_CROSS):
            if t >= CROSS_FROM[j] and cval(y, j) < thresholds[j][0]:
                below[j] = True
    return obs, cross, tx, nfev
