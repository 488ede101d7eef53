"""``assess``: eligibility, scores, individual forecasts and plans for one patient."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from pydantic import ValidationError

from immunoreset.clinic.bodysize import WEIGHT_BASES
from immunoreset.clinic.data import eligibility_data, hct_ci_data
from immunoreset.clinic.eligibility import Eligibility, evaluate_eligibility
from immunoreset.clinic.forecast import (
    OUTCOMES,
    forecast_rows,
    simulate_twins,
    unknown_model_covariates,
)
from immunoreset.clinic.planner import Plan, dosed_protocol, plan_protocol
from immunoreset.clinic.record import ClinicalRecord, load_record
from immunoreset.clinic.scores import ComorbidityAge, HctCi, comorbidity_age, hct_ci
from immunoreset.errors import InputError
from immunoreset.io.store import atomic_output_dir, base_provenance, write_json
from immunoreset.parameters import ParameterSet, default_parameters
from immunoreset.population import streams
from immunoreset.protocols import Protocol

SCHEMA_VERSION = "1"
DISCLAIMER = ("Research software, not a medical device. This assessment is a model output under "
              "the stated assumptions for a multidisciplinary discussion; it is not a "
              "recommendation for any patient.")


@dataclass(frozen=True)
class Assessment:
    """Everything ``assess`` found for one patient (write it with :meth:`write`)."""

    record: ClinicalRecord
    eligibility: Eligibility
    hct_ci: HctCi
    comorbidity_age: ComorbidityAge
    forecasts: pl.DataFrame
    plans: tuple[Plan, ...]
    assumptions: tuple[str, ...]
    unknown: dict
    provenance: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        refs = dict(eligibility_data()["references"]) | dict(hct_ci_data()["references"])
        return {
            "schema_version": SCHEMA_VERSION,
            "disclaimer": DISCLAIMER,
            "patient": self.record.model_dump(mode="json", exclude_none=True),
            "unknown": self.unknown,
            "eligibility": self.eligibility.to_dict(),
            "hct_ci": self.hct_ci.to_dict(),
            "comorbidity_age_index": self.comorbidity_age.to_dict(),
            "forecasts": self.forecasts.to_dicts(),
            "plan": [p.to_dict() for p in self.plans],
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
            "references": refs,
            "provenance": self.provenance,
        }

    def write(self, out: str | Path, *, overwrite: bool = False) -> Path:
        """``assessment.json`` and the one-page ``assessment.html``, atomically."""
        from immunoreset.clinic.report import render_html

        with atomic_output_dir(out, overwrite=overwrite) as tmp:
            d = self.to_dict()
            write_json(tmp / "assessment.json", d)
            (tmp / "assessment.html").write_text(render_html(self), "utf-8")
        return Path(out)


def _resolve(protocols: Sequence[str | Protocol]) -> list[tuple[str, Protocol]]:
    out = []
    for p in protocols:
        if isinstance(p, Protocol):
            out.append((p.regimen or p.comparator_name or p.conditioning.name, p))
        elif isinstance(p, str):
            try:
                proto = Protocol(regimen=p)
            except (InputError, ValidationError):
                raise InputError("protocol", p, "a regimen preset (see `immunoreset "
                                 "regimens`)") from None
            out.append((p, proto))
        else:
            raise InputError("protocol", type(p).__name__, "a regimen name or a Protocol")
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise InputError("protocol", names, "distinct protocols")
    return out


def assess(patient: ClinicalRecord | dict | str | Path, protocols: Sequence[str | Protocol],
           *, seed: int | None = None, comparator: str | None = "default", n_twins: int = 400,
           per_group: int = 20, dosing_weight: str = "actual",
           centre_autoimmune_transplants: int | None = None,
           params: ParameterSet | None = None, progress=None) -> Assessment:
    """Assess one patient for autologous HSCT under the candidate ``protocols``.

    ``patient`` is a :class:`ClinicalRecord`, a mapping, or a YAML/JSON/FHIR file.
    ``comparator``: ``"default"`` (the disease's usual comparator), a comparator name, or
    ``None``. ``n_twins`` digital twins per protocol in groups of ``per_group`` sharing the
    unknown covariates (see :mod:`immunoreset.clinic.forecast`). ``dosing_weight`` is the
    basis of per-kg cytotoxic doses (actual / ideal / adjusted). ``centre_autoimmune_
    transplants`` (or the record's) sets the CIBMTR centre-experience relative risk.
    ``progress(done, total)`` is called in twin-patients.
    """
    t0 = time.perf_counter()
    record = patient if isinstance(patient, ClinicalRecord) else load_record(patient)
    if not protocols:
        raise InputError("protocol", [], "at least one transplant protocol")
    if dosing_weight not in WEIGHT_BASES:
        raise InputError("dosing_weight", dosing_weight, "one of " + ", ".join(WEIGHT_BASES))
    if not isinstance(n_twins, int) or not isinstance(per_group, int) or per_group < 2 \
            or n_twins < 2 * per_group or n_twins % per_group or n_twins > 100_000:
        raise InputError("n_twins", n_twins, f"a multiple of per_group={per_group} (>= 2 "
                         "groups, <= 100000)")
    seed = streams.normalize_seed(seed)
    params = params or default_parameters()
    arms = _resolve(protocols)
    if any(not p.is_transplant for _, p in arms):
        raise InputError("protocol", [n for n, p in arms if not p.is_transplant],
                         "transplant protocols (the comparator is added by `comparator`)")
    centre = centre_autoimmune_transplants
    if centre is None:
        centre = record.centre_autoimmune_transplants
    if centre is not None:
        arms = [(n, p.model_copy(update={"centre_autoimmune_transplants": int(centre)}))
                for n, p in arms]
    elig_data = eligibility_data()["diseases"][record.disease]
    if comparator == "default":
        comparator = elig_data["default_comparator"]
    comp_arm = []
    if comparator is not None:
        comp_arm = [(comparator, Protocol(comparator=comparator))]
    h = hct_ci(record)
    ca = comorbidity_age(record, h)
    elig = evaluate_eligibility(record, [p for _, p in arms], names=[n for n, _ in arms],
                                hct_ci_complete=h.complete)
    n_groups = n_twins // per_group
    rows: list[dict] = []
    plans: list[Plan] = []
    total = n_twins * (len(arms) + len(comp_arm))
    done = 0
    for name, proto in arms + comp_arm:
        sim_proto = dosed_protocol(proto, record, dosing_weight)

        def prog(d, t, _base=done):
            if progress:
                progress(_base + d, total)
        out = simulate_twins(record, sim_proto, seed=seed, n_groups=n_groups,
                             per_group=per_group, hct_ci=h.score, params=params, progress=prog)
        done += n_twins
        rows += forecast_rows(out, name, is_transplant=proto.is_transplant, n_groups=n_groups,
                              per_group=per_group, disease=record.disease, params=params)
        plans.append(plan_protocol(record, proto, name=name, seed=seed, n_twins=n_twins,
                                   dosing_weight=dosing_weight, params=params))
    forecasts = pl.DataFrame(rows, infer_schema_length=None)
    unknown_cov = unknown_model_covariates(record)
    unknown = {"record_fields_not_recorded": record.unknown_fields(),
               "model_covariates_sampled_from_population": unknown_cov,
               "hct_ci_items_unknown": h.unknown_items}
    assumptions = _assumptions(record, h, comparator, elig_data, centre, dosing_weight,
                               n_twins, per_group, unknown_cov)
    prov = base_provenance() | {
        "seed": seed, "n_twins_per_protocol": n_twins, "twins_per_group": per_group,
        "parameters": {"origin": params.origin, "sha256": params.sha256},
        "protocols": {n: p.model_dump(mode="json", by_alias=True) for n, p in arms + comp_arm},
        "horizon_days": 1827.0, "runtime_s": round(time.perf_counter() - t0, 2),
        "outcome_definitions": [o.name for o in OUTCOMES],
    }
    return Assessment(record=record, eligibility=elig, hct_ci=h, comorbidity_age=ca,
                      forecasts=forecasts, plans=tuple(plans), assumptions=tuple(assumptions),
                      unknown=unknown, provenance=prov)


def _assumptions(record, h, comparator, elig_data, centre, dosing_weight, n_twins, per_group,
                 unknown_cov) -> list[str]:
    a = [
        f"Forecasts simulate {n_twins} digital twins per protocol ({n_twins // per_group} groups "
        f"of {per_group}); recorded covariates fixed (age, sex, weight, height and, when "
        "recorded, disease duration and blood counts); unknown physiology drawn from the "
        "parameter file's population variability.",
        "Not recorded and sampled from the disease population (interval widened accordingly): "
        + ", ".join(unknown_cov) + ".",
        "Interval: central 95 % of a Beta distribution with the twins' mean and a variance = "
        "spread over the unknown covariates (between-group variance net of binomial noise) + "
        "Monte-Carlo variance; never narrower than the Wilson interval. Model parameter "
        "uncertainty (posterior) is not included: calibration does not exist yet.",
        f"HCT-CI {h.score} enters the engine's treatment-related hazard multiplier "
        "(complications.trm_hct_ci_coefficient per point; assumed log-linear from Sorror 2005); "
        + (f"{len(h.unknown_items)} HCT-CI item(s) unknown ({', '.join(h.unknown_items)}) scored "
           f"0, so the forecast treatment-related risk is a lower bound (HCT-CI up to "
           f"{h.score_max})." if h.unknown_items else "every HCT-CI item recorded."),
        "LVEF enters the model through the HCT-CI cardiac item (LVEF <= 50 %); "
        "cardiac_involvement, PAH measures and TAPSE enter eligibility only: the engine has no "
        "per-patient cardiac hazard term, only the disease-level SSc cardiac multiplier "
        "(disease.systemic_sclerosis.cardiac_toxicity_multiplier). Patient-level effect sizes "
        "were not found (shared evidence trm_risk_factors.yaml: null).",
        ("Centre experience: " + (f"{centre} autoimmune transplants (CIBMTR relative risk "
         "applied when < 5 or 5-15; Pasquini 2012)" if centre is not None else
         "not given: an experienced centre (> 15) is assumed")) + ".",
        "Activity scores of the record (mRSS, EDSS, SLEDAI, ...) are used for eligibility; the "
        "simulator draws the baseline score from the disease population (no per-patient "
        "input for it yet).",
        f"Comparator: {comparator} ({elig_data.get('default_comparator_source', '')})."
        if comparator else "No comparator simulated.",
        f"Per-kg cytotoxic doses on {dosing_weight} body weight (ATG on actual weight); BSA "
        "by Mosteller.",
        "Remission at 2 and 5 years: the disease module's remission definition applied to the "
        "simulated score at that time, with no progression, no relapse and no death by then.",
        "Outcomes not produced by the simulator are reported as not_modelled, not estimated.",
    ]
    return a
