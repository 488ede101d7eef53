"""Run one chunk of patients through the compiled kernel and reduce to outcomes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from immunoreset.diseases import disease_model
from immunoreset.engine import layout as L
from immunoreset.engine.assemble import (
    EV_PROGRESSION_KIND,
    KernelInputs,
    assemble,
    patient_frailty,
)
from immunoreset.engine.model import N_OBS, OBS_ANC, OBS_HB, OBS_LYMPH, OBS_PLT
from immunoreset.engine.solver import (
    CROSS_ANC,
    CROSS_ORGAN,
    CROSS_PLT,
    CROSS_RELAPSE,
    N_CROSS,
    integrate_batch,
)
from immunoreset.outcomes.complications import censor_after_death, complication_outcomes
from immunoreset.outcomes.disease_events import disease_event_outcomes, progression_kind_outcomes
from immunoreset.outcomes.disease_readouts import disease_readout_outcomes
from immunoreset.outcomes.hematology import hematology_outcomes
from immunoreset.outcomes.immune import disease_outcomes, immune_outcomes
from immunoreset.parameters import ParameterSet
from immunoreset.population import Cohort
from immunoreset.population import streams as st
from immunoreset.protocols.protocol import Protocol

#: daily grid and supportive-care checks until this day; weekly afterwards
DAILY_UNTIL = 100.0
#: fixed read-out days (1, 2, 3, 5 years) always on the grid
LANDMARK_DAYS = (182.0, 365.0, 730.0, 1095.0, 1826.0)
RTOL = 1e-6
MAX_STEPS = 200_000


@dataclass(frozen=True)
class Grid:
    """Output and check times of a run (days; day 0 = infusion)."""

    out_times: np.ndarray
    daily: np.ndarray  # boolean mask of out_times on the daily part
    check_times: np.ndarray

    @classmethod
    def make(cls, t_start: float, horizon_days: float) -> Grid:
        end_daily = min(DAILY_UNTIL, horizon_days)
        daily = np.arange(t_start, end_daily + 0.5)
        weekly = np.arange(end_daily + 7.0, horizon_days + 1e-9, 7.0)
        landmarks = [d for d in LANDMARK_DAYS if end_daily < d <= horizon_days + 1e-9]
        out = np.unique(np.concatenate([daily, weekly, landmarks]))
        if out[-1] < horizon_days - 1e-9:
            out = np.append(out, horizon_days)
        mask = np.zeros(len(out), dtype=bool)
        mask[: len(daily)] = True
        return cls(out_times=out, daily=mask, check_times=daily[1:].copy())


@dataclass(frozen=True)
class ChunkResult:
    """Kernel output for a chunk: observations on the grid and per-patient outcomes."""

    grid: Grid
    obs: np.ndarray  # [n, M, N_OBS]
    crossings: np.ndarray  # [n, N_CROSS]
    tx_log: np.ndarray  # [n, C]
    status: np.ndarray
    steps: np.ndarray
    outcomes: dict[str, np.ndarray]
    inputs: KernelInputs


def run_chunk(cohort: Cohort, protocol: Protocol, params: ParameterSet, *,
              horizon_days: float, rtol: float = RTOL) -> ChunkResult:
    """Assemble, integrate and reduce one chunk of patients."""
    ki = assemble(cohort, protocol, params)
    grid = Grid.make(ki.t_start, horizon_days)
    n = len(cohort)
    m = len(grid.out_times)
    obs = np.full((n, m, N_OBS), np.nan)
    cross = np.full((n, N_CROSS), np.nan)
    tx = np.zeros((n, len(grid.check_times)), dtype=np.int64)
    status = np.zeros(n, dtype=np.int64)
    steps = np.zeros(n, dtype=np.int64)
    integrate_batch(ki.y0, ki.p, ki.d_agent, ki.d_t0, ki.d_dur, ki.d_amount, ki.imp_t,
                    ki.imp_mult, ki.imp_add, ki.imp_move, grid.check_times, ki.rules,
                    grid.out_times,
                    ki.t_start, float(horizon_days), ki.atol, rtol, ki.thresholds, obs, cross, tx,
                    status, steps, MAX_STEPS)
    if np.any(status != 0):
        bad = np.flatnonzero(status != 0)[:5]
        raise RuntimeError(f"integration failed for patients {cohort.patient_id[bad].tolist()} "
                           f"(status {status[bad].tolist()})")
    days = grid.out_times[grid.daily]
    d = obs[:, grid.daily, :]
    out = hematology_outcomes(days, d[:, :, OBS_ANC], d[:, :, OBS_PLT], d[:, :, OBS_HB],
                              grid.check_times, tx)
    out["anc_first_crossing_day"] = cross[:, CROSS_ANC]
    out["plt_first_crossing_day"] = cross[:, CROSS_PLT]
    out.update(immune_outcomes(grid.out_times, obs))
    out.update(disease_outcomes(cohort.disease, ki.disease_modelled, grid.out_times, obs,
                                cross[:, CROSS_RELAPSE], cross[:, CROSS_ORGAN], params))
    u = st.uniform_block(cohort.seed, cohort.patient_id, st.EVENTS)
    out.update(complication_outcomes(cross, u, params, disease=cohort.disease,
                                     age_years=cohort.age_years,
                                     female=cohort.female, horizon_days=horizon_days,
                                     centre_death_multiplier=ki.p[:, L.C_CENTRE_MULT]))
    censor_after_death(out)
    if ki.disease_modelled:  # the disease's own events and read-outs (none: no columns)
        dm = disease_model(cohort.disease)
        common = dict(death_day=out["death_day"], horizon_days=float(horizon_days),
                      seed=cohort.seed, patient_ids=cohort.patient_id, params=params)
        frailty = patient_frailty(dm, params, cohort) if dm.events else None
        out.update(disease_event_outcomes(dm, grid.out_times, obs,
                                          progression_day=out["progression_day"],
                                          progressive=cohort.progressive, frailty=frailty,
                                          **common))
        if dm.progressive_phenotype:
            out["progressive"] = (np.zeros(n, dtype=bool) if cohort.progressive is None
                                  else np.asarray(cohort.progressive, dtype=bool))
        out.update(disease_readout_outcomes(dm, grid.out_times, obs, **common))
        out.update(progression_kind_outcomes(dm, out["progression_day"],
                                             u[:, EV_PROGRESSION_KIND], params,
                                             cohort.disease_duration_years))
    i100 = np.searchsorted(grid.out_times, 100.0)
    out["lymphoid_output_day100"] = obs[:, min(i100, m - 1), OBS_LYMPH]
    return ChunkResult(grid=grid, obs=obs, crossings=cross, tx_log=tx, status=status,
                       steps=steps, outcomes=out, inputs=ki)
