"""Virtual patients: a population spec, single patient records, and sampled cohorts."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from immunoreset.errors import InputError, check_range
from immunoreset.population import streams
from immunoreset.population.covariates import (
    bsa_mosteller,
    population_data,
    truncated_lognormal,
    truncated_normal,
)
from immunoreset.vocabulary import canonical_disease

# slots of the covariate block (streams.COVARIATES)
(_Z_AGE, _Z_SEX, _Z_WEIGHT, _Z_HEIGHT, _Z_DURATION, _Z_ANC, _Z_PLT, _Z_HB, _Z_LYMPH, _Z_CMV,
 _Z_EBV, _Z_VZV, _Z_PHENOTYPE) = range(13)


class Population(BaseModel):
    """Who the virtual patients are: a disease's covariate distributions, optionally fixed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    disease: str = "systemic_sclerosis"
    age_years: float | None = Field(default=None, description="fix every patient's age")
    age_min: float | None = Field(default=None, ge=0, le=100)
    age_max: float | None = Field(default=None, ge=0, le=100)
    # A study's own covariate distributions (its Table 1), replacing the disease defaults of
    # data/populations.yaml; None keeps the default. Patient k's draws stay the same
    # standard normals, only mapped through the given distribution.
    age_mean: float | None = Field(default=None, ge=0, le=100,
                                   description="mean age, years (truncated normal)")
    age_sd: float | None = Field(default=None, gt=0, le=50, description="age SD, years")
    female_fraction: float | None = Field(default=None, ge=0, le=1)
    disease_duration_median: float | None = Field(
        default=None, gt=0, le=80, description="median disease duration, years (lognormal)")
    disease_duration_cv: float | None = Field(default=None, gt=0, le=5)
    score_baseline_mean: float | None = Field(
        default=None, ge=0, description="mean disease score at entry (truncated normal on the "
                                        "disease's score range)")
    score_baseline_sd: float | None = Field(default=None, gt=0)
    progressive_fraction: float | None = Field(
        default=None, ge=0, le=1, description="share of patients with the disease's "
        "progressive phenotype (MS: secondary or primary progressive); None = the disease's "
        "default (data/populations.yaml)")

    @field_validator("disease")
    @classmethod
    def _disease(cls, v: str) -> str:
        return canonical_disease(v)

    @model_validator(mode="after")
    def _phenotype(self) -> Population:
        if self.progressive_fraction:
            from immunoreset.diseases import disease_model

            if not disease_model(self.disease).progressive_phenotype:
                raise InputError("progressive_fraction", self.progressive_fraction,
                                 f"0: {self.disease} has no progressive phenotype in the model")
        return self

    @model_validator(mode="after")
    def _score_range(self) -> Population:
        if self.score_baseline_mean is None and self.score_baseline_sd is None:
            return self
        from immunoreset.diseases import disease_model
        from immunoreset.parameters import default_parameters

        dm, params = disease_model(self.disease), default_parameters()
        lo, hi = dm.p(params, "score_min"), dm.p(params, "score_max")
        if self.score_baseline_mean is not None:
            check_range("score_baseline_mean", self.score_baseline_mean, lo, hi,
                        unit=f"{dm.score_name} points (the disease's entry score range)")
        return self

    @property
    def sets_scores(self) -> bool:
        """True when the entry score distribution is given (not the disease default)."""
        return self.score_baseline_mean is not None or self.score_baseline_sd is not None

    @field_validator("age_years")
    @classmethod
    def _age(cls, v: float | None) -> float | None:
        return None if v is None else check_range("age_years", v, 0, 100, unit="years")


class Patient(BaseModel):
    """One real or hypothetical patient record; unknown physiology is sampled."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    disease: str
    age_years: float = Field(ge=0, le=100)
    sex: Literal["F", "M"]
    weight_kg: float = Field(gt=2, le=300)
    height_cm: float = Field(gt=40, le=250)
    disease_duration_years: float | None = Field(default=None, ge=0, le=80)
    anc_per_uL: float | None = Field(default=None, gt=0, le=100000)
    platelets_per_uL: float | None = Field(default=None, gt=0, le=2e6)
    cmv_seropositive: bool | None = Field(default=None, description="CMV IgG; None = unknown")
    ebv_seropositive: bool | None = Field(default=None, description="EBV IgG; None = unknown")
    hemoglobin_g_per_dL: float | None = Field(default=None, gt=2, le=25)
    progressive: bool = Field(default=False, description="progressive phenotype (MS: "
                              "secondary or primary progressive); False = relapsing")

    @field_validator("disease")
    @classmethod
    def _disease(cls, v: str) -> str:
        return canonical_disease(v)

    @model_validator(mode="after")
    def _phenotype(self) -> Patient:
        if self.progressive:
            from immunoreset.diseases import disease_model

            if not disease_model(self.disease).progressive_phenotype:
                raise InputError("progressive", True,
                                 f"False: {self.disease} has no progressive phenotype in the "
                                 "model")
        return self


@dataclass(frozen=True)
class Cohort:
    """Sampled virtual patients as ``[n]`` arrays; row *i* is patient ``patient_id[i]``."""

    seed: int
    disease: str
    patient_id: np.ndarray
    age_years: np.ndarray
    female: np.ndarray
    weight_kg: np.ndarray
    height_cm: np.ndarray
    bsa_m2: np.ndarray
    disease_duration_years: np.ndarray
    anc_per_uL: np.ndarray
    platelets_per_uL: np.ndarray
    hemoglobin_g_per_dL: np.ndarray
    lymphocytes_per_uL: np.ndarray
    extra: dict = field(default_factory=dict)
    #: CMV / EBV IgG serostatus (bool arrays); ``None`` = drawn from the population prevalence
    cmv_seropositive: np.ndarray | None = None
    ebv_seropositive: np.ndarray | None = None
    #: progressive phenotype (bool array; MS); ``None`` = every patient relapsing
    progressive: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.patient_id)

    def take(self, idx: np.ndarray | slice) -> Cohort:
        """The sub-cohort of rows ``idx`` (same patients, same streams); per-patient arrays
        in ``extra`` (e.g. ``hct_ci``) are sliced with them."""
        n = len(self)
        arrays = {k: v[idx] for k, v in self.__dict__.items() if isinstance(v, np.ndarray)}
        extra = {k: (v[idx] if isinstance(v, np.ndarray) and v.shape[:1] == (n,) else v)
                 for k, v in self.extra.items()}
        return replace(self, **arrays, extra=extra)


def sample_cohort(population: Population | str, n: int, *, seed: int,
                  start: int = 0) -> Cohort:
    """Sample ``n`` virtual patients (ids ``start … start+n−1``) from ``population``.

    Patient *k* depends only on (``seed``, *k*): the first 10 patients of a cohort of 10 and
    of a cohort of 10,000 are the same people.
    """
    if isinstance(population, str):
        population = Population(disease=population)
    if not isinstance(n, (int, np.integer)) or n < 1 or n > 100_000_000:
        raise InputError("n", n, "an integer in [1, 100000000]")
    seed = streams.normalize_seed(seed)
    ids = np.arange(start, start + n, dtype=np.int64)
    z = streams.normal_block(seed, ids, streams.COVARIATES)
    data = population_data()
    dis = data[population.disease]
    body, counts = data["body_size"], data["baseline_counts"]

    a = dis["age_years"]
    lo = a["min"] if population.age_min is None else population.age_min
    hi = a["max"] if population.age_max is None else population.age_max
    if lo >= hi:
        raise InputError("age_min", lo, f"smaller than age_max={hi}")
    if population.age_years is not None:
        age = np.full(n, float(population.age_years))
    else:
        mean = a["mean"] if population.age_mean is None else population.age_mean
        check_range("age_mean", mean, lo, hi, unit="years (inside the age range)")
        sd = a["sd"] if population.age_sd is None else population.age_sd
        age = truncated_normal(z[:, _Z_AGE], mean, sd, lo, hi)
    ff = dis["female_fraction"]["value"] if population.female_fraction is None \
        else population.female_fraction
    female = _std_uniform(z[:, _Z_SEX]) < ff

    # weight and height, correlated on the log scale within sex
    height = np.empty(n)
    weight = np.empty(n)
    for sex, mask in (("female", female), ("male", ~female)):
        h, w = body["height_cm"][sex], body["weight_kg"][sex]
        rho = body["weight_height_correlation"]["value"][sex]
        zh = z[mask, _Z_HEIGHT]
        zw = rho * zh + np.sqrt(1 - rho * rho) * z[mask, _Z_WEIGHT]
        height[mask] = np.clip(h["mean"] + h["sd"] * zh, 130.0, 215.0)
        weight[mask] = truncated_lognormal(zw, w["median"], w["cv"], 38.0, 180.0)

    d = dis["disease_duration_years"]
    med = d["median"] if population.disease_duration_median is None \
        else check_range("disease_duration_median", population.disease_duration_median,
                         d["min"], d["max"], unit="years (the disease's duration range)")
    cv = d["cv"] if population.disease_duration_cv is None else population.disease_duration_cv
    duration = truncated_lognormal(z[:, _Z_DURATION], med, cv, d["min"], d["max"])

    c = counts
    anc = truncated_lognormal(z[:, _Z_ANC], c["anc_per_uL"]["median"], c["anc_per_uL"]["cv"],
                              1500.0, 12000.0)
    lymph = truncated_lognormal(z[:, _Z_LYMPH], c["lymphocytes_per_uL"]["median"],
                                c["lymphocytes_per_uL"]["cv"], 300.0, 6000.0)
    plt = np.empty(n)
    hb = np.empty(n)
    for sex, mask in (("female", female), ("male", ~female)):
        pc = c["platelets_per_uL"][sex]
        plt[mask] = truncated_lognormal(z[mask, _Z_PLT], pc["median"], pc["cv"], 100e3, 600e3)
        hc = c["hemoglobin_g_per_dL"][sex]
        hb[mask] = truncated_normal(z[mask, _Z_HB], hc["mean"], hc["sd"], 9.0, 18.5)
    cohort = Cohort(
        seed=seed, disease=population.disease, patient_id=ids, age_years=age, female=female,
        weight_kg=weight, height_cm=height, bsa_m2=bsa_mosteller(weight, height),
        disease_duration_years=duration, anc_per_uL=anc, platelets_per_uL=plt,
        hemoglobin_g_per_dL=hb, lymphocytes_per_uL=lymph,
    )
    cmv, ebv = draw_serostatus(cohort, z=z)
    pf = population.progressive_fraction
    if pf is None:
        pf = dis.get("progressive_fraction", {}).get("value", 0.0)
    progressive = _std_uniform(z[:, _Z_PHENOTYPE]) < pf
    extra = {}
    if population.sets_scores:
        extra["score_baseline"] = _entry_scores(population, seed, ids, progressive)
    return replace(cohort, cmv_seropositive=cmv, ebv_seropositive=ebv, extra=extra,
                   progressive=progressive)


def _entry_scores(population: Population, seed: int, ids: np.ndarray,
                  progressive: np.ndarray) -> np.ndarray:
    """Entry scores from the given distribution, drawn from the same per-patient uniform
    (EVENTS stream, slot EV_SCORE) as the engine's default draw; recorded in
    ``extra['score_baseline']``, where the engine and trial screening read them."""
    from immunoreset.diseases import disease_model
    from immunoreset.engine.assemble import EV_SCORE, baseline_scores
    from immunoreset.parameters import default_parameters

    dm, params = disease_model(population.disease), default_parameters()
    key = f"disease.{population.disease}"
    over = {}
    # the study's entry-score distribution (its Table 1) covers every phenotype it enrolled
    keys = [key] + ([f"{key}.progressive"] if dm.progressive_phenotype else [])
    for k in keys:
        if population.score_baseline_mean is not None:
            over[f"{k}.score_baseline_mean"] = population.score_baseline_mean
        if population.score_baseline_sd is not None:
            over[f"{k}.score_baseline_sd"] = population.score_baseline_sd
    u = streams.uniform_block(seed, ids, streams.EVENTS)[:, EV_SCORE]
    return baseline_scores(dm, params.evolve(**over), u, progressive)


def seroprevalence(virus: str, age_years: np.ndarray, female: np.ndarray) -> np.ndarray:
    """Age- and sex-specific IgG seroprevalence (logistic in age; populations.yaml)."""
    entry = population_data()["serostatus"][virus]
    out = np.empty(len(age_years))
    for sex, mask in (("female", female), ("male", ~female)):
        e = entry[sex]
        x = e["logit_at_reference_age"] + e["logit_slope_per_year"] * (
            age_years[mask] - entry["reference_age_years"])
        out[mask] = 1.0 / (1.0 + np.exp(-x))
    return out


def draw_vzv_serostatus(cohort: Cohort) -> np.ndarray:
    """VZV IgG serostatus from the patient's covariate stream (its own slot)."""
    z = streams.normal_block(cohort.seed, cohort.patient_id, streams.COVARIATES)
    prev = population_data()["serostatus"]["vzv"]["prevalence"]
    return _std_uniform(z[:, _Z_VZV]) < prev


def draw_serostatus(cohort: Cohort, *, z: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """CMV and EBV serostatus from each patient's covariate stream (slots of its own)."""
    if z is None:
        z = streams.normal_block(cohort.seed, cohort.patient_id, streams.COVARIATES)
    cmv = _std_uniform(z[:, _Z_CMV]) < seroprevalence("cmv", cohort.age_years, cohort.female)
    ebv = _std_uniform(z[:, _Z_EBV]) < seroprevalence("ebv", cohort.age_years, cohort.female)
    return cmv, ebv


def cohort_from_patient(patient: Patient, *, seed: int, n_twins: int = 1) -> Cohort:
    """A cohort of ``n_twins`` digital twins of one patient record.

    Recorded covariates are fixed; unrecorded baseline counts are sampled from the
    population (the twins differ in their unknown physiology only).
    """
    base = sample_cohort(Population(disease=patient.disease), n_twins, seed=seed)
    n = n_twins
    fem = np.full(n, patient.sex == "F")
    w = np.full(n, patient.weight_kg)
    h = np.full(n, patient.height_cm)
    fixed = replace(base, age_years=np.full(n, patient.age_years), female=fem)
    cmv, ebv = draw_serostatus(fixed)  # unknown serostatus: drawn at the patient's age and sex
    if patient.cmv_seropositive is not None:
        cmv = np.full(n, patient.cmv_seropositive)
    if patient.ebv_seropositive is not None:
        ebv = np.full(n, patient.ebv_seropositive)
    return replace(
        base,
        cmv_seropositive=cmv,
        ebv_seropositive=ebv,
        age_years=np.full(n, patient.age_years),
        female=fem,
        weight_kg=w,
        height_cm=h,
        bsa_m2=bsa_mosteller(w, h),
        disease_duration_years=base.disease_duration_years
        if patient.disease_duration_years is None else np.full(n, patient.disease_duration_years),
        anc_per_uL=base.anc_per_uL if patient.anc_per_uL is None
        else np.full(n, patient.anc_per_uL),
        platelets_per_uL=base.platelets_per_uL if patient.platelets_per_uL is None
        else np.full(n, patient.platelets_per_uL),
        hemoglobin_g_per_dL=base.hemoglobin_g_per_dL if patient.hemoglobin_g_per_dL is None
        else np.full(n, patient.hemoglobin_g_per_dL),
        progressive=np.full(n, patient.progressive),
    )


def _std_uniform(z: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(z)
