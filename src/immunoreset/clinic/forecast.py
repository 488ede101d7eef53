"""Individual forecast: the patient as a cohort of digital twins under each protocol.

Twins share every recorded covariate (age, sex, weight, height and, when recorded, disease
duration and blood counts) and the record's HCT-CI (``Cohort.extra["hct_ci"]``, the
treatment-related hazard multiplier of the engine) and the centre's experience
(``Protocol.centre_autoimmune_transplants``, CIBMTR relative risks); they differ in the
physiology the record cannot tell (drawn from the population variability of the
parameter file) and in the covariates the record does not hold (drawn from the disease's
population, ``data/populations.yaml``).

**Design of the interval.** ``K = G × M`` twins form ``G`` groups of ``M``; the twins of a
group share one draw of the unknown covariates. For a probability, ``p̂`` is the share of
the K twins with the event. Two sources of uncertainty are combined:

* the spread of the patient's probability over what is not known about them: the
  between-group variance of the group shares net of their binomial noise (method of
  moments, ``τ² = max(0, Var(p_g) − mean(p_g(1−p_g))/(M−1))``);
* the Monte-Carlo error of ``p̂`` (cluster-robust: ``max(Var(p_g)/G, p̂(1−p̂)/K)``).

The interval is the central 95 % of a Beta distribution with mean ``p̂`` and variance
``τ² + Var_MC``, widened to contain the Wilson score interval of ``p̂`` with K twins. When
every covariate is recorded, ``τ²`` estimates zero and the interval is the Monte-Carlo one;
each unrecorded covariate that matters widens it. Means (time to engraftment) use the
same split with a normal interval. The model's own parameter uncertainty (a posterior) is
not included until calibration exists; this is stated in the output.

Outcomes are defined as data (:data:`OUTCOMES`: name, columns, rule, horizon). An outcome
whose columns the simulator does not produce is returned as ``not_modelled`` with the reason,
never dropped or guessed; columns added to the simulator later are picked up unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import polars as pl
from scipy import stats

from immunoreset.parameters import ParameterSet, default_parameters
from immunoreset.population import cohort_from_patient
from immunoreset.population.cohort import Cohort
from immunoreset.protocols import Protocol
from immunoreset.vocabulary import TREATMENT_RELATED_CAUSES

Z95 = 1.959963984540054
Y = 365.25
#: simulated follow-up (days): five years plus the day-1826 landmark
HORIZON_DAYS = 1827.0


def _col(df: pl.DataFrame, name: str) -> np.ndarray:
    return df[name].to_numpy().astype(float)


def _by(df: pl.DataFrame, name: str, days: float) -> np.ndarray:
    x = _col(df, name)
    return np.where(np.isnan(x), 0.0, (x <= days).astype(float))


def _alive(df: pl.DataFrame, days: float) -> np.ndarray:
    return 1.0 - _by(df, "death_day", days)


def _remission_at(df: pl.DataFrame, days: float, ctx: Context) -> np.ndarray:
    """The disease's own remission definition applied to the score at ``days`` (2 or 5
    years), no progression by then, no relapse by then, alive."""
    from immunoreset.diseases import disease_model

    s1 = _col(df, "score_y2" if days <= 2 * Y + 1 else "score_y5")
    s0 = _col(df, "score_baseline")
    prog = _by(df, "progression_day", days).astype(bool)
    rem = disease_model(ctx.disease).remission(s0, s1, prog, ctx.params) & ~np.isnan(s1)
    return rem.astype(float) * (1 - _by(df, "relapse_day", days)) * _alive(df, days)


def _trm(df: pl.DataFrame, days: float, ctx: Context) -> np.ndarray:
    tr = df["death_cause"].is_in(list(TREATMENT_RELATED_CAUSES)).fill_null(False).to_numpy()
    return tr.astype(float) * _by(df, "death_day", days)


def _severe(df: pl.DataFrame, days: float, ctx: Context) -> np.ndarray:
    return df["severe_infection"].to_numpy().astype(float) * _by(df, "infection_first_day", days)


def _flag(name: str) -> Callable[[pl.DataFrame, float, Context], np.ndarray]:
    return lambda df, days, ctx: df[name].fill_null(False).to_numpy().astype(float)


def _engraftment(df: pl.DataFrame, days: float, ctx: Context) -> np.ndarray:
    d = _col(df, "anc_engraftment_day")
    ok = df["engrafted"].to_numpy().astype(bool) & (d > 0)
    return np.where(ok, d, np.nan)


@dataclass(frozen=True)
class Context:
    """What an outcome rule may need besides the outcome frame."""

    disease: str
    params: ParameterSet


@dataclass(frozen=True)
class OutcomeDefinition:
    """One forecast outcome: which columns it needs, how a twin scores, at what horizon."""

    name: str
    columns: tuple[str, ...]
    rule: Callable[[pl.DataFrame, float, Context], np.ndarray]
    horizon_years: float | None
    definition: str
    kind: str = "probability"  # probability | mean
    unit: str = "probability"
    transplant_only: bool = False
    side: str = "risk"  # benefit | risk | other (for the chart)


OUTCOMES: tuple[OutcomeDefinition, ...] = (
    OutcomeDefinition("remission", ("score_baseline", "score_y2", "relapse_day",
                                    "progression_day", "death_day"),
                      _remission_at, 2.0, "alive and in remission at 2 years: the disease's "
                      "remission definition ({remission}) applied to the score at 2 years "
                      "instead of 1, no progression, no relapse and no death by 2 years",
                      side="benefit"),
    OutcomeDefinition("remission", ("score_baseline", "score_y5", "relapse_day",
                                    "progression_day", "death_day"),
                      _remission_at, 5.0, "alive and in remission at 5 years: the disease's "
                      "remission definition ({remission}) applied to the score at 5 years, "
                      "no progression, no relapse and no death by 5 years", side="benefit"),
    OutcomeDefinition("relapse", ("relapse_day",), lambda df, d, c: _by(df, "relapse_day", d), 5.0,
                      "relapse by 5 years (autoreactive activity back to the relapse "
                      "threshold after remission; death competes)"),
    OutcomeDefinition("progression", ("progression_day",),
                      lambda df, d, c: _by(df, "progression_day", d), 5.0,
                      "disease progression event by 5 years (e.g. major organ failure in "
                      "SSc, sustained EDSS progression in MS; death competes)"),
    OutcomeDefinition("treatment_related_death", ("death_day", "death_cause"), _trm, 1.0,
                      "death from a treatment-related cause (infection, toxicity, other) by "
                      "1 year"),
    OutcomeDefinition("treatment_related_death", ("death_day", "death_cause"), _trm, 5.0,
                      "death from a treatment-related cause by 5 years"),
    OutcomeDefinition("death_any_cause", ("death_day",), lambda df, d, c: _by(df, "death_day", d),
                      5.0, "death from any modelled cause by 5 years"),
    OutcomeDefinition("severe_infection", ("severe_infection", "infection_first_day"),
                      _severe, 5.0, "first clinically documented infection severe (or fatal) "
                      "by 5 years (later infections are not modelled separately)"),
    OutcomeDefinition("cardiac_toxicity", ("cardiac_toxicity",), _flag("cardiac_toxicity"),
                      None, "cyclophosphamide cardiac toxicity, any grade"),
    OutcomeDefinition("cmv_reactivation", ("cmv_reactivation_day",),
                      lambda df, d, c: _by(df, "cmv_reactivation_day", d), 1.0,
                      "CMV reactivation by 1 year"),
    OutcomeDefinition("ebv_reactivation", ("ebv_reactivation_day",),
                      lambda df, d, c: _by(df, "ebv_reactivation_day", d), 1.0,
                      "EBV reactivation by 1 year"),
    OutcomeDefinition("vzv_reactivation", ("vzv_reactivation_day",),
                      lambda df, d, c: _by(df, "vzv_reactivation_day", d), 1.0,
                      "VZV reactivation (zoster) by 1 year, with a year of acyclovir "
                      "prophylaxis after a transplant"),
    OutcomeDefinition("ptld", ("ptld",), _flag("ptld"), None,
                      "post-transplant lymphoproliferative disorder"),
    OutcomeDefinition("febrile_neutropenia", ("febrile_neutropenia",),
                      _flag("febrile_neutropenia"), None, "at least one febrile neutropenic "
                      "episode"),
    OutcomeDefinition("engraftment_syndrome", ("engraftment_syndrome",),
                      _flag("engraftment_syndrome"), None, "engraftment syndrome",
                      transplant_only=True),
    OutcomeDefinition("acute_kidney_injury", ("acute_kidney_injury",),
                      _flag("acute_kidney_injury"), None, "acute kidney injury (any stage)"),
    OutcomeDefinition("sinusoidal_obstruction_syndrome", ("sos",), _flag("sos"), None,
                      "sinusoidal obstruction syndrome (busulfan regimens)"),
    OutcomeDefinition("severe_mucositis", ("severe_mucositis",), _flag("severe_mucositis"), None,
                      "grade 3-4 oral mucositis (melphalan regimens)"),
    OutcomeDefinition("pulmonary_toxicity", ("pulmonary_toxicity",),
                      _flag("pulmonary_toxicity"), None,
                      "drug pneumonitis (carmustine regimens)"),
    OutcomeDefinition("therapy_related_malignancy", ("malignancy_day",),
                      lambda df, d, c: _by(df, "malignancy_day", d), 5.0,
                      "therapy-related malignancy by 5 years (rate assumed)"),
    OutcomeDefinition("secondary_autoimmunity", ("secondary_autoimmunity_day",),
                      lambda df, d, c: _by(df, "secondary_autoimmunity_day", d), 5.0,
                      "secondary autoimmune disease by 5 years"),
    OutcomeDefinition("acute_gvhd_grade_2_4", ("agvhd_grade",),
                      lambda df, d, c: (df["agvhd_grade"].fill_null(0).to_numpy() >= 2)
                      .astype(float), None, "acute GVHD grade II-IV (allogeneic grafts)",
                      transplant_only=True),
    OutcomeDefinition("chronic_gvhd", ("cgvhd",), _flag("cgvhd"), None,
                      "chronic GVHD (allogeneic grafts)", transplant_only=True),
    OutcomeDefinition("time_to_neutrophil_engraftment", ("anc_engraftment_day", "engrafted"),
                      _engraftment, None, "expected day of neutrophil engraftment (CIBMTR: "
                      "first of 3 days ANC >= 500/uL) among twins who became neutropenic and "
                      "engrafted", kind="mean", unit="days after infusion",
                      transplant_only=True, side="other"),
)


@dataclass(frozen=True)
class Interval:
    estimate: float
    ci_low: float
    ci_high: float
    sd_unknown_covariates: float
    se_monte_carlo: float
    n: int


def wilson(p: float, n: int) -> tuple[float, float]:
    """Wilson score interval (95 %)."""
    if n <= 0:
        return 0.0, 1.0
    z2 = Z95 * Z95
    c = (p + z2 / (2 * n)) / (1 + z2 / n)
    h = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # the bounds bracket p exactly (at p = 0 the rounding of c - h left 1e-19 > p)
    return min(max(0.0, c - h), p), max(min(1.0, c + h), p)


def probability_interval(events: np.ndarray, m: int) -> Interval:
    """Interval for a probability from ``events[g]`` events in each of ``G`` groups of ``m``."""
    events = np.asarray(events, dtype=float)
    g = events.size
    k = g * m
    p = float(events.sum() / k)
    pg = events / m
    var_g = float(pg.var(ddof=1)) if g > 1 else 0.0
    within = float(np.mean(pg * (1 - pg)) / (m - 1)) if m > 1 else 0.0
    tau2 = max(0.0, var_g - within)
    mc = max(var_g / g if g > 1 else 0.0, p * (1 - p) / k)
    lo, hi = wilson(p, k)
    total = tau2 + mc
    if 0.0 < p < 1.0 and total > 0:
        common = p * (1 - p) / total - 1.0
        if common > 0:
            b = stats.beta(p * common, (1 - p) * common)
            lo, hi = min(lo, float(b.ppf(0.025))), max(hi, float(b.ppf(0.975)))
        else:
            lo, hi = 0.0, 1.0
    return Interval(p, lo, hi, math.sqrt(tau2), math.sqrt(mc), k)


def mean_interval(values: np.ndarray, groups: np.ndarray, n_groups: int) -> Interval:
    """Interval for a mean over twins (NaN = not counted) with the same variance split."""
    ok = ~np.isnan(values)
    n = int(ok.sum())
    if n < 2:
        return Interval(float("nan"), float("nan"), float("nan"), float("nan"), float("nan"), n)
    mu = float(values[ok].mean())
    means, wvars = [], []
    for gi in range(n_groups):
        v = values[ok & (groups == gi)]
        if v.size >= 2:
            means.append(v.mean())
            wvars.append(v.var(ddof=1) / v.size)
    if len(means) >= 2:
        var_g = float(np.var(means, ddof=1))
        tau2 = max(0.0, var_g - float(np.mean(wvars)))
        mc = max(var_g / len(means), float(values[ok].var(ddof=1)) / n)
    else:
        tau2, mc = 0.0, float(values[ok].var(ddof=1)) / n
    h = Z95 * math.sqrt(tau2 + mc)
    return Interval(mu, mu - h, mu + h, math.sqrt(tau2), math.sqrt(mc), n)


#: covariates of the simulator's cohort that a record may leave unknown
_UNKNOWABLE = {"disease_duration_years": "disease_duration_years",
               "anc_per_uL": "anc_per_uL", "platelets_per_uL": "platelets_per_uL",
               "hemoglobin_g_per_dL": "hemoglobin_g_per_dL"}


#: the record field holding each disease's activity score (the simulator's score_name)
_RECORDED_SCORE = {"systemic_sclerosis": "mrss", "multiple_sclerosis": "edss",
                   "sle": "sledai", "rheumatoid_arthritis": "das28", "crohns_disease": "cdai"}


#: record fields holding a count of the disease's recurrent event before the assessment, by
#: the simulator's covariate (``<event>_prior_year``, ``<event>_prior_3_years``): the twins'
#: event frailty is drawn from its posterior given that count (decisions §32)
_RECORDED_PRIOR_EVENTS = {"multiple_sclerosis": {
    "clinical_relapse_prior_year": "relapses_past_year",
    "clinical_relapse_prior_3_years": "relapses_past_3_years"}}


def twin_cohort(record, *, seed: int, n_groups: int, per_group: int, hct_ci: float) -> Cohort:
    """``n_groups × per_group`` twins; unknown covariates shared within a group."""
    k = n_groups * per_group
    cohort = cohort_from_patient(record.simulator_patient(), seed=seed, n_twins=k)
    rep = (np.arange(k) // per_group) * per_group  # each twin's group representative
    upd = {}
    for rec_field, col in _UNKNOWABLE.items():
        if getattr(record, rec_field) is None:
            upd[col] = getattr(cohort, col)[rep]
    upd["lymphocytes_per_uL"] = cohort.lymphocytes_per_uL[rep]  # never in the record
    for rec_field, col in (("cmv_igg", "cmv_seropositive"), ("ebv_igg", "ebv_seropositive")):
        if getattr(record, rec_field) is None:  # unknown serostatus: one draw per group
            upd[col] = np.asarray(getattr(cohort, col))[rep]
    score = getattr(record, _RECORDED_SCORE.get(record.disease, ""), None)
    if score is not None:  # the recorded activity score is where the simulation starts
        upd_extra = {"score_baseline": np.full(k, float(score))}
    else:
        upd_extra = {}
    for col, rec_field in _RECORDED_PRIOR_EVENTS.get(record.disease, {}).items():
        n = getattr(record, rec_field)
        if n is not None:  # the patient's own relapse history conditions its frailty
            upd_extra[col] = np.full(k, float(n))
    extra = {**cohort.extra, **upd_extra, "hct_ci": np.full(k, float(hct_ci)),
             # recorded organ involvement raises the cardiac toxicity hazard in the engine
             "cardiac_involvement": np.full(k, record.cardiac_involvement is True)}
    return replace(cohort, **upd, extra=extra)


def unknown_model_covariates(record) -> list[str]:
    """Simulator covariates the record does not hold (sampled from the population)."""
    sero = [f for f in ("cmv_igg", "ebv_igg") if getattr(record, f) is None]
    return ([f for f in _UNKNOWABLE if getattr(record, f) is None] + sero
            + ["lymphocytes_per_uL"])


def disease_event_definitions(disease: str) -> tuple[OutcomeDefinition, ...]:
    """Forecast outcomes of the disease module's recurrent events (MS relapses and new MRI
    lesions, SLE renal flares: at least one within 2 years) and of its activity-free
    composite (MS: NEDA-3 at 2 and 5 years)."""
    from immunoreset.diseases import disease_model

    dm = disease_model(disease)
    defs = [OutcomeDefinition(
        e.id, (f"{e.id}_day",), lambda df, d, c, col=f"{e.id}_day": _by(df, col, d), 2.0,
        f"at least one {e.description} within 2 years of infusion or the first "
        "comparator dose (rate follows the autoreactive activity; death competes)")
        for e in dm.events]
    af = dm.activity_free
    if af is not None:
        defs += [OutcomeDefinition(
            af.id, (f"{af.id}_y{y}",), lambda df, d, c, col=f"{af.id}_y{y}": _col(df, col),
            float(y), f"alive with {af.description} for the first {y} years", side="benefit")
            for y in (2, 5)]
    return tuple(defs)


def forecast_rows(outcomes: pl.DataFrame, protocol_name: str, *, is_transplant: bool,
                  n_groups: int, per_group: int, disease: str,
                  params: ParameterSet | None = None,
                  definitions: Sequence[OutcomeDefinition] | None = None) -> list[dict]:
    """One row per outcome definition for one protocol's twin outcomes (by default
    :data:`OUTCOMES` and the disease's own events, :func:`disease_event_definitions`)."""
    from immunoreset.diseases import disease_model

    if definitions is None:
        definitions = (*OUTCOMES, *disease_event_definitions(disease))
    ctx = Context(disease, params or default_parameters())
    rem_text = disease_model(disease).remission_definition
    rows = []
    groups = np.arange(len(outcomes)) // per_group
    for od in definitions:
        row = {"protocol": protocol_name, "outcome": od.name, "horizon_years": od.horizon_years,
               "kind": od.kind, "unit": od.unit,
               "definition": od.definition.replace("{remission}", rem_text),
               "probability": None, "estimate": None, "ci_low": None, "ci_high": None,
               "sd_unknown_covariates": None, "se_monte_carlo": None, "n_twins": None,
               "status": "modelled", "reason": "", "side": od.side}
        missing = [c for c in od.columns if c not in outcomes.columns]
        if od.transplant_only and not is_transplant:
            row |= {"status": "not_applicable", "reason": "no graft in a comparator arm"}
        elif missing:
            row |= {"status": "not_modelled",
                    "reason": f"the simulator's outcomes have no column {', '.join(missing)}"}
        else:
            days = (od.horizon_years or HORIZON_DAYS / Y) * Y
            x = od.rule(outcomes, days, ctx)
            if od.kind == "probability":
                ev = np.bincount(groups, weights=x, minlength=n_groups)
                iv = probability_interval(ev, per_group)
                row["probability"] = iv.estimate
            else:
                iv = mean_interval(x, groups, n_groups)
            row |= {"estimate": iv.estimate, "ci_low": iv.ci_low, "ci_high": iv.ci_high,
                    "sd_unknown_covariates": iv.sd_unknown_covariates,
                    "se_monte_carlo": iv.se_monte_carlo, "n_twins": iv.n}
        rows.append(row)
    return rows


def simulate_twins(record, protocol: Protocol, *, seed: int, n_groups: int, per_group: int,
                   hct_ci: float, params: ParameterSet | None = None,
                   progress=None) -> pl.DataFrame:
    """The twins' outcome frame under ``protocol`` (five years)."""
    from immunoreset.simulate import simulate

    params = params or default_parameters()
    cohort = twin_cohort(record, seed=seed, n_groups=n_groups, per_group=per_group,
                         hct_ci=hct_ci)
    k = len(cohort)
    # one chunk: Cohort.take does not slice ``extra`` (see docs/clinic.md, proposed fix)
    res = simulate(cohort, protocol, horizon_days=HORIZON_DAYS, params=params,
                   chunk_size=max(k, 1), progress=progress)
    return res.outcomes
