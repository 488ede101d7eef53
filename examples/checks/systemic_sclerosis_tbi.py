"""Checks of the SSc model after TBI-based myeloablative conditioning against published
figures NOT used in any fit (SCOT; Nash 2007).

Regenerates the table in docs/model.md ("Known misses": SSc after TBI/Cy/ATG):

    .venv/bin/python examples/checks/systemic_sclerosis_tbi.py

400 virtual patients per arm (seed 11) from the default SSc population (age 18-65, the
ASTIS-like default), the shipped `cy_tbi_atg` regimen (TBI 800 cGy, Cy 120 mg/kg, equine ATG
90 mg/kg, CD34-selected graft) and 12 monthly IV cyclophosphamide pulses. Event-free survival
= alive without major (respiratory, renal, cardiac) organ failure, the SCOT definition.
Research software, not a medical device.
"""

from __future__ import annotations

import numpy as np
from _table import Row, show

import immunoreset as ir

N, SEED = 400, 11


def _free(o, years: float, events: tuple[str, ...]) -> float:
    t = np.full(o.height, np.inf)
    for col in events:
        t = np.fmin(t, np.nan_to_num(o[col].to_numpy(), nan=np.inf))
    return float(np.mean(t > years * 365.25))


TITLE = "SSc after TBI/Cy/ATG (SCOT, Nash 2007)"


def rows() -> list[Row]:
    cohort = ir.sample_cohort("systemic_sclerosis", N, seed=SEED)
    horizon = 6 * 365.25
    tx = ir.simulate(cohort, ir.Protocol(regimen="cy_tbi_atg"), horizon_days=horizon).outcomes
    cy = ir.simulate(cohort, ir.Protocol(comparator="iv_cyclophosphamide_monthly"),
                     horizon_days=horizon).outcomes
    efs = ("death_day", "progression_day")
    return [
        ("SCOT HSCT: EFS 54 months (per protocol)", 0.79, _free(tx, 4.5, efs)),
        ("SCOT Cy: EFS 54 months (per protocol)", 0.50, _free(cy, 4.5, efs)),
        ("SCOT HSCT: EFS 72 months", 0.74, _free(tx, 6.0, efs)),
        ("SCOT Cy: EFS 72 months", 0.47, _free(cy, 6.0, efs)),
        ("SCOT HSCT: OS 72 months", 0.86, _free(tx, 6.0, ("death_day",))),
        ("SCOT Cy: OS 72 months", 0.51, _free(cy, 6.0, ("death_day",))),
        ("Nash 2007 (n = 34): PFS 5 y (death, organ failure or relapse)", 0.64,
         _free(tx, 5.0, ("death_day", "progression_day", "relapse_day"))),
    ]


def main() -> None:
    show(TITLE, rows())


if __name__ == "__main__":
    main()
