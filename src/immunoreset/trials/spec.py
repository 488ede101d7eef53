"""The trial specification: a YAML file validated by a pydantic schema (DESIGN §6).

A :class:`TrialSpec` says who is screened (inclusion and exclusion criteria on covariates),
how patients are randomised (arms with allocation ratios and protocols), how long they are
followed (administrative censoring, exponential drop-out), what is measured (endpoints) and,
optionally, what the published trial reported (``reference``), so that the report can put the
simulated and published figures side by side.

Time axis: trial time 0 is **randomisation**. A transplant arm's graft infusion (day 0 of the
simulator) happens ``days_randomisation_to_infusion`` days later (mobilisation, collection,
conditioning); a comparator arm starts treatment at randomisation.

Comparator arms (``protocol: {comparator: NAME}``) come in two kinds. A NAME shipped in
``data/comparators.yaml`` (a dosing schedule, e.g. ``iv_cyclophosphamide_monthly``) is
simulated by the engine like any protocol. A NAME from :data:`UNMODELLED_COMPARATORS` (a
therapy trials use but the model cannot express yet, e.g. ``disease_modifying_therapy``) is
accepted: :func:`immunoreset.run_trial` randomises patients to the arm but marks it **not
simulated**, and every endpoint of that arm is reported as not modelled (never a made-up
number). Any other NAME is an error at validation time. When a therapy is added to
``data/comparators.yaml`` it becomes simulated with no change to the specs that name it.

``load_spec(path)`` reads a YAML file; every error is an :class:`~immunoreset.errors.InputError`
whose message names the field (e.g. ``arms[1].allocation``) in one line.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from immunoreset.diseases.base import PRIOR_YEAR_SUFFIX as _PRIOR_YEAR_SUFFIX
from immunoreset.errors import InputError
from immunoreset.population import Population
from immunoreset.protocols.comparators import ComparatorField, ComparatorSpec
from immunoreset.protocols.protocol import Protocol
from immunoreset.vocabulary import DEATH_CAUSES, TREATMENT_RELATED_CAUSES, canonical_disease

SCHEMA_VERSION: Final = 1

#: Randomisation-to-infusion interval used when neither the spec nor the paper gives one:
#: ~2 weeks to mobilisation + ~6 weeks of collection, recovery and conditioning. A documented
#: modelling assumption (shown in the report), not a published figure.
DEFAULT_DAYS_RANDOMISATION_TO_INFUSION: Final = 56.0

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_COLUMN = re.compile(r"^[a-z][A-Za-z0-9_]*$")  # covariates keep unit case: mean_pap_mmHg

#: Covariates a sampled cohort carries today (``population.Cohort`` attributes). Criteria on
#: any other covariate are kept in the spec and recorded as "not applied: covariate not
#: modelled" in the CONSORT flow until the disease layer adds the covariate.
MODELLED_COVARIATES: Final = {
    "age_years": "years",
    "weight_kg": "kg",
    "height_cm": "cm",
    "bsa_m2": "m^2",
    "disease_duration_years": "years",
    "progressive": "1 = progressive phenotype (MS), 0 = relapsing",
    "anc_per_uL": "cells/uL",
    "platelets_per_uL": "cells/uL",
    "hemoglobin_g_per_dL": "g/dL",
    "lymphocytes_per_uL": "cells/uL",
}

#: The disease score at entry as a screening covariate: ``score_baseline`` or the score's
#: usual name (e.g. ``mrss`` for systemic sclerosis). Screening reads the very baseline
#: score the simulated patient then starts from (drawn from the patient's own stream), so a
#: criterion such as ``mrss >= 15`` selects the patients who are simulated with mRSS >= 15.
SCORE_COVARIATES: Final = {
    "score_baseline": None,  # any disease with a score model
    "mrss": "systemic_sclerosis",
    "edss": "multiple_sclerosis",
    "sledai": "sle",
    "das28": "rheumatoid_arthritis",
    "cdai": "crohns_disease",
    "insulin_requirement": "type1_diabetes",
}

#: A disease's recurrent event in the year before entry as a screening covariate:
#: ``<event>_prior_year`` (e.g. ``clinical_relapse_prior_year`` in MS), drawn with the
#: patient's own event frailty (``trials.run.prior_event_counts``).
PRIOR_YEAR_SUFFIX: Final = _PRIOR_YEAR_SUFFIX


# ----------------------------------------------------------------------------- events

class EventDefinition(BaseModel):
    """How a named event is read from the per-patient outcome table.

    ``column`` is a day column (days after graft infusion; NaN = no event). ``cause_column`` /
    ``causes`` restrict the event to rows whose cause is one of ``causes``.
    """

    model_config = ConfigDict(frozen=True)

    column: str
    cause_column: str | None = None
    causes: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,) if self.cause_column is None else (self.column, self.cause_column)


#: Events whose column is not simply ``<name>_day``.
SPECIAL_EVENTS: Final = {
    "death": EventDefinition(column="death_day"),
    "treatment_related_death": EventDefinition(
        column="death_day", cause_column="death_cause", causes=TREATMENT_RELATED_CAUSES),
    "infection": EventDefinition(column="infection_first_day"),
    # one event per death cause, ``<cause>_death`` (disease_death, background_death, …), so
    # that every cause-specific cumulative incidence can be an endpoint
    **{f"{c}_death": EventDefinition(column="death_day", cause_column="death_cause",
                                     causes=(c,)) for c in DEATH_CAUSES},
}


def event_definition(name: str) -> EventDefinition:
    """The column(s) behind event ``name``: :data:`SPECIAL_EVENTS`, else ``<name>_day``
    (e.g. ``organ_failure`` → ``organ_failure_day``, ``relapse`` → ``relapse_day``)."""
    return SPECIAL_EVENTS.get(name, EventDefinition(column=f"{name}_day"))


# ----------------------------------------------------------------------------- comparators

#: Comparator therapies published trials use that have no dosing schedule in
#: ``data/comparators.yaml`` yet (name → description). Arms naming them are not simulated.
UNMODELLED_COMPARATORS: Final = {
    "disease_modifying_therapy": "continued or switched disease-modifying therapy chosen by "
                                 "the treating neurologist (MS)",
    "conventional_therapy": "standard immunosuppressive or biologic care of the disease",
    "deferred_hsct": "conventional care with HSCT deferred (e.g. ASTIC: transplant at 1 year)",
}


def comparator_status(name: str) -> str:
    """``"simulated"`` (schedule in data/comparators.yaml), ``"not modelled"``
    (:data:`UNMODELLED_COMPARATORS`); :class:`InputError` for an unknown name."""
    from immunoreset.protocols.comparators import comparator_names

    if name in comparator_names():
        return "simulated"
    if name in UNMODELLED_COMPARATORS:
        return "not modelled"
    raise InputError("comparator", name, "one of " + ", ".join(
        dict.fromkeys([*comparator_names(), *UNMODELLED_COMPARATORS])) + ", or an explicit "
        "schedule (name, citation, dose, every_days, count, r0_factor, activity_factor)")


# ----------------------------------------------------------------------------- population

class Criterion(BaseModel):
    """One eligibility criterion as the protocol states it.

    Inclusion criteria give the range a patient must be in (``min``/``max``, inclusive);
    exclusion criteria give the value that excludes (``above``/``below``, strict). A criterion
    with no ``covariate`` (or on a covariate the cohort does not carry) is kept for the record
    and reported as not applied.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    covariate: str | None = Field(
        default=None,
        description="covariate name: a modelled covariate (e.g. age_years), the disease's "
                    "score (e.g. edss, mrss) or a recurrent event in the prior year "
                    "(e.g. clinical_relapse_prior_year in MS)")
    min: float | None = Field(default=None, description="inclusion: value >= min")
    max: float | None = Field(default=None, description="inclusion: value <= max")
    above: float | None = Field(default=None, description="exclusion: value > above excludes")
    below: float | None = Field(default=None, description="exclusion: value < below excludes")
    text: str = Field(default="", description="the criterion in the paper's words")
    source: str = ""

    @field_validator("covariate")
    @classmethod
    def _cov(cls, v: str | None) -> str | None:
        if v is not None and not _COLUMN.match(v):
            raise InputError("covariate", v, "a name like age_years or mean_pap_mmHg")
        return v

    def label(self) -> str:
        """Short plain-words form, e.g. ``age_years in [18, 65]``."""
        if self.covariate is None:
            return self.text or "(text-only criterion)"
        parts = []
        if self.min is not None and self.max is not None:
            parts.append(f"{self.covariate} in [{self.min:g}, {self.max:g}]")
        elif self.min is not None:
            parts.append(f"{self.covariate} >= {self.min:g}")
        elif self.max is not None:
            parts.append(f"{self.covariate} <= {self.max:g}")
        if self.above is not None:
            parts.append(f"{self.covariate} > {self.above:g} excludes")
        if self.below is not None:
            parts.append(f"{self.covariate} < {self.below:g} excludes")
        return "; ".join(parts) or self.covariate


class MeanSD(BaseModel):
    """A (truncated) normal distribution given by its mean and standard deviation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mean: float
    sd: float | None = Field(default=None, gt=0, description="default: the disease's")


class MedianCV(BaseModel):
    """A (truncated) lognormal distribution given by its median and coefficient of variation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    median: float = Field(gt=0)
    cv: float | None = Field(default=None, gt=0, le=5, description="default: the disease's")


class CovariateSpec(BaseModel):
    """The study's own baseline distributions (its Table 1), replacing the disease defaults
    of ``data/populations.yaml`` before screening; what is not given keeps the default.
    Bounds stay the disease's (and the inclusion criteria's)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    age_years: MeanSD | None = None
    female_fraction: float | None = Field(default=None, ge=0, le=1)
    disease_duration_years: MedianCV | None = None
    score_baseline: MeanSD | None = Field(
        default=None, description="the disease score at entry (e.g. mRSS, EDSS)")
    progressive_fraction: float | None = Field(
        default=None, ge=0, le=1, description="share with the progressive phenotype (MS)")
    source: str = Field(min_length=1, description="where the figures come from")

    def population_kwargs(self) -> dict[str, float]:
        """Keyword arguments of :class:`immunoreset.population.Population`."""
        kw: dict[str, float | None] = {"female_fraction": self.female_fraction,
                                       "progressive_fraction": self.progressive_fraction}
        if self.age_years is not None:
            kw |= {"age_mean": self.age_years.mean, "age_sd": self.age_years.sd}
        if self.disease_duration_years is not None:
            kw |= {"disease_duration_median": self.disease_duration_years.median,
                   "disease_duration_cv": self.disease_duration_years.cv}
        if self.score_baseline is not None:
            kw |= {"score_baseline_mean": self.score_baseline.mean,
                   "score_baseline_sd": self.score_baseline.sd}
        return {k: v for k, v in kw.items() if v is not None}


#: Population keyword → the spec field that sets it (for error messages)
_COVARIATE_FIELDS: Final = {
    "age_mean": "age_years.mean", "age_sd": "age_years.sd",
    "female_fraction": "female_fraction",
    "disease_duration_median": "disease_duration_years.median",
    "disease_duration_cv": "disease_duration_years.cv",
    "score_baseline_mean": "score_baseline.mean", "score_baseline_sd": "score_baseline.sd",
    "progressive_fraction": "progressive_fraction",
}


class PopulationSpec(BaseModel):
    """Who is randomised: ``n`` patients who pass the criteria (sampled until n pass)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n: int = Field(ge=1, le=1_000_000, description="patients randomised (all arms together)")
    covariates: CovariateSpec | None = Field(
        default=None, description="the study's baseline distributions (default: the "
                                  "disease's, data/populations.yaml)")
    inclusion: list[Criterion] = Field(default_factory=list)
    exclusion: list[Criterion] = Field(default_factory=list)
    max_screened_per_randomised: float = Field(
        default=100.0, ge=1.0, le=10_000.0,
        description="stop with an error if eligibility is rarer than 1 in this many")

    @model_validator(mode="after")
    def _check(self) -> PopulationSpec:
        for i, c in enumerate(self.inclusion):
            if c.above is not None or c.below is not None:
                raise InputError(f"population.inclusion[{i}]", c.label(),
                                 "min/max bounds (above/below belong to exclusion criteria)")
            if c.min is not None and c.max is not None and c.min > c.max:
                raise InputError(f"population.inclusion[{i}].min", c.min,
                                 f"<= max={c.max}")
        for i, c in enumerate(self.exclusion):
            if c.min is not None or c.max is not None:
                raise InputError(f"population.exclusion[{i}]", c.label(),
                                 "above/below thresholds (min/max belong to inclusion criteria)")
        return self


# ----------------------------------------------------------------------------- arms

class TransplantProtocol(Protocol):
    """A transplant arm: a :class:`~immunoreset.protocols.Protocol` plus its timing."""

    comparator: None = Field(default=None, exclude=True,
                             description="(comparator arms: protocol: {comparator: NAME})")

    days_randomisation_to_infusion: float | None = Field(
        default=None, ge=0, le=730,
        description="days from randomisation to graft infusion (default: "
                    f"{DEFAULT_DAYS_RANDOMISATION_TO_INFUSION:g}, a documented assumption)")
    timing_source: str = Field(default="", description="where the interval comes from")
    centre_source: str = Field(
        default="", description="where centre_autoimmune_transplants comes from (the "
                                "patients and centres the paper reports)")

    @property
    def delay_days(self) -> float:
        """Randomisation-to-infusion interval (days), the default when not given."""
        d = self.days_randomisation_to_infusion
        return DEFAULT_DAYS_RANDOMISATION_TO_INFUSION if d is None else float(d)

    def to_protocol(self) -> Protocol:
        """The plain :class:`Protocol` handed to :func:`immunoreset.simulate`."""
        data = self.model_dump(by_alias=True, exclude={"days_randomisation_to_infusion",
                                                       "timing_source", "centre_source"})
        return Protocol.model_validate(data)


class ComparatorProtocol(BaseModel):
    """A non-transplant arm: a named comparator therapy (module docstring: simulated or not)
    or an explicit schedule (:class:`~immunoreset.protocols.comparators.ComparatorSpec`:
    name, citation, dose, every_days, count, r0_factor, activity_factor), always simulated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    comparator: ComparatorField
    description: str = ""
    source: str = ""
    centre_autoimmune_transplants: int | None = Field(
        default=None, ge=0, le=10000,
        description="autoimmune transplants done by the trial's centres (as for a transplant "
                    "arm: the same centres treat the comparator arm and its complications); "
                    "None = an experienced centre (> 15)")
    centre_source: str = Field(default="", description="where the centre figure comes from")

    @field_validator("comparator")
    @classmethod
    def _known(cls, v: str | ComparatorSpec) -> str | ComparatorSpec:
        if isinstance(v, str):
            comparator_status(v)
        return v

    @property
    def delay_days(self) -> float:
        """Comparator treatment starts at randomisation."""
        return 0.0

    @property
    def is_modelled(self) -> bool:
        """True when the engine can simulate this comparator."""
        return (isinstance(self.comparator, ComparatorSpec)
                or comparator_status(self.comparator) == "simulated")

    def to_protocol(self) -> Protocol:
        """The :class:`Protocol` handed to :func:`immunoreset.simulate` (modelled only)."""
        return Protocol(comparator=self.comparator,
                        centre_autoimmune_transplants=self.centre_autoimmune_transplants)

    def describe(self) -> str:
        """Plain words: the schedule and its citation, or why it is not simulated."""
        if self.is_modelled:
            return self.to_protocol().describe()
        return (f"{self.comparator}: {UNMODELLED_COMPARATORS[str(self.comparator)]} (no model yet: "
                "randomised, not simulated)")


def _protocol_kind(v: Any) -> str:
    if isinstance(v, dict):
        return "comparator" if v.get("comparator") is not None else "transplant"
    return "comparator" if isinstance(v, ComparatorProtocol) else "transplant"


ArmProtocol = Annotated[
    Annotated[TransplantProtocol, Tag("transplant")]
    | Annotated[ComparatorProtocol, Tag("comparator")],
    Discriminator(_protocol_kind),
]


class ArmSpec(BaseModel):
    """One arm: name, allocation probability and protocol."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    allocation: float = Field(gt=0, le=1, description="probability of randomisation to the arm")
    protocol: ArmProtocol
    description: str = ""
    n_published: int | None = Field(default=None, ge=0, description="arm size in the paper")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise InputError("name", v, "a lower-case identifier like hsct or control")
        return v

    @property
    def is_transplant(self) -> bool:
        return isinstance(self.protocol, TransplantProtocol)


# ----------------------------------------------------------------------------- endpoints

class _Endpoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    arms: list[str] | None = Field(default=None, description="arms to report (default: all)")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise InputError("name", v, "a lower-case identifier like event_free_survival")
        return v

    def needed_columns(self) -> tuple[str, ...]:
        """Outcome columns the endpoint reads (before any per-arm availability check)."""
        return ()


def _events_ok(events: list[str]) -> list[str]:
    for e in events:
        if not _NAME.match(e):
            raise InputError("events", e, "event names like death, relapse, organ_failure")
    return events


class SurvivalEndpoint(_Endpoint):
    """Kaplan–Meier probability of being free of every listed event (e.g. event-free,
    overall, progression-free survival; NEDA as freedom from relapse and progression).

    Death always ends follow-up: when ``death`` is not one of the events it censors.
    ``report_as: incidence`` reports 1 − S(t) (e.g. all-cause mortality) with the CI flipped.
    """

    type: Literal["survival"] = "survival"
    events: list[str] = Field(min_length=1)
    timepoints_years: list[float] = Field(min_length=1)
    report_as: Literal["survival", "incidence"] = "survival"

    @field_validator("events")
    @classmethod
    def _ev(cls, v: list[str]) -> list[str]:
        return _events_ok(v)

    @field_validator("timepoints_years")
    @classmethod
    def _tp(cls, v: list[float]) -> list[float]:
        return _timepoints_ok(v)

    def needed_columns(self) -> tuple[str, ...]:
        cols = ["death_day"]
        for e in self.events:
            cols += event_definition(e).columns
        return tuple(dict.fromkeys(cols))


class CumulativeIncidenceEndpoint(_Endpoint):
    """Aalen–Johansen cumulative incidence of ``event`` with ``competing`` events (e.g.
    treatment-related mortality with relapse and other deaths competing)."""

    type: Literal["cumulative_incidence"] = "cumulative_incidence"
    event: str
    competing: list[str] = Field(default_factory=lambda: ["death"])
    timepoints_years: list[float] = Field(min_length=1)

    @field_validator("event")
    @classmethod
    def _e(cls, v: str) -> str:
        return _events_ok([v])[0]

    @field_validator("competing")
    @classmethod
    def _comp(cls, v: list[str]) -> list[str]:
        return _events_ok(v)

    @field_validator("timepoints_years")
    @classmethod
    def _tp(cls, v: list[float]) -> list[float]:
        return _timepoints_ok(v)

    def needed_columns(self) -> tuple[str, ...]:
        cols = ["death_day", *event_definition(self.event).columns]
        for e in self.competing:
            cols += event_definition(e).columns
        return tuple(dict.fromkeys(cols))


class HazardRatioEndpoint(_Endpoint):
    """Cox hazard ratio of ``arms[0]`` vs ``arms[1]`` (reference) for a survival endpoint.

    With ``cutpoints_years`` the HR is piecewise constant (time-varying), one per interval, as
    ASTIS reported; rows then carry the interval end as ``timepoint_years`` (the last interval
    ends at the follow-up).
    """

    type: Literal["hazard_ratio"] = "hazard_ratio"
    endpoint: str = Field(description="name of a survival endpoint")
    arms: list[str] = Field(min_length=2, max_length=2,
                            description="[comparator, reference]")
    cutpoints_years: list[float] | None = None

    @field_validator("cutpoints_years")
    @classmethod
    def _cuts(cls, v: list[float] | None) -> list[float] | None:
        if v is None:
            return v
        if not v or any(not math.isfinite(c) or c <= 0 for c in v) or sorted(set(v)) != v:
            raise InputError("cutpoints_years", v, "strictly increasing times > 0 years")
        return v


class LogrankEndpoint(_Endpoint):
    """Log-rank test between two arms for a survival endpoint (estimate = p-value)."""

    type: Literal["logrank"] = "logrank"
    endpoint: str
    arms: list[str] = Field(min_length=2, max_length=2)


class ProportionEndpoint(_Endpoint):
    """Proportion of patients with a boolean outcome (``column``) or with a numeric outcome
    beyond a threshold (``above``/``below``), with an exact (Clopper–Pearson) CI.

    ``missing``: ``exclude`` drops patients without a value (``n`` = patients with one);
    ``failure`` counts them as non-responders (intention to treat).
    """

    type: Literal["proportion"] = "proportion"
    column: str
    above: float | None = None
    below: float | None = None
    #: further boolean columns that must all be true as well (a composite responder
    #: definition, e.g. clinical remission and endoscopic remission)
    all_of: list[str] = Field(default_factory=list)
    timepoint_years: float | None = None
    missing: Literal["exclude", "failure"] = "exclude"

    def needed_columns(self) -> tuple[str, ...]:
        return (self.column, *self.all_of)


class MeanChangeEndpoint(_Endpoint):
    """Mean within-patient change ``follow_up − baseline`` of a score (paired t CI) per arm;
    with ``compare: [a, b]`` also the between-arm difference of changes (Welch t CI)."""

    type: Literal["mean_change"] = "mean_change"
    baseline: str = Field(description="column, e.g. score_baseline")
    follow_up: str = Field(description="column, e.g. score_y2")
    timepoint_years: float | None = None
    unit: str = "points"
    compare: list[str] | None = Field(default=None, min_length=2, max_length=2)

    def needed_columns(self) -> tuple[str, ...]:
        return (self.baseline, self.follow_up)


class SummaryEndpoint(_Endpoint):
    """Median (distribution-free order-statistic CI) or mean (t CI) of a numeric outcome
    column, e.g. the neutrophil engraftment day."""

    type: Literal["summary"] = "summary"
    column: str
    statistic: Literal["median", "mean"] = "median"

    def needed_columns(self) -> tuple[str, ...]:
        return (self.column,)


def _timepoints_ok(v: list[float]) -> list[float]:
    if any(not math.isfinite(t) or t <= 0 for t in v):
        raise InputError("timepoints_years", v, "finite times > 0 years")
    return v


def _endpoint_kind(v: Any) -> str:
    """Endpoint type; inferred when omitted (DESIGN outline: ``events`` → survival,
    ``endpoint`` + ``arms`` → hazard ratio)."""
    if not isinstance(v, dict):
        return getattr(v, "type", "survival")
    if "type" in v:
        return str(v["type"])
    if "events" in v:
        return "survival"
    if "endpoint" in v:
        return "hazard_ratio"
    if "event" in v:
        return "cumulative_incidence"
    if "baseline" in v:
        return "mean_change"
    return "summary" if "statistic" in v else "proportion"


EndpointSpec = Annotated[
    Annotated[SurvivalEndpoint, Tag("survival")]
    | Annotated[CumulativeIncidenceEndpoint, Tag("cumulative_incidence")]
    | Annotated[HazardRatioEndpoint, Tag("hazard_ratio")]
    | Annotated[LogrankEndpoint, Tag("logrank")]
    | Annotated[ProportionEndpoint, Tag("proportion")]
    | Annotated[MeanChangeEndpoint, Tag("mean_change")]
    | Annotated[SummaryEndpoint, Tag("summary")],
    Discriminator(_endpoint_kind),
]

ENDPOINT_TYPES: Final = ("survival", "cumulative_incidence", "hazard_ratio", "logrank",
                         "proportion", "mean_change", "summary")


# ----------------------------------------------------------------------------- reference

class ReferenceValue(BaseModel):
    """A published figure to compare with: same ``endpoint``/``arm``/``timepoint_years`` as a
    row of ``endpoints.csv``. ``unit: percent`` is converted to a probability. Without ``ci``
    but with ``n_events``/``n`` an exact Clopper–Pearson CI is derived (and labelled so)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    endpoint: str
    arm: str
    timepoint_years: float | None = None
    estimate: float
    ci: tuple[float, float] | None = None
    unit: str | None = None
    n_events: int | None = Field(default=None, ge=0)
    n: int | None = Field(default=None, ge=1)
    p_value: str | None = None
    source: str = Field(min_length=1)
    confidence: Literal["high", "medium", "low"] | None = None
    note: str = ""

    @model_validator(mode="after")
    def _ci(self) -> ReferenceValue:
        if self.ci is not None and self.ci[0] > self.ci[1]:
            raise InputError("ci", list(self.ci), "[low, high] with low <= high")
        return self


# ----------------------------------------------------------------------------- design

class StratumFactor(BaseModel):
    """A stratification factor: ``sex``, or a numeric covariate cut at ``cutpoints``
    (``x < c1``, ``c1 <= x < c2``, …)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    covariate: str
    cutpoints: list[float] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> StratumFactor:
        if self.covariate == "sex":
            if self.cutpoints:
                raise InputError("cutpoints", self.cutpoints, "none for sex")
            return self
        if self.covariate not in MODELLED_COVARIATES and self.covariate not in SCORE_COVARIATES:
            raise InputError("covariate", self.covariate, "sex or a modelled covariate: " +
                             ", ".join([*MODELLED_COVARIATES, *SCORE_COVARIATES]))
        c = self.cutpoints
        if not c or any(not math.isfinite(x) for x in c) or sorted(set(c)) != c:
            raise InputError("cutpoints", c, "one or more strictly increasing finite values")
        return self

    @property
    def levels(self) -> int:
        return 2 if self.covariate == "sex" else len(self.cutpoints) + 1


class RandomisationSpec(BaseModel):
    """How patients are allocated to arms.

    ``simple``: each patient draws the arm from the allocation ratios on its own stream.
    ``block``: permuted blocks within each stratum (the product of ``strata`` levels; one
    stratum when none), in order of randomisation; each block's size is drawn from
    ``block_sizes`` (e.g. ASSIST's "mixed blocks of 10 and 4") and holds exactly
    ``allocation × size`` patients of each arm. Block draws come from one dedicated stream per
    trial and stratum, ``SeedSequence(seed, spawn_key=(100, 1, stratum))``, so allocations are
    identical whatever the workers or chunking.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["simple", "block"] = "simple"
    block_sizes: list[int] = Field(default_factory=list,
                                   description="block sizes, each drawn with equal probability")
    strata: list[StratumFactor] = Field(default_factory=list)
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> RandomisationSpec:
        if self.method == "block":
            if not self.block_sizes or any(b < 1 for b in self.block_sizes):
                raise InputError("block_sizes", self.block_sizes,
                                 "one or more positive block sizes for method: block")
        elif self.block_sizes or self.strata:
            raise InputError("method", self.method, "block when block_sizes or strata are given")
        return self


class AccrualSpec(BaseModel):
    """Staggered entry: patients are randomised over ``years`` (uniform entry times) and all
    are censored at one calendar data cut-off, ``follow_up_years`` after the end of accrual,
    so individual follow-up runs from ``follow_up_years`` (last patient in) to ``years +
    follow_up_years`` (first patient in), as in a published trial's "median follow-up"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    years: float = Field(gt=0, le=30, description="recruitment period (years)")
    distribution: Literal["uniform"] = "uniform"
    source: str = ""


# ----------------------------------------------------------------------------- the spec

class TrialSpec(BaseModel):
    """A declarative in-silico trial (schema version :data:`SCHEMA_VERSION`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    name: str = Field(min_length=1)
    title: str = ""
    citation: str = Field(default="", description="the paper this spec reproduces")
    disease: str
    design: Literal["rct", "single_arm", "cohort"] = "rct"
    follow_up_years: float = Field(
        gt=0, le=30, description="administrative censoring time after randomisation; with "
                                 "accrual, the follow-up after the last patient's entry "
                                 "(the data cut-off is accrual.years + follow_up_years)")
    accrual: AccrualSpec | None = Field(
        default=None, description="staggered entry (default: every patient followed for "
                                  "exactly follow_up_years)")
    randomisation: RandomisationSpec = Field(default_factory=RandomisationSpec)
    dropout_per_year: float = Field(
        default=0.0, ge=0, le=5, description="exponential drop-out (censoring) hazard per year")
    dropout_source: str = ""
    population: PopulationSpec
    arms: list[ArmSpec] = Field(min_length=1)
    endpoints: list[EndpointSpec] = Field(default_factory=list)
    reference: list[ReferenceValue] = Field(default_factory=list)
    notes: str = ""

    @field_validator("disease")
    @classmethod
    def _disease(cls, v: str) -> str:
        return canonical_disease(v)

    def _check_covariates(self) -> None:
        """Build and sample the study's population once, so that an impossible distribution
        is an error naming its spec field."""
        from immunoreset.population import sample_cohort

        try:
            sample_cohort(self.sampling_population(), 1, seed=0)
        except ValidationError as exc:
            inner = exc.errors()[0].get("ctx", {}).get("error")
            if isinstance(inner, InputError):
                raise self._covariate_error(inner) from None
            loc = exc.errors()[0].get("loc", ())
            field = _COVARIATE_FIELDS.get(str(loc[0]) if loc else "", "")
            raise InputError(f"population.covariates.{field}".rstrip("."),
                             exc.errors()[0].get("input"), exc.errors()[0]["msg"]) from None
        except InputError as exc:
            raise self._covariate_error(exc) from None

    @staticmethod
    def _covariate_error(exc: InputError) -> InputError:
        # the entry-score bounds come from the registry entry disease.<id>.score_baseline_*
        name = exc.field.rsplit(".", 1)[-1] if exc.field.startswith("disease.") else exc.field
        field = _COVARIATE_FIELDS.get(name, name)
        return InputError(f"population.covariates.{field}", exc.value, exc.allowed)

    def sampling_population(self) -> Population:
        """The population screening samples from: the disease's covariate distributions,
        with the study's own where ``population.covariates`` gives them."""
        kw = self.population.covariates.population_kwargs() if self.population.covariates \
            else {}
        return Population(disease=self.disease, **kw)

    @model_validator(mode="after")
    def _cross_checks(self) -> TrialSpec:
        if self.population.covariates is not None:
            self._check_covariates()
        names = [a.name for a in self.arms]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InputError("arms.name", dup[0], "unique arm names")
        total = sum(a.allocation for a in self.arms)
        if abs(total - 1.0) > 1e-6:
            raise InputError("arms.allocation", [a.allocation for a in self.arms],
                             f"allocations summing to 1 (they sum to {total:g})")
        eps = [e.name for e in self.endpoints]
        dup = sorted({n for n in eps if eps.count(n) > 1})
        if dup:
            raise InputError("endpoints.name", dup[0], "unique endpoint names")
        by_name = {e.name: e for e in self.endpoints}
        for i, e in enumerate(self.endpoints):
            for field in ("arms", "compare"):
                for a in getattr(e, field, None) or []:
                    if a not in names:
                        raise InputError(f"endpoints[{i}].{field}", a,
                                         "one of the arms " + ", ".join(names))
            pair = getattr(e, "arms", None) if isinstance(
                e, HazardRatioEndpoint | LogrankEndpoint) else getattr(e, "compare", None)
            if pair and pair[0] == pair[1]:
                raise InputError(f"endpoints[{i}].arms", pair, "two different arms")
            if isinstance(e, HazardRatioEndpoint | LogrankEndpoint):
                target = by_name.get(e.endpoint)
                if not isinstance(target, SurvivalEndpoint):
                    raise InputError(f"endpoints[{i}].endpoint", e.endpoint,
                                     "the name of a survival endpoint of this spec")
        r = self.randomisation
        for size in r.block_sizes:
            for i, a in enumerate(self.arms):
                k = a.allocation * size
                if abs(k - round(k)) > 1e-6:
                    raise InputError("randomisation.block_sizes", size,
                                     f"sizes holding a whole number of patients of every arm "
                                     f"(arms[{i}].allocation {a.allocation:g} x {size} = {k:g})")
        for kind, crit in (("inclusion", self.population.inclusion),
                           ("exclusion", self.population.exclusion)):
            for i, c in enumerate(crit):
                want = SCORE_COVARIATES.get(c.covariate or "")
                if want is not None and want != self.disease:
                    raise InputError(f"population.{kind}[{i}].covariate", c.covariate,
                                     f"a score of {self.disease} (score_baseline)")
        for i, f in enumerate(r.strata):
            want = SCORE_COVARIATES.get(f.covariate)
            if want is not None and want != self.disease:
                raise InputError(f"randomisation.strata[{i}].covariate", f.covariate,
                                 f"a score of {self.disease} (score_baseline)")
        valid_arms = set(names) | {f"{a} vs {b}" for a in names for b in names if a != b}
        for i, r in enumerate(self.reference):
            if r.endpoint not in by_name:
                raise InputError(f"reference[{i}].endpoint", r.endpoint,
                                 "the name of an endpoint of this spec")
            if r.arm not in valid_arms:
                raise InputError(f"reference[{i}].arm", r.arm,
                                 "an arm name or '<arm> vs <arm>'")
        return self

    # ------------------------------------------------------------------ helpers

    @property
    def max_follow_up_years(self) -> float:
        """Longest follow-up of any patient (the first patient in, with accrual)."""
        return self.follow_up_years + (self.accrual.years if self.accrual else 0.0)

    def arm(self, name: str) -> ArmSpec:
        """The arm called ``name``."""
        for a in self.arms:
            if a.name == name:
                return a
        raise InputError("arm", name, "one of " + ", ".join(a.name for a in self.arms))

    def endpoint(self, name: str) -> Any:
        """The endpoint called ``name``."""
        for e in self.endpoints:
            if e.name == name:
                return e
        raise InputError("endpoint", name, "one of " + ", ".join(e.name for e in self.endpoints))

    def with_n(self, n: int) -> TrialSpec:
        """A copy randomising ``n`` patients (used by power analysis)."""
        data = self.model_dump(mode="json", by_alias=True)
        data["population"]["n"] = n
        return TrialSpec.model_validate(data)

    def sha256(self) -> str:
        """Hash of the canonical JSON form (recorded in provenance)."""
        text = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def notes_for_user(self) -> list[str]:
        """What validation accepted but the run cannot model yet (printed by ``validate``)."""
        out = []
        for a in self.arms:
            if isinstance(a.protocol, ComparatorProtocol):
                if not a.protocol.is_modelled:
                    out.append(f"arm {a.name}: comparator {a.protocol.comparator!r} has no "
                               "model yet; it is randomised but not simulated")
            elif a.protocol.days_randomisation_to_infusion is None:
                out.append(f"arm {a.name}: days_randomisation_to_infusion not given; assuming "
                           f"{DEFAULT_DAYS_RANDOMISATION_TO_INFUSION:g} days")
        for kind, crit in (("inclusion", self.population.inclusion),
                           ("exclusion", self.population.exclusion)):
            for c in crit:
                if c.covariate is None:
                    out.append(f"{kind} criterion '{c.label()}': text only; recorded as not "
                               "applied")
                elif c.covariate not in MODELLED_COVARIATES and \
                        c.covariate not in SCORE_COVARIATES and \
                        not self._is_prior_event_covariate(c.covariate):
                    out.append(f"{kind} criterion '{c.label()}': covariate not modelled; "
                               "recorded as not applied")
        return out

    def _is_prior_event_covariate(self, name: str) -> bool:
        """``<event>_prior_year`` for a recurrent event this disease's model declares."""
        if not name.endswith(PRIOR_YEAR_SUFFIX):
            return False
        from immunoreset.diseases import disease_model

        try:
            dm = disease_model(self.disease)
        except (KeyError, ImportError, ValueError):
            return False
        return name[:-len(PRIOR_YEAR_SUFFIX)] in {e.id for e in dm.events}


def trial_schema() -> dict:
    """The JSON schema of a trial spec (what ``immunoreset trial schema`` prints)."""
    return TrialSpec.model_json_schema(by_alias=True)


# ----------------------------------------------------------------------------- loading

def spec_error(exc: ValidationError) -> InputError:
    """The first pydantic error as a one-line :class:`InputError` naming the full field path,
    e.g. ``arms[0].protocol.regimen``."""
    err = exc.errors()[0]
    path = ""
    prev = None
    for part in err.get("loc", ()):
        raw_prev, prev = prev, part
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in ("transplant", "comparator") and raw_prev == "protocol":
            continue  # union tag, not a field
        elif part in ("named", "schedule") and raw_prev == "comparator":
            continue  # comparator union tag (a name or an explicit schedule)
        elif part in ENDPOINT_TYPES and path.rsplit(".", 1)[-1].startswith("endpoints["):
            continue
        else:
            path += ("." if path else "") + str(part)
    inner = err.get("ctx", {}).get("error")
    if isinstance(inner, InputError):
        field = _join_path(path, inner.field)
        return InputError(field, inner.value, inner.allowed)
    field = path or "spec"
    if err["type"] == "extra_forbidden":
        return InputError(field, err.get("input"), "no such field (see `immunoreset trial "
                                                    "schema`)")
    if err["type"] == "missing":
        return InputError(field, None, "a value (this field is required)")
    if err["type"] == "union_tag_invalid":
        return InputError(field, err.get("input", {}).get("type") if isinstance(
            err.get("input"), dict) else err.get("input"), "type one of " +
            ", ".join(ENDPOINT_TYPES))
    value = err.get("input")
    if isinstance(value, dict | list) and len(repr(value)) > 60:
        value = type(value).__name__
    return InputError(field, value, err.get("msg", "").removeprefix("Value error, "))


def _join_path(path: str, field: str) -> str:
    """Join the pydantic location with the field an :class:`InputError` names."""
    if not path:
        return field
    root = path.split(".")[0].split("[")[0]
    if field.split(".")[0].split("[")[0] == root and ("." in field or "[" in field):
        return field  # already a full path (raised by a model validator)
    if path.endswith(field):
        return path
    return f"{path}.{field}"


def parse_spec(data: Any) -> TrialSpec:
    """Validate a mapping (e.g. parsed YAML) into a :class:`TrialSpec`; errors name the field."""
    if isinstance(data, TrialSpec):
        return data
    if not isinstance(data, dict):
        raise InputError("spec", type(data).__name__, "a mapping of trial-spec fields")
    try:
        return TrialSpec.model_validate(data)
    except ValidationError as exc:
        raise spec_error(exc) from None
    except InputError as exc:  # raised outside pydantic's wrapping (defensive)
        raise exc from None


def load_spec(path: str | Path) -> TrialSpec:
    """Read and validate a YAML (or JSON) trial spec file."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise InputError("spec", str(p), "an existing YAML file")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError("spec", str(p), f"valid YAML (syntax error at {where}: {problem})"
                         ) from None
    return parse_spec(data)
