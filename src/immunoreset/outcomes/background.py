"""Background (all-cause, non-transplant) mortality from a shipped period life table.

The hazard is constant within each year of age, ``μ_x = −ln(1 − q_x)`` (data file
``life_table_us_ssa_2017.yaml``, with its source). A patient aged ``a`` at day 0 dies of
background causes on the day its cumulative hazard reaches a unit-exponential threshold
``E = −ln U`` drawn from its own EVENTS stream — the same construction as every other event,
so it never depends on the batch. The hazard is independent of the simulated state, so it is
integrated in closed form rather than as an ODE state.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import yaml

DAYS_PER_YEAR = 365.25


@lru_cache(maxsize=1)
def life_table() -> dict:
    """The shipped life table (``qx_male``, ``qx_female`` for ages 0…119, source, year)."""
    text = resources.files("immunoreset").joinpath(
        "data/life_table_us_ssa_2017.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    for k in ("qx_male", "qx_female"):
        q = np.asarray(data[k], dtype=float)
        if q.ndim != 1 or np.any((q < 0) | (q >= 1)):
            raise ValueError(f"life table {k}: q_x must lie in [0, 1)")
        data[k] = q
    return data


def _cumulative(mu: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(mu)])


def background_death_day(age_years: np.ndarray, female: np.ndarray, u: np.ndarray
                         ) -> np.ndarray:
    """Day (from day 0) of background death for thresholds ``−ln u``; ``inf`` beyond age 120."""
    lt = life_table()
    out = np.empty(len(age_years))
    for fem, key in ((True, "qx_female"), (False, "qx_male")):
        mask = female == fem
        if not mask.any():
            continue
        mu = -np.log1p(-lt[key])  # per year, ages 0..119
        big = _cumulative(mu)  # cumulative hazard at integer ages 0..120
        a = np.clip(age_years[mask], 0.0, len(mu) - 1e-9)
        h0 = np.interp(a, np.arange(len(big)), big)  # piecewise-linear cumulative hazard
        target = h0 - np.log(np.clip(u[mask], 1e-300, 1.0))
        death_age = np.interp(target, big, np.arange(len(big)), right=np.inf)
        out[mask] = (death_age - a) * DAYS_PER_YEAR
    return out


def background_survival(age_years: float, female: bool, days: np.ndarray) -> np.ndarray:
    """Probability of surviving background mortality to each of ``days`` (for reports/tests)."""
    lt = life_table()
    mu = -np.log1p(-lt["qx_female" if female else "qx_male"])
    big = _cumulative(mu)
    ages = np.arange(len(big))
    a = float(age_years)
    h = np.interp(a + np.asarray(days) / DAYS_PER_YEAR, ages, big) - np.interp(a, ages, big)
    return np.exp(-h)
