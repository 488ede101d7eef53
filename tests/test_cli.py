import json

import polars as pl
import pytest

from immunoreset.cli import main


def test_simulate_writes_outcomes_trajectories_provenance(tmp_path):
    out = tmp_path / "a"
    rc = main(["simulate", "--disease", "systemic_sclerosis", "--regimen", "cy200_ratg", "--n",
               "20", "--seed", "1", "--out", str(out)])
    assert rc == 0
    df = pl.read_parquet(out / "outcomes.parquet")
    for col in ("patient_id", "age_years", "weight_kg", "cd34_dose_per_kg", "anc_engraftment_day",
                "plt_engraftment_day", "anc_nadir_per_uL", "days_anc_below_500", "engrafted"):
        assert col in df.columns
    assert df.height == 20
    assert df["engrafted"].dtype == pl.Boolean
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seed"] == 1 and "anc_engraftment_day" in prov["units"]
    tr = pl.read_parquet(out / "trajectories.parquet")
    assert set(tr.columns) == {"patient_id", "day", "variable", "value", "unit"}


def test_fixed_dose_age_selection(tmp_path):
    out = tmp_path / "b"
    rc = main(["simulate", "--n", "5", "--seed", "2", "--out", str(out), "--cd34-dose", "3e6",
               "--age", "50", "--no-cd34-selection", "--graft-source", "bone_marrow"])
    assert rc == 0
    df = pl.read_parquet(out / "outcomes.parquet")
    assert (df["cd34_dose_per_kg"] == 3e6).all()
    assert (df["age_years"] == 50).all()


def test_centre_experience_reaches_the_run(tmp_path):
    import json

    out = tmp_path / "c"
    assert main(["simulate", "--n", "3", "--seed", "2", "--horizon-years", "0.2",
                 "--centre-transplants", "3", "--out", str(out)]) == 0
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["protocol"]["centre_autoimmune_transplants"] == 3


@pytest.mark.parametrize(("args", "field"), [
    (["--cd34-dose", "-5"], "cd34_dose_per_kg"),
    (["--cd34-dose", "1e12"], "cd34_dose_per_kg"),
    (["--regimen", "nonsense"], "regimen"),
    (["--disease", "psoriasis"], "disease"),
    (["--age", "150"], "age_years"),
    (["--n", "0"], "n"),
    (["--graft-source", "cord_blood"], "cord_blood"),
    (["--atg-total", "-1"], "atg_total_mg_per_kg"),
    (["--centre-transplants", "-1"], "centre_autoimmune_transplants"),
    (["--progressive-fraction", "0.5"], "progressive_fraction"),  # SSc has no such phenotype
    (["--disease", "multiple_sclerosis", "--progressive-fraction", "2"], "progressive_fraction"),
])
def test_bad_input_exit_2_names_field_no_output(tmp_path, capsys, args, field):
    out = tmp_path / "bad"
    rc = main(["simulate", "--n", "3", "--out", str(out), *args])
    assert rc == 2
    err = capsys.readouterr().err
    assert field in err and len(err.strip().splitlines()) <= 2
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bad")]


def test_progressive_ms_cohort(tmp_path):
    out = tmp_path / "ms"
    rc = main(["simulate", "--disease", "multiple_sclerosis", "--n", "6", "--seed", "3",
               "--progressive-fraction", "1", "--horizon-years", "0.2", "--out", str(out)])
    assert rc == 0
    assert pl.read_parquet(out / "outcomes.parquet")["progressive"].all()


def test_patient_record_without_weight_is_rejected(tmp_path, capsys):
    rec = tmp_path / "p.yaml"
    rec.write_text("disease: systemic_sclerosis\nage_years: 45\nsex: F\nheight_cm: 165\n")
    out = tmp_path / "out"
    assert main(["simulate", "--patient", str(rec), "--out", str(out)]) == 2
    assert "weight_kg" in capsys.readouterr().err
    assert not out.exists()


def test_patient_record_runs(tmp_path):
    rec = tmp_path / "p.yaml"
    rec.write_text("disease: ssc\nage_years: 45\nsex: F\nheight_cm: 165\nweight_kg: 62\n")
    assert main(["simulate", "--patient", str(rec), "--out", str(tmp_path / "o")]) == 0


def test_listings(capsys):
    assert main(["regimens"]) == 0
    assert "cy_tbi_atg" in capsys.readouterr().out
    assert main(["params", "--search", "Friberg"]) == 0
    assert "transit_time" in capsys.readouterr().out
    assert main(["diseases"]) == 0


# ---- workers, schedulers and streaming (issue 7): one seed, identical outcomes ---------------

_RUN = ["simulate", "--n", "12", "--seed", "4", "--horizon-years", "0.2", "--chunk-size", "4"]


def _outcomes(out):
    if (out / "outcomes.parquet").exists():
        return pl.read_parquet(out / "outcomes.parquet")
    return pl.concat([pl.read_parquet(p) for p in sorted((out / "outcomes").glob("*.parquet"))])


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "w1"
    assert main([*_RUN, "--out", str(out)]) == 0
    return _outcomes(out)


def test_workers_1_vs_2_identical_outcomes(tmp_path, one_worker):
    from polars.testing import assert_frame_equal

    out = tmp_path / "w2"
    assert main([*_RUN, "--workers", "2", "--out", str(out)]) == 0
    assert_frame_equal(_outcomes(out), one_worker)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seed"] == 4 and prov["n_patients"] == 12


def test_stream_on_dask_identical_outcomes(tmp_path, one_worker):
    from polars.testing import assert_frame_equal

    pytest.importorskip("distributed")
    out = tmp_path / "dask"
    assert main([*_RUN, "--stream", "--scheduler", "dask", "--workers", "2",
                 "--out", str(out)]) == 0
    parts = sorted(p.name for p in (out / "outcomes").iterdir())
    assert parts == [f"part-{i:05d}.parquet" for i in range(3)]
    assert_frame_equal(_outcomes(out), one_worker)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["execution"]["scheduler"] == "local" and prov["units"]
    assert main(["results", "query", str(out), "SELECT count(*) AS n FROM outcomes",
                 "--csv"]) == 0


def test_stream_in_process_identical_outcomes(tmp_path, one_worker):
    from polars.testing import assert_frame_equal

    out = tmp_path / "s1"
    assert main([*_RUN, "--stream", "--out", str(out)]) == 0
    assert_frame_equal(_outcomes(out), one_worker)


@pytest.mark.parametrize(("args", "field"), [
    (["--scheduler", "threads"], "scheduler"),
    (["--workers", "0"], "workers"),
    (["--chunk-size", "0"], "chunk_size"),
    (["--stream", "--patient", "p.yaml"], "stream"),
])
def test_bad_execution_options_exit_2(tmp_path, capsys, args, field):
    out = tmp_path / "bad"
    assert main([*_RUN, "--out", str(out), *args]) == 2
    assert field in capsys.readouterr().err
    assert not out.exists()


def test_validate_complications_out_none_skips_it(tmp_path, monkeypatch):
    """`--complications-out none` is the documented way to skip the complications scorecard;
    it once wrote a file called 'none' into the working directory."""
    import immunoreset.outcomes.scorecard as scorecard
    import immunoreset.trials.validate as trials_validate

    calls = []
    monkeypatch.setattr(trials_validate, "validate",
                        lambda **kw: calls.append(("trials", kw["out"])))
    monkeypatch.setattr(scorecard, "write_scorecard",
                        lambda out, **kw: calls.append(("complications", out)))
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "--quick", "--out", "v.md", "--complications-out", "none"]) == 0
    assert [c[0] for c in calls] == ["trials"]
    assert not (tmp_path / "none").exists()
    assert main(["validate", "--quick", "--out", "v.md", "--complications-out", "c.md"]) == 0
    assert calls[-1][0] == "complications"


@pytest.mark.parametrize("argv", [["assess", "--out", "x"], ["simulate", "--no-such-option"]])
def test_usage_errors_are_one_line_exit_2(capsys, argv):
    # a missing required option or an unknown one: a one-line error, no traceback
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2
