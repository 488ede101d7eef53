"""Recurrent clinical events driven by the autoreactive activity, and activity-free end points.

A disease module declares its recurrent events (:class:`~immunoreset.diseases.base.ActivityEvent`:
MS clinical relapses and new MRI lesions, SLE renal flares, …). After infusion each event is a
Poisson process with intensity ``λ_e·G·(c·I(t))^n_e``: ``λ_e = disease.<id>.<event>.rate_per_year``
is the rate at the pre-transplant activity (``I = 1``), ``I(t)`` the simulated autoreactive
activity relative to that level, ``n_e`` the event's optional ``activity_exponent`` (default 1;
MS new MRI lesions 1.6: lesions fall more steeply than relapses when the activity falls),
and ``G ~ Gamma(k, 1/k)`` the patient's frailty (mean 1,
``k = disease.<id>.event_frailty_shape``), shared by all the disease's events, so counts are
over-dispersed (negative binomial at constant activity) and correlated; ``c`` is 1, or
``disease.<id>.progressive.activity_factor`` for a patient with the progressive phenotype.

Event times are drawn by time rescaling: with ``Λ(t) = λ_e·G·∫₀ᵗ (c·I)^n_e`` (trapezoid on
the output grid: daily to day 100, weekly after), the events are ``Λ⁻¹(E₁), Λ⁻¹(E₁+E₂), …`` for unit
exponentials ``Eⱼ``. The frailty comes from the patient's EVENTS stream (slot
``EV_FRAILTY``, the one draw that screening's prior-year counts and, in MS, the progression
hazard also read) and the gaps from its own stream (``streams.DISEASE_EVENTS``), so a
patient's events do not depend on the batch or the worker.
Nothing happens after death or beyond the horizon.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from immunoreset.diseases.base import EVENT_YEARS, DiseaseModel
from immunoreset.engine.assemble import EV_FRAILTY
from immunoreset.engine.model import OBS_ACT
from immunoreset.parameters import ParameterSet
from immunoreset.population import streams as st

_DAYS_PER_YEAR = 365.25
_BLOCK = 32  # exponential gaps drawn at a time


def cumulative_activity(times: np.ndarray, obs: np.ndarray, exponent: float = 1.0,
                        scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(days ≥ 0, ∫₀ᵗ (c·I)^n dt per patient)`` on the output grid (activity-days; ``c`` =
    ``scale`` per patient, default 1; ``n`` = ``exponent``)."""
    post = times >= 0.0
    t = times[post]
    a = np.maximum(np.nan_to_num(obs[:, post, OBS_ACT], nan=0.0), 0.0)
    if scale is not None:
        a = a * np.asarray(scale, float)[:, None]
    if exponent != 1.0:
        a = a ** exponent
    inc = 0.5 * (a[:, 1:] + a[:, :-1]) * np.diff(t)[None, :]
    return t, np.concatenate([np.zeros((a.shape[0], 1)), np.cumsum(inc, axis=1)], axis=1)


def _event_times(rng: np.random.Generator, t: np.ndarray, lam: np.ndarray, end: float
                 ) -> np.ndarray:
    """Times in ``[0, end]`` of a process with cumulative intensity ``lam`` on ``t``."""
    total = float(np.interp(end, t, lam))
    targets: list[np.ndarray] = []
    last = 0.0
    while True:
        cum = last + np.cumsum(rng.standard_exponential(_BLOCK))
        targets.append(cum[cum <= total])
        if cum[-1] > total:
            break
        last = float(cum[-1])
    e = np.concatenate(targets)
    if e.size == 0:
        return e
    # Λ is non-decreasing; where it is flat the inverse is the segment's start
    idx = np.searchsorted(lam, e, side="left")
    idx = np.clip(idx, 1, len(t) - 1)
    l0, l1 = lam[idx - 1], lam[idx]
    frac = np.where(l1 > l0, (e - l0) / np.where(l1 > l0, l1 - l0, 1.0), 0.0)
    return t[idx - 1] + frac * (t[idx] - t[idx - 1])


def disease_event_outcomes(dm: DiseaseModel, times: np.ndarray, obs: np.ndarray, *,
                           death_day: np.ndarray, progression_day: np.ndarray,
                           horizon_days: float, seed: int, patient_ids: np.ndarray,
                           params: ParameterSet, progressive: np.ndarray | None = None,
                           frailty: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Columns of the disease's recurrent events and its activity-free composite
    (``progressive``: patients of the progressive phenotype, whose rates are scaled by
    :meth:`~immunoreset.diseases.base.DiseaseModel.inflammation_scale`; ``frailty``: each
    patient's ``G`` from :func:`immunoreset.engine.assemble.patient_frailty`, default the
    unconditioned draw of slot ``EV_FRAILTY``)."""
    n = obs.shape[0]
    if not dm.events:
        return {}
    scale = dm.inflammation_scale(params, progressive, n)
    cums = {}
    for e in dm.events:
        t, cums[e.id] = cumulative_activity(times, obs, dm.event_exponent(params, e.id), scale)
    if frailty is None:  # no recorded prior-year counts: the patient's unconditioned draw
        u = st.uniform_block(seed, patient_ids, st.EVENTS)[:, EV_FRAILTY]
        frailty = dm.event_frailty(params, u, scale=scale)
    g_all = np.asarray(frailty, dtype=float)
    rates = [dm.p(params, f"{e.id}.rate_per_year") / _DAYS_PER_YEAR for e in dm.events]
    end = np.minimum(np.where(np.isnan(death_day), np.inf, death_day), horizon_days)
    end = np.minimum(end, t[-1])
    first = {e.id: np.full(n, np.nan) for e in dm.events}
    counts = {(e.id, y): np.full(n, np.nan) for e in dm.events for y in EVENT_YEARS}
    for i in range(n):
        rng = st.patient_generator(seed, int(patient_ids[i]), st.DISEASE_EVENTS)
        g = g_all[i]
        for e, rate in zip(dm.events, rates, strict=True):
            ev = _event_times(rng, t, rate * g * cums[e.id][i], float(end[i]))
            if ev.size:
                first[e.id][i] = ev[0]
            for y in EVENT_YEARS:
                if horizon_days >= y * 365.0:
                    counts[(e.id, y)][i] = np.count_nonzero(ev <= y * 365.0)
    out: dict[str, np.ndarray] = {}
    for e in dm.events:
        out[f"{e.id}_day"] = first[e.id]
        for y in EVENT_YEARS:
            out[f"{e.id}_count_y{y}"] = counts[(e.id, y)]
    af = dm.activity_free
    if af is not None:
        parts = [first[x] for x in af.events]
        if af.with_progression:
            parts.append(progression_day)
        stacked = np.vstack(parts)
        any_event = ~np.all(np.isnan(stacked), axis=0)
        day = np.where(any_event, np.nanmin(np.where(np.isnan(stacked), np.inf, stacked),
                                            axis=0), np.nan)
        out[f"{af.event_id}_day"] = day
        for y in EVENT_YEARS:
            tt = y * 365.0
            alive = np.isnan(death_day) | (death_day > tt)
            free = np.isnan(day) | (day > tt)
            out[f"{af.id}_y{y}"] = (alive & free & (horizon_days >= tt)).astype(bool)
    return out


def progression_kind_outcomes(dm: DiseaseModel, progression_day: np.ndarray, u: np.ndarray,
                              params: ParameterSet, duration_years: np.ndarray | None = None
                              ) -> dict[str, object]:
    """Which kind each progression event was (:class:`~immunoreset.diseases.base.ProgressionKind`;
    SSc: the failed organ), drawn from the patient's uniform ``u`` (EVENTS stream, slot
    ``EV_PROGRESSION_KIND``) with the disease's shares, weighted by the disease duration at
    the event where the disease sets timing rates (``duration_years``: years from onset at
    day 0; :meth:`~immunoreset.diseases.base.DiseaseModel.progression_kind_weights`):
    ``<kind>_day`` per kind (NaN unless the patient's event was of that kind) and
    ``progression_kind`` (null without an event). Nothing for a disease without kinds."""
    if not dm.progression_kinds:
        return {}
    base = np.zeros(len(u)) if duration_years is None else np.asarray(duration_years, float)
    at_event = base + np.nan_to_num(progression_day, nan=0.0) / 365.25
    cum = np.cumsum(dm.progression_kind_weights(params, at_event), axis=1)
    idx = np.minimum((u[:, None] >= cum).sum(axis=1), cum.shape[1] - 1)
    happened = np.isfinite(progression_day)
    out: dict[str, object] = {}
    for j, kind in enumerate(dm.progression_kinds):
        out[f"{kind.id}_day"] = np.where(happened & (idx == j), progression_day, np.nan)
    names = [dm.progression_kinds[j].id if h else None for j, h in zip(idx, happened, strict=True)]
    out["progression_kind"] = pl.Series("progression_kind", names, dtype=pl.Utf8)
    return out
