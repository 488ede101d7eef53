"""Check of the type 1 diabetes model against a pooled cohort NOT used in any fit:
D'Addio F et al. Diabetes 2014;63:3041 (PMID 24947362, abstract).

    .venv/bin/python examples/checks/t1d_cohorts.py

Cohort: 65 people with new-onset T1D from two Chinese centres and one Polish centre,
conditioning with ATG and cyclophosphamide and a single autologous HSC infusion, followed
for 48 months. Reported: 59 % insulin independent within the first 6 months; 32 % still
insulin independent at the last follow-up (48 months).

Also: Gu W, Hu J, Wang W, et al. "Diabetic ketoacidosis at diagnosis influences complete
remission after treatment with hematopoietic stem cell transplantation in adolescents with
type 1 diabetes" (abstract; journal recalled as Diabetes Care 2012, not verified; 28
patients aged 14-30, Cy + ATG):
complete remission (insulin independence) at any time over a mean 19.3 months in 70.6 %
(12/17) of patients without ketoacidosis at diagnosis (27.3 % with it; the model has no
ketoacidosis effect, so only the non-DKA figure is compared).

Simulated: 400 virtual patients (seed 11) from the default T1D population (new onset, no
prior ketoacidosis, as the calibration study Voltarelli 2007 / Couri 2009), Cy 200 mg/kg +
rATG with an unselected graft (the Voltarelli spec's protocol). Insulin independence = the
T1D module's criterion (requirement below the stopping threshold, not above baseline):
onset by day 182 (`remission_onset_day`), and the criterion holding on the grid day
nearest 48 months in a living patient. Research software, not a medical device.
"""

from __future__ import annotations

import numpy as np
from _table import Row, show

import immunoreset as ir
from immunoreset.diseases import disease_model
from immunoreset.parameters import default_parameters

N, SEED, MONTHS_48 = 400, 11, 4 * 365.25


TITLE = "D'Addio 2014 (n = 65, ATG + Cy); Gu (n = 28)"


def rows() -> list[Row]:
    params = default_parameters()
    dm = disease_model("type1_diabetes")
    cohort = ir.sample_cohort(ir.Population(disease="type1_diabetes"), N, seed=SEED)
    res = ir.simulate(cohort, ir.Protocol(regimen="cy200_ratg", cd34_selection=False,
                                          graft_source="pbsc"),
                      horizon_days=MONTHS_48 + 7, params=params,
                      save=ir.SaveSpec(variables=("disease_score",), max_patients=N))
    o = res.outcomes.sort("patient_id")
    w = res.trajectories.pivot(on="day", index="patient_id", values="value",
                               aggregate_function="first").sort("patient_id")
    days = np.array([float(c) for c in w.columns[1:]])
    s = w.drop("patient_id").to_numpy()
    j = int(np.argmin(np.abs(days - MONTHS_48)))
    alive = ~(o["death_day"].to_numpy() <= days[j])
    held = dm.score_criterion(s[:, 0], s[:, j], params) & alive
    early = o["remission_onset_day"].to_numpy() <= 182.0
    return [("insulin independent within 6 months", 0.59, float(np.mean(early))),
            (f"insulin independent at 48 months (grid day {days[j]:.0f})", 0.32,
             float(np.mean(held))),
            ("Gu, no DKA: ever insulin independent by 19.3 months", 0.706,
             float(np.mean(o["remission_onset_day"].to_numpy() <= 19.3 / 12 * 365.25)))]


def main() -> None:
    show(TITLE, rows())


if __name__ == "__main__":
    main()
