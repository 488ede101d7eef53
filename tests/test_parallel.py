"""Chunked, multi-process, Dask and streamed runs give the in-memory result bit for bit
(DESIGN §5: one seed → identical outcomes whatever the batch, process count or cluster)."""

import json
import os
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from immunoreset.engine.parallel import (
    CohortSpec,
    jit_warmup,
    run_chunks,
    simulate_to_parquet,
)
from immunoreset.errors import InputError
from immunoreset.population import sample_cohort
from immunoreset.protocols.protocol import Protocol
from immunoreset.simulate import SaveSpec, simulate

N = 24
SEED = 5
HORIZON = 60.0
SAVE = SaveSpec(max_patients=10)


@pytest.fixture(scope="module")
def cohort():
    return sample_cohort("systemic_sclerosis", N, seed=SEED)


@pytest.fixture(scope="module")
def reference(cohort, params):
    """The in-memory run in one chunk, in this process."""
    return simulate(cohort, Protocol(), horizon_days=HORIZON, params=params, save=SAVE,
                    chunk_size=N)


def _read_parts(folder: Path) -> pl.DataFrame:
    parts = sorted(folder.glob("part-*.parquet"))
    return pl.concat([pl.read_parquet(p) for p in parts])


def test_chunk_sizes_give_identical_outcomes(cohort, params, reference):
    for chunk_size in (1, 11):
        res = simulate(cohort, Protocol(), horizon_days=HORIZON, params=params, save=SAVE,
                       chunk_size=chunk_size)
        assert_frame_equal(res.outcomes, reference.outcomes)
        assert_frame_equal(res.trajectories, reference.trajectories)


def test_run_chunks_yields_in_patient_order(cohort, params):
    seen = []
    outs = list(run_chunks(cohort, Protocol(), params, horizon_days=HORIZON, chunk_size=7,
                           on_chunk=lambda done, total: seen.append((done, total))))
    assert [o.offset for o in outs] == [0, 7, 14, 21]
    assert seen == [(7, N), (14, N), (21, N), (24, N)]
    ids = np.concatenate([o.value[0].patient_id for o in outs])
    np.testing.assert_array_equal(ids, cohort.patient_id)


def test_cohort_spec_chunks_are_the_sampled_patients(cohort):
    spec = CohortSpec("systemic_sclerosis", N, seed=SEED)
    part = spec.sample(9, 6)
    whole = cohort.take(slice(9, 15))
    for name, value in whole.__dict__.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(part, name), value, err_msg=name)


def test_two_processes_give_identical_outcomes(cohort, params):
    # modified parameters: the workers must use the shipped set, not the defaults
    changed = params.evolve(**{"hematopoiesis.neutrophil.death_rate":
                               1.1 * params.value("hematopoiesis.neutrophil.death_rate")})
    one = simulate(cohort, Protocol(), horizon_days=HORIZON, params=changed, save=SAVE,
                   chunk_size=N)
    two = simulate(cohort, Protocol(), horizon_days=HORIZON, params=changed, save=SAVE,
                   chunk_size=5, workers=2)
    assert_frame_equal(two.outcomes, one.outcomes)
    assert_frame_equal(two.trajectories, one.trajectories)
    default = simulate(cohort, Protocol(), horizon_days=HORIZON, params=params, chunk_size=N)
    assert not default.outcomes["anc_first_crossing_day"].equals(
        one.outcomes["anc_first_crossing_day"])


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_local_cluster_gives_identical_outcomes(cohort, params, reference, dask_client):
    by_address = simulate(cohort, Protocol(), horizon_days=HORIZON, params=params, save=SAVE,
                          chunk_size=5, scheduler=dask_client.scheduler.address)
    assert_frame_equal(by_address.outcomes, reference.outcomes)
    assert_frame_equal(by_address.trajectories, reference.trajectories)
    by_client = simulate(cohort, Protocol(), horizon_days=HORIZON, params=params, save=SAVE,
                         chunk_size=8, scheduler=dask_client)
    assert_frame_equal(by_client.outcomes, reference.outcomes)


def test_streamed_parquet_equals_in_memory(tmp_path, params, reference):
    spec = CohortSpec("systemic_sclerosis", N, seed=SEED)
    out = simulate_to_parquet(spec, Protocol(), tmp_path / "run", horizon_days=HORIZON,
                              params=params, save=SAVE, chunk_size=7, workers=2)
    parts = sorted(p.name for p in (out / "outcomes").iterdir())
    assert parts == [f"part-{i:05d}.parquet" for i in range(4)]
    assert_frame_equal(_read_parts(out / "outcomes"), reference.outcomes)
    assert_frame_equal(_read_parts(out / "trajectories"), reference.trajectories)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seed"] == SEED and prov["n_patients"] == N
    assert prov["units"] == reference.units
    assert prov["trajectory_units"] == reference.provenance["trajectory_units"]
    # one provenance builder: the streamed run records every key simulate() does, same values
    same = {k: v for k, v in reference.provenance.items() if k != "created_utc"}
    assert {k: prov[k] for k in same} == json.loads(json.dumps(same, default=str))
    # the chunks ran in worker processes, each of which loaded the kernels once
    assert prov["execution"]["processes"]
    assert not any(w.endswith(f":{os.getpid()}") for w in prov["execution"]["processes"])
    assert len(prov["execution"]["jit_load_seconds_per_process"]) >= 1


def test_streamed_cohort_in_process_equals_in_memory(tmp_path, cohort, params, reference):
    out = simulate_to_parquet(cohort, Protocol(), tmp_path / "run", horizon_days=HORIZON,
                              params=params, save=SaveSpec(max_patients=0), chunk_size=10)
    assert_frame_equal(_read_parts(out / "outcomes"), reference.outcomes)
    assert not (out / "trajectories").exists()


def test_failed_stream_leaves_nothing(tmp_path, cohort, params):
    def boom(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate_to_parquet(cohort, Protocol(), tmp_path / "run", horizon_days=HORIZON,
                            params=params, chunk_size=10, progress=boom)
    assert list(tmp_path.iterdir()) == []


def test_bad_options_name_the_field(cohort, params):
    with pytest.raises(InputError, match="workers"):
        next(run_chunks(cohort, Protocol(), params, horizon_days=HORIZON, workers=0))
    with pytest.raises(InputError, match="chunk_size"):
        next(run_chunks(cohort, Protocol(), params, horizon_days=HORIZON, chunk_size=0))
    with pytest.raises(InputError, match="scheduler"):
        next(run_chunks(cohort, Protocol(), params, horizon_days=HORIZON, scheduler="here"))
    with pytest.raises(InputError, match="n="):
        CohortSpec("systemic_sclerosis", 0, seed=1)


def test_jit_warmup_reports_cache_use():
    info = jit_warmup()
    assert set(info) == {"seconds", "cache_hits", "cache_misses", "cache_path"}
    assert info["seconds"] >= 0.0


def test_worker_with_other_sources_refuses(cohort, params):
    from immunoreset.engine import parallel

    ctx = parallel._RunContext(Protocol(), params, HORIZON, None, None, single_thread=False)
    ctx.source_digest = "another-version"
    task = parallel.ChunkTask(index=0, offset=0, n=2, cohort=cohort.take(slice(0, 2)))
    with pytest.raises(RuntimeError, match="sources"):
        parallel._run_chunk_task(ctx, task)
