"""Calibration scorecard of the complications model against published figures.

Each row names a study, an endpoint, the published value with its 95 % interval, the
simulated value with its Monte-Carlo 95 % interval, and whether the simulated estimate lies
inside the published interval. The simulated cohorts carry only what the papers report
(disease, regimen, graft processing, donor); the parameter set is the shared one.
``python -m immunoreset.outcomes.scorecard`` regenerates ``docs/complications_calibration.md``;
the report is never hand-edited.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from scipy.stats import beta

from immunoreset.population import Population, sample_cohort
from immunoreset.protocols.protocol import Protocol
from immunoreset.protocols.regimens import Conditioning, Dose
from immunoreset.simulate import SaveSpec, simulate
from immunoreset.vocabulary import TREATMENT_RELATED_CAUSES

TREATMENT_RELATED = TREATMENT_RELATED_CAUSES


@dataclass(frozen=True)
class Row:
    """One line of the scorecard."""

    study: str
    endpoint: str
    published: float
    ci: tuple[float, float] | None
    simulated: float
    sim_ci: tuple[float, float]
    unit: str
    setting: str
    note: str = ""

    @property
    def inside(self) -> bool | None:
        if self.ci is None:
            return None
        return self.ci[0] <= self.simulated <= self.ci[1]


def exact_ci(k: int, n: int) -> tuple[float, float]:
    """Clopper–Pearson 95 % interval of ``k`` events in ``n`` (percent)."""
    lo = 0.0 if k == 0 else float(beta.ppf(0.025, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(0.975, k + 1, n - k))
    return 100 * lo, 100 * hi


def _share(mask: np.ndarray, among: np.ndarray | None = None) -> tuple[float, tuple]:
    m = mask if among is None else mask[among]
    k, n = int(m.sum()), len(m)
    return 100 * k / max(n, 1), exact_ci(k, max(n, 1))


def _by(o: pl.DataFrame, col: str, day: float) -> np.ndarray:
    x = o[col].to_numpy()
    return np.isfinite(x) & (x <= day)


def _trm(o: pl.DataFrame, day: float) -> np.ndarray:
    d = o["death_day"].to_numpy()
    cause = np.array(o["death_cause"].to_list(), dtype=object)
    return np.isfinite(d) & (d <= day) & np.isin(cause, TREATMENT_RELATED)


class _Runs:
    """Simulated cohorts, each run once and shared by the rows that need it."""

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self._cache = n, seed, {}

    def get(self, key: str, disease: str, protocol: Protocol, years: float = 5.0,
            save: SaveSpec | None = None, care: dict[str, float] | None = None):
        """``care`` changes supportive-care settings of the shared parameter set (e.g. no
        antiviral prophylaxis) to match a study's practice — never a model parameter."""
        if key not in self._cache:
            from immunoreset.parameters import default_parameters

            params = default_parameters()
            if care:
                if any(not k.startswith("supportive.") for k in care):
                    raise ValueError("only supportive-care settings may differ per study")
                params = params.evolve(**care)
            cohort = sample_cohort(Population(disease=disease), self.n, seed=self.seed)
            res = simulate(cohort, protocol, seed=self.seed, horizon_days=365.25 * years,
                           save=save or SaveSpec(variables=(), max_patients=0),
                           params=params)
            self._cache[key] = (cohort, res)
        return self._cache[key]


def _infection_counts(res, periods) -> list[tuple[float, float]]:
    """Mean expected infections per patient alive at the period start (cumulative hazard)."""
    tr = res.trajectories.filter(pl.col("variable") == "expected_infections").sort(
        ["patient_id", "day"])
    ids = res.outcomes["patient_id"].to_numpy()
    death = dict(zip(ids, res.outcomes["death_day"].to_numpy(), strict=True))
    series = {int(k[0]): (g["day"].to_numpy(), g["value"].to_numpy())
              for k, g in tr.group_by("patient_id")}
    out = []
    for a, b in periods:
        alive = [i for i in series if not (death[i] <= a)]
        # infections counted until death: the hazard integral stops growing at death only
        # in reality, so the window is cut at the death day
        inc = [np.interp(min(b, death[i]) if np.isfinite(death[i]) else b, *series[i])
               - np.interp(a, *series[i]) for i in alive]
        out.append((float(np.mean(inc)), float(len(alive))))
    return out


#: the ASTIS transplant setting: 79 patients in 29 centres, the CIBMTR "< 5" category
_ASTIS = Protocol(regimen="cy200_ratg", centre_autoimmune_transplants=3)


def scorecard(n: int = 1000, seed: int = 20261126) -> list[Row]:
    """Simulate the reference settings and compare with the published figures."""
    runs = _Runs(n, seed)
    rows: list[Row] = []

    # --- treatment-related mortality -----------------------------------------------------
    trm_refs = [
        ("ASTIS (van Laar JAMA 2014)", "systemic_sclerosis", "astis",
         _ASTIS, 365.0, 8, 79, "HSCT arm, CD34-selected; 29 centres, < 5 transplants each"),
        ("ASSIST (Burt Lancet 2011)", "systemic_sclerosis", "assist",
         Protocol(regimen="cy200_ratg_assist", atg_total_mg_per_kg=6.5, cd34_selection=False),
         365.0, 0, 10, "unselected graft"),
        ("MIST (Burt JAMA 2019)", "multiple_sclerosis", "mist",
         Protocol(regimen="cy200_ratg_assist", cd34_selection=False), 365.0 * 2.8, 0, 55,
         "whole follow-up"),
        ("ASTIC (Hawkey JAMA 2015)", "crohns_disease", "astic",
         Protocol(regimen="cy200_ratg", cd34_selection=False, centre_autoimmune_transplants=4),
         365.0, 1, 23, "1/23; 11 centres, < 5 transplants each"),
        ("Burt 2006 SLE (JAMA)", "sle", "sle", Protocol(regimen="cy200_ratg",
                                                       cd34_selection=False), 365.0 * 2.5, 1, 50,
         "1/50"),
    ]
    for study, disease, key, prot, day, k, nn, note in trm_refs:
        _, res = runs.get(key, disease, prot)
        v, ci = _share(_trm(res.outcomes, day))
        rows.append(Row(study, f"TRM by day {day:.0f}", 100 * k / nn, exact_ci(k, nn), v, ci,
                        "%", f"{disease}, {prot.regimen}", note))
    # SFGM-TC registry (56 SSc, 14 MS, others): day-100 and 5-year NRM, SSc-like setting
    _, res = runs.get("astis", "systemic_sclerosis", _ASTIS)
    for day, val, ci in ((100.0, 8.7, (4.0, 15.5)), (1826.0, 9.8, (4.8, 16.9))):
        v, sci = _share(_trm(res.outcomes, day))
        rows.append(Row("SFGM-TC registry (France 1997-2013)", f"NRM by day {day:.0f}", val, ci,
                        v, sci, "%", "systemic_sclerosis, cy200_ratg",
                        "registry mixes SSc (60 %), MS and others; compared with SSc"))
    # centre experience: relative risk of death < 5 vs > 15 autoimmune transplants
    _, experienced = runs.get("astis_experienced", "systemic_sclerosis",
                              Protocol(regimen="cy200_ratg"))
    a = _trm(res.outcomes, 365.0).mean()
    b = _trm(experienced.outcomes, 365.0).mean()
    rr = a / b if b > 0 else math.nan
    se = math.sqrt(max((1 - a) / max(a * n, 1e-9) + (1 - b) / max(b * n, 1e-9), 0.0))
    rows.append(Row("CIBMTR (PMC3950896)", "relative risk of death, < 5 vs > 15 AD transplants",
                    3.5, (1.1, 11.1), rr, (rr * math.exp(-1.96 * se), rr * math.exp(1.96 * se)),
                    "ratio", "systemic_sclerosis, cy200_ratg, 1-year TRM",
                    "simulated as the ratio of 1-year TRM"))

    # --- viral reactivation --------------------------------------------------------------
    cohort, res = runs.get("astis", "systemic_sclerosis", _ASTIS)
    o = res.outcomes
    cmv_pos = np.asarray(cohort.cmv_seropositive, dtype=bool)
    ebv_pos = np.asarray(cohort.ebv_seropositive, dtype=bool)
    v, ci = _share(_by(o, "cmv_reactivation_day", 365.0), cmv_pos)
    rows.append(Row("ATG immunosuppression, aplastic anaemia (PMC1852232)",
                    "CMV reactivation, seropositive, 1 y", 33.3, exact_ci(19, 57), v, ci, "%",
                    "systemic_sclerosis, cy200_ratg", "prior from ATG without transplant; no "
                    "autologous-AD figure found"))
    v, ci = _share(_by(o, "ebv_reactivation_day", 100.0), ebv_pos)
    rows.append(Row("ATG immunosuppression, aplastic anaemia (PMC1852232)",
                    "EBV reactivation, seropositive, day 100", 87.2, exact_ci(82, 94), v, ci, "%",
                    "systemic_sclerosis, cy200_ratg", "weekly PCR in the study"))
    _, noatg = runs.get("beam_noatg", "multiple_sclerosis",
                        Protocol(regimen="beam_atg", atg_total_mg_per_kg=0.0), years=1.0)
    c0, _ = runs.get("beam_noatg", "multiple_sclerosis", Protocol(regimen="beam_atg"))
    v, ci = _share(_by(noatg.outcomes, "cmv_reactivation_day", 42.0),
                   np.asarray(c0.cmv_seropositive, dtype=bool))
    rows.append(Row("Al-Rawi 2015 (autologous, lymphoma/myeloma)",
                    "CMV reactivation by day 42 (no ATG)", 17.6, exact_ci(37, 210), v, ci, "%",
                    "BEAM without ATG, seropositive", "contrast: all patients in the study, "
                    "seroprevalence not stated"))
    v, ci = _share(_by(o, "ptld_day", 365.0), ebv_pos)
    rows.append(Row("no published autologous-AD figure", "PTLD, EBV-seropositive, 1 y",
                    math.nan, None, v, ci, "%", "systemic_sclerosis, cy200_ratg",
                    "rare in case series; assumed order 1 %"))

    # --- secondary autoimmunity (EBMT, Daikeler 2011) ------------------------------------
    _, ms = runs.get("mist_sel", "multiple_sclerosis", Protocol(regimen="cy200_ratg"))
    both = pl.concat([o.select("secondary_autoimmunity_day"),
                      ms.outcomes.select("secondary_autoimmunity_day")])
    v, ci = _share(_by(both, "secondary_autoimmunity_day", 1826.0))
    rows.append(Row("Daikeler 2011 (EBMT, n=347)", "secondary autoimmune disease, 5 y", 9.8,
                    (9.8 - 1.96 * 2, 9.8 + 1.96 * 2), v, ci, "%",
                    "SSc + MS, cy200_ratg CD34-selected", "published SE 2"))
    d = both["secondary_autoimmunity_day"].to_numpy()
    d = d[np.isfinite(d)] / 30.44
    med = float(np.median(d)) if len(d) else math.nan
    rows.append(Row("Daikeler 2011 (EBMT, n=347)", "median onset (months)", 21.9, (0.6, 49.0),
                    med, (float(np.percentile(d, 25)) if len(d) else math.nan,
                          float(np.percentile(d, 75)) if len(d) else math.nan),
                    "months", "SSc + MS, cy200_ratg", "published interval is the range; "
                    "simulated interval is the IQR"))

    # --- infections after a CD34-selected TBI/Cy/ATG graft (Storek, PMC2956741) --------------
    _, tbi = runs.get("tbi", "multiple_sclerosis", Protocol(regimen="cy_tbi_atg"), years=2.1,
                      save=SaveSpec(variables=("expected_infections",), max_patients=n))
    periods = ((0.0, 15.0), (15.0, 180.0), (180.0, 365.0), (365.0, 730.0))
    published = (23, 25, 9, 9)
    for (a_, b_), (mean, alive), k in zip(periods, _infection_counts(tbi, periods), published,
                                          strict=True):
        lo, hi = _poisson_ci(k)
        rows.append(Row("Storek (PMC2956741), n=56", f"infections per patient, days "
                        f"{a_:.0f}-{b_:.0f}", k / 56, (lo / 56, hi / 56), mean,
                        (mean * (1 - 1.96 / math.sqrt(max(mean * alive, 1))),
                         mean * (1 + 1.96 / math.sqrt(max(mean * alive, 1)))),
                        "per patient", "multiple_sclerosis, cy_tbi_atg CD34-selected",
                        "expected count (cumulative infection hazard) among patients alive"))

    # --- organ toxicity events ---------------------------------------------------------------
    _, ssc = runs.get("astis", "systemic_sclerosis", _ASTIS)
    v, ci = _share(ssc.outcomes["engraftment_syndrome"].to_numpy())
    rows.append(Row("Strunz 2021 (SSc, n=22)", "engraftment syndrome", 100 * 9 / 22,
                    exact_ci(9, 22), v, ci, "%", "systemic_sclerosis, cy200_ratg CD34-selected",
                    "older age and cardiac involvement were risk factors (not modelled)"))
    _, mist = runs.get("mist", "multiple_sclerosis",
                       Protocol(regimen="cy200_ratg_assist", cd34_selection=False))
    v, ci = _share(mist.outcomes["engraftment_syndrome"].to_numpy())
    rows.append(Row("Oyama 2002 (MS, Northwestern, n=19)", "engraftment syndrome", 100 * 5 / 19,
                    exact_ci(5, 19), v, ci, "%", "multiple_sclerosis, cy200_ratg_assist",
                    "regimen of the series not captured; the MIST regimen is used"))
    v, ci = _share(tbi.outcomes["engraftment_syndrome"].to_numpy())
    rows.append(Row("MS HDIT pilot (Blood 2003;102:2364, n=18)", "engraftment syndrome",
                    100 * 13 / 18, exact_ci(13, 18), v, ci, "%",
                    "multiple_sclerosis, cy_tbi_atg CD34-selected", "first 18 patients"))
    _, bu = runs.get("bucy", "multiple_sclerosis", Protocol(regimen="bu_cy_atg"), years=1.0)
    v, ci = _share(bu.outcomes["sos"].to_numpy())
    rows.append(Row("SOS after BU/CY (allogeneic, malignancy; model_gaps §7)", "SOS", 23.0,
                    None, v, ci, "%", "bu_cy_atg", "contrast population; interval not captured"))
    mel = Conditioning(name="melphalan_220", title="melphalan 220 mg/m2", doses=(
        Dose(agent="melphalan", amount=220, unit="mg/m2", day=-1, infusion_hours=0.5),))
    _, m220 = runs.get("mel220", "multiple_sclerosis",
                       Protocol(regimen=None, conditioning=mel), years=0.3)
    v, ci = _share(m220.outcomes["severe_mucositis"].to_numpy())
    rows.append(Row("melphalan 220 mg/m2 (model_gaps §4.2, n=16)", "grade 4 mucositis",
                    100 * 13 / 16, exact_ci(13, 16), v, ci, "%", "melphalan 220 mg/m2 alone",
                    "simulated: grade 3-4"))
    bcnu = Conditioning(name="carmustine_600", title="carmustine 600 mg/m2", doses=(
        Dose(agent="carmustine", amount=600, unit="mg/m2", day=-6, infusion_hours=2),))
    _, b600 = runs.get("bcnu600", "multiple_sclerosis",
                       Protocol(regimen=None, conditioning=bcnu), years=0.3)
    v, ci = _share(b600.outcomes["pulmonary_toxicity"].to_numpy())
    rows.append(Row("CBV, carmustine 600 mg/m2 (cited in Cunningham, Br J Cancer 1997)",
                    "pulmonary toxicity", 16.0, None, v, ci, "%", "carmustine 600 mg/m2 alone",
                    "secondary citation; interval not captured"))
    _, beam = runs.get("beam", "multiple_sclerosis", Protocol(regimen="beam_atg"), years=1.0)
    _, asticr = runs.get("astic", "crohns_disease",
                         Protocol(regimen="cy200_ratg", cd34_selection=False))
    v, ci = _share(asticr.outcomes["febrile_neutropenia"].to_numpy())
    rows.append(Row("Qiu 2017 (Crohn's aHSCT, pooled)", "febrile neutropenia", 83.2,
                    (63.2, 93.4), v, ci, "%", "crohns_disease, cy200_ratg unselected", ""))
    for r_, lab, val in ((beam, "BEAM-ATG", 88.0), (mist, "cy200_ratg_assist", 68.0)):
        v, ci = _share(r_.outcomes["febrile_neutropenia"].to_numpy())
        rows.append(Row("BEAM vs CY in MS (model_gaps §7)", f"febrile neutropenia, {lab}", val,
                        None, v, ci, "%", f"multiple_sclerosis, {lab}", "interval not captured"))
    v, ci = _share(beam.outcomes["pulmonary_toxicity"].to_numpy())
    rows.append(Row("carmustine pneumonitis, 1.5-20 % overall (Cunningham 1997)",
                    "pulmonary toxicity after BEAM", math.nan, (1.5, 20.0), v, ci, "%",
                    "multiple_sclerosis, beam_atg", "range across series, not a CI"))
    _, tbi1 = runs.get("tbi", "multiple_sclerosis", Protocol(regimen="cy_tbi_atg"))
    v, ci = _share(_by(tbi1.outcomes, "vzv_reactivation_day", 365.0))  # all patients
    rows.append(Row("Han 2017 (HCT, >= 1 y acyclovir)", "VZV reactivation, 1 y", 4.5,
                    (4.0, 5.0), v, ci, "%", "multiple_sclerosis, cy_tbi_atg, 1 y acyclovir",
                    "published interval is the range of cited series"))
    _, noacv = runs.get("tbi_noacv", "multiple_sclerosis", Protocol(regimen="cy_tbi_atg"),
                        years=1.0, care={"supportive.acyclovir_prophylaxis_days": 0.0})
    v, ci = _share(_by(noacv.outcomes, "vzv_reactivation_day", 365.0))
    rows.append(Row("Han 2017 (HCT, no prophylaxis)", "VZV reactivation, 1 y", 27.5,
                    (25.0, 30.0), v, ci, "%", "multiple_sclerosis, cy_tbi_atg, no acyclovir",
                    "published interval is the range of cited series"))
    v, ci = _share(beam.outcomes["acute_kidney_injury"].to_numpy())
    rows.append(Row("Khalil 2019 (HSCT, n=60)", "acute kidney injury by day 90", 31.7,
                    exact_ci(19, 60), v, ci, "%", "multiple_sclerosis, beam_atg",
                    "mixed autologous/allogeneic cohort; high-dose melphalan a risk factor; "
                    "simulated over the first year (the hazard acts in aplasia)"))
    v, ci = _share(_by(ssc.outcomes, "malignancy_day", 1826.0))
    rows.append(Row("no autoimmune-HSCT figure found", "therapy-related malignancy, 5 y",
                    math.nan, None, v, ci, "%", "systemic_sclerosis, cy200_ratg",
                    "assumed order 1 %"))

    # --- allogeneic: GVHD with and without ATG (Blood Adv 2019;3:1950) --------------------
    for atg, a2, c2, ci_a, ci_c in ((None, 24.0, 34.0, None, None),
                                    (0.0, 33.0, 46.0, None, None)):
        prot = Protocol(regimen="cy_tbi_atg", cd34_selection=False, donor="matched_sibling",
                        atg_total_mg_per_kg=atg)
        _, r = runs.get(f"allo_{atg}", "multiple_sclerosis", prot, years=2.1)
        lab = "with ATG" if atg is None else "without ATG"
        ag = r.outcomes["agvhd_grade"].to_numpy() >= 2
        v, ci = _share(ag)
        rows.append(Row("EBMT TBI-MAC, MSD (Blood Adv 2019;3:1950)", f"aGVHD II-IV {lab}", a2,
                        ci_a, v, ci, "%", "matched sibling PBSC, cy_tbi_atg",
                        "trial in AML; interval not captured"))
        v, ci = _share(_by(r.outcomes, "cgvhd_day", 730.0))
        rows.append(Row("EBMT TBI-MAC, MSD (Blood Adv 2019;3:1950)", f"cGVHD 2 y {lab}", c2,
                        ci_c, v, ci, "%", "matched sibling PBSC, cy_tbi_atg",
                        "trial in AML; interval not captured"))
    return rows


def _poisson_ci(k: int) -> tuple[float, float]:
    from scipy.stats import chi2

    lo = 0.0 if k == 0 else chi2.ppf(0.025, 2 * k) / 2
    return float(lo), float(chi2.ppf(0.975, 2 * k + 2) / 2)


def render(rows: list[Row], *, n: int, seed: int) -> str:
    """The scorecard as Markdown."""
    def f(x: float) -> str:
        return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"

    lines = [
        "# Complications calibration scorecard",
        "",
        "Generated by `python -m immunoreset.outcomes.scorecard` — do not edit by hand.",
        f"{n} virtual patients per setting, seed {seed}; one shared parameter set "
        "(`data/parameters.yaml`). Simulated intervals are Monte-Carlo 95 % intervals "
        "(exact binomial for proportions). A miss is a finding about the model, not a bug "
        "to tune away per study.",
        "",
    ]
    from immunoreset.parameters import not_shipped_note

    note = not_shipped_note()
    if note:
        lines += [note, ""]
    lines += [
        "| study | endpoint | published | 95 % CI | simulated | sim. 95 % CI | inside | "
        "setting | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ci = "—" if r.ci is None else f"{f(r.ci[0])}–{f(r.ci[1])}"
        ins = {None: "n/a", True: "yes", False: "**no**"}[r.inside]
        lines.append(f"| {r.study} | {r.endpoint} | {f(r.published)} {r.unit} | {ci} | "
                     f"{f(r.simulated)} | {f(r.sim_ci[0])}–{f(r.sim_ci[1])} | {ins} | "
                     f"{r.setting} | {r.note} |")
    n_in = sum(r.inside is True for r in rows)
    n_out = sum(r.inside is False for r in rows)
    lines += ["", f"Inside: {n_in}; outside: {n_out}; no published interval: "
              f"{len(rows) - n_in - n_out}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--out", default="docs/complications_calibration.md")
    args = ap.parse_args(argv)
    print(write_scorecard(Path(args.out), n=args.n, seed=args.seed))
    return 0


def write_scorecard(out: Path, *, n: int = 1000, seed: int = 20261126) -> str:
    """Run the scorecard and write it to ``out`` atomically; returns the Markdown."""
    text = render(scorecard(n, seed), n=n, seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)  # atomic: never a half-written report
    return text


if __name__ == "__main__":
    raise SystemExit(main())
