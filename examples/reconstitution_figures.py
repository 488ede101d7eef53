"""Immune reconstitution and the immune reset's mechanism, measured against the published
reference figures they are tested on (tests/test_immune_reset.py holds the assertions and
their tolerances; this script prints the values behind them).

    .venv/bin/python examples/reconstitution_figures.py

Systemic sclerosis population (populations.yaml), 200 virtual patients, seed 17, 5 years;
medians over patients. Sources:

* Storek J et al. Clin Immunol 2004;113:285 (PMC2956741; 56 adults with MS or SSc, TBI + Cy +
  ATG, CD34-selected graft): NK normal by ~1 month, B cells by ~6 months, CD4 median 388/uL
  at 2 years, robust CD8 but moderate CD4 expansion.
* Mackall CL et al. Blood 1997;90:3789: CD4 < 50 % of pre-treatment at 12-14 months.
* Blood 2000;96:754: CD4 at 12 months inversely related to age.
* Harris KM et al. JCI Insight 2020;5:e127655 (HALT-MS, BEAM + ATG, CD34-selected): > 90 % of
  the pre-existing T-cell repertoire removed.
* Ruder J et al. Sci Transl Med 2022 (MS, BEAM + ATG): effector-memory CD4 overlap with the
  pre-transplant repertoire 26 % early, 15 % at 12 months (only the decline, 0.58, is
  comparable: the absolute overlap is a clonotype index with an unreported ceiling).

The mechanism rows have no published value: they are the issue's directions (deeper
lymphodepletion, older age, longer disease, no thymus). Research software, not a medical
device.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl

import immunoreset as ir
from immunoreset.parameters import load_parameters

H = 5 * 365.25
N, SEED = 200, 17


def _simulate(kw: dict, pop: str | ir.Population = "systemic_sclerosis", params=None,
              variables: tuple[str, ...] = (), cohort=None) -> ir.SimulationResult:
    c = cohort if cohort is not None else ir.sample_cohort(pop, N, seed=SEED)
    save = ir.SaveSpec(variables=variables, max_patients=N if variables else 0, day_max=730.0)
    return ir.simulate(c, ir.Protocol(**kw), horizon_days=H, params=params, save=save)


def _relapse_5y(o: pl.DataFrame) -> float:
    return float(np.mean(o["relapse_day"].to_numpy() <= H))


def _relative(result: ir.SimulationResult, variable: str, day: float) -> float:
    tr = result.trajectories.filter(pl.col("variable") == variable)
    first = tr.filter(pl.col("day") == tr["day"].min()).sort("patient_id")["value"].to_numpy()
    at = tr.filter(pl.col("day") == day).sort("patient_id")["value"].to_numpy()
    return float(np.median(at / first))


def _memory_share(kw: dict, pop: str, n: int) -> tuple[float, float]:
    c = ir.sample_cohort(pop, n, seed=SEED)
    tr = ir.simulate(c, ir.Protocol(**kw), horizon_days=400,
                     save=ir.SaveSpec(variables=("memory_old_fraction",), max_patients=n,
                                      day_max=365.0)).trajectories
    return tuple(float(np.nanmedian(tr.filter(pl.col("day") == d)["value"].to_numpy()))
                 for d in (90.0, 365.0))


def main() -> None:
    params = load_parameters()
    tbi = _simulate({"regimen": "cy_tbi_atg"}, variables=("cd4", "cd8", "b_cells"))
    o = tbi.outcomes
    rows = [
        ("NK at 80 % of baseline, day (TBI/Cy/ATG)", "~30 (normal by ~1 month)",
         np.nanmedian(o["nk_recovery_day"])),
        ("B at 80 % of baseline, day", "~180 (normal by ~6 months)",
         np.nanmedian(o["b_recovery_day"])),
        ("CD4 at 2 years, /uL", "388", np.nanmedian(o["cd4_per_uL_day730"])),
        ("CD8 relative to baseline, day 90 / CD4", "CD8 robust, CD4 moderate",
         _relative(tbi, "cd8", 90.0) / max(_relative(tbi, "cd4", 90.0), 1e-9)),
        ("CD8 relative to baseline at 2 years", "normal", _relative(tbi, "cd8", 730.0)),
    ]
    astis = _simulate({"regimen": "cy200_ratg"}).outcomes
    base = 0.45 * 1844  # typical baseline CD4 (populations.yaml lymphocytes x CD4 share)
    rows.append(("CD4 at 1 year relative to baseline (Cy 200 + rATG)", "< 0.5",
                 np.nanmedian(astis["cd4_per_uL_day365"]) / base))
    rows.append(("pre-transplant share of CD4 memory at 1 year (Cy 200 + rATG)",
                 "15 % (EM overlap)", np.nanmedian(astis["repertoire_overlap_day365"])))
    beam = _simulate({"regimen": "beam_atg", "cd34_selection": True}, "multiple_sclerosis")
    rows.append(("pre-existing CD4 memory removed at 1 year (BEAM + ATG, CD34-selected)",
                 "> 0.90", np.nanmedian(beam.outcomes["preexisting_memory_removed_day365"])))
    early, late = _memory_share({"regimen": "beam_atg", "cd34_selection": False},
                                "multiple_sclerosis", 150)
    rows.append(("old-lineage share of CD4 memory, day 90 (BEAM + ATG)", "(26 % x ceiling)", early))
    rows.append(("old-lineage share, 1 year over day 90", "0.58 (15 / 26)", late / early))

    no_age_trm = params.evolve(**{"complications.trm_age_coefficient": 0.0})
    young = _simulate({"regimen": "cy200_ratg"}, ir.Population(disease="ssc", age_years=25),
                      no_age_trm).outcomes
    old = _simulate({"regimen": "cy200_ratg"}, ir.Population(disease="ssc", age_years=60),
                    no_age_trm).outcomes
    rows.append(("CD4 at 1 year, age 60 over age 25", "< 1 (falls with age)",
                 np.nanmedian(old["cd4_per_uL_day365"]) / np.nanmedian(young["cd4_per_uL_day365"])))
    rows.append(("relapse by 5 years, age 25 / 60", "rises with age",
                 f"{_relapse_5y(young):.3f} / {_relapse_5y(old):.3f}"))
    light = _simulate({"regimen": "cy200_ratg", "atg_total_mg_per_kg": 2.5}).outcomes
    heavy = _simulate({"regimen": "cy_tbi_atg"}).outcomes
    rows.append(("relapse by 5 years, rATG 2.5 / 7.5 mg/kg / TBI+Cy+ATG", "falls with depth",
                 f"{_relapse_5y(light):.3f} / {_relapse_5y(astis):.3f} / {_relapse_5y(heavy):.3f}"))
    c = ir.sample_cohort("systemic_sclerosis", N, seed=SEED)
    dur = [_relapse_5y(_simulate({"regimen": "cy200_ratg"}, cohort=replace(
        c, disease_duration_years=np.full(N, y))).outcomes) for y in (0.5, 10.0)]
    rows.append(("relapse by 5 years, disease 0.5 / 10 years", "rises with duration",
                 f"{dur[0]:.3f} / {dur[1]:.3f}"))
    no_thymus = params.evolve(**{"immune.thymic_output_reference": 0.001,
                                 "immune.thymic_rebound": 0.0})
    nt = _simulate({"regimen": "cy200_ratg"}, params=no_thymus).outcomes
    rows.append(("relapse by 5 years, thymus / no thymic output", "rises without thymus",
                 f"{_relapse_5y(astis):.3f} / {_relapse_5y(nt):.3f}"))
    nat = _simulate({"comparator": "no_treatment"}).outcomes
    rows.append(("remission without conditioning (natural history)", "~0",
                 float(nat["remission"].mean())))

    width = max(len(r[0]) for r in rows) + 2
    print(f"{'figure':{width}s} {'published / expected':28s} simulated")
    for name, pub, sim in rows:
        val = sim if isinstance(sim, str) else f"{sim:.3f}"
        print(f"{name:{width}s} {pub:28s} {val}")


if __name__ == "__main__":
    main()
