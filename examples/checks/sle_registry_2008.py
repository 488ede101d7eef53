"""Check of the SLE model against the later EBMT registry survey (Alchi B et al.
Autologous haematopoietic stem cell transplantation for systemic lupus erythematosus: data
from the European Group for Blood and Marrow Transplantation registry. Lupus
2013;22(3):245-253, doi:10.1177/0961203312470729, abstract) — a study NOT used in any fit.

    .venv/bin/python examples/checks/sle_registry_2008.py

Registry: 28 patients from 8 centres reported 2001-2008, age 29 (16-48), 89 % female,
disease for 52 (9-396) months, nephritis in 60 %; CD34-selected grafts in 36 %;
conditioning of low (10) or intermediate (18) intensity; median follow-up 38 months.
Reported at 5 years (estimate ± SE): overall survival 81 ± 8 %, disease-free survival
29 ± 9 %, relapse incidence 56 ± 11 %, non-relapse mortality 15 ± 7 %.

Simulated: 400 virtual patients (seed 11) with those covariates, Cy 200 mg/kg + rATG
(`cy200_ratg`, the intermediate-intensity regimen; the low-intensity regimens are not
named in the abstract), 36 % of them with a CD34-selected graft, at centres with fewer
than 5 autoimmune transplants (28 patients in 8 centres). Relapse = the SLE module's
flare (`progression_day`, a SLEDAI-2K rise of 4 or more), with death competing;
disease-free survival = alive without a flare; non-relapse mortality = death before any
flare. Research software, not a medical device.
"""

from __future__ import annotations

import numpy as np
from _table import Row, show

import immunoreset as ir

N, SEED, YEARS = 400, 11, 5.0
TITLE = "Alchi 2013 EBMT SLE registry, 2001-2008 (n = 28)"


def _arm(cd34: bool, n: int, seed: int):
    pop = ir.Population(disease="sle", age_mean=29.0, female_fraction=0.89,
                        disease_duration_median=52 / 12)
    cohort = ir.sample_cohort(pop, n, seed=seed)
    # 28 patients from 8 centres: 3.5 per centre, the CIBMTR "< 5" category
    return ir.simulate(cohort, ir.Protocol(regimen="cy200_ratg", cd34_selection=cd34,
                                           centre_autoimmune_transplants=3),
                       horizon_days=YEARS * 365.25 + 1).outcomes


def rows() -> list[Row]:
    n_sel = round(0.36 * N)
    t = YEARS * 365.25
    death, flare = [], []
    for cd34, n, seed in ((True, n_sel, SEED), (False, N - n_sel, SEED + 1)):
        o = _arm(cd34, n, seed)
        death.append(np.nan_to_num(o["death_day"].to_numpy(), nan=np.inf))
        flare.append(np.nan_to_num(o["progression_day"].to_numpy(), nan=np.inf))
    d, f = np.concatenate(death), np.concatenate(flare)
    relapse = (f <= t) & (f <= d)
    nrm = (d <= t) & (d < f)
    return [("overall survival at 5 years (81 +/- 8 %)", 0.81, float(np.mean(d > t))),
            ("disease-free survival at 5 years (29 +/- 9 %)", 0.29,
             float(np.mean((d > t) & (f > t)))),
            ("relapse incidence at 5 years (56 +/- 11 %)", 0.56, float(np.mean(relapse))),
            ("non-relapse mortality at 5 years (15 +/- 7 %)", 0.15, float(np.mean(nrm)))]


def main() -> None:
    show(TITLE, rows())


if __name__ == "__main__":
    main()
