"""Power of a planned trial by simulation: repeat it with independent seeds at each size.

For each sample size ``n`` the trial is run ``replicates`` times; replicate *r* uses the same
seed at every ``n`` (common random numbers, so the power curve is smooth in ``n``), derived as
``SeedSequence(seed).spawn(replicates)[r]``. A replicate is *significant* when the tested
endpoint's two-sided 95 % result excludes no effect:

* ``hazard_ratio``: the Wald 95 % CI excludes 1 (piecewise HRs: the row at ``timepoint_years``,
  default the last interval);
* ``logrank``: p < 0.05;
* ``mean_change`` with ``compare``: the between-arm 95 % CI excludes 0.

A replicate whose estimate is not available (no events, or a needed column not modelled) counts
as not significant; when no replicate is estimable the power is NaN and the note says why.
Power comes with an exact (Clopper–Pearson) CI over replicates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from immunoreset.errors import InputError
from immunoreset.trials.spec import (
    HazardRatioEndpoint,
    LogrankEndpoint,
    MeanChangeEndpoint,
    TrialSpec,
    load_spec,
    parse_spec,
)

_TESTABLE = (HazardRatioEndpoint, LogrankEndpoint, MeanChangeEndpoint)


@dataclass(frozen=True)
class PowerResult:
    """Power per sample size. ``table`` columns: ``n, replicates, significant, estimable,
    power, ci_low, ci_high, median_estimate, note``; ``seeds`` are the replicate seeds."""

    endpoint: str
    test: str
    table: pl.DataFrame
    seeds: tuple[int, ...]


def replicate_seeds(seed: int, replicates: int) -> list[int]:
    """Independent 63-bit seeds, one per replicate."""
    children = np.random.SeedSequence(seed).spawn(replicates)
    return [int(c.generate_state(2, np.uint64)[0] >> np.uint64(1)) for c in children]


def _pick(spec: TrialSpec, endpoint: str | None) -> Any:
    if endpoint is not None:
        e = spec.endpoint(endpoint)
        if not isinstance(e, _TESTABLE) or (isinstance(e, MeanChangeEndpoint) and not e.compare):
            raise InputError("endpoint", endpoint, "a hazard_ratio, logrank or mean_change "
                                                   "(with compare) endpoint")
        return e
    for e in spec.endpoints:
        if isinstance(e, HazardRatioEndpoint | LogrankEndpoint) or (
                isinstance(e, MeanChangeEndpoint) and e.compare):
            return e
    raise InputError("endpoint", None, "a spec with a hazard_ratio, logrank or mean_change "
                                       "(compare) endpoint to test")


def _row(endpoints: pl.DataFrame, e: Any, timepoint: float | None) -> dict | None:
    if isinstance(e, MeanChangeEndpoint):
        arm = f"{e.compare[0]} vs {e.compare[1]}"
    else:
        arm = f"{e.arms[0]} vs {e.arms[1]}"
    rows = endpoints.filter((pl.col("endpoint") == e.name) & (pl.col("arm") == arm))
    if rows.height == 0:
        return None
    if timepoint is not None:
        rows = rows.filter((pl.col("timepoint_years") - timepoint).abs() < 1e-9)
        if rows.height == 0:
            raise InputError("timepoint_years", timepoint, "a timepoint of the endpoint's rows")
    return rows.row(rows.height - 1, named=True)


def _significant(e: Any, row: dict) -> bool | None:
    est = row["estimate"]
    if not (isinstance(est, float) and math.isfinite(est)):
        return None
    if isinstance(e, LogrankEndpoint):
        return bool(est < 0.05)
    lo, hi = row["ci_low"], row["ci_high"]
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    null = 0.0 if isinstance(e, MeanChangeEndpoint) else 1.0
    return bool(hi < null or lo > null)


def estimate_power(spec: TrialSpec | str | dict, *, n_values: Sequence[int], replicates: int,
                   seed: int, endpoint: str | None = None, timepoint_years: float | None = None,
                   workers: int = 1, simulator: Any = None,
                   progress: Callable[[int, int], None] | None = None) -> PowerResult:
    """Simulated power of ``spec`` at each total sample size in ``n_values`` (see module doc).

    ``endpoint`` names the tested endpoint (default: the first hazard-ratio, log-rank or
    between-arm mean-change endpoint). ``progress(done, total)`` counts finished trials.
    """
    from immunoreset.trials.run import run_trial
    from immunoreset.trials.statistics import proportion_ci

    spec = load_spec(spec) if isinstance(spec, str) else parse_spec(spec)
    ns = list(n_values)
    if not ns or any(not isinstance(n, int | np.integer) or n < 2 for n in ns):
        raise InputError("n", ns, "a list of sample sizes >= 2, e.g. 50,100,200")
    if not isinstance(replicates, int | np.integer) or not 1 <= replicates <= 100_000:
        raise InputError("replicates", replicates, "an integer in [1, 100000]")
    e = _pick(spec, endpoint)
    seeds = replicate_seeds(seed, int(replicates))
    total, done = len(ns) * len(seeds), 0
    out = []
    for n in ns:
        sized = spec.with_n(int(n))
        sig, estimable, estimates, notes = 0, 0, [], []
        for s in seeds:
            res = run_trial(sized, seed=s, workers=workers, simulator=simulator)
            row = _row(res.endpoints, e, timepoint_years)
            verdict = None if row is None else _significant(e, row)
            if verdict is None:
                if row is not None and row.get("note"):
                    notes.append(row["note"])
            else:
                estimable += 1
                sig += int(verdict)
                estimates.append(row["estimate"])
            done += 1
            if progress is not None:
                progress(done, total)
        if estimable == 0:
            power = lo = hi = math.nan
            note = notes[0] if notes else "not estimable"
        else:
            pr = proportion_ci(sig, len(seeds))
            power, lo, hi = pr.estimate, pr.ci_low, pr.ci_high
            note = "" if estimable == len(seeds) else (
                f"{len(seeds) - estimable} replicate(s) not estimable (counted as not "
                "significant)")
        out.append({"n": int(n), "replicates": len(seeds), "significant": sig,
                    "estimable": estimable, "power": power, "ci_low": lo, "ci_high": hi,
                    "median_estimate": float(np.median(estimates)) if estimates else math.nan,
                    "note": note})
    test = {HazardRatioEndpoint: "Wald 95 % CI of the HR excludes 1",
            LogrankEndpoint: "log-rank p < 0.05",
            MeanChangeEndpoint: "95 % CI of the difference in mean change excludes 0"}[type(e)]
    return PowerResult(endpoint=e.name, test=test, table=pl.DataFrame(out), seeds=tuple(seeds))
