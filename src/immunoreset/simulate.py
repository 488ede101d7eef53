"""The public ``simulate`` verb: a cohort (or one patient) under a protocol → outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from immunoreset import vocabulary
from immunoreset.engine import layout as L
from immunoreset.engine.model import OBS_HSC, OBSERVED
from immunoreset.engine.parallel import CohortSpec, FrameReducer, balanced_chunk_size, run_chunks
from immunoreset.engine.run import ChunkResult
from immunoreset.errors import InputError, check_range
from immunoreset.io.store import atomic_output_dir, base_provenance, write_json
from immunoreset.parameters import ParameterSet, default_parameters, provenance_record
from immunoreset.physiology.clones import clone_outcomes
from immunoreset.population import Cohort, Patient, cohort_from_patient
from immunoreset.population import streams as st
from immunoreset.protocols.protocol import Protocol
from immunoreset.vocabulary import (
    COMPLICATION_OUTCOME_UNITS,
    HEMATOLOGY_OUTCOME_UNITS,
    IMMUNE_OUTCOME_UNITS,
)


@dataclass(frozen=True)
class SaveSpec:
    """What to keep as trajectories: variables, how many patients, which days."""

    variables: tuple[str, ...] = ("anc", "platelets", "hemoglobin")
    max_patients: int = 1000
    day_min: float = -10.0
    day_max: float | None = None

    def __post_init__(self) -> None:
        known = {name for name, _ in OBSERVED}
        for v in self.variables:
            if v not in known:
                raise InputError("save.variables", v, "any of " + ", ".join(sorted(known)))
        if self.max_patients < 0:
            raise InputError("save.max_patients", self.max_patients, ">= 0")


@dataclass(frozen=True)
class SimulationResult:
    """Per-patient outcomes, long trajectories, units and provenance of one run."""

    outcomes: pl.DataFrame
    trajectories: pl.DataFrame
    units: dict[str, str]
    provenance: dict = field(default_factory=dict)

    def write(self, out: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``outcomes.parquet``, ``trajectories.parquet`` and ``provenance.json``
        atomically into ``out``."""
        with atomic_output_dir(out, overwrite=overwrite) as tmp:
            self.outcomes.write_parquet(tmp / "outcomes.parquet")
            self.trajectories.write_parquet(tmp / "trajectories.parquet")
            write_json(tmp / "provenance.json", {**self.provenance, "units": self.units})
        return Path(out)


def simulate(cohort_or_patient: Cohort | Patient, protocol: Protocol, *,
             horizon_days: float = 365.0, seed: int | None = None,
             save: SaveSpec | None = None, params: ParameterSet | None = None,
             chunk_size: int = 2048, progress=None, workers: int = 1,
             scheduler: str | None = None) -> SimulationResult:
    """Simulate every patient of a cohort (or digital twins of one patient) under ``protocol``.

    The result is identical for one seed whatever ``chunk_size``, ``workers`` or
    ``scheduler``: each patient draws only from its own streams and is integrated alone.
    ``workers > 1`` runs chunks on that many local processes; ``scheduler`` (``"local"`` or
    ``"tcp://host:port"``) on Dask (see :mod:`immunoreset.engine.parallel`).
    ``progress(done, total)`` is called after each chunk when given.
    """
    horizon_days = check_range("horizon_days", horizon_days, 30, 36525, unit="days")
    params = params or default_parameters()
    save = save or SaveSpec()
    if isinstance(cohort_or_patient, Patient):
        cohort = cohort_from_patient(cohort_or_patient, seed=st.normalize_seed(seed))
    elif isinstance(cohort_or_patient, Cohort):
        cohort = cohort_or_patient
        if seed is not None and seed != cohort.seed:
            raise InputError("seed", seed, f"the cohort's own seed {cohort.seed} (or None)")
    else:
        raise InputError("cohort_or_patient", type(cohort_or_patient).__name__,
                         "a Cohort (sample_cohort) or a Patient record")
    if chunk_size < 1:
        raise InputError("chunk_size", chunk_size, ">= 1")
    n = len(cohort)
    if workers > 1:
        chunk_size = balanced_chunk_size(n, chunk_size, workers)
    frames, trajs = [], []
    for chunk in run_chunks(cohort, protocol, params, horizon_days=horizon_days,
                            chunk_size=chunk_size, workers=workers, scheduler=scheduler,
                            on_chunk=progress, reduce=FrameReducer(save)):
        outcome_rows, traj_rows = chunk.value
        frames.append(outcome_rows)
        if traj_rows is not None:
            trajs.append(traj_rows)
    outcomes = pl.concat(frames)
    trajectories = (pl.concat(trajs).sort(["patient_id", "variable", "day"], maintain_order=True)
                    if trajs else _empty_traj())
    prov = simulation_provenance(cohort, protocol, params, horizon_days=horizon_days, save=save)
    units = prov.pop("units")
    return SimulationResult(outcomes=outcomes, trajectories=trajectories, units=units,
                            provenance=prov)


def outcome_units() -> dict[str, str]:
    """Unit of every outcome column: the union of the vocabulary's ``*_OUTCOME_UNITS`` tables
    (a table added there is picked up here, by every writer of outcomes)."""
    units: dict[str, str] = {}
    for name in sorted(dir(vocabulary)):
        if name.endswith("_OUTCOME_UNITS"):
            units |= dict(getattr(vocabulary, name))
    return units


def disease_event_units(disease: str) -> dict[str, str]:
    """Units of the disease module's recurrent-event and read-out columns (none for an
    unknown disease)."""
    from immunoreset.diseases import disease_model
    from immunoreset.errors import InputError

    try:
        dm = disease_model(disease)
        return dm.event_units() | dm.readout_units() | dm.phenotype_units()
    except InputError:
        return {}


def simulation_provenance(cohort: Cohort | CohortSpec, protocol: Protocol,
                          params: ParameterSet, *, horizon_days: float, save: SaveSpec
                          ) -> dict:
    """The provenance of one simulation run: software and platform, seed, patients, protocol,
    parameters, definitions and the units of every outcome and trajectory variable.

    Built in this one place: :func:`simulate` and
    :func:`~immunoreset.engine.parallel.simulate_to_parquet` (which adds its layout and
    execution) record exactly these keys."""
    first = cohort.start if isinstance(cohort, CohortSpec) else int(cohort.patient_id[0])
    return base_provenance() | {
        "seed": cohort.seed,
        "n_patients": len(cohort),
        "first_patient_id": first,
        "disease": cohort.disease,
        "horizon_days": horizon_days,
        "protocol": protocol.model_dump(mode="json", by_alias=True),
        "conditioning": protocol.conditioning.model_dump(mode="json"),
        "parameters": provenance_record(params),
        "day_zero": "graft infusion",
        "engraftment_definitions": "CIBMTR: ANC >= 500/uL and platelets >= 20,000/uL on 3 "
        "consecutive days (platelets: no transfusion in the preceding 7 days), daily grid",
        "save": {"variables": list(save.variables), "max_patients": save.max_patients,
                 "day_min": save.day_min, "day_max": save.day_max},
        "trajectory_units": dict(OBSERVED),
        "units": outcome_units() | disease_event_units(cohort.disease),
    }


def outcome_frame(cohort: Cohort, res: ChunkResult, params: ParameterSet) -> pl.DataFrame:
    """One row per patient of a chunk: inputs, graft, engraftment and clone outcomes."""
    g = res.inputs.graft
    i0 = int(np.searchsorted(res.grid.out_times, 0.0))
    host_surv = res.obs[:, i0, OBS_HSC] / res.inputs.y0[:, 0]
    u = st.uniform_block(cohort.seed, cohort.patient_id, st.CLONES)
    clones = clone_outcomes(params, hsc_dose_per_kg=g.cd34_per_kg *
                            params.value("graft.composition.hsc"),
                            weight_kg=cohort.weight_kg, host_hsc_survival=host_surv, u=u)
    cols = {
        "patient_id": cohort.patient_id,
        "age_years": cohort.age_years,
        "sex": np.where(cohort.female, "F", "M"),
        "weight_kg": cohort.weight_kg,
        "height_cm": cohort.height_cm,
        "bsa_m2": cohort.bsa_m2,
        "cd34_dose_per_kg": g.cd34_per_kg,
        "cd34_collected_per_kg": g.cd34_collected_per_kg,
        "apheresis_sessions": g.sessions,
        "cd3_dose_per_kg": g.cd3_per_kg,
        "cmv_seropositive": res.inputs.p[:, L.C_CMV_SERO] > 0.5,
        "ebv_seropositive": res.inputs.p[:, L.C_EBV_SERO] > 0.5,
        **res.outcomes,
        **clones,
    }
    order = [c for c in dict.fromkeys((*HEMATOLOGY_OUTCOME_UNITS, *IMMUNE_OUTCOME_UNITS,
                                       *COMPLICATION_OUTCOME_UNITS, *outcome_units()))
             if c in cols]
    order += [c for c in cols if c not in order]
    return pl.DataFrame({c: cols[c] for c in order})


def _trajectory_frame(cohort: Cohort, res: ChunkResult, save: SaveSpec, *, limit: int
                      ) -> pl.DataFrame:
    names = [name for name, _ in OBSERVED]
    units = dict(OBSERVED)
    t = res.grid.out_times
    keep_t = (t >= save.day_min) & ((t <= save.day_max) if save.day_max is not None else True)
    m = min(limit, len(cohort))
    parts = []
    for v in save.variables:
        j = names.index(v)
        vals = res.obs[:m, keep_t, j]
        parts.append(pl.DataFrame({
            "patient_id": np.repeat(cohort.patient_id[:m], keep_t.sum()),
            "day": np.tile(t[keep_t], m),
            "variable": [v] * vals.size,
            "value": vals.ravel(),
            "unit": [units[v]] * vals.size,
        }))
    return pl.concat(parts) if parts else _empty_traj()


def _empty_traj() -> pl.DataFrame:
    return pl.DataFrame(schema={"patient_id": pl.Int64, "day": pl.Float64, "variable": pl.Utf8,
                                "value": pl.Float64, "unit": pl.Utf8})
