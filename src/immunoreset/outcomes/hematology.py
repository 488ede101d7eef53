"""Haematological outcomes from the daily grid (CIBMTR definitions, DESIGN §6)."""

from __future__ import annotations

import numpy as np

from immunoreset.engine.model import TX_PLATELETS, TX_RBC
from immunoreset.vocabulary import (
    ANC_ENGRAFTMENT_PER_UL,
    ENGRAFTMENT_CONSECUTIVE_DAYS,
    PLT_ENGRAFTMENT_PER_UL,
    PLT_TRANSFUSION_FREE_DAYS,
)


def engraftment_day(days: np.ndarray, counts: np.ndarray, threshold: float, *,
                    blocked: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """First day ≥ 0 starting ``ENGRAFTMENT_CONSECUTIVE_DAYS`` consecutive days ≥ threshold.

    ``days`` is the daily grid ``[M]``; ``counts`` is ``[n, M]``; ``blocked[n, M]`` marks days
    that may not start an engraftment run (platelets: a transfusion in the preceding 7 days).
    Patients who never fall below the threshold after conditioning engraft on day 0.
    Returns ``(day, engrafted)``; day is NaN when not engrafted within the grid.
    """
    m = counts.shape[1]
    k = ENGRAFTMENT_CONSECUTIVE_DAYS
    above = counts >= threshold
    run = above.copy()
    for s in range(1, k):
        run[:, : m - s] &= above[:, s:]
    run[:, m - k + 1:] = False
    post = days >= 0
    ok = run & post[None, :]
    if blocked is not None:
        ok &= ~blocked
    # must have been below the threshold at some time before the run starts
    ever_below = np.maximum.accumulate(~above, axis=1)
    ok &= ever_below
    has = ok.any(axis=1)
    first = np.where(has, days[np.argmax(ok, axis=1)], np.nan)
    never_below = ~(~above[:, days >= days[0]]).any(axis=1)
    first = np.where(never_below, 0.0, first)
    return first, has | never_below


def platelet_blocked(days: np.ndarray, check_days: np.ndarray, tx_log: np.ndarray
                     ) -> np.ndarray:
    """``[n, M]`` True where a platelet transfusion was given in the preceding 7 days
    (or on the day itself)."""
    n = tx_log.shape[0]
    tx_days = (tx_log & TX_PLATELETS) != 0
    blocked = np.zeros((n, len(days)), dtype=bool)
    idx = {float(d): i for i, d in enumerate(days)}
    for c, cd in enumerate(check_days):
        if not tx_days[:, c].any():
            continue
        for off in range(0, PLT_TRANSFUSION_FREE_DAYS + 1):
            i = idx.get(float(cd + off))
            if i is not None:
                blocked[:, i] |= tx_days[:, c]
    return blocked


def hematology_outcomes(days: np.ndarray, anc: np.ndarray, plt: np.ndarray, hb: np.ndarray,
                        check_days: np.ndarray, tx_log: np.ndarray) -> dict[str, np.ndarray]:
    """Per-patient blood outcomes on the daily grid."""
    anc_day, engrafted = engraftment_day(days, anc, ANC_ENGRAFTMENT_PER_UL)
    plt_day, _ = engraftment_day(days, plt, PLT_ENGRAFTMENT_PER_UL,
                                 blocked=platelet_blocked(days, check_days, tx_log))
    i_min = np.argmin(anc, axis=1)
    return {
        "anc_engraftment_day": anc_day,
        "plt_engraftment_day": plt_day,
        "engrafted": engrafted,
        "anc_nadir_per_uL": anc.min(axis=1),
        "anc_nadir_day": days[i_min],
        "plt_nadir_per_uL": plt.min(axis=1),
        "hb_nadir_g_per_dL": hb.min(axis=1),
        "days_anc_below_500": (anc < 500).sum(axis=1).astype(np.int64),
        "days_anc_below_100": (anc < 100).sum(axis=1).astype(np.int64),
        "platelet_transfusions": ((tx_log & TX_PLATELETS) != 0).sum(axis=1).astype(np.int64),
        "rbc_transfusions": ((tx_log & TX_RBC) != 0).sum(axis=1).astype(np.int64),
    }
