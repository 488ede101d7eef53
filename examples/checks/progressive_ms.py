"""Checks of the MS model (progressive phenotype; relapsing durability) against published
figures NOT used in any fit.

Regenerates the table in docs/model.md §5c ("Checks against figures not used in the fit"):

    .venv/bin/python examples/checks/progressive_ms.py

Each row is 400 virtual patients (seed 11) from the MS population with the study's reported
covariates and the nearest shipped regimen; the studies are not shipped as trial specs
because their abstracts lack the protocol details. Research software, not a medical device:
these are model outputs under the stated assumptions, not predictions for a patient.

The RRMS part of Burt 2021 (relapse-free survival 80.1 % at 5 years, PFS 95 % at 4 years)
is a calibration study since stop 16 (examples/trials/burt2021_rrms.yaml) and is no longer
listed here; its SPMS part still is.
"""

from __future__ import annotations

import numpy as np
from _table import Row, show

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


def _relapsing(protocol: ir.Protocol, years: float,
               population: ir.Population | None = None) -> dict[str, float]:
    """Durability read-outs at ``years`` (default: the MIST-like relapsing population): free
    of clinical relapse, of new MRI lesions, NEDA-3 (alive and free of relapse, new lesion
    and sustained progression; the HALT-MS event-free survival), and alive without
    sustained EDSS progression."""
    cohort = ir.sample_cohort(population or ir.Population(disease=MS), N, seed=SEED)
    o = ir.simulate(cohort, protocol, horizon_days=years * 365.25).outcomes
    t = years * 365.25
    death = np.nan_to_num(o["death_day"].to_numpy(), nan=np.inf)

    def free(col: str) -> float:
        day = np.nan_to_num(o[col].to_numpy(), nan=np.inf)
        return float(np.mean(np.fmin(day, death) > t))

    neda = o[f"neda3_y{int(years)}"].to_numpy() if years in (1, 2, 5) else np.full(N, np.nan)
    return {"relapse": free("clinical_relapse_day"), "mri": free("new_mri_lesion_day"),
            "neda": float(np.nanmean(neda)), "pfs": free("progression_day")}


TITLE = "MS: progressive phenotype and relapsing durability"


def rows() -> list[Row]:
    out = [
        ("ORATORIO placebo (PPMS): progressed by 2.3 y", 0.357,
         1 - _free(ir.Population(disease=MS, progressive_fraction=1.0, age_mean=44.6,
                                 score_baseline_mean=4.7),
                   ir.Protocol(comparator="no_treatment"), 2.3, True)),
        ("Burt 2021 SPMS: PFS 4 y (Cy 200 + rATG, unselected)", 0.66,
         _free(ir.Population(disease=MS, progressive_fraction=1.0, score_baseline_mean=5.09),
               ir.Protocol(regimen="cy200_ratg_assist"), 4, True)),
        ("Burt 2021 SPMS: relapse-free 5 y (Cy 200 + rATG, unselected)", 0.981,
         _relapsing(ir.Protocol(regimen="cy200_ratg_assist"), 5,
                    ir.Population(disease=MS, progressive_fraction=1.0,
                                  score_baseline_mean=5.09))["relapse"]),
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
    # Relapsing-MS durability (published figures not in ../shared/evidence; none used in a
    # fit). HALT-MS: Nash RA et al. Neurology 2017;88:842 (BEAM + rATG, CD34-selected,
    # n = 24, 5 years). Sormani MP et al. Neurology 2017;88:2115 (meta-analysis of 15 studies,
    # mixed regimens and phenotypes: indicative only).
    # Swedish MS registry (Bone Marrow Transplant 2024, doi 10.1038/s41409-024-02397-x,
    # abstract): RRMS, Kaplan-Meier NEDA at 5 years 71 % (63-80) after Cy/ATG (n = 141) and
    # 81 % (68-96) after BEAM/ATG (n = 33), p = 0.29.
    halt = _relapsing(ir.Protocol(regimen="beam_atg", cd34_selection=True), 5)
    beam = _relapsing(ir.Protocol(regimen="beam_atg"), 5)
    nw5 = _relapsing(ir.Protocol(regimen="cy200_ratg_assist"), 5)
    nw2 = _relapsing(ir.Protocol(regimen="cy200_ratg_assist"), 2)
    return [
        *out,
        ("HALT-MS (RRMS): relapse-free 5 y", 0.869, halt["relapse"]),
        ("HALT-MS (RRMS): free of new MRI activity 5 y", 0.863, halt["mri"]),
        ("HALT-MS (RRMS): event-free (NEDA-3) 5 y", 0.692, halt["neda"]),
        ("Sormani 2017 meta-analysis: NEDA 2 y (Cy 200 + rATG here)", 0.83, nw2["neda"]),
        ("Sormani 2017 meta-analysis: NEDA 5 y (Cy 200 + rATG here)", 0.67, nw5["neda"]),
        ("Swedish registry RRMS: NEDA 5 y after Cy/ATG", 0.71, nw5["neda"]),
        ("Swedish registry RRMS: NEDA 5 y after BEAM/ATG (unselected)", 0.81, beam["neda"]),
    ]


def main() -> None:
    show(TITLE, rows())


if __name__ == "__main__":
    main()
