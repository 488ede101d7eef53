"""Covariate distributions of virtual patients, per disease (``data/populations.yaml``)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import yaml
from scipy import stats

from immunoreset.vocabulary import DISEASES


@lru_cache(maxsize=1)
def population_data() -> dict:
    """The shipped covariate file (cited per entry)."""
    text = resources.files("immunoreset").joinpath("data/populations.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    missing = [d for d in DISEASES if d not in data]
    if missing:
        raise ValueError(f"populations.yaml lacks diseases {missing}")
    return data


def lognormal_sigma(cv: float) -> float:
    """Log-scale sd of a lognormal with coefficient of variation ``cv``."""
    return float(np.sqrt(np.log1p(cv * cv)))


def truncated_normal(z: np.ndarray, mean: float, sd: float, lo: float, hi: float) -> np.ndarray:
    """Map standard normals ``z`` to a normal truncated to [lo, hi] (by inversion)."""
    a, b = stats.norm.cdf((lo - mean) / sd), stats.norm.cdf((hi - mean) / sd)
    u = a + (b - a) * stats.norm.cdf(z)
    return mean + sd * stats.norm.ppf(np.clip(u, 1e-15, 1 - 1e-15))


def truncated_lognormal(z: np.ndarray, median: float, cv: float, lo: float, hi: float
                        ) -> np.ndarray:
    """Lognormal (median, cv) truncated to [lo, hi], by inversion of ``z``."""
    s = lognormal_sigma(cv)
    return np.exp(truncated_normal(z, np.log(median), s, np.log(lo), np.log(hi)))


def bsa_mosteller(weight_kg: np.ndarray, height_cm: np.ndarray) -> np.ndarray:
    """Body-surface area (m²), Mosteller RD. N Engl J Med 1987;317:1098."""
    return np.sqrt(np.asarray(weight_kg) * np.asarray(height_cm) / 3600.0)
