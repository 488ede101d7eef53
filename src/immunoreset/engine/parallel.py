"""Chunked, parallel and distributed runs of the compiled engine (DESIGN §8).

A run is cut into *chunks* of consecutive patients. One top-level chunk function
(:func:`_run_chunk_task`) assembles, integrates and reduces a chunk; it runs

* in this process (``workers=1``; the numba kernel then uses every core with ``prange``),
* on ``workers`` local processes (``concurrent.futures`` with the ``forkserver`` or
  ``spawn`` start method: numba and ``fork`` do not mix; each worker runs the kernel on
  one thread), or
* on a Dask distributed cluster (``scheduler="tcp://host:port"``, ``"local"`` for a
  :class:`~distributed.LocalCluster`, or an existing :class:`~distributed.Client`).

Scheduling is dynamic (a worker takes the next chunk when it is free) and results come
back in patient order, with at most a few chunks in flight, so memory is O(chunk ×
workers), not O(patients). Because every patient draws only from its own streams
(DESIGN §5) and is integrated alone, the outcomes are bit-identical whatever the chunk
size, the number of processes or the cluster.

The shared part of a run (protocol, parameters, horizon, reducer) travels to each worker
once: through the process pool's initializer, or as one Dask ``scatter``-ed object. The
numba kernels are compiled with ``cache=True`` into the on-disk cache that
:mod:`immunoreset._numba_cache` selects (``NUMBA_CACHE_DIR``, keyed by the compiled
sources); local workers inherit that setting and a remote worker with the same sources
derives the same folder, so a worker loads the kernels (≈1 s, :func:`jit_warmup`
measures it) instead of compiling them again (≈15 s).

:func:`simulate_to_parquet` streams a run of any size to partitioned Parquet; with a
:class:`CohortSpec` the patients are sampled chunk by chunk inside the workers, so a
10⁶-patient cohort never exists in one process.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing as mp
import os
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from immunoreset.engine.run import ChunkResult, run_chunk
from immunoreset.errors import InputError, check_range
from immunoreset.parameters import ParameterSet, default_parameters, using_parameters
from immunoreset.population import Cohort, Population, sample_cohort
from immunoreset.population import streams as st
from immunoreset.protocols.protocol import Protocol

#: patients per chunk unless told otherwise (≈ 30 MB of grid observations at 5 years)
DEFAULT_CHUNK_SIZE = 2048
#: chunks kept in flight (submitted or finished but not yet yielded) per worker
IN_FLIGHT_PER_WORKER = 2


def _source_digest() -> str:
    """Hash of the package's code and data files as this process imported them."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for f in sorted([*root.rglob("*.py"), *root.rglob("*.yaml"), *root.rglob("*.csv")]):
        if "__pycache__" not in f.parts:
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


#: the sources this process runs; a worker whose sources differ refuses to run a chunk
#: (a remote worker with another install, or files edited after the run started), since
#: its results would not be those of this process
SOURCE_DIGEST = _source_digest()

#: ``reduce(cohort, result, params, offset) -> value``: what a worker sends back for a
#: chunk; ``offset`` is the run position of the chunk's first patient.
ChunkReducer = Callable[[Cohort, ChunkResult, ParameterSet, int], Any]


# ---- what a run is made of ---------------------------------------------------------------


@dataclass(frozen=True)
class CohortSpec:
    """A cohort described, not sampled: ``n`` patients with ids ``start … start+n−1`` of
    ``population`` under ``seed``. Chunks of it are sampled where they are integrated
    (``sample_cohort(population, n_chunk, seed=seed, start=start + offset)``), which gives
    exactly the patients of ``sample_cohort(population, n, seed=seed, start=start)``."""

    population: Population | str
    n: int
    seed: int
    start: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.population, str):
            object.__setattr__(self, "population", Population(disease=self.population))
        if not isinstance(self.n, int) or not 1 <= self.n <= 100_000_000:
            raise InputError("n", self.n, "an integer in [1, 100000000]")
        if not isinstance(self.start, int) or self.start < 0:
            raise InputError("start", self.start, "a non-negative integer")
        object.__setattr__(self, "seed", st.normalize_seed(self.seed))

    def __len__(self) -> int:
        return self.n

    @property
    def disease(self) -> str:
        assert isinstance(self.population, Population)
        return self.population.disease

    def sample(self, offset: int, n: int) -> Cohort:
        """Patients ``offset … offset+n−1`` of this cohort."""
        return sample_cohort(self.population, n, seed=self.seed, start=self.start + offset)


@dataclass(frozen=True)
class ChunkTask:
    """One unit of work: ``n`` patients from run position ``offset`` (rows, or a spec)."""

    index: int
    offset: int
    n: int
    cohort: Cohort | None = None  # None: sample from the context's CohortSpec


@dataclass(frozen=True)
class ChunkOutput:
    """What comes back for one chunk, in patient order.

    ``value`` is the reducer's output (by default ``(cohort, ChunkResult)``); ``worker``
    is ``host:pid`` of the process that ran it; ``jit_s`` the seconds that process spent
    loading (or compiling) the numba kernels before its first chunk, 0.0 afterwards;
    ``wall_s`` and ``cpu_s`` the elapsed and CPU seconds (all threads of that process) of
    sampling, integrating and reducing the chunk.
    """

    index: int
    offset: int
    n: int
    value: Any
    worker: str
    jit_s: float
    wall_s: float
    cpu_s: float


class _RunContext:
    """The shared part of a run, sent to each worker once.

    Parameters travel as a plain dict (a :class:`ParameterSet` wraps a read-only mapping
    proxy, which does not pickle) and are rebuilt once per process.
    """

    def __init__(self, protocol: Protocol, params: ParameterSet, horizon_days: float,
                 reduce: ChunkReducer | None, spec: CohortSpec | None, single_thread: bool):
        self.protocol = protocol
        self.params_items = dict(params.items())
        self.params_origin = params.origin
        self.params_sha256 = params.sha256
        self.horizon_days = horizon_days
        self.reduce = reduce
        self.spec = spec
        self.single_thread = single_thread
        self.source_digest = SOURCE_DIGEST
        self._params: ParameterSet | None = params

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_params"] = None
        return state

    @property
    def params(self) -> ParameterSet:
        if self._params is None:
            self._params = ParameterSet(MappingProxyType(dict(self.params_items)),
                                        origin=self.params_origin, sha256=self.params_sha256)
        return self._params


# ---- the chunk function (runs wherever the chunk runs) --------------------------------


_WORKER: dict[str, Any] = {"context": None, "jit_s": None}


def _keep(cohort: Cohort, result: ChunkResult, params: ParameterSet, offset: int
          ) -> tuple[Cohort, ChunkResult]:
    """Default reducer: the chunk's cohort and full kernel output."""
    return cohort, result


def jit_warmup() -> dict:
    """Load (or compile) the engine's numba kernels in this process by running one patient
    for 30 days; returns ``{"seconds", "cache_hits", "cache_misses", "cache_path"}``.

    With a warm cache (``NUMBA_CACHE_DIR``, see :mod:`immunoreset._numba_cache`) this is
    a load, not a compilation. Call it once per process; later calls cost nothing.
    """
    from immunoreset.engine.solver import integrate_batch

    t0 = time.perf_counter()
    one = sample_cohort("systemic_sclerosis", 1, seed=0)
    try:
        run_chunk(one, Protocol(), default_parameters(), horizon_days=30.0)
    except RuntimeError:
        pass  # an integration failure of this probe patient still loaded the kernels
    seconds = time.perf_counter() - t0
    stats = integrate_batch.stats
    return {"seconds": seconds, "cache_hits": sum(stats.cache_hits.values()),
            "cache_misses": sum(stats.cache_misses.values()),
            "cache_path": str(stats.cache_path)}


def _prepare_process(single_thread: bool) -> float:
    """Per-process set-up before the first chunk; returns the JIT seconds (0 if done)."""
    if single_thread:
        import numba

        # thread-local in numba: set it in the thread that runs the kernel
        numba.set_num_threads(1)
    if _WORKER["jit_s"] is not None:
        return 0.0
    _WORKER["jit_s"] = jit_warmup()["seconds"]
    return _WORKER["jit_s"]


def _run_chunk_task(ctx: _RunContext, task: ChunkTask) -> ChunkOutput:
    """The chunk function: sample (if asked), assemble, integrate, reduce."""
    if ctx.source_digest != SOURCE_DIGEST:
        raise RuntimeError(
            f"worker {socket.gethostname()}:{os.getpid()} runs immunoreset sources "
            f"{SOURCE_DIGEST}, the run was started with {ctx.source_digest}: install the same "
            "version everywhere (and do not edit the sources during a run)")
    jit_s = _prepare_process(ctx.single_thread)
    t0 = time.perf_counter()
    c0 = time.process_time()
    params = ctx.params
    # the run's set is in force for the sampling and the reduction too, in whichever process
    with using_parameters(params):
        if task.cohort is not None:
            cohort = task.cohort
        else:
            assert ctx.spec is not None
            cohort = ctx.spec.sample(task.offset, task.n)
        res = run_chunk(cohort, ctx.protocol, params, horizon_days=ctx.horizon_days)
        reduce = ctx.reduce or _keep
        value = reduce(cohort, res, params, task.offset)
    return ChunkOutput(index=task.index, offset=task.offset, n=task.n, value=value,
                       worker=f"{socket.gethostname()}:{os.getpid()}", jit_s=jit_s,
                       wall_s=time.perf_counter() - t0, cpu_s=time.process_time() - c0)


def _init_pool_worker(ctx: _RunContext) -> None:
    _WORKER["context"] = ctx


def _run_pool_task(task: ChunkTask) -> ChunkOutput:
    return _run_chunk_task(_WORKER["context"], task)


# ---- the runner ----------------------------------------------------------------------------


def _tasks(cohort: Cohort | CohortSpec, chunk_size: int) -> Iterator[ChunkTask]:
    n = len(cohort)
    for index, start in enumerate(range(0, n, chunk_size)):
        stop = min(n, start + chunk_size)
        rows = cohort.take(slice(start, stop)) if isinstance(cohort, Cohort) else None
        yield ChunkTask(index=index, offset=start, n=stop - start, cohort=rows)


def _start_method() -> str:
    methods = mp.get_all_start_methods()
    return "forkserver" if sys.platform == "linux" and "forkserver" in methods else "spawn"


def run_chunks(cohort: Cohort | CohortSpec, protocol: Protocol, params: ParameterSet | None
               = None, *, horizon_days: float, chunk_size: int = DEFAULT_CHUNK_SIZE,
               workers: int = 1, scheduler: Any = None,
               on_chunk: Callable[[int, int], None] | None = None,
               reduce: ChunkReducer | None = None) -> Iterator[ChunkOutput]:
    """Run ``cohort`` chunk by chunk and yield one :class:`ChunkOutput` per chunk, in
    patient order.

    ``cohort`` is a sampled :class:`Cohort` (chunks are sent as rows) or a
    :class:`CohortSpec` (chunks are sampled by the worker). ``workers=1`` without a
    scheduler runs in this process; ``workers>1`` uses that many local processes;
    ``scheduler`` (``"local"``, ``"tcp://host:port"`` or a ``distributed.Client``) runs
    on Dask instead (``workers`` is then the size of a ``"local"`` cluster).
    ``reduce(cohort, result, params, offset)`` runs next to the kernel and its value is
    what travels back (default: the chunk's cohort and :class:`ChunkResult`).
    ``on_chunk(done, total)`` is called with patient counts after each yielded chunk.
    A run of a single chunk without a scheduler always runs in this process.
    """
    horizon_days = check_range("horizon_days", horizon_days, 1, 36525, unit="days")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise InputError("chunk_size", chunk_size, "an integer >= 1")
    if not isinstance(workers, int) or workers < 1:
        raise InputError("workers", workers, "an integer >= 1")
    if not isinstance(cohort, (Cohort, CohortSpec)):
        raise InputError("cohort", type(cohort).__name__, "a Cohort or a CohortSpec")
    params = params or default_parameters()
    total = len(cohort)
    if scheduler is None and total <= chunk_size:
        workers = 1  # one chunk: no pool to start; the kernel's threads use every core
    spec = cohort if isinstance(cohort, CohortSpec) else None
    tasks = _tasks(cohort, chunk_size)
    if scheduler is not None:
        ctx = _RunContext(protocol, params, horizon_days, reduce, spec, single_thread=True)
        outputs = _run_dask(ctx, tasks, scheduler, workers)
    elif workers == 1:
        ctx = _RunContext(protocol, params, horizon_days, reduce, spec, single_thread=False)
        outputs = (_run_chunk_task(ctx, t) for t in tasks)
    else:
        ctx = _RunContext(protocol, params, horizon_days, reduce, spec, single_thread=True)
        outputs = _run_processes(ctx, tasks, workers)
    done = 0
    for out in outputs:
        done += out.n
        if on_chunk is not None:
            on_chunk(done, total)
        yield out


def _ordered(submit: Callable[[ChunkTask], Any], result: Callable[[Any], ChunkOutput],
             tasks: Iterator[ChunkTask], window: int) -> Iterator[ChunkOutput]:
    """Keep ``window`` chunks in flight, hand them out as workers free up, yield in order."""
    pending: deque = deque()
    for task in tasks:
        pending.append(submit(task))
        if len(pending) >= window:
            break
    while pending:
        out = result(pending.popleft())
        nxt = next(tasks, None)
        if nxt is not None:
            pending.append(submit(nxt))
        yield out


def _run_processes(ctx: _RunContext, tasks: Iterator[ChunkTask], workers: int
                   ) -> Iterator[ChunkOutput]:
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(_start_method()),
                               initializer=_init_pool_worker, initargs=(ctx,))
    try:
        yield from _ordered(lambda t: pool.submit(_run_pool_task, t), lambda f: f.result(),
                            tasks, IN_FLIGHT_PER_WORKER * workers)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(ctx: _RunContext, tasks: Iterator[ChunkTask], scheduler: Any, workers: int
              ) -> Iterator[ChunkOutput]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - optional extra
        raise InputError("scheduler", scheduler,
                         "None unless dask is installed (pip install immunoreset[dask])"
                         ) from exc
    own: list = []
    if isinstance(scheduler, Client):
        client = scheduler
    elif scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        own = [client, cluster]
    elif isinstance(scheduler, str) and scheduler.startswith(("tcp://", "tls://", "inproc://",
                                                              "ucx://", "ws://", "wss://")):
        client = Client(scheduler)
        own = [client]
    else:
        raise InputError("scheduler", scheduler,
                         "'local', a scheduler address such as 'tcp://host:8786', or a "
                         "distributed.Client")
    try:
        slots = max(1, sum(client.nthreads().values()))
        ctx_future = client.scatter(ctx, broadcast=True, hash=False)
        yield from _ordered(
            lambda t: client.submit(_run_chunk_task, ctx_future, t, pure=False),
            lambda f: f.result(), tasks, IN_FLIGHT_PER_WORKER * slots)
    finally:
        for obj in own:
            obj.close()


# ---- streaming to partitioned Parquet ------------------------------------------------------


@dataclass(frozen=True)
class FrameReducer:
    """Reducer of :func:`~immunoreset.simulate.simulate` and :func:`simulate_to_parquet`:
    a chunk's outcome rows (``outcome_frame``) and, for patients before
    ``save.max_patients``, its long trajectory rows (sorted by patient, variable, day);
    ``None`` for the latter when the chunk has none to keep."""

    save: Any = None  # a SaveSpec

    def __call__(self, cohort: Cohort, result: ChunkResult, params: ParameterSet,
                 offset: int) -> tuple:
        from immunoreset.simulate import _trajectory_frame, outcome_frame

        outcomes = outcome_frame(cohort, result, params)
        traj = None
        if self.save is not None and offset < self.save.max_patients and self.save.variables:
            traj = _trajectory_frame(cohort, result, self.save,
                                     limit=self.save.max_patients - offset)
            traj = traj.sort(["patient_id", "variable", "day"], maintain_order=True)
        return outcomes, traj


def simulate_to_parquet(cohort: Cohort | CohortSpec, protocol: Protocol, out: str | Path, *,
                        horizon_days: float = 365.0, params: ParameterSet | None = None,
                        save: Any = None, chunk_size: int = DEFAULT_CHUNK_SIZE,
                        workers: int = 1, scheduler: Any = None, overwrite: bool = False,
                        progress: Callable[[int, int], None] | None = None) -> Path:
    """Simulate ``cohort`` under ``protocol`` and stream the results to ``out``.

    Writes, atomically (nothing is left behind on failure)::

        out/outcomes/part-00000.parquet …      one row per patient, one file per chunk
        out/trajectories/part-00000.parquet …  long rows for the first save.max_patients
        out/provenance.json                    seed, protocol, parameters, units, parts

    ``cohort`` may be a :class:`CohortSpec`: chunks are then sampled inside the workers,
    so memory stays O(chunk) whatever the number of patients. Concatenated in part order,
    the outcome files equal ``simulate(...).outcomes`` for the same patients and seed, and
    the trajectory files its ``trajectories``. ``save`` is a :class:`~immunoreset.simulate.
    SaveSpec` (default: the default spec; ``SaveSpec(max_patients=0)`` for none).
    """
    from immunoreset.io.store import atomic_output_dir, write_json
    from immunoreset.simulate import SaveSpec, simulation_provenance

    params = params or default_parameters()
    save = save if save is not None else SaveSpec()
    horizon_days = check_range("horizon_days", horizon_days, 30, 36525, unit="days")
    n_parts = 0
    n_traj_parts = 0
    t0 = time.perf_counter()
    workers_seen: set[str] = set()
    jit = []
    with atomic_output_dir(out, overwrite=overwrite) as tmp:
        (tmp / "outcomes").mkdir()
        for chunk in run_chunks(cohort, protocol, params, horizon_days=horizon_days,
                                chunk_size=chunk_size, workers=workers, scheduler=scheduler,
                                on_chunk=progress, reduce=FrameReducer(save)):
            outcomes, traj = chunk.value
            outcomes.write_parquet(tmp / "outcomes" / f"part-{chunk.index:05d}.parquet")
            n_parts += 1
            if traj is not None and traj.height:
                (tmp / "trajectories").mkdir(exist_ok=True)
                traj.write_parquet(tmp / "trajectories" / f"part-{chunk.index:05d}.parquet")
                n_traj_parts += 1
            workers_seen.add(chunk.worker)
            if chunk.jit_s:
                jit.append(round(chunk.jit_s, 3))
        write_json(tmp / "provenance.json",
                   simulation_provenance(cohort, protocol, params,
                                         horizon_days=horizon_days, save=save) | {
                       "layout": {"outcomes": f"outcomes/part-NNNNN.parquet ({n_parts} parts)",
                                  "trajectories": f"trajectories/part-NNNNN.parquet "
                                                  f"({n_traj_parts} parts)",
                                  "chunk_size": chunk_size},
                       "execution": {"workers": workers,
                                     "scheduler": None if scheduler is None else str(scheduler),
                                     "processes": sorted(workers_seen),
                                     "jit_load_seconds_per_process": jit,
                                     "wall_seconds": round(time.perf_counter() - t0, 3)},
                   })
    return Path(out)


def balanced_chunk_size(n: int, chunk_size: int, workers: int) -> int:
    """``chunk_size``, made smaller when ``n`` would otherwise leave workers idle."""
    return max(1, min(chunk_size, math.ceil(n / max(1, workers))))
