"""Command line (typer): a thin shell over the public API.

Every command exits with code 2 and a one-line reason naming the field on bad input, and
never leaves a partial output folder.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from immunoreset.cli_common import console, err_console
from immunoreset.cli_common import fail as _fail
from immunoreset.cli_common import progress as _progress
from immunoreset.errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="immunoreset: simulate HSCT for autoimmune disease (research use only; "
                       "not a medical device).")


def _pydantic_msg(exc: ValidationError) -> str:
    e = exc.errors()[0]
    loc = ".".join(str(x) for x in e.get("loc", ())) or "input"
    msg = e.get("msg", "").removeprefix("Value error, ")
    return f"invalid {loc}: {msg}" if not msg.startswith("invalid") else msg


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="output directory (must be new or empty)")],
    disease: Annotated[str, typer.Option(help="disease id (see `immunoreset diseases`)")] =
    "systemic_sclerosis",
    regimen: Annotated[str, typer.Option(help="conditioning preset (see `immunoreset regimens`)")]
    = "cy200_ratg",
    n: Annotated[int, typer.Option(help="number of virtual patients")] = 1000,
    seed: Annotated[int, typer.Option(help="random seed (same seed -> identical results)")] = 1,
    cd34_dose: Annotated[float | None, typer.Option(
        "--cd34-dose", help="fix the infused viable CD34+ cells/kg (e.g. 5e6)")] = None,
    cd34_selection: Annotated[bool | None, typer.Option(
        "--cd34-selection/--no-cd34-selection", help="CD34 selection (default: the preset's)")]
    = None,
    graft_source: Annotated[str, typer.Option(help="pbsc | bone_marrow | cord_blood")] = "pbsc",
    donor: Annotated[str | None, typer.Option(
        help="allogeneic donor: matched_sibling | matched_unrelated | haploidentical | "
             "cord_blood (default: autologous)")] = None,
    atg_total: Annotated[float | None, typer.Option(
        "--atg-total", help="total ATG, mg/kg (scales the preset's ATG schedule)")] = None,
    centre_transplants: Annotated[int | None, typer.Option(
        help="autoimmune transplants done by the centre: < 5 and 5-15 multiply the "
             "treatment-related death hazards by the CIBMTR relative risks (default: an "
             "experienced centre, > 15)")] = None,
    age: Annotated[float | None, typer.Option(help="fix every patient's age (years)")] = None,
    progressive_fraction: Annotated[float | None, typer.Option(
        help="share of patients with the progressive phenotype (MS; default: the "
             "disease's, 0)")] = None,
    patient: Annotated[Path | None, typer.Option(
        help="simulate digital twins of one patient record (YAML/JSON) instead of a cohort")]
    = None,
    horizon_years: Annotated[float, typer.Option(help="simulated follow-up (years)")] = 5.0,
    workers: Annotated[int, typer.Option(
        help="local worker processes, or Dask workers with --scheduler dask (results do not "
             "depend on it)")] = 1,
    scheduler: Annotated[str, typer.Option(
        help="'processes' (local, the default), 'dask' (a local Dask cluster of --workers "
             "workers) or a Dask scheduler address such as tcp://host:8786")] = "processes",
    stream: Annotated[bool, typer.Option(
        help="stream chunk by chunk to DIR/outcomes/part-*.parquet and "
             "DIR/trajectories/part-*.parquet (patients sampled in the workers: memory "
             "O(chunk) whatever --n)")] = False,
    chunk_size: Annotated[int, typer.Option(help="patients per chunk")] = 2048,
    threads: Annotated[int, typer.Option(
        help="threads of the compiled kernel in this process (0 = all cores)")] = 0,
    overwrite: Annotated[bool, typer.Option(help="replace an existing output directory")] = False,
) -> None:
    """Simulate a cohort under one protocol; write outcomes, trajectories and provenance."""
    from immunoreset.engine.parallel import CohortSpec, balanced_chunk_size, simulate_to_parquet
    from immunoreset.population import Population, sample_cohort
    from immunoreset.protocols.protocol import Protocol
    from immunoreset.simulate import simulate as run

    res = None
    try:
        _set_threads(threads)
        if not (1 <= n <= 10_000_000):
            raise InputError("n", n, "[1, 10000000] patients")
        if workers < 1:
            raise InputError("workers", workers, "an integer >= 1")
        if chunk_size < 1:
            raise InputError("chunk_size", chunk_size, "an integer >= 1")
        dask = _scheduler(scheduler)
        if out.exists() and any(out.iterdir()) and not overwrite:
            raise InputError("out", str(out), "a new or empty directory (or pass --overwrite)")
        if stream and patient is not None:
            raise InputError("stream", True, "a sampled cohort (not --patient)")
        protocol = Protocol(regimen=regimen, graft_source=graft_source,
                            cd34_dose_per_kg=cd34_dose, cd34_selection=cd34_selection,
                            atg_total_mg_per_kg=atg_total, donor=donor,
                            centre_autoimmune_transplants=centre_transplants)
        population = Population(disease=disease, age_years=age,
                                progressive_fraction=progressive_fraction)
        if dask is None and workers > 1:
            chunk_size = balanced_chunk_size(n, chunk_size, workers)
        with _progress() as prog:
            task = prog.add_task("simulating", total=n)

            def tick(done: int, tot: int) -> None:
                prog.update(task, completed=done, total=tot)

            if stream:
                simulate_to_parquet(CohortSpec(population, n, seed=seed), protocol, out,
                                    horizon_days=horizon_years * 365.25, chunk_size=chunk_size,
                                    workers=workers, scheduler=dask, overwrite=overwrite,
                                    progress=tick)
            else:
                subject = (_read_patient(patient) if patient is not None
                           else sample_cohort(population, n, seed=seed))
                res = run(subject, protocol, horizon_days=horizon_years * 365.25, seed=seed,
                          chunk_size=chunk_size, workers=workers, scheduler=dask,
                          progress=tick)
        if res is not None:
            res.write(out, overwrite=overwrite)
    except InputError as exc:
        _fail(str(exc))
    except ValidationError as exc:
        _fail(_pydantic_msg(exc))
    if res is None:
        console.print(f"wrote {out}/outcomes/ and trajectories/ (part-*.parquet, one per chunk) "
                      f"and provenance.json; query with `immunoreset results query {out} "
                      "\"SELECT count(*) FROM outcomes\"`", highlight=False)
        return
    _print_summary(res.outcomes, title=f"{regimen}, {protocol.graft_source}")
    console.print(f"wrote {out}/outcomes.parquet, trajectories.parquet, provenance.json")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="output directory")] = Path("runs/demo"),
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    scale: Annotated[float, typer.Option(help="trial size as a multiple of the published")]
    = 1.0,
) -> None:
    """The main job on the embedded default: the ASTIS trial (van Laar, JAMA 2014) reproduced
    in silico — HSCT (cy200 + rabbit ATG 7.5 mg/kg, CD34-selected PBSC) vs monthly IV
    cyclophosphamide — with survival statistics and a self-contained HTML report."""
    import copy

    import yaml

    from immunoreset.trials.run import run_trial
    from immunoreset.trials.spec import parse_spec
    from immunoreset.trials.validate import example_specs

    path = next((p for p in example_specs() if p.stem == "astis"), None)
    if path is None:
        _fail("the shipped ASTIS spec examples/trials/astis.yaml is missing")
    data = copy.deepcopy(yaml.safe_load(path.read_text(encoding="utf-8")))
    data["population"]["n"] = max(20, round(data["population"]["n"] * scale))
    spec = parse_spec(data)
    console.print("[bold]immunoreset demo[/bold]: the ASTIS trial in silico. Research "
                  "software, not a medical device.")
    console.print(spec.citation, highlight=False)
    with _progress() as prog:
        task = prog.add_task("simulating", total=None)
        res = run_trial(spec, seed=seed,
                        progress=lambda d, t: prog.update(task, completed=d, total=t))
    res.write(out, overwrite=True)
    table = Table("endpoint", "arm", "t (y)", "published (95 % CI)", "simulated (95 % CI)",
                  "inside", title="ASTIS: simulated vs published")
    for r in res.comparison.iter_rows(named=True):
        def f(x):
            return "–" if x is None or x != x else f"{x:.3g}"
        table.add_row(r["endpoint"], r["arm"], f(r["timepoint_years"]),
                      f"{f(r['published'])} ({f(r['published_ci_low'])}–"
                      f"{f(r['published_ci_high'])})",
                      f"{f(r['simulated'])} ({f(r['simulated_ci_low'])}–"
                      f"{f(r['simulated_ci_high'])})", r["status"])
    console.print(table)
    console.print("Assumptions: one shared parameter set (data/parameters.yaml, each value with "
                  "source and status: `immunoreset params`); intervals are 95 % CIs of the "
                  "simulated trial at its published size; see the report's assumptions section.")
    console.print(f"report: {out / 'report.html'}")


@app.command()
def validate(
    quick: Annotated[bool, typer.Option(help="published sample sizes only (fast smoke run)")]
    = False,
    scale: Annotated[float, typer.Option(help="simulated size as a multiple of the published")]
    = 10.0,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    out: Annotated[Path | None, typer.Option(
        help="scorecard file [default: docs/validation.md, or runs/validate/validation.md "
             "with --set]")] = None,
    complications_out: Annotated[Path | None, typer.Option(
        help="complications calibration scorecard file (none: skip) [default: "
             "docs/complications_calibration.md, or under runs/validate/ with --set]")]
    = None,
    complications_n: Annotated[int, typer.Option(
        help="virtual patients per complications setting")] = 1000,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="NAME=VALUE",
        help="run with a parameter changed (repeatable; value in the unit written in "
             "data/parameters.yaml, as `immunoreset params` shows it); the scorecards then say "
             "so and go under runs/validate/ unless --out is given")] = None,
    study: Annotated[list[str] | None, typer.Option(
        help="only this shipped trial spec (repeatable, e.g. --study mist); the scorecard "
             "then goes under runs/validate/ unless --out is given, and the complications "
             "scorecard is skipped unless --complications-out is given")] = None,
) -> None:
    """Run every shipped published-trial reproduction and the complications calibration;
    write both scorecards (reports, never hand-edited). With --set, the same scorecards for a
    changed parameter set: a calibration scan with the shipped tools."""
    from immunoreset.outcomes.scorecard import write_scorecard
    from immunoreset.parameters import shipped_parameters, using_parameters, with_overrides
    from immunoreset.trials.validate import validate as run_validation

    # docs/ holds only the full scorecards of the shipped model
    folder = Path("runs/validate") if (set_ or study) else Path("docs")
    out = out if out is not None else folder / "validation.md"
    if complications_out is None:
        complications_out = None if study else folder / "complications_calibration.md"
    elif str(complications_out).lower() == "none":
        complications_out = None  # the documented way to skip it (not a file called 'none')
    try:
        params = with_overrides(shipped_parameters(), set_ or [])
        if not (0 < scale <= 100):
            raise InputError("scale", scale, "(0, 100]")
        if not (20 <= complications_n <= 1_000_000):
            raise InputError("complications_n", complications_n, "[20, 1000000]")
        with _progress() as prog, using_parameters(params):
            task = prog.add_task("trials", total=None)
            run_validation(scale=1.0 if quick else scale, seed=seed, out=out, studies=study,
                           progress=lambda d, t: prog.update(task, completed=d, total=t))
            if complications_out is not None:
                prog.add_task("complications scorecard", total=None)
                write_scorecard(complications_out, n=200 if quick else complications_n,
                                seed=seed)
    except InputError as exc:
        _fail(str(exc))
    console.print(f"wrote {out}" + (f" and {complications_out}" if complications_out else ""))


@app.command()
def regimens() -> None:
    """List the conditioning presets with doses and citations."""
    from immunoreset.protocols.regimens import conditioning, regimen_names

    for name in regimen_names():
        console.print(conditioning(name).describe(), highlight=False)
        console.print()


@app.command()
def diseases() -> None:
    """List the disease ids and the population each one samples."""
    from immunoreset.population.covariates import population_data
    from immunoreset.vocabulary import DISEASES

    data = population_data()
    table = Table("disease", "age (years)", "female", "population (source)")
    for d in DISEASES:
        a = data[d]["age_years"]
        table.add_row(d, f"{a['mean']} ± {a['sd']} [{a['min']}, {a['max']}]",
                      f"{data[d]['female_fraction']['value']:.2f}",
                      str(data[d].get("source_population", ""))[:90])
    console.print(table)


@app.command()
def params(
    search: Annotated[str | None, typer.Option(help="only parameters matching this word")] = None,
) -> None:
    """List model parameters with value, unit, status and source."""
    from immunoreset.parameters import default_parameters

    table = Table("name", "value", "unit", "status", "source", show_lines=False)
    rows = default_parameters().search(search)
    for p in rows:
        # as written in data/parameters.yaml (the unit --set takes), and the model value
        unit = p.source_unit or p.unit
        value = f"{p.source_value:.4g}" if p.source_unit else f"{p.value:.4g}"
        if unit != p.unit:
            unit += f" (model: {p.value:.4g} {p.unit})"
        table.add_row(p.name, value, unit, p.status, p.source[:80])
    console.print(table)
    console.print(f"{len(rows)} parameters")


def _read_patient(path: Path):
    import json

    import yaml

    from immunoreset.population import Patient

    if not path.exists():
        raise InputError("patient", str(path), "an existing YAML or JSON file")
    text = path.read_text()
    raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(raw, dict):
        raise InputError("patient", str(path), "a mapping of patient fields")
    return Patient(**raw)


def _set_threads(threads: int) -> None:
    import numba

    if threads < 0:
        raise InputError("threads", threads, ">= 0 (0 = all cores)")
    if threads:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def _scheduler(name: str) -> str | None:
    """``--scheduler`` → the ``scheduler`` argument of the API (None = local processes)."""
    if name == "processes":
        return None
    if name == "dask":
        return "local"
    if "://" in name:
        return name
    raise InputError("scheduler", name, "processes, dask, or a Dask address like "
                                        "tcp://host:8786")


def _print_summary(outcomes, *, title: str) -> None:
    from immunoreset.report.summary import summary_rows

    table = Table("outcome", "median", "10th–90th percentile", "n", title=title)
    for row in summary_rows(outcomes):
        table.add_row(*row)
    console.print(table)


from immunoreset.cli_trial import results_app, trial_app  # noqa: E402

app.add_typer(trial_app, name="trial")
app.add_typer(results_app, name="results")

from immunoreset.cli_clinic import assess_command  # noqa: E402

app.command("assess")(assess_command)


def main(argv: list[str] | None = None) -> int:
    """Entry point (testable: returns the exit code)."""
    try:
        rc = app(args=argv if argv is not None else sys.argv[1:], standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:  # pragma: no cover
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors (missing option, unknown option, ...)
        if isinstance(exc, _usage_errors()):
            err_console.print(f"error: {exc.format_message()}", highlight=False)
            return 2
        raise
    return rc if isinstance(rc, int) else 0


def _usage_errors() -> tuple[type[Exception], ...]:
    """Click's usage-error base class: typer >= 0.24 vendors its own copy of click, older
    releases raise ``click``'s (both are caught, whichever is installed)."""
    types = [b for b in typer.BadParameter.__mro__ if b.__name__ == "ClickException"]
    try:
        import click

        types.append(click.exceptions.ClickException)
    except ImportError:  # pragma: no cover - typer without a click dependency
        pass
    return tuple(types)


if __name__ == "__main__":
    sys.exit(main())


def console_main() -> None:
    """Console-script entry point."""
    sys.exit(main())
