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
from rich.console import Console
from rich.table import Table

from immunoreset.errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="immunoreset: simulate HSCT for autoimmune disease (research use only; "
                       "not a medical device).")
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)


def _fail(msg: str) -> None:
    err_console.print(f"error: {msg}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


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
    atg_total: Annotated[float | None, typer.Option(
        "--atg-total", help="total ATG, mg/kg (scales the preset's ATG schedule)")] = None,
    age: Annotated[float | None, typer.Option(help="fix every patient's age (years)")] = None,
    patient: Annotated[Path | None, typer.Option(
        help="simulate digital twins of one patient record (YAML/JSON) instead of a cohort")]
    = None,
    horizon_years: Annotated[float, typer.Option(help="simulated follow-up (years)")] = 1.0,
    workers: Annotated[int, typer.Option(help="threads for the compiled kernel")] = 0,
    overwrite: Annotated[bool, typer.Option(help="replace an existing output directory")] = False,
) -> None:
    """Simulate a cohort under one protocol; write outcomes, trajectories and provenance."""
    from immunoreset.population import Population, sample_cohort
    from immunoreset.protocols.protocol import Protocol
    from immunoreset.simulate import simulate as run

    try:
        _set_threads(workers)
        if not (1 <= n <= 10_000_000):
            raise InputError("n", n, "[1, 10000000] patients")
        if out.exists() and any(out.iterdir()) and not overwrite:
            raise InputError("out", str(out), "a new or empty directory (or pass --overwrite)")
        protocol = Protocol(regimen=regimen, graft_source=graft_source,
                            cd34_dose_per_kg=cd34_dose, cd34_selection=cd34_selection,
                            atg_total_mg_per_kg=atg_total)
        if patient is not None:
            subject = _read_patient(patient)
        else:
            subject = sample_cohort(Population(disease=disease, age_years=age), n, seed=seed)
        with _progress() as prog:
            task = prog.add_task("simulating", total=n)
            res = run(subject, protocol, horizon_days=horizon_years * 365.25, seed=seed,
                      progress=lambda done, tot: prog.update(task, completed=done, total=tot))
        res.write(out, overwrite=overwrite)
    except InputError as exc:
        _fail(str(exc))
    except ValidationError as exc:
        _fail(_pydantic_msg(exc))
    _print_summary(res.outcomes, title=f"{regimen}, {protocol.graft_source}")
    console.print(f"wrote {out}/outcomes.parquet, trajectories.parquet, provenance.json")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="output directory")] = Path("runs/demo"),
    n: Annotated[int, typer.Option(help="virtual patients")] = 500,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
) -> None:
    """The main job on the embedded default: an ASTIS-like systemic-sclerosis cohort
    (cy200 + rabbit ATG 7.5 mg/kg, CD34-selected PBSC), summary table and blood-count figure."""
    from immunoreset.population import sample_cohort
    from immunoreset.protocols.mobilisation import MobilisationSpec
    from immunoreset.protocols.protocol import Protocol
    from immunoreset.report.figures import blood_counts_figure
    from immunoreset.simulate import simulate as run

    protocol = Protocol(regimen="cy200_ratg", atg_total_mg_per_kg=7.5, cd34_selection=True,
                        mobilisation=MobilisationSpec.astis())
    cohort = sample_cohort("systemic_sclerosis", n, seed=seed)
    console.print("[bold]immunoreset demo[/bold]: research software, not a medical device.")
    console.print(protocol.describe(), highlight=False)
    with _progress() as prog:
        task = prog.add_task("simulating", total=n)
        res = run(cohort, protocol, horizon_days=365.0,
                  progress=lambda done, tot: prog.update(task, completed=done, total=tot))
    res.write(out, overwrite=True)
    fig = blood_counts_figure(res.trajectories, out / "blood_counts.png",
                              title="ASTIS-like SSc cohort, cy200 + rATG 7.5 mg/kg, CD34-selected")
    _print_summary(res.outcomes, title="ASTIS-like cohort")
    console.print("Assumptions: parameters in data/parameters.yaml (each with source and status; "
                  "`immunoreset params`); spread = 10th-90th percentile over virtual patients "
                  "(population variability, not a confidence interval).")
    console.print(f"wrote {out}/ (outcomes.parquet, trajectories.parquet, provenance.json) "
                  f"and the figure {fig}")


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
        table.add_row(p.name, f"{p.value:.4g}", p.unit, p.status, p.source[:80])
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


def _set_threads(workers: int) -> None:
    import numba

    if workers < 0:
        raise InputError("workers", workers, ">= 0 (0 = all cores)")
    if workers:
        numba.set_num_threads(min(workers, numba.config.NUMBA_NUM_THREADS))


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress("[progress.description]{task.description}", BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                    transient=True, disable=not err_console.is_terminal)


def _print_summary(outcomes, *, title: str) -> None:
    from immunoreset.report.summary import summary_rows

    table = Table("outcome", "median", "10th–90th percentile", "n", title=title)
    for row in summary_rows(outcomes):
        table.add_row(*row)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    """Entry point (testable: returns the exit code)."""
    try:
        rc = app(args=argv if argv is not None else sys.argv[1:], standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:  # pragma: no cover
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            err_console.print(f"error: {exc.format_message()}", highlight=False)
            return 2
        raise
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())


def console_main() -> None:
    """Console-script entry point."""
    sys.exit(main())
