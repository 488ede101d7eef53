"""``immunoreset assess``: a thin shell over :func:`immunoreset.clinic.assess`.

Bad input exits with code 2 and one line naming the field; the output folder is written
atomically (never partial). Registered in ``cli.py`` with
``app.command("assess")(assess_command)``.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from immunoreset.cli_common import console, err_console
from immunoreset.cli_common import fail as _fail
from immunoreset.cli_common import progress as _progress
from immunoreset.errors import InputError


def _read(patient: Path, ignore_unknown_codes: bool):
    from immunoreset.clinic import load_record, record_from_fhir

    if not patient.is_file():
        raise InputError("patient", str(patient), "an existing YAML or JSON file")
    if patient.suffix.lower() == ".json":
        try:
            raw = json.loads(patient.read_text("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError("patient", str(patient), f"valid JSON ({exc})") from None
        if isinstance(raw, dict) and raw.get("resourceType") == "Bundle":
            read = record_from_fhir(raw, unknown_codes="warn" if ignore_unknown_codes
                                    else "error")
            return read.record, read.warnings
    return load_record(patient), ()


def assess_command(
    patient: Annotated[Path, typer.Argument(help="patient record (YAML, JSON or FHIR R4 "
                                                 "Bundle JSON)")],
    out: Annotated[Path, typer.Option(help="output directory (must be new or empty)")],
    protocol: Annotated[list[str], typer.Option(
        "--protocol", help="candidate regimen preset (repeat for several; see "
                           "`immunoreset regimens`)")],
    comparator: Annotated[str, typer.Option(
        help="comparator therapy: 'default' (the disease's), a name, or 'none'")] = "default",
    seed: Annotated[int, typer.Option(help="random seed (same seed -> identical results)")] = 1,
    twins: Annotated[int, typer.Option(help="digital twins per protocol (multiple of 20)")]
    = 400,
    dosing_weight: Annotated[str, typer.Option(
        help="basis of per-kg cytotoxic doses: actual | ideal | adjusted")] = "actual",
    centre_transplants: Annotated[int | None, typer.Option(
        help="autoimmune transplants done by the centre (CIBMTR experience categories)")]
    = None,
    ignore_unknown_codes: Annotated[bool, typer.Option(
        help="FHIR: ignore Observations with unknown codes (with a warning) instead of "
             "failing")] = False,
    overwrite: Annotated[bool, typer.Option(help="replace an existing output directory")]
    = False,
) -> None:
    """Assess one patient: eligibility, HCT-CI, forecasts per protocol, plan; write
    assessment.json and assessment.html (research use only)."""
    from immunoreset.clinic import assess

    try:
        if seed < 0:
            raise InputError("seed", seed, "a non-negative integer")
        if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
            raise InputError("out", str(out), "a new or empty directory (or pass --overwrite)")
        record, warnings = _read(patient, ignore_unknown_codes)
        with _progress() as prog:
            task = prog.add_task("simulating twins", total=None)
            res = assess(record, protocol, seed=seed, n_twins=twins,
                         comparator=None if comparator == "none" else comparator,
                         dosing_weight=dosing_weight,
                         centre_autoimmune_transplants=centre_transplants,
                         progress=lambda d, t: prog.update(task, completed=d, total=t))
        res = replace(res, warnings=tuple(warnings))
        res.write(out, overwrite=overwrite)
    except InputError as exc:
        _fail(str(exc))
    except ValidationError as exc:
        e = exc.errors()[0]
        _fail(f"invalid {'.'.join(map(str, e['loc']))}: {e['msg']}")
    for w in warnings:
        err_console.print(f"warning: {w}", highlight=False, soft_wrap=True)
    e = res.eligibility
    console.print(f"[bold]{record.patient_id or patient.name}[/bold] ({record.disease}): "
                  f"eligibility [bold]{e.status}[/bold] ("
                  + ", ".join(f"{k}: {v}" for k, v in e.by_protocol.items()) + f"); HCT-CI "
                  f"{res.hct_ci.score}, HCT-CI/age {res.comorbidity_age.score}. Research use "
                  "only; not a medical device.", highlight=False)
    for r in e.reasons:
        if r.effect != "eligible":
            console.print("  " + r.line(), highlight=False, soft_wrap=True)
    table = Table("protocol", "outcome", "horizon (y)", "estimate", "95 % interval",
                  title="forecast (digital twins; model output)")
    for x in res.forecasts.iter_rows(named=True):
        if x["status"] != "modelled":
            continue
        est = x["estimate"]
        table.add_row(x["protocol"], x["outcome"], "–" if x["horizon_years"] is None
                      else f"{x['horizon_years']:g}",
                      f"{est:.3f}" if x["kind"] == "probability" else f"{est:.1f} d",
                      "–" if not math.isfinite(x["ci_low"]) else
                      f"{x['ci_low']:.3g}–{x['ci_high']:.3g}")
    console.print(table)
    n_nm = res.forecasts.filter(res.forecasts["status"] == "not_modelled").height
    console.print(f"{n_nm} forecast rows not modelled by the simulator (listed in "
                  f"assessment.json); wrote {out}/assessment.json, assessment.html")
