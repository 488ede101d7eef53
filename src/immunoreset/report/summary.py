"""Plain-text / rich summary of a simulated cohort: every number with its spread and unit."""

from __future__ import annotations

import numpy as np
import polars as pl

from immunoreset.vocabulary import TREATMENT_RELATED_CAUSES

_ROWS = (
    ("cd34_dose_per_kg", "infused CD34+ (x10^6/kg)", 1e-6),
    ("anc_engraftment_day", "neutrophil engraftment (day, ANC>=500 x3)", 1.0),
    ("plt_engraftment_day", "platelet engraftment (day, PLT>=20k x3, no tx 7 d)", 1.0),
    ("anc_nadir_per_uL", "ANC nadir (/uL)", 1.0),
    ("days_anc_below_500", "days with ANC < 500", 1.0),
    ("platelet_transfusions", "platelet transfusions (n)", 1.0),
    ("rbc_transfusions", "red-cell units (n)", 1.0),
    ("hsc_clonal_diversity_y1", "HSC clonal diversity at 1 y (inverse Simpson, x10^3)", 1e-3),
    ("cd4_per_uL_day365", "CD4 at 1 year (/uL)", 1.0),
    ("cd4_per_uL_day730", "CD4 at 2 years (/uL)", 1.0),
    ("score_baseline", "disease score at baseline", 1.0),
    ("score_y1", "disease score at 1 year (survivors)", 1.0),
)
_FRACTIONS = (
    ("remission", "remission/response at 1 year (disease definition)"),
    ("severe_infection", "severe infection"),
    ("cardiac_toxicity", "cardiac toxicity"),
    ("ptld", "PTLD"),
    ("cgvhd", "chronic GVHD (allogeneic)"),
)
_EVENTS = (
    ("relapse_day", "relapse within the horizon"),
    ("cmv_reactivation_day", "CMV reactivation (all patients; seropositive only at risk)"),
    ("ebv_reactivation_day", "EBV reactivation (all patients; seropositive only at risk)"),
    ("secondary_autoimmunity_day", "secondary autoimmune disease within the horizon"),
    ("progression_day", "disease progression within the horizon"),
    ("death_day", "death within the horizon (all causes)"),
)


def summary_rows(outcomes: pl.DataFrame) -> list[tuple[str, str, str, str]]:
    """(label, median, 10th–90th percentile, n with a value) per outcome."""
    rows = []
    for col, label, scale in _ROWS:
        if col not in outcomes.columns:
            continue
        x = outcomes[col].cast(pl.Float64).to_numpy() * scale
        ok = np.isfinite(x)
        if not ok.any():
            rows.append((label, "–", "–", "0"))
            continue
        p10, p50, p90 = np.percentile(x[ok], [10, 50, 90])
        rows.append((label, f"{p50:.3g}", f"{p10:.3g} – {p90:.3g}", str(int(ok.sum()))))
    eng = outcomes["engrafted"].to_numpy()
    rows.append(("neutrophil engraftment within horizon", f"{100 * eng.mean():.1f} %", "",
                 str(len(eng))))
    for col, label in _FRACTIONS:
        if col in outcomes.columns:
            x = outcomes[col].to_numpy().astype(bool)
            rows.append((label, f"{100 * x.mean():.1f} %", "", str(len(x))))
    for col, label in _EVENTS:
        if col in outcomes.columns:
            x = outcomes[col].cast(pl.Float64).to_numpy()
            rows.append((label, f"{100 * np.isfinite(x).mean():.1f} %", "", str(len(x))))
    if "agvhd_grade" in outcomes.columns:
        g = outcomes["agvhd_grade"].to_numpy()
        rows.append(("acute GVHD grade II-IV (allogeneic)", f"{100 * (g >= 2).mean():.1f} %", "",
                     str(len(g))))
    if "death_cause" in outcomes.columns:
        tr = outcomes["death_cause"].is_in(list(TREATMENT_RELATED_CAUSES))
        d1 = outcomes["death_day"].fill_nan(None) <= 365.0
        x = (tr & d1.fill_null(False)).to_numpy()
        rows.append(("treatment-related death by 1 year", f"{100 * x.mean():.1f} %", "",
                     str(len(x))))
    return rows
