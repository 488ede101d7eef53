"""Figures (matplotlib, Agg backend; no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import polars as pl

_PANELS = (
    ("anc", "ANC (cells/µL)", 500.0, True),
    ("platelets", "Platelets (cells/µL)", 20_000.0, True),
    ("hemoglobin", "Haemoglobin (g/dL)", 7.0, False),
)


def blood_counts_figure(trajectories: pl.DataFrame, path: str | Path, *, title: str = "",
                        day_max: float = 60.0) -> Path:
    """Median and 10–90 % band of ANC, platelets and Hb over time (day 0 = infusion)."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
    for ax, (var, label, thr, log) in zip(axes, _PANELS, strict=True):
        d = trajectories.filter((pl.col("variable") == var) & (pl.col("day") <= day_max))
        if d.height == 0:
            ax.set_visible(False)
            continue
        q = (d.group_by("day").agg(
            pl.col("value").quantile(0.1).alias("p10"),
            pl.col("value").median().alias("p50"),
            pl.col("value").quantile(0.9).alias("p90"),
        ).sort("day"))
        days = q["day"].to_numpy()
        ax.fill_between(days, q["p10"].to_numpy(), q["p90"].to_numpy(), alpha=0.3,
                        label="10–90 % of patients")
        ax.plot(days, q["p50"].to_numpy(), lw=2, label="median")
        ax.axhline(thr, color="k", ls="--", lw=0.8, label=f"threshold {thr:g}")
        ax.axvline(0, color="grey", lw=0.8)
        if log:
            ax.set_yscale("log")
            ax.set_ylim(bottom=max(1.0, float(np.nanmin(q["p10"].to_numpy())) * 0.5))
        ax.set_xlabel("day after graft infusion")
        ax.set_ylabel(label)
        ax.legend(fontsize=7, loc="lower right")
    n = trajectories["patient_id"].n_unique()
    fig.suptitle(f"{title} (n = {n} virtual patients; model output, research use only)",
                 fontsize=10)
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
