"""Checks of the MS model (progressive phenotype; relapsing durability) against published
figures NOT used in any fit.

Regenerates the table in docs/model.md §5c ("Checks against figures not used in the fit"):

    .venv/bin/python examples/checks/progressive_ms.py

Each row is 400 virtual patients (seed 11) from the MS population with the study's reported
covariates and the nearest shipped regimen; the studies are not shipped as trial specs
because their abstracts lack the protocol details. Research software, not a medical device:
these are model outputs under the stated assumptions, not predictions for a patient.
"""

from __future__ import annotations

import numpy as np

import immunoreset as ir

MS = "multiple_sclerosis"
N, SEED = 400, 11


def _free(population: ir.Population, protocol: ir.Protocol, years: float,
          with_death: bool) -> float:
    cohort = ir.sample_cohort(population, N, seed=SEED)
    o = ir.simulate(cohort, protocol, horizon_days=years * 365.25).outcomes
    event = np.fmin(np.nan_to_num(o["progression_day"].to_numpy(), nan=np.inf),
                    np.nan_to_num(o["death_day"].to_numpy(), nan=np.inf)
                    if with_death else np.inf)
    return float(np.mean(event > years * 365.25))


def main() -> None:
    rows = [
        ("ORATORIO placebo (PPMS): progressed by 2.3 y", 0.357,
         1 - _free(ir.Population(disease=MS, progressive_fraction=1.0, age_mean=44.6,
                                 score_baseline_mean=4.7),
                   ir.Protocol(comparator="no_treatment"), 2.3, True)),
        ("Burt 2021 SPMS: PFS 4 y (Cy 200 + rATG, unselected)", 0.66,
         _free(ir.Population(disease=MS, progressive_fraction=1.0, score_baseline_mean=5.09),
               ir.Protocol(regimen="cy200_ratg_assist"), 4, True)),
        ("Burt 2021 RRMS: PFS 4 y (MIST population)", 0.95,
         _free(ir.Population(disease=MS), ir.Protocol(regimen="cy200_ratg_assist"), 4, True)),
        ("HALT-MS (RRMS): PFS 5 y (BEAM + ATG, CD34-selected)", 0.913,
         _free(ir.Population(disease=MS), ir.Protocol(regimen="beam_atg", cd34_selection=True),
               5, True)),
        ("early EBMT registry SPMS: PFS 3 y (BEAM + ATG, progression only)", 0.78,
         _free(ir.Population(disease=MS, progressive_fraction=1.0),
               ir.Protocol(regimen="beam_atg", cd34_selection=False), 3, False)),
        ("Muraro 2017 (78 % progressive): PFS 5 y (BEAM + ATG)", 0.46,
         _free(ir.Population(disease=MS, progressive_fraction=0.78, score_baseline_mean=6.3),
               ir.Protocol(regimen="beam_atg", cd34_selection=False), 5, True)),
        ("Nash 2003 (all progressive): progressed by 3 y (TBI/Cy/ATG)", 0.27,
         1 - _free(ir.Population(disease=MS, progressive_fraction=1.0, score_baseline_mean=6.5),
                   ir.Protocol(regimen="cy_tbi_atg"), 3, True)),
    ]
    print(f"{'check':70s} {'published':>9s} {'simulated':>9s}")
    for name, pub, sim in rows:
        print(f"{name:70s} {pub:9.3f} {sim:9.3f}")


if __name__ == "__main__":
    main()
