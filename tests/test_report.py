"""The trial report: self-contained HTML with every section, honest about what is missing."""

from __future__ import annotations

import re

import polars as pl
import pytest
from trial_fixtures import spec_obj, synthetic_simulator, synthetic_spec

from immunoreset import run_trial
from immunoreset.report import html as report_html
from immunoreset.report.html import DISCLAIMER, render_report
from immunoreset.trials.run import ArmSimulation
from immunoreset.trials.spec import ComparatorProtocol

SECTIONS = ("Design and assumptions", "CONSORT-style flow", "Baseline characteristics",
            "Kaplan–Meier curves with numbers at risk", "Cumulative incidence",
            "Hazard ratios (forest plot)", "Disease score trajectories", "Simulated vs published",
            "All endpoints", "Sensitivity note", "Provenance")


@pytest.fixture(scope="module")
def full():
    return run_trial(spec_obj(120), seed=9, simulator=synthetic_simulator)


def _blood_only(cohort, arm, *, horizon_days, disease):
    """Today's model, in shape: hematology columns only; no comparator model."""
    if isinstance(arm.protocol, ComparatorProtocol):
        return ArmSimulation(None, note="comparator 'iv_cyclophosphamide_monthly' has no model")
    return ArmSimulation(pl.DataFrame({"patient_id": cohort.patient_id,
                                       "anc_engraftment_day": 10.0 + cohort.patient_id % 3}),
                         units={"anc_engraftment_day": "day after infusion"})


@pytest.fixture(scope="module")
def partial():
    return run_trial(synthetic_spec(40), seed=9, simulator=_blood_only)


def test_report_is_self_contained_with_every_section(full):
    doc = render_report(full)
    for s in SECTIONS:
        assert s in doc, s
    assert doc.count(DISCLAIMER) >= 2
    assert "Research use only" in doc
    # figures are embedded; nothing is fetched from elsewhere
    n_img = len(re.findall(r'<img alt="[^"]*" src="data:image/png;base64,', doc))
    assert n_img >= 7  # flow, 4 KM, CIF, forest, scores
    assert not re.search(r'(src|href)="(https?:)?//', doc)
    assert "<script" not in doc


def test_report_shows_flow_criteria_and_pass_fail(full):
    doc = render_report(full)
    assert "not applied: covariate not modelled" in doc
    assert "Screen-failure rate" in doc
    status = full.comparison.filter(pl.col("endpoint") == "efs_hr")["status"][0]
    assert ("PASS (inside published CI)" if status == "inside" else "FAIL (outside)") in doc
    assert "derived: exact CI from 8/79" in doc
    assert "not modelled" in doc  # the cmv reference


def test_partial_model_is_reported_honestly(partial):
    doc = render_report(partial)
    assert "Partial model" in doc
    assert "Arms not simulated: control" in doc
    assert "not modelled yet (needs column death_day" in doc
    assert "Not modelled yet (needs columns score_baseline" in doc
    # no KM figure is drawn when no arm can be estimated; the reason is printed instead
    km = doc.split("Kaplan–Meier curves with numbers at risk")[1].split("Cumulative incidence")[0]
    assert "data:image/png" not in km
    # the engraftment day that the blood model gives is there, with its unit
    anc = partial.endpoints.filter(pl.col("endpoint") == "anc_day")
    assert anc["estimate"][0] == pytest.approx(11.0)
    assert "day after infusion" in doc


def test_write_produces_every_file_atomically(full, tmp_path, monkeypatch):
    out = full.write(tmp_path / "run")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["endpoints.csv", "patients.parquet", "provenance.json",
                     "reference_comparison.csv", "report.html", "screening.parquet"]
    assert "Provenance" in (out / "report.html").read_text()

    def boom(*a, **k):
        raise RuntimeError("report failed")

    monkeypatch.setattr(report_html, "write_report", boom)
    with pytest.raises(RuntimeError):
        full.write(tmp_path / "second")
    assert not (tmp_path / "second").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".second")]


def test_report_names_the_disease_model_assumptions(full):
    # the disease layer's definitions and structural assumptions are in the report, so no
    # number appears without them (SSc: the organ shares; no spontaneous quiescence)
    doc = render_report(full)
    assert "Disease model (systemic_sclerosis)" in doc
    assert "lung_failure 0.52" in doc
    assert "no spontaneous remission of the effector phase" in doc


def test_disease_lines_follow_the_run_parameters():
    changed = {"disease.crohns_disease.effector.quiescence_rate": {"shipped": 0.35,
                                                                   "value": 0.5}}
    lines = report_html._disease_lines("crohns_disease", changed)
    assert any("quiescent at 0.5/year" in x for x in lines)
    assert report_html._disease_lines("not_a_disease", {}) == []
