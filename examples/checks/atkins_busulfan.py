"""Check of the MS model against Atkins 2016 (Bu/Cy/rATG, CD34-selected graft) — figures NOT
used in any fit.

    .venv/bin/python examples/checks/atkins_busulfan.py

Trial: Atkins HL et al. Immunoablation and autologous haemopoietic stem-cell transplantation
for aggressive multiple sclerosis: a multicentre single-group phase 2 trial. Lancet
2016;388:576-585 (abstract). 24 patients aged 18-50 with poor-prognosis MS, ongoing
activity and EDSS 3.0-6.0 (167 relapses over 140 patient-years before aHSCT); mobilisation
with cyclophosphamide and filgrastim, CD34-selected graft, immunoablation with busulfan,
cyclophosphamide and rabbit ATG. Median follow-up 6.7 years (3.9-12.7). MS-activity-free
survival (no relapse, no new or Gd-enhancing lesion, no sustained EDSS progression) at 3
years 69.6 % (46.6-84.2); no relapse and no new T2 or Gd-enhancing lesion on 314 scans
over up to 13 years; 1 of 24 died of transplant-related complications.

Simulated: 400 virtual patients (seed 11) from the default relapsing-MS population, the
shipped `bu_cy_atg` regimen (CD34-selected; busulfan schedule and ATG dose assumed, see
data/regimens.yaml), read at 3 years and at the median follow-up. The published "no relapse
in 24 patients" is an upper 95 % bound of 14 % on the share relapsing (exact binomial, two-sided).
Research software, not a medical device.
"""

from __future__ import annotations

import numpy as np
from _table import Row, show

import immunoreset as ir
from immunoreset.vocabulary import TREATMENT_RELATED_CAUSES

N, SEED = 400, 11
FOLLOW_UP_YEARS = 6.7
TITLE = "Atkins 2016: busulfan + cyclophosphamide + rATG, CD34-selected (n = 24)"


def rows() -> list[Row]:
    cohort = ir.sample_cohort(ir.Population(disease="multiple_sclerosis"), N, seed=SEED)
    o = ir.simulate(cohort, ir.Protocol(regimen="bu_cy_atg"),
                    horizon_days=FOLLOW_UP_YEARS * 365.25 + 1).outcomes
    death = np.nan_to_num(o["death_day"].to_numpy(), nan=np.inf)

    def first(*cols: str) -> np.ndarray:
        return np.fmin.reduce([np.nan_to_num(o[c].to_numpy(), nan=np.inf) for c in cols])

    activity = np.fmin(first("clinical_relapse_day", "new_mri_lesion_day", "progression_day"),
                       death)
    t3, tf = 3 * 365.25, FOLLOW_UP_YEARS * 365.25
    relapse = first("clinical_relapse_day")
    lesion = first("new_mri_lesion_day")
    trm = np.isin(o["death_cause"].to_numpy(), TREATMENT_RELATED_CAUSES)
    return [
        ("MS-activity-free survival at 3 y (0.466-0.842)", 0.696, float(np.mean(activity > t3))),
        ("relapsed by the median follow-up, 6.7 y (0/24; upper 95 % 0.14)", 0.0,
         float(np.mean(relapse <= np.fmin(death, tf)))),
        ("new MRI lesion by the median follow-up (0/24)", 0.0,
         float(np.mean(lesion <= np.fmin(death, tf)))),
        ("transplant-related death (1/24)", 1 / 24, float(np.mean(trm))),
    ]


def main() -> None:
    show(TITLE, rows())


if __name__ == "__main__":
    main()
