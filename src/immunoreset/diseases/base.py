"""What a disease module provides: baseline score, activity→score dynamics, progression
hazard, and the published response/relapse definitions.

The shared biology (autoreactive clones, Tregs, thymus) lives in ``physiology``; a disease
adds only its own layer, with its numbers in ``data/parameters.yaml`` under
``disease.<id>.*``:

* ``score_baseline_mean``, ``score_baseline_sd``, ``score_min``, ``score_max`` — the
  baseline score distribution (truncated normal) and the scale's range;
* ``score_floor`` — the score with no autoimmune activity (irreversible damage);
  optionally ``score_floor_spread`` — its between-patient log-normal spread (σ of the log);
* optionally ``symptomatic_failure_rate`` — the hazard per year of the progression event in a
  patient whose score stays outside remission without any activity (symptoms the immune
  reset cannot remove: Crohn's therapy restarted after resections);
* ``score_recovery_half_life`` — how fast the score falls when activity stops;
* ``natural_regression`` — fraction of (baseline − floor) that the score loses on its own
  at unchanged activity (spontaneous improvement seen in placebo arms);
* ``progression_hazard`` — hazard of the disease's progression event per year at the
  pre-transplant activity (organ failure in SSc, sustained EDSS progression in MS, …);
* ``response_improvement`` — relative score improvement defining response/remission;
* ``remission_threshold`` — only for a model built with ``absolute_remission=True``: the
  1-year score must also be below it (above it when higher is better), e.g. DAS28 < 2.6;
* for each recurrent clinical event the module declares (:class:`ActivityEvent`, e.g. MS
  relapses and new MRI lesions, SLE renal flares): ``<event>.rate_per_year`` — the event
  rate at the pre-transplant activity —, optionally ``<event>.activity_exponent`` (the
  intensity goes as the activity to that power; default 1) and, once per disease with events,
  ``event_frailty_shape`` — the shape of the patient's gamma frailty (mean 1) shared by
  all its events (over-dispersed counts; patients who relapse more also have more lesions).

Score dynamics (per patient): ``dS/dt = k_in·I·(S_max − S)/S_max − k_out·(S − S_floor)``
with ``k_out = ln2/half_life`` and ``k_in`` chosen so that, at ``I = 1``, the equilibrium
is ``S0 − natural_regression·(S0 − S_floor)``. Progression is a hazard
``h = progression_hazard·(c·I(t))^n`` integrated alongside the ODEs; the event fires when the
integral reaches the patient's pre-drawn unit-exponential threshold. ``n`` is the optional
``progression_activity_exponent`` (default 1; MS 2: disability needs active inflammation);
``c`` is 1 except for a progressive phenotype (:meth:`DiseaseModel.inflammation_scale`),
which also adds an activity-independent hazard and a rising floor after day 0
(:meth:`DiseaseModel.neurodegeneration`).

* optionally ``effector.quiescence_rate`` and ``effector.flare_rate`` (per year) and
  ``effector.quiescent_share``: the spontaneous course of the effector phase (tissue
  inflammation), a two-state process active ⇄ quiescent that starts active at day 0; while
  quiescent the tissues see ``quiescent_share`` of the autoreactive load, which itself is
  untouched (:meth:`DiseaseModel.effector_switch_times`). Without them the disease has none.

* for each clinical read-out the module declares (:class:`ActivityReadout`, e.g. FVC % predicted
  in SSc, stimulated C-peptide in T1D, SES-CD in Crohn's): ``<readout>.baseline_mean``,
  ``.baseline_sd``, ``.baseline_min``, ``.baseline_max`` (truncated-normal baseline),
  ``.loss_per_activity_year``, ``.reversible_gain`` and ``.recovery_half_life``; a threshold
  read-out (endoscopic remission) has only ``<readout>.threshold``.

Recurrent events (``outcomes/disease_events``): a Poisson process with intensity
``rate_per_year·G·I(t)`` after infusion, ``G ~ Gamma(k, 1/k)`` the patient's frailty, drawn
by time rescaling from the patient's own stream; an optional *activity-free* composite
(e.g. NEDA-3) is freedom from every listed event and from progression.

Read-outs (``outcomes/disease_readouts``): ``X(t) = X0·exp(−k·∫₀ᵗI/365.25)·(1 + g·(1 − Ī(t)))``
with ``Ī`` the activity seen through a first-order lag (``recovery_half_life``), a
deterministic function of the patient's activity history and its baseline ``X0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from immunoreset.parameters import ParameterSet
from immunoreset.population.covariates import truncated_normal

#: recurrent events a disease may declare (each has an EVENTS-stream slot for its prior count)
MAX_EVENTS = 4
#: suffix of an event's count in the year before entry (a screening covariate, and a record
#: field the frailty is conditioned on): ``clinical_relapse_prior_year``
PRIOR_YEAR_SUFFIX = "_prior_year"
#: suffix of an event's count in the 3 years before entry (a record field; conditions the
#: frailty like the 1-year count, with three years of exposure)
PRIOR_3_YEARS_SUFFIX = "_prior_3_years"


@dataclass(frozen=True)
class ActivityEvent:
    """A recurrent clinical event whose intensity follows the autoreactive activity.

    Outcome columns: ``<id>_day`` (first event after infusion), ``<id>_count_y1``,
    ``<id>_count_y2``, ``<id>_count_y5`` (events in the first 1, 2, 5 years)."""

    id: str
    description: str


@dataclass(frozen=True)
class ProgressionKind:
    """One kind of the disease's progression event (SSc: the organ that failed).

    Which kind a patient's event is, is drawn from the patient's own stream with the shares
    ``disease.<id>.progression_share.<id>`` (summing to 1). Outcome columns: ``<id>_day``
    (the progression day if the event was of this kind, else NaN) and, once per disease,
    ``progression_kind`` (the kind's id; null without an event)."""

    id: str
    description: str


@dataclass(frozen=True)
class ActivityFree:
    """A composite "no evidence of disease activity" end point: none of ``events`` and no
    progression. Columns ``<event_id>_day`` (first evidence of activity) and
    ``<id>_y1``, ``<id>_y2``, ``<id>_y5`` (bool: alive and activity-free at that time)."""

    id: str
    event_id: str
    description: str
    events: tuple[str, ...]
    with_progression: bool = True


#: kinds of read-out
READOUT_KINDS: tuple[str, ...] = ("continuous", "threshold")


@dataclass(frozen=True)
class ActivityReadout:
    """A clinical measurement that follows the patient's autoreactive activity history.

    ``kind="continuous"``: a value (FVC % predicted, C-peptide AUC, SES-CD) with columns
    ``<id>_baseline`` and ``<id>_y1``, ``<id>_y2``, ``<id>_y5`` (NaN beyond the horizon or
    after death). ``kind="threshold"``: a bool ``<id>_y1/_y2/_y5`` — alive, within the
    horizon and the continuous read-out ``of`` at or below (``below=True``) or at or above
    ``disease.<disease>.<id>.threshold`` at that time (e.g. endoscopic remission = SES-CD ≤ 2).
    """

    id: str
    description: str
    unit: str
    kind: str = "continuous"
    of: str | None = None
    below: bool = True

    def __post_init__(self) -> None:
        if self.kind not in READOUT_KINDS:
            raise ValueError(f"read-out {self.id}: kind {self.kind!r} not in {READOUT_KINDS}")
        if (self.kind == "threshold") != (self.of is not None):
            raise ValueError(f"read-out {self.id}: 'of' is required for, and only for, a "
                             "threshold read-out")


#: years at which recurrent-event counts and activity-free status are read
EVENT_YEARS: tuple[int, ...] = (1, 2, 5)


@dataclass(frozen=True)
class DiseaseModel:
    """Definitions of one disease (one module under ``diseases/`` builds one)."""

    id: str
    score_name: str
    score_unit: str
    progression_event: str
    remission_definition: str
    higher_is_worse: bool = True
    #: disease-specific name of the progression event column (e.g. ``organ_failure_day``)
    progression_alias: str | None = None
    #: remission also needs an absolute 1-year score (``disease.<id>.remission_threshold``)
    absolute_remission: bool = False
    #: recurrent clinical events driven by the activity (MS relapses, SLE renal flares, …)
    events: tuple[ActivityEvent, ...] = ()
    #: composite activity-free end point over ``events`` (MS: NEDA-3)
    activity_free: ActivityFree | None = None
    #: clinical read-outs driven by the activity history (FVC, C-peptide, SES-CD, …)
    readouts: tuple[ActivityReadout, ...] = ()
    #: a clinical relapse read from the score (loss of response, e.g. RA "relapse of any
    #: degree"): ``disease.<id>.score_relapse_change``; column ``score_relapse_day``
    score_relapse: bool = False
    #: the disease has a progressive phenotype (``disease.<id>.progressive.*``; MS). Its
    #: per-patient floor drives the score dynamics; a relative response criterion
    #: (``response_improvement`` > 0) would still measure from ``score_floor`` (MS has none)
    progressive_phenotype: bool = False
    #: clinical-record subtypes (``ClinicalRecord.disease_subtype``) that are progressive
    progressive_subtypes: tuple[str, ...] = ()
    #: kinds of the progression event (SSc: heart, lung, kidney failure), drawn with
    #: ``disease.<id>.progression_share.<kind>``
    progression_kinds: tuple[ProgressionKind, ...] = ()
    #: the patient's event frailty ``G`` multiplies the activity-driven progression hazard
    #: as it multiplies every event intensity, ``h·G·(c·I)^n`` (MS: patients who relapse
    #: more also worsen more), so a cohort selected on prior relapses carries the
    #: progression of its selection (:meth:`event_frailty`)
    frailty_drives_progression: bool = False

    def __post_init__(self) -> None:
        ids = {e.id for e in self.events}
        if self.activity_free is not None:
            missing = set(self.activity_free.events) - ids
            if missing:
                raise ValueError(f"{self.id}: activity_free names undeclared events {missing}")
        cont = {r.id for r in self.readouts if r.kind == "continuous"}
        for r in self.readouts:
            if r.kind == "threshold" and r.of not in cont:
                raise ValueError(f"{self.id}: read-out {r.id} thresholds undeclared {r.of!r}")
        if len({r.id for r in self.readouts}) != len(self.readouts):
            raise ValueError(f"{self.id}: duplicate read-out ids")
        if self.progressive_subtypes and not self.progressive_phenotype:
            raise ValueError(f"{self.id}: progressive_subtypes without a progressive phenotype")
        if self.frailty_drives_progression and not self.events:
            raise ValueError(f"{self.id}: frailty_drives_progression without recurrent events")
        if len(self.events) > MAX_EVENTS:
            raise ValueError(f"{self.id}: more than {MAX_EVENTS} recurrent events")

    def event_units(self) -> dict[str, str]:
        """Units of the disease's recurrent-event and composite columns."""
        units: dict[str, str] = {}
        for e in self.events:
            units[f"{e.id}_day"] = f"day (first {e.description} after infusion; NaN if none)"
            for y in EVENT_YEARS:
                units[f"{e.id}_count_y{y}"] = (f"count ({e.description} in the first {y} "
                                               "year(s); NaN beyond the horizon)")
        if self.score_relapse:
            units["score_relapse_day"] = (f"day (clinical relapse: {self.score_name} worse by "
                                          "more than score_relapse_change than its best after "
                                          "improving by more than it; NaN if none)")
        af = self.activity_free
        if af is not None:
            units[f"{af.event_id}_day"] = (f"day (first evidence of disease activity: "
                                           f"{af.description}; NaN if none)")
            for y in EVENT_YEARS:
                units[f"{af.id}_y{y}"] = (f"bool (alive and {af.description} for the first "
                                          f"{y} year(s); false beyond the horizon)")
        return units

    def phenotype_units(self) -> dict[str, str]:
        """Units of the phenotype column (only for a disease with a progressive phenotype)
        and of the progression-kind columns (only for a disease with kinds)."""
        units: dict[str, str] = {}
        if self.progressive_phenotype:
            units["progressive"] = "bool (progressive phenotype; False = relapsing)"
        if self.progression_kinds:
            units["progression_kind"] = ("kind of the progression event: "
                                         + ", ".join(k.id for k in self.progression_kinds)
                                         + " (null: no event)")
            for k in self.progression_kinds:
                units[f"{k.id}_day"] = (f"day after graft infusion of the {self.progression_event}"
                                        f" when it was {k.description} (NaN: none)")
        return units

    def readout_units(self) -> dict[str, str]:
        """Units of the disease's read-out columns."""
        units: dict[str, str] = {}
        for r in self.readouts:
            if r.kind == "continuous":
                units[f"{r.id}_baseline"] = f"{r.unit} ({r.description} before transplant)"
                for y in EVENT_YEARS:
                    units[f"{r.id}_y{y}"] = (f"{r.unit} ({r.description} at {y} year(s); NaN "
                                             "beyond the horizon or after death)")
            else:
                for y in EVENT_YEARS:
                    units[f"{r.id}_y{y}"] = (f"bool (alive and {r.description} at {y} "
                                             "year(s); false beyond the horizon)")
        return units

    def p(self, params: ParameterSet, key: str) -> float:
        return params.value(f"disease.{self.id}.{key}")

    def baseline_score(self, params: ParameterSet, z: np.ndarray,
                       progressive: np.ndarray | None = None) -> np.ndarray:
        """Baseline scores from standard normals ``z``; patients with a progressive
        phenotype (``progressive``, bool) from ``progressive.score_baseline_mean/_sd``."""
        lo, hi = self.p(params, "score_min"), self.p(params, "score_max")
        s0 = truncated_normal(z, self.p(params, "score_baseline_mean"),
                              self.p(params, "score_baseline_sd"), lo, hi)
        if progressive is not None and np.any(progressive):
            self._check_progressive()
            prog = truncated_normal(z, self.p(params, "progressive.score_baseline_mean"),
                                    self.p(params, "progressive.score_baseline_sd"), lo, hi)
            s0 = np.where(progressive, prog, s0)
        return s0

    def _check_progressive(self) -> None:
        if not self.progressive_phenotype:
            from immunoreset.errors import InputError

            raise InputError("progressive", True, f"False: {self.id} has no progressive "
                                                  "phenotype in the model")

    def score_floor(self, params: ParameterSet, s0: np.ndarray,
                    progressive: np.ndarray | None = None,
                    u: np.ndarray | None = None) -> np.ndarray:
        """Per-patient score with no autoimmune activity at day 0: ``score_floor``, and for a
        progressive patient the entry score less its small reversible (inflammatory) part
        ``progressive.reversible_score`` (disability is mostly fixed; it rises afterwards
        through neurodegeneration, :meth:`neurodegeneration`).

        With the optional ``score_floor_spread`` (> 0) the floor differs between patients:
        ``score_floor·exp(σ·Φ⁻¹(u))`` (log-normal, median ``score_floor``) from the patient's
        uniform ``u``, never above the entry score (the non-inflammatory part of a score cannot
        exceed the whole)."""
        floor = np.full(np.shape(s0), self.p(params, "score_floor"))
        spread = self.optional(params, "score_floor_spread", 0.0)
        if spread > 0.0 and u is not None:
            from scipy.special import ndtri

            z = ndtri(np.clip(np.asarray(u, dtype=float), 1e-12, 1 - 1e-12))
            own = floor * np.exp(spread * z)
            floor = np.minimum(own, s0) if self.higher_is_worse else np.maximum(own, s0)
        if progressive is not None and np.any(progressive):
            self._check_progressive()
            own = np.maximum(s0 - self.p(params, "progressive.reversible_score"), floor)
            floor = np.where(progressive, own, floor)
        return floor

    def inflammation_scale(self, params: ParameterSet,
                           progressive: np.ndarray | None, n: int) -> np.ndarray:
        """Per-patient factor ``c`` on the inflammation the autoreactive activity causes,
        relative to the disease's reference patients: 1, and ``progressive.activity_factor``
        for a progressive patient, whose pre-transplant inflammation is lower. Recurrent-event
        rates scale with ``c``, the progression hazard is ``h·(c·I)^n``."""
        scale = np.ones(n)
        if progressive is not None and np.any(progressive):
            self._check_progressive()
            scale = np.where(progressive, self.p(params, "progressive.activity_factor"), 1.0)
        return scale

    def neurodegeneration(self, params: ParameterSet, progressive: np.ndarray | None, n: int
                          ) -> tuple[np.ndarray, np.ndarray]:
        """``(hazard per day, floor drift in score units per day)`` of the activity-independent
        worsening after day 0: ``progressive.neurodegeneration_hazard`` for a progressive
        patient, the optional ``relapsing.neurodegeneration_hazard`` (progression independent
        of relapse activity, default 0) for a relapsing one, zero in a disease without a
        progressive phenotype. The drift is the hazard times ``progressive.score_step``, the
        score rise that defines one progression event, so the expected score rise equals the
        expected progression events."""
        if progressive is not None and np.any(progressive):
            self._check_progressive()
        if not self.progressive_phenotype:
            return np.zeros(n), np.zeros(n)
        h = np.full(n, self.optional(params, "relapsing.neurodegeneration_hazard", 0.0) / 365.25)
        if progressive is not None and np.any(progressive):
            h = np.where(progressive,
                         self.p(params, "progressive.neurodegeneration_hazard") / 365.25, h)
        return h, h * self.p(params, "progressive.score_step")

    def score_rates(self, params: ParameterSet, s0: np.ndarray,
                    floor: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """``(k_in per patient, k_out)`` so that the untreated course matches the data
        (``floor``: per-patient floors, default ``score_floor``)."""
        k_out = math.log(2) / self.p(params, "score_recovery_half_life")
        if floor is None:
            floor = self.p(params, "score_floor")
        smax = self.p(params, "score_max")
        s_eq = s0 - self.p(params, "natural_regression") * (s0 - floor)
        # the untreated equilibrium stays 1 % of the scale below its top: closer, k_in grows
        # without bound (the ODE turns stiff: an EDSS-9.5 entry failed to integrate)
        s_eq = np.minimum(np.maximum(s_eq, floor + 1e-6), smax - 0.01 * (smax - floor))
        k_in = k_out * (s_eq - floor) * smax / (smax - s_eq)
        return k_in, k_out

    def event_frailty(self, params: ParameterSet, u: np.ndarray,
                      recorded: dict[str, np.ndarray] | None = None,
                      scale: np.ndarray | None = None,
                      years: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """The patient's event frailty ``G ~ Gamma(k, 1/k)`` (mean 1,
        ``k = event_frailty_shape``) from its uniform ``u``: one draw per patient, read by
        the recurrent events, by the prior-year event counts that screening sees and, with
        ``frailty_drives_progression``, by the progression hazard.

        ``recorded``: counts of the disease's events in the year before entry that the
        patient's record holds (``{event_id: counts}``, NaN where not recorded), over
        ``years`` of exposure (``{event_id: years}``, default 1). A patient with recorded
        counts ``n_e`` over ``T_e`` years draws ``G`` from its conjugate posterior,
        ``Gamma(k + Σn_e, rate k + Σλ_e·c^x_e·T_e)`` (``c`` = ``scale``, ``x_e`` the event's
        activity exponent): four relapses last year make a more active patient than none."""
        from scipy.special import gammaincinv

        k = self.p(params, "event_frailty_shape")
        q = np.clip(np.asarray(u, dtype=float), 1e-12, 1 - 1e-12)
        shape = np.full(q.shape, k)
        rate = np.full(q.shape, k)
        c = np.ones(q.shape) if scale is None else np.asarray(scale, dtype=float)
        for event_id, counts in (recorded or {}).items():
            n = np.asarray(counts, dtype=float)
            known = np.isfinite(n)
            t = np.ones(q.shape) if years is None or event_id not in years else \
                np.asarray(years[event_id], dtype=float)
            lam = self.p(params, f"{event_id}.rate_per_year") * \
                c ** self.event_exponent(params, event_id) * t
            shape = np.where(known, shape + np.where(known, n, 0.0), shape)
            rate = np.where(known, rate + lam, rate)
        return gammaincinv(shape, q) / rate

    def recorded_prior_events(self, extra: dict) -> dict[str, np.ndarray]:
        """The ``<event>_prior_year`` counts a cohort records (``Cohort.extra``), by event."""
        out = {}
        for e in self.events:
            v = extra.get(e.id + PRIOR_YEAR_SUFFIX)
            if v is not None:
                out[e.id] = np.asarray(v, dtype=float)
        return out

    def recorded_event_history(self, extra: dict
                               ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``(counts, years)`` by event from what a cohort records: the 3-year count
        (``<event>_prior_3_years``, which contains the last year) where a patient has one,
        else the 1-year count; NaN where neither is recorded (:meth:`event_frailty`)."""
        counts, years = self.recorded_prior_events(extra), {}
        for e in self.events:
            v3 = extra.get(e.id + PRIOR_3_YEARS_SUFFIX)
            if v3 is None:
                continue
            v3 = np.asarray(v3, dtype=float)
            n1 = counts.get(e.id, np.full(v3.shape, np.nan))
            has3 = np.isfinite(v3)
            counts[e.id] = np.where(has3, v3, n1)
            years[e.id] = np.where(has3, 3.0, 1.0)
        return counts, years

    def prior_event_counts(self, params: ParameterSet, event_id: str, g: np.ndarray,
                           u: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
        """Events in the year before entry, at the pre-transplant activity:
        ``N ~ Poisson(λ_e·G·c)`` from the patient's uniform ``u`` (``c`` = ``scale``, the
        progressive phenotype's inflammation factor; the event's activity exponent applies
        to it as after infusion). A screening covariate ``<event>_prior_year``."""
        from scipy.stats import poisson

        ids = [e.id for e in self.events]
        if event_id not in ids:
            raise KeyError(f"{self.id} has no recurrent event {event_id!r}")
        c = np.ones(np.shape(g)) if scale is None else np.asarray(scale, dtype=float)
        mu = self.p(params, f"{event_id}.rate_per_year") * np.asarray(g, dtype=float) * \
            c ** self.event_exponent(params, event_id)
        q = np.clip(np.asarray(u, dtype=float), 1e-12, 1 - 1e-12)
        return poisson.ppf(q, mu).astype(float)

    def symptomatic_failure_hazard(self, params: ParameterSet, floor: np.ndarray) -> np.ndarray:
        """Activity-independent hazard of the progression event (per day) of a patient whose
        activity-free score stays outside remission (``floor`` beyond ``remission_threshold``):
        the optional ``symptomatic_failure_rate`` (per year, default 0) — in Crohn's disease,
        therapy restarted for symptoms that no immune reset removes. Zero for everyone else
        and in a disease without an absolute remission threshold."""
        rate = self.optional(params, "symptomatic_failure_rate", 0.0)
        floor = np.asarray(floor, dtype=float)
        if rate <= 0.0 or not self.absolute_remission:
            return np.zeros(floor.shape)
        thr = self.p(params, "remission_threshold")
        outside = floor >= thr if self.higher_is_worse else floor <= thr
        return np.where(outside, rate / 365.25, 0.0)

    def progression_rate(self, params: ParameterSet) -> float:
        """Progression hazard per day at the pre-transplant activity."""
        return self.p(params, "progression_hazard") / 365.25

    def optional(self, params: ParameterSet, key: str, default: float = 1.0) -> float:
        """``disease.<id>.<key>`` where the disease sets it, else ``default``."""
        name = f"disease.{self.id}.{key}"
        return params.value(name) if name in params else default

    def progression_exponent(self, params: ParameterSet) -> float:
        """Exponent ``n`` of the progression hazard ``h·I^n`` (1: proportional to activity;
        optional, a disease without ``progression_activity_exponent`` uses 1)."""
        return self.optional(params, "progression_activity_exponent")

    def event_exponent(self, params: ParameterSet, event_id: str) -> float:
        """Exponent ``n_e`` of a recurrent event's intensity ``λ_e·G·(c·I)^n_e`` (optional
        ``<event>.activity_exponent``, default 1: proportional to the activity)."""
        return self.optional(params, f"{event_id}.activity_exponent")

    def effector_switch_times(self, params: ParameterSet, u: np.ndarray) -> np.ndarray:
        """The patient's spontaneous course of the effector phase: switch times (days after
        day 0) of a two-state Markov process that starts active, becomes quiescent at the
        optional ``effector.quiescence_rate`` and flares back at ``effector.flare_rate``
        (both per year; a disease without them has no switches: all ``inf``). ``u`` are
        the patient's uniforms ``[n, k]`` (EFFECTOR_PHASE stream); gap ``j`` is
        exponential with the quiescence rate for even ``j`` and the flare rate for odd."""
        lam_q = self.optional(params, "effector.quiescence_rate", 0.0)
        lam_f = self.optional(params, "effector.flare_rate", 0.0)
        n, k = u.shape
        if not self.has_effector_course(params):
            return np.full((n, k), np.inf)
        rates = np.where(np.arange(k) % 2 == 0, lam_q, lam_f) / 365.25
        with np.errstate(divide="ignore"):
            gaps = -np.log(np.clip(u, 1e-300, 1.0)) / rates
        return np.cumsum(gaps, axis=1)

    def progression_shares(self, params: ParameterSet) -> np.ndarray:
        """Shares of the progression kinds (``disease.<id>.progression_share.<kind>``),
        which must sum to 1."""
        shares = np.array([self.p(params, f"progression_share.{k.id}")
                           for k in self.progression_kinds])
        if shares.size and abs(shares.sum() - 1.0) > 1e-6:
            from immunoreset.errors import InputError

            raise InputError(f"disease.{self.id}.progression_share.*", float(shares.sum()),
                             "shares summing to 1")
        return shares

    def progression_timing_rates(self, params: ParameterSet) -> np.ndarray | None:
        """The optional ``progression_timing_rate.<kind>`` of every kind (1/year), or None
        when the disease does not set them all."""
        names = [f"progression_timing_rate.{k.id}" for k in self.progression_kinds]
        if not names or not all(f"disease.{self.id}.{m}" in params for m in names):
            return None
        return np.array([self.p(params, m) for m in names])

    def progression_kind_weights(self, params: ParameterSet, duration_years: np.ndarray
                                 ) -> np.ndarray:
        """Probability of each kind ``[n, K]`` for events at disease durations
        ``duration_years`` (years from onset at the event). With the optional
        ``progression_timing_rate.<kind>`` (1/year) each kind's failures fall at durations
        spread exponentially with that rate, so ``P(kind | d) ∝ share·rate·e^(−rate·d)``
        (renal crisis early, heart and lung later); without them the shares alone."""
        shares = self.progression_shares(params)
        n = len(duration_years)
        rates = self.progression_timing_rates(params)
        if rates is None:
            return np.broadcast_to(shares, (n, shares.size)).copy()
        d = np.nan_to_num(np.asarray(duration_years, dtype=float), nan=0.0)[:, None]
        w = shares * rates * np.exp(-rates * d)
        return w / w.sum(axis=1, keepdims=True)

    def describe(self, params: ParameterSet) -> list[str]:
        """Short lines naming the disease layer's definitions and its structural
        assumptions, for reports (score, remission, progression and its kinds, the
        spontaneous course of the effector phase)."""
        lines = [f"score {self.score_name} [{self.score_unit}]; remission: "
                 f"{self.remission_definition}",
                 f"progression event: {self.progression_event}"]
        if self.progression_kinds:
            shares = self.progression_shares(params)
            timed = self.progression_timing_rates(params) is not None
            lines.append("kind of progression drawn with shares " + ", ".join(
                f"{k.id} {s:.2f}" for k, s in zip(self.progression_kinds, shares, strict=True))
                + (", weighted by the disease duration at the event" if timed else "")
                + " (the timing is one hazard)")
        if self.has_effector_course(params):
            lines.append(
                "spontaneous course of the effector phase: quiescent at "
                f"{self.optional(params, 'effector.quiescence_rate', 0.0):g}/year, flares at "
                f"{self.optional(params, 'effector.flare_rate', 0.0):g}/year, tissues see "
                f"{self.effector_quiescent_share(params):g} of the load while quiescent "
                "(both arms, from day 0)")
        else:
            lines.append("no spontaneous remission of the effector phase: activity follows "
                         "the autoreactive load")
        return lines

    def has_effector_course(self, params: ParameterSet) -> bool:
        """Whether the disease sets a spontaneous course of its effector phase."""
        return self.optional(params, "effector.quiescence_rate", 0.0) > 0.0

    def effector_quiescent_share(self, params: ParameterSet) -> float:
        """Share of the autoreactive load that reaches the tissues while the effector phase
        is quiescent (optional ``effector.quiescent_share``, default 0)."""
        return self.optional(params, "effector.quiescent_share", 0.0)

    def autoreactive_rate_factor(self, params: ParameterSet) -> float:
        """Speed of the disease's autoreactive families relative to CD4-memory turnover
        (optional ``autoreactive_turnover_factor``, default 1: the shared rate)."""
        return self.optional(params, "autoreactive_turnover_factor")

    def score_criterion(self, s0: np.ndarray, s: np.ndarray, params: ParameterSet
                        ) -> np.ndarray:
        """The score part of the remission definition: relative improvement of ``s`` over
        the baseline ``s0`` and, with ``absolute_remission``, ``s`` beyond
        ``remission_threshold`` (broadcasts: ``s0`` may be ``[n, 1]`` against ``[n, m]``)."""
        imp = self.p(params, "response_improvement")
        floor = self.p(params, "score_floor")
        if self.higher_is_worse:
            better = (s0 - s) >= imp * np.maximum(s0 - floor, 1e-9)
        else:
            better = (s - s0) >= imp * np.maximum(np.abs(s0), 1e-9)
        if self.absolute_remission:
            thr = self.p(params, "remission_threshold")
            better &= (s < thr) if self.higher_is_worse else (s > thr)
        return better

    def score_relapse_day(self, times: np.ndarray, scores: np.ndarray, s0: np.ndarray,
                          params: ParameterSet) -> np.ndarray:
        """First day a responder loses the response: with ``Δ = score_relapse_change``, the
        patient first improved by more than Δ on the entry score ``s0`` (a response beyond
        measurement error), and the score is now worse than its best so far by more than Δ.
        ``scores`` ``[n, m]`` on ``times`` ``[m]`` (after day 0); NaN = no relapse."""
        delta = self.p(params, "score_relapse_change")
        sign = 1.0 if self.higher_is_worse else -1.0
        s = sign * np.asarray(scores, dtype=float)
        base = sign * np.asarray(s0, dtype=float)[:, None]
        best = np.fmin.accumulate(np.fmin(s, base), axis=1)
        responded = (base - best) > delta
        relapsed = responded & ((s - best) > delta)
        return np.where(relapsed.any(axis=1), times[np.argmax(relapsed, axis=1)], np.nan)

    def has_onset(self, params: ParameterSet) -> bool:
        """Whether the score criterion can mark a remission onset: an absolute threshold or
        a required improvement (MS's "EDSS not above baseline" holds from day 0)."""
        return self.absolute_remission or self.p(params, "response_improvement") > 0

    def remission(self, s0: np.ndarray, s1: np.ndarray, progressed_by_y1: np.ndarray,
                  params: ParameterSet) -> np.ndarray:
        """Response/remission at 1 year: relative score improvement and no progression, and
        with ``absolute_remission`` a 1-year score beyond ``remission_threshold``."""
        return self.score_criterion(s0, s1, params) & ~progressed_by_y1
