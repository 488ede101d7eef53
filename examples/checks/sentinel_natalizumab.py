"""Check of the effector-phase comparator action against SENTINEL (Rudick RA et al.
N Engl J Med 2006;354:911, abstract) — relapse rate used to set the comparator, lesions
and disability NOT used in any fit.

    .venv/bin/python examples/checks/sentinel_natalizumab.py

Trial: 1171 patients with relapsing MS and at least one relapse in the prior year on
interferon beta-1a, randomised to natalizumab 300 mg every 4 weeks or placebo, added to
interferon, for up to 116 weeks. Reported over 2 years: annualised relapse rate 0.34 vs
0.75; new or enlarging T2 lesions 0.9 vs 5.4 per patient; sustained (12-week) EDSS
progression 23 % vs 29 % (Kaplan-Meier), hazard ratio 0.76 (0.61-0.96).

Simulated: 2000 virtual patients per arm (seed 11) from the default relapsing-MS population
(the reference activity is that of patients relapsing on interferon, CARE-MS II) screened,
as SENTINEL's were, for at least one relapse in the prior year (the patient's
``clinical_relapse_prior_year``, since stop 20; the on-trial relapse rate of the interferon
arm is then a prediction), the
shipped `natalizumab_add_on` comparator (`activity_factor` 0.45, set from the relapse
ratio above: that row checks only the arithmetic) against interferon continued
(`standard_care`, no change). New lesions and progression follow the activity through the
MS module's exponents (1.6 for lesions, from AFFIRM and another placebo-controlled trial;
2 for the activity-driven progression hazard, with relapse-independent progression on
top), so their ratios are predictions. Research software, not a medical device.
"""

from __future__ import annotations

import numpy as np
from _table import Row, show

import immunoreset as ir
from immunoreset.trials.run import prior_event_counts

N, SEED, YEARS = 2000, 11, 2.0
TITLE = "SENTINEL: natalizumab added to interferon beta-1a (n = 1171)"


def _arm(comparator: str):
    # entry: at least one relapse in the prior year (on interferon), read from each
    # patient's own prior-year count, drawn with the frailty that then drives its events
    # and progression
    screened = ir.sample_cohort(ir.Population(disease="multiple_sclerosis"), 4 * N, seed=SEED)
    eligible = np.flatnonzero(prior_event_counts(screened, "clinical_relapse") >= 1)
    cohort = screened.take(eligible[:N])
    return ir.simulate(cohort, ir.Protocol(comparator=comparator),
                       horizon_days=YEARS * 365.25 + 1).outcomes


def _km_progressed(o) -> float:
    """1 - Kaplan-Meier progression-free at 2 years, death censoring."""
    from lifelines import KaplanMeierFitter

    prog = np.nan_to_num(o["progression_day"].to_numpy(), nan=np.inf)
    death = np.nan_to_num(o["death_day"].to_numpy(), nan=np.inf)
    end = YEARS * 365.25
    t = np.minimum.reduce([prog, death, np.full(len(prog), end)])
    km = KaplanMeierFitter().fit(t, event_observed=(prog <= t) & (prog <= end))
    return float(1.0 - km.survival_function_at_times(end).iloc[0])


def rows() -> list[Row]:
    ctl, nat = _arm("standard_care"), _arm("natalizumab_add_on")

    def per_year(o, col):
        return float(np.nanmean(o[col].to_numpy())) / YEARS

    return [
        ("annualised relapse rate over 2 y, interferon alone", 0.75,
         per_year(ctl, "clinical_relapse_count_y2")),
        ("relapse-rate ratio, 2 y (0.34 / 0.75; sets the factor)", 0.34 / 0.75,
         per_year(nat, "clinical_relapse_count_y2") / per_year(ctl, "clinical_relapse_count_y2")),
        ("new or enlarging T2 lesions, ratio over 2 y (0.9 / 5.4)", 0.9 / 5.4,
         per_year(nat, "new_mri_lesion_count_y2") / per_year(ctl, "new_mri_lesion_count_y2")),
        ("sustained progression by 2 y, interferon alone", 0.29, _km_progressed(ctl)),
        ("sustained progression by 2 y, natalizumab added", 0.23, _km_progressed(nat)),
    ]


def main() -> None:
    show(TITLE, rows())


if __name__ == "__main__":
    main()
