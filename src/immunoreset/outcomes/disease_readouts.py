"""Clinical read-outs driven by the patient's autoreactive activity history.

A disease module declares its read-outs (:class:`~immunoreset.diseases.base.ActivityReadout`:
FVC % predicted in systemic sclerosis, stimulated C-peptide in type 1 diabetes, SES-CD and
endoscopic remission in Crohn's disease). A continuous read-out is a deterministic function
of the activity ``I(t)`` (relative to the pre-transplant level, observation ``OBS_ACT``) and
of the patient's baseline ``X0``::

    X(t) = X0 · exp(−k · A(t)/365.25) · (1 + g · (1 − Ī(t)))

* ``A(t) = ∫₀ᵗ I dt`` (activity-days after infusion, trapezoid on the output grid; see
  :func:`~immunoreset.outcomes.disease_events.cumulative_activity`): the irreversible part,
  a loss of a fraction ``k = <readout>.loss_per_activity_year`` per year at the
  pre-transplant activity (``k < 0`` would be a gain). Proportional loss: organ function is
  lost in proportion to what is left (β-cell mass, C-peptide decays exponentially;
  lung volume), so ``X`` never crosses zero.
* ``Ī(t)``: the activity seen through a first-order lag, ``dĪ/dt = (I − Ī)·ln2/τ``,
  ``τ = <readout>.recovery_half_life``, ``Ī = 1`` at the first grid time (the pre-transplant
  state): the reversible part (inflammation, oedema, stunned β-cells, mucosal ulcers) that
  resolves over weeks to months once the activity falls. ``g = <readout>.reversible_gain`` is
  the relative change of ``X`` when that part has fully resolved (``g = −1``: all of ``X``
  is activity, e.g. SES-CD mucosal ulceration; ``g > 0``: function returns).
* ``X0 ~`` truncated normal(``baseline_mean``, ``baseline_sd``) on
  [``baseline_min``, ``baseline_max``], from one standard normal per continuous read-out
  drawn from the patient's own stream (``streams.DISEASE_READOUTS``), so the value does not
  depend on the batch or the worker.

Nothing is clipped: with ``g ≥ −1`` the product is non-negative by construction (a
parameter set with ``g < −1`` is rejected by the registry bounds). A threshold read-out is
true at year ``y`` when the patient is alive at ``y``, ``y`` is within the horizon, and its
continuous read-out is at or below (``below``) or at or above ``<readout>.threshold``.
Continuous values at ``y`` are NaN beyond the horizon or once the patient has died.
"""

from __future__ import annotations

import math

import numpy as np

from immunoreset.diseases.base import EVENT_YEARS, DiseaseModel
from immunoreset.engine.model import OBS_ACT
from immunoreset.outcomes.disease_events import cumulative_activity
from immunoreset.parameters import ParameterSet
from immunoreset.population import streams as st
from immunoreset.population.covariates import truncated_normal

_DAYS_PER_YEAR = 365.25


def lagged_activity(times: np.ndarray, obs: np.ndarray, half_life: float) -> np.ndarray:
    """``Ī`` on the whole grid: ``dĪ/dt = (I − Ī)·ln2/half_life``, ``Ī(times[0]) = 1``.

    Exact for an activity that is piecewise constant at the mean of each grid interval."""
    a = np.maximum(np.nan_to_num(obs[:, :, OBS_ACT], nan=0.0), 0.0)
    decay = np.exp(-math.log(2.0) / half_life * np.diff(times))
    mid = 0.5 * (a[:, 1:] + a[:, :-1])
    out = np.empty_like(a)
    out[:, 0] = 1.0
    for j in range(len(times) - 1):
        out[:, j + 1] = out[:, j] * decay[j] + (1.0 - decay[j]) * mid[:, j]
    return out


def readout_baselines(dm: DiseaseModel, params: ParameterSet, seed: int,
                      patient_ids: np.ndarray) -> dict[str, np.ndarray]:
    """Baseline ``X0`` of every continuous read-out, from each patient's own stream."""
    cont = [r for r in dm.readouts if r.kind == "continuous"]
    z = np.empty((len(patient_ids), len(cont)))
    for i, k in enumerate(patient_ids):
        z[i] = st.patient_generator(seed, int(k), st.DISEASE_READOUTS).standard_normal(len(cont))
    out = {}
    for j, r in enumerate(cont):
        q = f"{r.id}."
        out[r.id] = truncated_normal(z[:, j], dm.p(params, q + "baseline_mean"),
                                     dm.p(params, q + "baseline_sd"),
                                     dm.p(params, q + "baseline_min"),
                                     dm.p(params, q + "baseline_max"))
    return out


def readout_trajectory(x0: np.ndarray, times: np.ndarray, obs: np.ndarray, *, loss: float,
                       gain: float, half_life: float) -> tuple[np.ndarray, np.ndarray]:
    """``(days ≥ 0, X per patient on them)`` for one continuous read-out."""
    t, cum = cumulative_activity(times, obs)
    lag = lagged_activity(times, obs, half_life)[:, times >= 0.0]
    x = x0[:, None] * np.exp(-loss * cum / _DAYS_PER_YEAR) * (1.0 + gain * (1.0 - lag))
    return t, x


def disease_readout_outcomes(dm: DiseaseModel, times: np.ndarray, obs: np.ndarray, *,
                             death_day: np.ndarray, horizon_days: float, seed: int,
                             patient_ids: np.ndarray, params: ParameterSet
                             ) -> dict[str, np.ndarray]:
    """Columns of the disease's read-outs (see the module docstring)."""
    if not dm.readouts:
        return {}
    x0 = readout_baselines(dm, params, seed, patient_ids)
    dead_by = {y: ~np.isnan(death_day) & (death_day <= y * 365.0) for y in EVENT_YEARS}
    values: dict[tuple[str, int], np.ndarray] = {}
    out: dict[str, np.ndarray] = {}
    for r in dm.readouts:
        if r.kind != "continuous":
            continue
        q = f"{r.id}."
        t, x = readout_trajectory(x0[r.id], times, obs,
                                  loss=dm.p(params, q + "loss_per_activity_year"),
                                  gain=dm.p(params, q + "reversible_gain"),
                                  half_life=dm.p(params, q + "recovery_half_life"))
        out[f"{r.id}_baseline"] = x0[r.id]
        for y in EVENT_YEARS:
            day = y * 365.0
            if horizon_days >= day and t[-1] >= day - 1e-9:
                j = min(max(int(np.searchsorted(t, day)), 1), len(t) - 1)
                w = (day - t[j - 1]) / (t[j] - t[j - 1])
                v = (1.0 - w) * x[:, j - 1] + w * x[:, j]
                v[dead_by[y]] = np.nan
            else:
                v = np.full(len(x), np.nan)
            values[(r.id, y)] = v
            out[f"{r.id}_y{y}"] = v
    for r in dm.readouts:
        if r.kind != "threshold":
            continue
        thr = dm.p(params, f"{r.id}.threshold")
        for y in EVENT_YEARS:
            v = values[(r.of, y)]  # NaN (dead or beyond horizon) compares false
            with np.errstate(invalid="ignore"):
                out[f"{r.id}_y{y}"] = (v <= thr) if r.below else (v >= thr)
    return out

