"""``run_trial``: screen, randomise, simulate every arm, censor, compute endpoints.

Steps (each reproducible from the seed alone):

1. **Screening.** Virtual patients ``0, 1, 2, …`` are sampled from the disease population
   (:func:`~immunoreset.population.sample_cohort`, patient *k* depends only on (seed, k)) and
   checked against the spec's inclusion and exclusion criteria until ``population.n`` are
   eligible. Criteria on covariates the cohort does not carry are *not applied* and listed as
   such in the CONSORT flow. The screen-failure rate is excluded / screened.
2. **Entry and randomisation.** Patient *k* draws
   ``u = Generator(PCG64(SeedSequence(seed, spawn_key=(k, 100)))).random(3)``: ``u[1]`` gives
   the drop-out time ``−ln(1−u[1]) / λ`` years (``λ = dropout_per_year``; none when 0) and,
   with ``accrual``, ``u[2]`` the entry time ``accrual.years · u[2]`` (uniform). Simple
   randomisation picks the arm from ``u[0]`` (cumulative allocation), so a patient's arm never
   depends on the other patients. Block randomisation (``randomisation.method: block``) fills
   permuted blocks within each stratum in order of entry (patient id without accrual), from
   one stream per trial and stratum, ``SeedSequence(seed, spawn_key=(100, 1, stratum))``.
   Either way the allocation is fixed before anything is simulated: it never depends on the
   chunking or the workers.
3. **Simulation.** Transplant arms run :func:`immunoreset.simulate` (graft infusion
   ``days_randomisation_to_infusion`` after randomisation; horizon = follow-up − that delay).
   Comparator arms with a schedule in ``data/comparators.yaml`` run :func:`simulate` too
   (treatment starts at randomisation). An arm naming an unmodelled comparator
   (:data:`~immunoreset.trials.spec.UNMODELLED_COMPARATORS`) is randomised but **not
   simulated**, and its endpoints say so. A custom ``simulator`` (same signature as
   :func:`model_simulator`, minus ``workers``/``scheduler``/``progress``) replaces both —
   the tests use one that writes the full outcome-column contract.
4. **Censoring and endpoints.** ``censor_years = min(administrative censoring, drop-out)``,
   where administrative censoring is ``follow_up_years`` for everyone, or, with ``accrual``,
   the data cut-off ``accrual.years + follow_up_years`` minus the patient's entry time; the
   flow reports the median follow-up (reverse Kaplan–Meier, as trials report it). Endpoints
   from the patients table (:mod:`immunoreset.trials.endpoints`).

Screening criteria on the disease score (``score_baseline`` or its name, e.g. ``mrss``;
:data:`~immunoreset.trials.spec.SCORE_COVARIATES`) read the baseline score the simulated
patient starts from (:func:`baseline_scores`).

Same seed → identical patients table and ``endpoints.csv`` whatever ``workers``.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import polars as pl

from immunoreset.errors import InputError
from immunoreset.io.store import atomic_output_dir, base_provenance, write_json
from immunoreset.parameters import (
    ParameterSet,
    changed_parameters,
    default_parameters,
    provenance_record,
    using_parameters,
)
from immunoreset.population import Cohort, sample_cohort
from immunoreset.population import streams as st
from immunoreset.trials.endpoints import (
    CONTRACT_UNITS,
    DAYS_PER_YEAR,
    compare_with_reference,
    compute_endpoints,
)
from immunoreset.trials.spec import (
    MODELLED_COVARIATES,
    PRIOR_YEAR_SUFFIX,
    SCORE_COVARIATES,
    ArmSpec,
    ComparatorProtocol,
    Criterion,
    StratumFactor,
    TrialSpec,
    load_spec,
    parse_spec,
)

#: spawn-key purpose of the randomisation stream (``SeedSequence(seed, spawn_key=(k, 100))``)
RANDOMISATION_PURPOSE = 100
#: trial-level stream of block randomisation: ``SeedSequence(seed, spawn_key=(100, 1, s))``
#: for stratum ``s`` (three-part keys never meet the two-part per-patient keys)
BLOCK_STREAM = 1
#: patients per chunk handed to a custom simulator (results do not depend on it)
DEFAULT_CHUNK_SIZE = 256
#: transplant-arm patients whose blood-count trajectories are kept for the report
TRAJECTORY_PATIENTS = 100

#: Columns of the disease layer. For a disease without a module the simulator writes
#: ``score_name = "not modelled"`` with False/NaN placeholders; :func:`run_trial` turns those
#: into nulls (not modelled) so that they are never read as "no event" or "no remission".
DISEASE_COLUMNS = ("remission", "relapse_day", "progression_day", "score_name",
                   "score_baseline", "score_y1", "score_y2", "score_y5")
NOT_MODELLED_MARK = "not modelled"

_COVARIATE_COLUMNS = ("age_years", "female", "weight_kg", "height_cm", "bsa_m2",
                      "disease_duration_years", "anc_per_uL", "platelets_per_uL",
                      "hemoglobin_g_per_dL", "lymphocytes_per_uL")


# ----------------------------------------------------------------------------- simulators

@dataclass(frozen=True)
class ArmSimulation:
    """What a simulator returns for one arm (or chunk of it).

    ``outcomes``: one row per patient, ``patient_id`` plus outcome columns (day columns in
    days after graft infusion, or after randomisation for comparator arms; NaN = no event);
    ``None`` when the arm cannot be simulated, with the reason in ``note``.
    """

    outcomes: pl.DataFrame | None
    units: dict[str, str] = field(default_factory=dict)
    note: str = ""
    provenance: dict = field(default_factory=dict)
    trajectories: pl.DataFrame | None = None


class ArmSimulator(Protocol):
    """``simulator(cohort, arm, *, horizon_days, disease) -> ArmSimulation`` (picklable when
    used with ``workers > 1``)."""

    def __call__(self, cohort: Cohort, arm: ArmSpec, *, horizon_days: float,
                 disease: str) -> ArmSimulation: ...


def model_simulator(cohort: Cohort, arm: ArmSpec, *, horizon_days: float, disease: str,
                    workers: int = 1, scheduler: Any = None,
                    progress: Callable[[int, int], None] | None = None) -> ArmSimulation:
    """The built-in simulator: :func:`immunoreset.simulate` for transplant arms and modelled
    comparators; unmodelled comparators come back not simulated (``outcomes=None``)."""
    from immunoreset.simulate import SaveSpec, simulate

    if isinstance(arm.protocol, ComparatorProtocol) and not arm.protocol.is_modelled:
        return ArmSimulation(None, note=f"comparator {arm.protocol.comparator!r} has no model "
                                        "yet")
    save = SaveSpec(max_patients=TRAJECTORY_PATIENTS, day_max=60.0)
    res = simulate(cohort, arm.protocol.to_protocol(), horizon_days=horizon_days, save=save,
                   workers=workers, scheduler=scheduler, progress=progress)
    prov = {k: res.provenance[k] for k in ("protocol", "conditioning", "parameters",
                                            "horizon_days", "engraftment_definitions")
            if k in res.provenance}
    return ArmSimulation(res.outcomes, units=dict(res.units), provenance=prov,
                         trajectories=res.trajectories)


def _call_chunk(simulator: ArmSimulator, cohort: Cohort, arm: ArmSpec, horizon_days: float,
                disease: str, params: ParameterSet) -> ArmSimulation:
    # the caller's parameter set is in force here too (a worker process starts with the
    # shipped one)
    with using_parameters(params):
        return simulator(cohort, arm, horizon_days=horizon_days, disease=disease)


def _start_method() -> str:
    methods = mp.get_all_start_methods()
    return "forkserver" if sys.platform == "linux" and "forkserver" in methods else "spawn"


def _run_custom(simulator: ArmSimulator, cohort: Cohort, arm: ArmSpec, *, horizon_days: float,
                disease: str, workers: int, chunk_size: int,
                progress: Callable[[int, int], None] | None) -> ArmSimulation:
    """A custom simulator over patient chunks, in this process or on ``workers`` processes."""
    n = len(cohort)
    chunks = [cohort.take(slice(s, min(n, s + chunk_size))) for s in range(0, n, chunk_size)]
    params = default_parameters()
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(max_workers=workers,
                                 mp_context=mp.get_context(_start_method())) as pool:
            futures = [pool.submit(_call_chunk, simulator, c, arm, horizon_days, disease, params)
                       for c in chunks]
            parts = []
            for f, c in zip(futures, chunks, strict=True):
                parts.append(f.result())
                if progress:
                    progress(len(c), n)
    else:
        parts = []
        for c in chunks:
            parts.append(_call_chunk(simulator, c, arm, horizon_days, disease, params))
            if progress:
                progress(len(c), n)
    missing = [p for p in parts if p.outcomes is None]
    if missing:
        return ArmSimulation(None, note=missing[0].note)
    trajs = [p.trajectories for p in parts if p.trajectories is not None]
    return ArmSimulation(pl.concat([p.outcomes for p in parts], how="diagonal_relaxed"),
                         units=parts[0].units, note=parts[0].note,
                         provenance=parts[0].provenance,
                         trajectories=pl.concat(trajs) if trajs else None)


# ----------------------------------------------------------------------------- cohorts

def _concat(parts: list[Cohort]) -> Cohort:
    first = parts[0]
    arrays = {k: np.concatenate([getattr(p, k) for p in parts])
              for k, v in first.__dict__.items() if isinstance(v, np.ndarray)}
    extra = {}
    for k, v in first.extra.items():
        if isinstance(v, np.ndarray) and v.shape[:1] == (len(first),):
            extra[k] = np.concatenate([p.extra[k] for p in parts])
    return replace(first, **arrays, extra=extra)


def baseline_scores(cohort: Cohort) -> np.ndarray | None:
    """The disease score each patient's simulation starts from (``score_baseline`` of the
    outcome table), or ``None`` when the disease has no score model.

    Drawn by the engine's own :func:`immunoreset.engine.assemble.baseline_scores` from slot
    ``EV_SCORE`` of the patient's EVENTS stream with the parameters in force, unless the
    cohort records them (``extra['score_baseline']``: a study's own entry-score
    distribution); ``tests/test_trial_design.py`` checks the two agree patient by patient.
    """
    from immunoreset.diseases import disease_model
    from immunoreset.engine.assemble import EV_SCORE
    from immunoreset.engine.assemble import baseline_scores as draw_scores

    params = default_parameters()
    try:
        dm = disease_model(cohort.disease)
        dm.p(params, "score_max")
    except (KeyError, ImportError, ValueError):
        return None
    u = st.uniform_block(cohort.seed, cohort.patient_id, st.EVENTS)[:, EV_SCORE]
    drawn = draw_scores(dm, params, u, cohort.progressive)
    recorded = cohort.extra.get("score_baseline")  # the study's own entry-score distribution
    if recorded is None:
        return drawn
    recorded = np.asarray(recorded, dtype=float)
    return np.where(np.isfinite(recorded), recorded, drawn)


def prior_event_counts(cohort: Cohort, event_id: str) -> np.ndarray | None:
    """Each patient's count of ``event_id`` (e.g. ``clinical_relapse``) in the year before
    entry, or ``None`` when the disease declares no such event: drawn from slots
    ``EV_FRAILTY`` and ``EV_PRIOR_EVENTS`` of the patient's EVENTS stream, with the very
    frailty that then drives the patient's simulated events (and, in MS, its progression),
    so a criterion such as ``clinical_relapse_prior_year >= 2`` selects the patients who are
    simulated as the more active ones."""
    from immunoreset.diseases import disease_model
    from immunoreset.engine.assemble import EV_PRIOR_EVENTS, patient_frailty

    try:
        dm = disease_model(cohort.disease)
    except (KeyError, ImportError, ValueError):
        return None
    ids = [e.id for e in dm.events]
    if event_id not in ids:
        return None
    params = default_parameters()
    u = st.uniform_block(cohort.seed, cohort.patient_id, st.EVENTS)
    g = patient_frailty(dm, params, cohort)
    scale = dm.inflammation_scale(params, cohort.progressive, len(cohort))
    drawn = dm.prior_event_counts(params, event_id, g,
                                  u[:, EV_PRIOR_EVENTS + ids.index(event_id)], scale)
    recorded = dm.recorded_prior_events(cohort.extra).get(event_id)
    return drawn if recorded is None else np.where(np.isfinite(recorded), recorded, drawn)


def covariate(cohort: Cohort, name: str) -> np.ndarray | None:
    """A covariate of every patient, or ``None`` when the cohort does not carry it."""
    if name in MODELLED_COVARIATES and isinstance(getattr(cohort, name, None), np.ndarray):
        return np.asarray(getattr(cohort, name), dtype=float)
    if name.endswith(PRIOR_YEAR_SUFFIX):
        return prior_event_counts(cohort, name[:-len(PRIOR_YEAR_SUFFIX)])
    if name in SCORE_COVARIATES:
        want = SCORE_COVARIATES[name]
        return baseline_scores(cohort) if want in (None, cohort.disease) else None
    if name == "sex":
        return np.asarray(cohort.female, dtype=float)
    v = cohort.extra.get(name)
    if isinstance(v, np.ndarray) and v.shape == (len(cohort),):
        return np.asarray(v, dtype=float)
    return None


# ----------------------------------------------------------------------------- screening

@dataclass(frozen=True)
class _Screen:
    cohort: Cohort  # the eligible patients, in id order
    table: pl.DataFrame  # every screened patient
    flow: dict


def _criterion_fails(c: Criterion, kind: str, x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if kind == "inclusion":
            ok = np.isfinite(x)
            if c.min is not None:
                ok &= x >= c.min
            if c.max is not None:
                ok &= x <= c.max
            return ~ok
        bad = np.zeros(x.shape, dtype=bool)
        if c.above is not None:
            bad |= x > c.above
        if c.below is not None:
            bad |= x < c.below
        return bad


def _screen(spec: TrialSpec, seed: int) -> _Screen:
    pop = spec.sampling_population()
    n = spec.population.n
    criteria = [("inclusion", c) for c in spec.population.inclusion] + \
               [("exclusion", c) for c in spec.population.exclusion]
    cap = math.ceil(n * spec.population.max_screened_per_randomised)
    block = max(64, 2 * n)
    start, found = 0, 0
    kept: list[Cohort] = []
    frames: list[pl.DataFrame] = []
    not_applied: dict[int, str] = {}
    while found < n:
        if start >= cap:
            raise InputError("population", f"{found} of {start} screened patients eligible",
                             f"criteria that at least {n} of {cap} sampled patients meet "
                             "(raise population.max_screened_per_randomised or relax them)")
        c = sample_cohort(pop, block, seed=seed, start=start)
        fails = np.zeros(block, dtype=bool)
        reason = np.full(block, "", dtype=object)
        for i, (kind, crit) in enumerate(criteria):
            x = None if crit.covariate is None else covariate(c, crit.covariate)
            if x is None:
                not_applied[i] = ("text-only criterion" if crit.covariate is None
                                  else "covariate not modelled")
                continue
            f = _criterion_fails(crit, kind, x)
            reason = np.where(f & (reason == ""), f"{kind}: {crit.label()}", reason)
            fails |= f
        eligible = ~fails
        # stop at the n-th eligible patient
        idx = np.flatnonzero(eligible)
        need = n - found
        stop = block if idx.size < need else int(idx[need - 1]) + 1
        sel = slice(0, stop)
        c = c.take(sel)
        frames.append(_covariate_frame(c).with_columns(
            pl.Series("eligible", eligible[sel]),
            pl.Series("screen_failure_reason", reason[sel].astype(str))))
        kept.append(c.take(np.flatnonzero(eligible[sel])))
        found += int(eligible[sel].sum())
        start += block
    table = pl.concat(frames)
    screened = table.height
    counts = []
    for i, (kind, crit) in enumerate(criteria):
        row = {"kind": kind, "criterion": crit.label(), "text": crit.text,
               "source": crit.source}
        if i in not_applied:
            row |= {"applied": False, "n_failed": None,
                    "note": f"not applied: {not_applied[i]}"}
        else:
            failed = table.filter(pl.col("screen_failure_reason") == f"{kind}: {crit.label()}")
            row |= {"applied": True, "n_failed": failed.height,
                    "note": "first failed criterion"}
        counts.append(row)
    flow = {"screened": screened, "eligible": n, "excluded": screened - n,
            "screen_failure_rate": (screened - n) / screened,
            "criteria": counts}
    return _Screen(cohort=_concat(kept), table=table, flow=flow)


def _covariate_frame(c: Cohort) -> pl.DataFrame:
    cols: dict[str, Any] = {"patient_id": c.patient_id}
    for k in _COVARIATE_COLUMNS:
        v = getattr(c, k)
        if k == "female":
            cols["sex"] = np.where(v, "F", "M")
        else:
            cols[k] = v
    if c.progressive is not None and c.progressive.any():
        cols["progressive"] = np.asarray(c.progressive, dtype=bool)
    for k, v in c.extra.items():
        if isinstance(v, np.ndarray) and v.shape == (len(c),):
            cols[k] = v
    score = baseline_scores(c)
    if score is not None:
        cols["screening_score"] = score
    for e in _event_ids(c.disease):
        cols[e + PRIOR_YEAR_SUFFIX] = prior_event_counts(c, e)
    return pl.DataFrame(cols)


def _event_ids(disease: str) -> list[str]:
    from immunoreset.diseases import disease_model

    try:
        return [e.id for e in disease_model(disease).events]
    except (KeyError, ImportError, ValueError):
        return []


# ----------------------------------------------------------------------------- randomisation

def randomisation_draws(seed: int, patient_ids: np.ndarray) -> np.ndarray:
    """``[n, 3]`` uniforms per patient from ``SeedSequence(seed, spawn_key=(k, 100))``:
    column 0 chooses the arm (simple randomisation), column 1 the drop-out time, column 2 the
    entry time (accrual). The first two are the draws of earlier versions (``random(3)``
    starts with ``random(2)``)."""
    out = np.empty((len(patient_ids), 3))
    for i, k in enumerate(patient_ids):
        ss = np.random.SeedSequence(seed, spawn_key=(int(k), RANDOMISATION_PURPOSE))
        out[i] = np.random.Generator(np.random.PCG64(ss)).random(3)
    return out


@dataclass(frozen=True)
class Allocation:
    """Who goes where and when: per patient (in cohort order) the arm index, drop-out
    (years after randomisation), entry (years after the first randomisation), stratum."""

    arm: np.ndarray
    dropout_years: np.ndarray
    entry_years: np.ndarray
    stratum: np.ndarray


def strata_of(factors: list[StratumFactor], cohort: Cohort) -> np.ndarray:
    """Stratum index per patient: the levels of the factors in mixed radix (0 without any)."""
    s = np.zeros(len(cohort), dtype=np.int64)
    for f in factors:
        x = covariate(cohort, f.covariate)
        if x is None:
            raise InputError("randomisation.strata.covariate", f.covariate,
                             "a covariate the sampled patients carry")
        level = (x.astype(np.int64) if f.covariate == "sex"
                 else np.searchsorted(np.asarray(f.cutpoints), x, side="right"))
        s = s * f.levels + level
    return s


def _blocks(spec: TrialSpec, seed: int, stratum: int, n: int) -> np.ndarray:
    """The first ``n`` arm indices of the permuted blocks of one stratum."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        seed, spawn_key=(RANDOMISATION_PURPOSE, BLOCK_STREAM, int(stratum)))))
    sizes = spec.randomisation.block_sizes
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        b = sizes[int(rng.integers(len(sizes)))] if len(sizes) > 1 else sizes[0]
        block = np.repeat(np.arange(len(spec.arms)),
                          [round(a.allocation * b) for a in spec.arms])
        out.append(rng.permutation(block))
        have += b
    return np.concatenate(out)[:n]


def randomise(spec: TrialSpec, seed: int, cohort: Cohort | np.ndarray) -> Allocation:
    """Entry, arm and drop-out of every patient (see the module docstring)."""
    ids = cohort if isinstance(cohort, np.ndarray) else cohort.patient_id
    u = randomisation_draws(seed, ids)
    n = len(ids)
    lam = spec.dropout_per_year
    dropout = -np.log1p(-u[:, 1]) / lam if lam > 0 else np.full(n, np.inf)
    entry = spec.accrual.years * u[:, 2] if spec.accrual is not None else np.zeros(n)
    r = spec.randomisation
    if r.method == "simple":
        cum = np.cumsum([a.allocation for a in spec.arms])
        cum[-1] = 1.0
        arm = np.minimum(np.searchsorted(cum, u[:, 0], side="right"), len(spec.arms) - 1)
        return Allocation(arm, dropout, entry, np.zeros(n, dtype=np.int64))
    if isinstance(cohort, np.ndarray):
        if r.strata:
            raise InputError("cohort", "patient ids", "a Cohort for stratified randomisation")
        stratum = np.zeros(n, dtype=np.int64)
    else:
        stratum = strata_of(r.strata, cohort)
    order = np.lexsort((ids, entry))  # order of randomisation: entry time, then id
    arm = np.empty(n, dtype=np.int64)
    for s in np.unique(stratum):
        who = order[stratum[order] == s]
        arm[who] = _blocks(spec, seed, int(s), who.size)
    return Allocation(arm, dropout, entry, stratum)


def median_follow_up(df: pl.DataFrame) -> float:
    """Median follow-up in years by the reverse Kaplan–Meier method (Schemper & Smith,
    Control Clin Trials 1996;17:343): the censoring times are the events and deaths censor;
    NaN when it cannot be estimated (e.g. nobody simulated)."""
    from lifelines import KaplanMeierFitter

    if df.height == 0 or "death_day" not in df.columns or \
            df["death_day"].null_count() == df.height:
        return math.nan
    from immunoreset.trials.endpoints import event_years

    death = event_years(df, "death")
    end = df["censor_years"].to_numpy()
    t = np.minimum(death, end)
    censored = end < death
    kmf = KaplanMeierFitter().fit(np.maximum(t, 1e-9), censored.astype(int))
    m = float(kmf.median_survival_time_)
    return m if math.isfinite(m) else math.nan


# ----------------------------------------------------------------------------- result

@dataclass(frozen=True)
class TrialResult:
    """One simulated trial.

    ``patients``: one row per randomised patient (covariates, arm, trial-time columns,
    outcomes; null = not modelled, NaN = no event). ``screening``: every screened patient with
    ``eligible`` and the first failed criterion. ``flow``: CONSORT counts. ``endpoints``: the
    ``endpoints.csv`` rows (DESIGN §6 columns + ``note``). ``comparison``: simulated vs
    published (:func:`~immunoreset.trials.endpoints.compare_with_reference`).
    """

    spec: TrialSpec
    seed: int
    patients: pl.DataFrame
    screening: pl.DataFrame
    flow: dict
    endpoints: pl.DataFrame
    comparison: pl.DataFrame
    units: dict[str, str]
    provenance: dict
    trajectories: pl.DataFrame | None = None

    def write(self, out: str | Path, *, overwrite: bool = False, report: bool = True) -> Path:
        """Write ``endpoints.csv``, ``patients.parquet``, ``screening.parquet``,
        ``reference_comparison.csv``, ``provenance.json`` and ``report.html`` atomically."""
        with atomic_output_dir(out, overwrite=overwrite) as tmp:
            self.endpoints.write_csv(tmp / "endpoints.csv")
            self.patients.write_parquet(tmp / "patients.parquet")
            self.screening.write_parquet(tmp / "screening.parquet")
            self.comparison.write_csv(tmp / "reference_comparison.csv")
            if self.trajectories is not None and self.trajectories.height:
                self.trajectories.write_parquet(tmp / "trajectories.parquet")
            write_json(tmp / "provenance.json", self.provenance | {"units": self.units,
                                                                   "flow": self.flow})
            if report:
                from immunoreset.report.html import write_report

                write_report(self, tmp / "report.html")
        return Path(out)


def run_trial(spec: TrialSpec | str | Path | dict, *, seed: int, workers: int = 1,
              scheduler: Any = None, simulator: ArmSimulator | None = None,
              chunk_size: int = DEFAULT_CHUNK_SIZE,
              progress: Callable[[int, int], None] | None = None) -> TrialResult:
    """Run the in-silico trial described by ``spec`` (a :class:`TrialSpec`, a mapping or a
    YAML path) with ``seed``; see the module docstring for the steps.

    ``workers > 1`` simulates on that many local processes and ``scheduler`` on Dask (model
    simulator only); neither changes a single number. ``simulator`` replaces the built-in
    :func:`model_simulator`. ``progress(done, total)`` counts simulated patients.
    """
    if isinstance(spec, str | Path):
        spec = load_spec(spec)
    spec = parse_spec(spec)
    seed = st.normalize_seed(seed)
    if not isinstance(workers, int) or workers < 1:
        raise InputError("workers", workers, "an integer >= 1")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise InputError("chunk_size", chunk_size, "an integer >= 1")
    if scheduler is not None and simulator is not None:
        raise InputError("scheduler", scheduler, "None with a custom simulator")

    params = default_parameters()  # the set in force for the whole trial
    changed = changed_parameters(params)
    screen = _screen(spec, seed)
    cohort = screen.cohort
    alloc = randomise(spec, seed, cohort)
    arm_idx, dropout = alloc.arm, alloc.dropout_years
    admin = spec.max_follow_up_years - alloc.entry_years
    follow_days = spec.max_follow_up_years * DAYS_PER_YEAR
    total = len(cohort)
    done = [0]

    def _tick(k: int) -> None:
        done[0] += k
        if progress is not None:
            progress(min(done[0], total), total)

    frames, units, arm_prov, arm_flow, trajs = [], dict(CONTRACT_UNITS), {}, {}, []
    for i, arm in enumerate(spec.arms):
        sel = np.flatnonzero(arm_idx == i)
        delay = arm.protocol.delay_days
        base = _covariate_frame(cohort.take(sel)).with_columns(
            pl.lit(arm.name).alias("arm"),
            pl.lit(float(delay)).alias("days_randomisation_to_infusion"),
            pl.Series("entry_years", alloc.entry_years[sel]),
            pl.Series("stratum", alloc.stratum[sel]),
            pl.Series("dropout_years", dropout[sel]),
            pl.Series("censor_years", np.minimum(dropout[sel], admin[sel])),
            pl.Series("dropped_out", dropout[sel] < admin[sel]),
        )
        horizon = max(30.0, follow_days - delay)
        if sel.size == 0:
            sim = ArmSimulation(None, note="no patients randomised to this arm")
        elif simulator is None:
            last = [0]

            def _arm_progress(d: int, t: int, last: list[int] = last) -> None:
                _tick(d - last[0])
                last[0] = d

            sim = model_simulator(cohort.take(sel), arm, horizon_days=horizon,
                                  disease=spec.disease, workers=workers, scheduler=scheduler,
                                  progress=_arm_progress)
        else:
            sim = _run_custom(simulator, cohort.take(sel), arm, horizon_days=horizon,
                              disease=spec.disease, workers=workers, chunk_size=chunk_size,
                              progress=lambda k, t: _tick(k))
        simulated = sim.outcomes is not None
        if simulated:
            out = _null_unmodelled_disease(sim.outcomes)
            extra = [c for c in out.columns if c not in base.columns or c == "patient_id"]
            base = base.join(out.select(extra), on="patient_id", how="left",
                             maintain_order="left")
            units |= sim.units
            if sim.trajectories is not None and sim.trajectories.height:
                trajs.append(sim.trajectories.with_columns(pl.lit(arm.name).alias("arm")))
        else:
            _tick(sel.size)
        base = base.with_columns(pl.lit(simulated).alias("simulated"),
                                 pl.lit(sim.note).alias("simulation_note"))
        frames.append(base)
        arm_prov[arm.name] = sim.provenance | {"simulated": simulated, "note": sim.note,
                                              "horizon_days_after_infusion": horizon,
                                              "days_randomisation_to_infusion": delay}
        arm_flow[arm.name] = _arm_flow(arm, base, simulated, sim.note, spec)

    patients = pl.concat(frames, how="diagonal_relaxed").sort("patient_id")
    lead = ["patient_id", "arm", "simulated", "simulation_note", "days_randomisation_to_infusion",
            "entry_years", "stratum", "dropout_years", "censor_years", "dropped_out"]
    patients = patients.select(lead + [c for c in patients.columns if c not in lead])
    endpoints = compute_endpoints(spec, patients, units=units)
    comparison = compare_with_reference(spec, endpoints)
    flow = screen.flow | {"randomised": total, "arms": arm_flow,
                          "median_follow_up_years": median_follow_up(
                              patients.filter(pl.col("simulated")))}
    prov = base_provenance() | {
        "seed": seed,
        "spec": spec.model_dump(mode="json", by_alias=True),
        "spec_sha256": spec.sha256(),
        "simulator": "model_simulator" if simulator is None else getattr(
            simulator, "__qualname__", type(simulator).__name__),
        "execution": {"workers": workers, "scheduler": None if scheduler is None
                      else str(scheduler), "chunk_size": chunk_size},
        "time_axis": "trial time 0 = randomisation (years); outcome day columns are days "
                     "after graft infusion (transplant arms) or randomisation (comparators)",
        "randomisation": randomisation_text(spec),
        "accrual": None if spec.accrual is None else {
            "years": spec.accrual.years, "distribution": spec.accrual.distribution,
            "data_cutoff_years": spec.max_follow_up_years,
            "entry": "per-patient SeedSequence(seed, spawn_key=(patient_id, 100)), draw 2"},
        "arms": arm_prov,
        "parameters": provenance_record(params),
        "rerun": f"immunoreset trial run SPEC.yaml --seed {seed} --out DIR "
                 + "".join(f"--set {k}={v!r} " for k, _, v in changed)
                 + "(SPEC = the 'spec' entry of this file)",
    }
    return TrialResult(spec=spec, seed=seed, patients=patients, screening=screen.table,
                       flow=flow, endpoints=endpoints, comparison=comparison, units=units,
                       provenance=prov,
                       trajectories=pl.concat(trajs, how="diagonal_relaxed") if trajs else None)


def randomisation_text(spec: TrialSpec) -> str:
    """The allocation method in plain words (report and provenance)."""
    r = spec.randomisation
    if r.method == "simple":
        return ("simple; per-patient SeedSequence(seed, spawn_key=(patient_id, 100)): draw 0 = "
                "arm, draw 1 = drop-out, draw 2 = entry")
    strata = ", ".join(f.covariate + (f" cut at {f.cutpoints}" if f.cutpoints else "")
                       for f in r.strata) or "none"
    return (f"permuted blocks of size {' or '.join(map(str, r.block_sizes))} in order of entry; "
            f"strata: {strata}; per-stratum SeedSequence(seed, spawn_key=(100, 1, stratum))"
            + (f" ({r.source})" if r.source else ""))


def _null_unmodelled_disease(out: pl.DataFrame) -> pl.DataFrame:
    """Null the disease columns of patients whose disease has no model (see DISEASE_COLUMNS)."""
    if "score_name" not in out.columns:
        return out
    mark = out["score_name"].cast(pl.String) == NOT_MODELLED_MARK
    if not bool(mark.any()):
        return out
    cols = [c for c in DISEASE_COLUMNS if c in out.columns]
    return out.with_columns(
        pl.when(mark).then(None).otherwise(pl.col(c)).alias(c) for c in cols)


def _arm_flow(arm: ArmSpec, df: pl.DataFrame, simulated: bool, note: str,
              spec: TrialSpec) -> dict:
    out = {"allocated": df.height, "n_published": arm.n_published, "simulated": simulated,
           "note": note, "dropped_out": int(df["dropped_out"].sum()),
           "median_follow_up_years": median_follow_up(df) if simulated else math.nan,
           "completed_follow_up": None, "died": None}
    if simulated and "death_day" in df.columns and df["death_day"].null_count() < df.height:
        from immunoreset.trials.endpoints import event_years

        died = event_years(df, "death") <= df["censor_years"].to_numpy()
        out["died"] = int(died.sum())
        out["completed_follow_up"] = int((~died & ~df["dropped_out"].to_numpy()).sum())
    elif simulated:
        out["note"] = "deaths not modelled yet (no death_day column)"
    return out
