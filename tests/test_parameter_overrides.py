"""Changing parameters for a run: ``NAME=VALUE`` overrides, the set in force for a block,
and the CLI's ``validate --set`` (a calibration scan with the shipped tools)."""

import numpy as np
import pytest
from typer.testing import CliRunner

from immunoreset.cli import app
from immunoreset.engine.parallel import CohortSpec, run_chunks
from immunoreset.errors import InputError
from immunoreset.parameters import (
    changed_parameters,
    default_parameters,
    shipped_parameters,
    using_parameters,
    with_overrides,
)
from immunoreset.protocols.protocol import Protocol

GAIN = "disease.crohns_disease.bowel_wall_thickness.reversible_gain"


def test_overrides_change_only_the_named_values():
    base = shipped_parameters()
    ps = with_overrides(base, [f"{GAIN}=-0.5", "immune.memory_kill_factor = 0.7"])
    assert ps[GAIN].value == -0.5 and ps["immune.memory_kill_factor"].value == 0.7
    assert ps.sha256 != base.sha256 and ps.origin.endswith("(modified)")
    assert changed_parameters(ps) == sorted([
        (GAIN, base[GAIN].value, -0.5),
        ("immune.memory_kill_factor", base["immune.memory_kill_factor"].value, 0.7)])
    assert with_overrides(base, []) is base
    assert changed_parameters(base) == []


@pytest.mark.parametrize(("pair", "names"), [
    ("noequals", "NAME=VALUE"),
    ("=1", "NAME=VALUE"),
    ("no.such.parameter=1", "immunoreset params"),
    (f"{GAIN[:-1]}=1", f"did you mean {GAIN}"),
    (f"{GAIN}=abc", "a number"),
    (f"{GAIN}=-3", "[-1.0, 10.0]"),  # the registry bounds, not clipped
])
def test_bad_overrides_name_the_field_and_the_allowed_values(pair, names):
    with pytest.raises(InputError) as exc:
        with_overrides(shipped_parameters(), [pair])
    assert names in str(exc.value)


def test_a_parameter_set_twice_is_refused():
    with pytest.raises(InputError, match="at most once"):
        with_overrides(shipped_parameters(), [f"{GAIN}=-0.5", f"{GAIN}=-0.4"])


def test_the_set_in_force_is_scoped_to_the_block():
    ps = with_overrides(shipped_parameters(), [f"{GAIN}=-0.5"])
    inner = with_overrides(shipped_parameters(), [f"{GAIN}=-0.4"])
    assert default_parameters() is shipped_parameters()
    with using_parameters(ps):
        assert default_parameters() is ps
        with using_parameters(inner):
            assert default_parameters() is inner
        assert default_parameters() is ps
        with pytest.raises(RuntimeError), using_parameters(inner):
            raise RuntimeError("a failed run")
        assert default_parameters() is ps
    assert default_parameters() is shipped_parameters()
    with pytest.raises(InputError, match="ParameterSet"):
        with using_parameters({GAIN: -0.5}):  # type: ignore[arg-type]
            pass


def test_a_chunk_runs_with_its_run_s_parameters_in_force():
    # the chunk function (the code every worker process runs) puts the run's set in force,
    # so sampling and reduction inside a worker see what the caller passed, not the shipped
    # set of a fresh process
    ps = with_overrides(shipped_parameters(), [f"{GAIN}=-0.5"])
    seen = []

    def reduce(cohort, res, params, offset):
        seen.append((default_parameters() is ps, params is ps))
        return None

    list(run_chunks(CohortSpec("systemic_sclerosis", 6, seed=3), Protocol(), ps,
                    horizon_days=30.0, chunk_size=3, reduce=reduce))
    assert seen == [(True, True), (True, True)]
    assert default_parameters() is shipped_parameters()


def test_validate_refuses_a_bad_override_before_running_anything(tmp_path):
    out = tmp_path / "v.md"
    r = CliRunner().invoke(app, ["validate", "--quick", "--out", str(out),
                                 "--set", f"{GAIN}=-3"])
    assert r.exit_code == 2
    assert GAIN in r.output and "[-1.0, 10.0]" in r.output
    assert not out.exists()


def test_a_scorecard_of_a_changed_set_says_so():
    from immunoreset.trials.validate import render

    assert "Not the shipped model" not in render([], scale=1.0, seed=1)
    ps = with_overrides(shipped_parameters(), [f"{GAIN}=-0.5"])
    with using_parameters(ps):
        text = render([], scale=1.0, seed=1)
    assert "Not the shipped model" in text and f"`{GAIN}` = -0.5 (shipped -0.59)" in text
    assert ps.sha256[:12] in text


def test_a_trial_run_with_a_changed_set_records_it(tmp_path):
    from immunoreset.report.html import render_report
    from immunoreset.trials.run import run_trial

    spec = {"name": "tiny", "disease": "crohns_disease", "design": "single_arm",
            "follow_up_years": 1.5, "population": {"n": 6},
            "arms": [{"name": "hsct", "allocation": 1.0,
                      "protocol": {"regimen": "cy200_ratg"}}],
            "endpoints": [{"name": "th", "type": "proportion",
                           "column": "transmural_healing_y1", "timepoint_years": 1,
                           "missing": "failure"}]}
    shipped = run_trial(spec, seed=2)
    assert shipped.provenance["parameters"]["changed_from_shipped"] == {}
    assert "--set" not in shipped.provenance["rerun"]
    ps = with_overrides(shipped_parameters(), [f"{GAIN}=-1"])  # every wall heals fully
    with using_parameters(ps):
        res = run_trial(spec, seed=2)
    assert res.provenance["parameters"]["changed_from_shipped"] == {
        GAIN: {"shipped": -0.59, "value": -1.0}}
    assert f"--set {GAIN}=-1.0" in res.provenance["rerun"]
    assert "Not the shipped model" in render_report(res)
    assert "Not the shipped model" not in render_report(shipped)
    # the override reached the read-outs: no structural wall left, only the lag remains
    a = shipped.patients["bowel_wall_thickness_y1"].to_numpy()
    b = res.patients["bowel_wall_thickness_y1"].to_numpy()
    alive = ~np.isnan(a)
    np.testing.assert_array_equal(alive, ~np.isnan(b))  # same patients, same deaths
    assert (b[alive] < a[alive]).all()


def test_a_parameter_set_pickles_whole():
    import pickle

    ps = with_overrides(shipped_parameters(), [f"{GAIN}=-0.5"])
    back = pickle.loads(pickle.dumps(ps))
    assert back == ps and back.sha256 == ps.sha256 and back.origin == ps.origin
    with pytest.raises(TypeError):
        back._params[GAIN] = None  # still read-only


def test_overrides_are_in_the_unit_written_in_the_parameter_file():
    # complications.fatal_infection_rate_low_cd4 is written per year and used per day
    name = "complications.fatal_infection_rate_low_cd4"
    base = shipped_parameters()
    assert base[name].source_unit == "1/year" and base[name].unit == "1/day"
    new = 2.0 * base[name].source_value
    ps = with_overrides(base, [f"{name}={new}"])
    assert ps[name].source_value == pytest.approx(new)
    assert ps[name].value == pytest.approx(new / 365.25)
    assert changed_parameters(ps) == [(name, pytest.approx(base[name].source_value),
                                       pytest.approx(new))]
    # the model-unit route agrees and gives the same digest
    same = base.evolve(**{name: new / 365.25})
    assert same[name].source_value == pytest.approx(new) and same.sha256 == ps.sha256


def test_validate_runs_only_the_named_studies(tmp_path):
    out = tmp_path / "v.md"
    r = CliRunner().invoke(app, ["validate", "--quick", "--study", "assist", "--out", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "**Partial scorecard:** only assist" in text
    assert "## assist" in text and "## mist" not in text
    assert not (tmp_path / "complications_calibration.md").exists()
    bad = CliRunner().invoke(app, ["validate", "--quick", "--study", "nope"])
    assert bad.exit_code == 2 and "study" in bad.output and "mist" in bad.output


def test_held_out_checks_refuse_a_bad_override_before_running(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "checks" / "run_all.py"
    spec = importlib.util.spec_from_file_location("run_all_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "h.md"
    with pytest.raises(SystemExit) as exc:
        module.main(["--set", f"{GAIN}=-3", "--out", str(out)])
    assert GAIN in str(exc.value.code) and "[-1.0, 10.0]" in str(exc.value.code)
    assert not out.exists()


def test_a_set_in_force_stays_in_its_own_thread():
    import threading

    ps = with_overrides(shipped_parameters(), [f"{GAIN}=-0.5"])
    seen = []
    with using_parameters(ps):
        t = threading.Thread(target=lambda: seen.append(default_parameters()))
        t.start()
        t.join()
        assert default_parameters() is ps
    assert seen == [shipped_parameters()] and seen[0] is shipped_parameters()
