"""``immunoreset trial …`` and ``immunoreset results …``: thin shells over the trial API.

Bad input exits with code 2 and one line naming the field; ``trial run`` never leaves a
partial output folder (the spec is validated before anything runs, results are written
atomically).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from immunoreset.cli_common import console
from immunoreset.cli_common import fail as _fail
from immunoreset.cli_common import progress as _progress
from immunoreset.errors import InputError

trial_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="In-silico clinical trials: schema, validate, run, power.")
results_app = typer.Typer(add_completion=False, no_args_is_help=True,
                          help="Query stored results.")


def _num(x: object) -> str:
    if isinstance(x, float):
        return "–" if not math.isfinite(x) else f"{x:.3g}"
    return "–" if x is None else str(x)


@trial_app.command()
def schema() -> None:
    """Print the JSON schema of a trial spec."""
    from immunoreset.trials.spec import trial_schema

    typer.echo(json.dumps(trial_schema(), indent=2))


@trial_app.command()
def validate(spec: Annotated[Path, typer.Argument(help="trial spec (YAML)")]) -> None:
    """Check a trial spec; print what it describes and what cannot be modelled yet."""
    from immunoreset.trials.spec import load_spec

    try:
        s = load_spec(spec)
    except InputError as exc:
        _fail(str(exc))
    console.print(f"{spec}: valid trial spec '{s.name}' ({s.disease}, {s.design}, "
                  f"n = {s.population.n}, {len(s.arms)} arm(s), {len(s.endpoints)} endpoint(s),"
                  f" {len(s.reference)} published reference value(s))", highlight=False)
    for note in s.notes_for_user():
        console.print(f"  note: {note}", highlight=False)


@trial_app.command()
def run(
    spec: Annotated[Path, typer.Argument(help="trial spec (YAML)")],
    out: Annotated[Path, typer.Option(help="output directory (must be new or empty)")],
    seed: Annotated[int, typer.Option(help="random seed (same seed -> identical results)")] = 1,
    workers: Annotated[int, typer.Option(help="local worker processes (results do not "
                                              "depend on it)")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        help="'processes' (default), 'dask' (a local Dask cluster of --workers workers) or a "
             "Dask scheduler address such as tcp://host:8786")] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing output directory")] =
    False,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="NAME=VALUE",
        help="run with a parameter changed (repeatable; value in the unit written in "
             "data/parameters.yaml, as `immunoreset params` shows it; recorded in "
             "provenance.json)")] = None,
) -> None:
    """Run a trial; write endpoints.csv, patients.parquet, report.html, provenance.json."""
    from immunoreset.parameters import shipped_parameters, using_parameters, with_overrides
    from immunoreset.trials.run import run_trial
    from immunoreset.trials.spec import load_spec

    try:
        params = with_overrides(shipped_parameters(), set_ or [])
        s = load_spec(spec)
        if workers < 1:
            raise InputError("workers", workers, "an integer >= 1")
        if scheduler is not None:
            from immunoreset.cli import _scheduler

            scheduler = "local" if scheduler == "local" else _scheduler(scheduler)
        if seed < 0:
            raise InputError("seed", seed, "a non-negative integer")
        if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
            raise InputError("out", str(out), "a new or empty directory (or pass --overwrite)")
        with _progress() as prog, using_parameters(params):
            task = prog.add_task(f"trial {s.name}", total=s.population.n)
            res = run_trial(s, seed=seed, workers=workers, scheduler=scheduler,
                            progress=lambda d, t: prog.update(task, completed=d, total=t))
            res.write(out, overwrite=overwrite)
    except InputError as exc:
        _fail(str(exc))
    f = res.flow
    console.print(f"[bold]{s.title or s.name}[/bold] (seed {seed}): screened {f['screened']}, "
                  f"screen failure {100 * f['screen_failure_rate']:.1f} %, randomised "
                  f"{f['randomised']} (" + ", ".join(
                      f"{k} {a['allocated']}" + ("" if a["simulated"] else " not simulated")
                      for k, a in f["arms"].items()) + ")", highlight=False)
    table = Table("endpoint", "arm", "t (y)", "estimate", "95 % CI", "unit", "n", "note",
                  title="endpoints (research use only; model output)")
    for r in res.endpoints.iter_rows(named=True):
        ci = "–" if not math.isfinite(r["ci_low"]) else f"{_num(r['ci_low'])}–{_num(r['ci_high'])}"
        table.add_row(r["endpoint"], r["arm"], _num(r["timepoint_years"]), _num(r["estimate"]),
                      ci, r["unit"], str(r["n"]), (r["note"] or "")[:70])
    console.print(table)
    c = res.comparison
    if c.height:
        n_in = int((c["status"] == "inside").sum())
        n_out = int((c["status"] == "outside").sum())
        console.print(f"published references: {n_in} inside, {n_out} outside the published "
                      f"95 % CI, {c.height - n_in - n_out} not comparable yet", highlight=False)
    console.print(f"wrote {out}/ (endpoints.csv, patients.parquet, screening.parquet, "
                  f"reference_comparison.csv, provenance.json); report: {out / 'report.html'}",
                  highlight=False)


@trial_app.command()
def power(
    spec: Annotated[Path, typer.Argument(help="trial spec (YAML)")],
    n: Annotated[str, typer.Option("--n", help="total sample sizes, comma-separated")] =
    "50,100,200",
    replicates: Annotated[int, typer.Option(help="simulated trials per sample size")] = 100,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    endpoint: Annotated[str | None, typer.Option(help="endpoint to test (default: the first "
                                                      "hazard ratio / log-rank)")] = None,
    workers: Annotated[int, typer.Option(help="local worker processes")] = 1,
) -> None:
    """Estimate power by repeating the trial with independent seeds at each size."""
    from immunoreset.trials.power import estimate_power
    from immunoreset.trials.spec import load_spec

    try:
        s = load_spec(spec)
        try:
            sizes = [int(x) for x in n.split(",") if x.strip()]
        except ValueError:
            raise InputError("n", n, "comma-separated integers, e.g. 50,100,200") from None
        with _progress() as prog:
            task = prog.add_task("trials", total=len(sizes) * max(replicates, 1))
            res = estimate_power(s, n_values=sizes, replicates=replicates, seed=seed,
                                 endpoint=endpoint, workers=workers,
                                 progress=lambda d, t: prog.update(task, completed=d, total=t))
    except InputError as exc:
        _fail(str(exc))
    table = Table("n", "power", "95 % CI", "significant / replicates", "median estimate",
                  "note", title=f"power for {res.endpoint} ({res.test})")
    for r in res.table.iter_rows(named=True):
        ci = "–" if not math.isfinite(r["ci_low"]) else f"{r['ci_low']:.2f}–{r['ci_high']:.2f}"
        table.add_row(str(r["n"]), _num(r["power"]), ci,
                      f"{r['significant']} / {r['replicates']}", _num(r["median_estimate"]),
                      r["note"][:80])
    console.print(table)


@results_app.command()
def query(
    directory: Annotated[Path, typer.Argument(help="a run's output directory")],
    sql: Annotated[str, typer.Argument(help="SQL over the run's tables (views named after "
                                            "the files, e.g. endpoints, patients)")],
    csv: Annotated[bool, typer.Option(help="print CSV instead of a table")] = False,
) -> None:
    """Run DuckDB SQL over a run's Parquet and CSV files (read-only)."""
    from immunoreset.io.query import query as run_query

    try:
        df = run_query(directory, sql)
    except InputError as exc:
        _fail(str(exc))
    if csv:
        typer.echo(df.write_csv(), nl=False)
        return
    table = Table(*df.columns)
    for row in df.iter_rows():
        table.add_row(*(_num(v) for v in row))
    console.print(table)
    console.print(f"{df.height} row(s)")
