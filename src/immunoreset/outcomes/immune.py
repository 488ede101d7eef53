"""Immune-reconstitution and disease outcomes from the output grid."""

from __future__ import annotations

import numpy as np

from immunoreset.diseases import disease_model
from immunoreset.engine.model import (
    OBS_B,
    OBS_CD4,
    OBS_CD4N,
    OBS_MOLD,
    OBS_NK,
    OBS_SCORE,
    OBS_TREC,
    OBS_TREG,
)
from immunoreset.parameters import ParameterSet

#: a lineage counts as recovered when it first reaches this fraction of its baseline count
RECOVERY_FRACTION = 0.8


def value_at(times: np.ndarray, obs: np.ndarray, day: float, j: int) -> np.ndarray:
    """Observation ``j`` at grid time ``day`` (NaN when the horizon ends earlier)."""
    i = int(np.searchsorted(times, day - 1e-9))
    if i >= len(times) or abs(times[i] - day) > 1e-6:
        return np.full(obs.shape[0], np.nan)
    return obs[:, i, j]


def recovery_day(times: np.ndarray, obs: np.ndarray, j: int, baseline: np.ndarray
                 ) -> np.ndarray:
    """First grid day ≥ 0 on which observation ``j`` is back to ``RECOVERY_FRACTION`` of the
    patient's baseline after having fallen below it (NaN if not within the horizon; 0 if it
    never fell below)."""
    post = times >= 0
    x = obs[:, post, j]
    thr = RECOVERY_FRACTION * baseline[:, None]
    below = x < thr
    ever = np.maximum.accumulate(below, axis=1)
    ok = (~below) & ever
    has = ok.any(axis=1)
    day = np.where(has, times[post][np.argmax(ok, axis=1)], np.nan)
    return np.where(~below.any(axis=1), 0.0, day)


def preexisting_memory_cd4(obs: np.ndarray) -> np.ndarray:
    """CD4 memory cells descending from pre-transplant lineages (cells/µL), from the
    read-outs: (CD4 − naive − Treg) × the pre-transplant share of memory."""
    memory = obs[..., OBS_CD4] - obs[..., OBS_CD4N] - obs[..., OBS_TREG]
    return memory * obs[..., OBS_MOLD]


def immune_outcomes(times: np.ndarray, obs: np.ndarray) -> dict[str, np.ndarray]:
    """Per-patient reconstitution read-outs (issue: the immune reset)."""
    base = obs[:, 0, :]
    old = preexisting_memory_cd4(obs)
    with np.errstate(invalid="ignore", divide="ignore"):
        removed = 1.0 - value_at(times, old[..., None], 365.0, 0) / old[:, 0]
    return {
        "cd4_per_uL_day365": value_at(times, obs, 365.0, OBS_CD4),
        "cd4_per_uL_day730": value_at(times, obs, 730.0, OBS_CD4),
        "nk_recovery_day": recovery_day(times, obs, OBS_NK, base[:, OBS_NK]),
        "b_recovery_day": recovery_day(times, obs, OBS_B, base[:, OBS_B]),
        "trec_ratio_day730": value_at(times, obs, 730.0, OBS_TREC) / base[:, OBS_TREC],
        "repertoire_overlap_day365": value_at(times, obs, 365.0, OBS_MOLD),
        "preexisting_memory_removed_day365": removed,
    }


def remission_days(dm, times: np.ndarray, obs: np.ndarray, params: ParameterSet
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(onset, loss, sustained_y1)`` of the disease's remission criterion. Onset: first
    grid day after infusion (or the first comparator dose) on which the score meets it
    (e.g. insulin requirement below the stopping threshold in T1D, CDAI < 150 in Crohn's,
    mRSS 25 % below baseline in SSc). Loss: first grid day after the onset on which it fails
    again (e.g. insulin restarted). NaN if never within the horizon, or for a disease whose
    criterion holds from day 0 (MS). ``sustained_y1``: days the criterion has held without a
    break up to 1 year, counted from the first grid day of the unbroken run that includes
    day 365 (0 when it does not hold at 1 year; NaN when the horizon ends before 1 year or
    the disease has no onset). A "sustained remission for 3 months at 1 year" is
    ``sustained_y1 >= 90`` on the weekly grid (Crohn's: ASTIC, Hawkey JAMA 2015)."""
    return _remission_days(dm, times, obs, params)


#: the day at which the unbroken remission run is measured
_SUSTAINED_AT = 365.0


def _remission_days(dm, times: np.ndarray, obs: np.ndarray, params: ParameterSet
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = obs.shape[0]
    nan = np.full(n, np.nan)
    if not dm.has_onset(params):
        return nan, nan.copy(), nan.copy()
    post = times > 0
    t = times[post]
    ok = dm.score_criterion(obs[:, 0, OBS_SCORE][:, None], obs[:, post, OBS_SCORE], params)
    ok &= ~np.isnan(obs[:, post, OBS_SCORE])
    began = ok.any(axis=1)
    onset_i = np.argmax(ok, axis=1)
    onset = np.where(began, t[onset_i], np.nan)
    after = np.arange(t.size)[None, :] > onset_i[:, None]
    lost = after & ~ok & ~np.isnan(obs[:, post, OBS_SCORE]) & began[:, None]
    loss = np.where(lost.any(axis=1), t[np.argmax(lost, axis=1)], np.nan)
    return onset, loss, _sustained_days(t, ok, _SUSTAINED_AT)


def _sustained_days(t: np.ndarray, ok: np.ndarray, day: float) -> np.ndarray:
    """Length of the unbroken run of ``ok`` grid days that ends at ``day`` (see
    :func:`remission_days`)."""
    n = ok.shape[0]
    k = int(np.searchsorted(t, day - 1e-9))
    if k >= t.size or abs(t[k] - day) > 1e-6:
        return np.full(n, np.nan)
    window = ok[:, : k + 1]
    failed = ~window
    # index of the last failing grid day up to `day` (-1 when the criterion never failed)
    last_fail = np.where(failed.any(axis=1),
                         k - np.argmax(failed[:, ::-1], axis=1), -1)
    start = t[np.minimum(last_fail + 1, k)]
    return np.where(window[:, k], day - start, 0.0)


def disease_outcomes(disease: str, modelled: bool, times: np.ndarray, obs: np.ndarray,
                     relapse_day: np.ndarray, progression_day: np.ndarray,
                     params: ParameterSet) -> dict[str, np.ndarray]:
    """Scores at baseline/1/2/5 years, remission (disease definition), relapse, progression."""
    n = obs.shape[0]
    if not modelled:
        nan = np.full(n, np.nan)
        return {"remission": np.zeros(n, dtype=bool), "remission_onset_day": nan,
                "remission_loss_day": nan, "remission_sustained_days_y1": nan,
                "relapse_day": nan, "progression_day": nan,
                "score_name": np.full(n, "not modelled"), "score_baseline": nan,
                "score_y1": nan, "score_y2": nan, "score_y5": nan}
    dm = disease_model(disease)
    s0 = obs[:, 0, OBS_SCORE]
    y = {k: value_at(times, obs, d, OBS_SCORE) for k, d in
         (("score_y1", 365.0), ("score_y2", 730.0), ("score_y5", 1826.0))}
    progressed_y1 = progression_day <= 365.0
    onset, loss, sustained = remission_days(dm, times, obs, params)
    remission = dm.remission(s0, y["score_y1"], progressed_y1, params)
    remission = np.where(np.isnan(y["score_y1"]), False, remission)
    out = {"remission": remission.astype(bool),
           "remission_onset_day": onset, "remission_loss_day": loss,
           "remission_sustained_days_y1": sustained,
           "relapse_day": relapse_day,
           "progression_day": progression_day, "score_name": np.full(n, dm.score_name),
           "score_baseline": s0, **y}
    if dm.progression_alias:
        out[dm.progression_alias] = progression_day
    if dm.score_relapse:
        post = times > 0
        out["score_relapse_day"] = dm.score_relapse_day(times[post], obs[:, post, OBS_SCORE],
                                                        s0, params)
    return out
