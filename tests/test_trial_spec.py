"""Trial specs: schema, shipped examples, and bad specs failing with errors that name the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from trial_fixtures import synthetic_spec

from immunoreset.cli import main
from immunoreset.errors import InputError
from immunoreset.protocols import Protocol
from immunoreset.trials.spec import (
    DEFAULT_DAYS_RANDOMISATION_TO_INFUSION,
    HazardRatioEndpoint,
    SurvivalEndpoint,
    TransplantProtocol,
    event_definition,
    load_spec,
    parse_spec,
    trial_schema,
)

EXAMPLES = sorted((Path(__file__).parents[1] / "examples" / "trials").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_shipped_examples_validate_and_cite(path):
    spec = load_spec(path)
    assert spec.citation, "each example cites its paper"
    for ref in spec.reference:
        assert ref.source.strip(), f"{path.name}: reference {ref.endpoint} lacks its source"
    # every shipped example names its references against endpoints it computes
    names = {e.name for e in spec.endpoints}
    assert {r.endpoint for r in spec.reference} <= names


def test_astis_example_carries_the_published_figures():
    spec = load_spec(EXAMPLES[[p.stem for p in EXAMPLES].index("astis")])
    hr = {(r.endpoint, r.timepoint_years): r for r in spec.reference}
    # van Laar et al. JAMA 2014, Fig 2A legend: EFS HR 0.35 (0.16-0.74) at 2 years
    ref = hr[("event_free_survival_hr", 2.0)]
    assert (ref.estimate, ref.ci) == (0.35, (0.16, 0.74))
    assert "Fig 2A" in ref.source
    assert spec.arm("hsct").n_published == 79 and spec.arm("control").n_published == 77


def test_schema_is_json_and_documents_the_outline():
    schema = trial_schema()
    props = schema["properties"]
    for key in ("name", "disease", "follow_up_years", "population", "arms", "endpoints",
                "reference", "dropout_per_year"):
        assert key in props
    json.dumps(schema)


def test_schema_command_prints_json(capsys):
    assert main(["trial", "schema"]) == 0
    assert "TrialSpec" in json.loads(capsys.readouterr().out)["title"]


def test_design_outline_form_is_accepted():
    """The DESIGN §6 outline omits ``type``; it is inferred."""
    data = synthetic_spec()
    data["endpoints"] = [
        {"name": "event_free_survival", "events": ["death", "organ_failure"],
         "timepoints_years": [2, 4]},
        {"name": "hazard_ratio", "endpoint": "event_free_survival", "arms": ["hsct", "control"]},
    ]
    data["reference"] = [{"endpoint": "hazard_ratio", "arm": "hsct vs control",
                          "estimate": 0.34, "ci": [0.16, 0.74], "source": "ASTIS Fig 2A"}]
    spec = parse_spec(data)
    assert isinstance(spec.endpoints[0], SurvivalEndpoint)
    assert isinstance(spec.endpoints[1], HazardRatioEndpoint)


def test_event_columns_follow_the_contract():
    assert event_definition("death").columns == ("death_day",)
    assert event_definition("organ_failure").columns == ("organ_failure_day",)
    trm = event_definition("treatment_related_death")
    assert trm.columns == ("death_day", "death_cause") and "disease" not in trm.causes
    spec = parse_spec(synthetic_spec())
    assert spec.endpoint("event_free_survival").needed_columns() == ("death_day",
                                                                     "organ_failure_day")


def test_transplant_protocol_is_a_protocol_plus_timing():
    p = TransplantProtocol(regimen="cy200_ratg", atg_total_mg_per_kg=7.5, cd34_selection=True)
    assert p.delay_days == DEFAULT_DAYS_RANDOMISATION_TO_INFUSION
    assert p.to_protocol() == Protocol(regimen="cy200_ratg", atg_total_mg_per_kg=7.5,
                                       cd34_selection=True)


def test_validate_notes_what_is_not_modelled(capsys, tmp_path):
    path = tmp_path / "s.yaml"
    data = synthetic_spec()
    data["arms"][1]["protocol"] = {"comparator": "deferred_hsct"}
    path.write_text(yaml.safe_dump(data))
    assert main(["trial", "validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "valid trial spec" in out
    assert "not simulated" in out and "lvef_percent" in out and "not applied" in out
    assert "mrss" not in out  # the score criterion is applied (to the simulated baseline)


# ----------------------------------------------------------------------------- bad specs

def _set(data: dict, path: tuple, value) -> dict:
    d = data
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value
    return data


BAD = [
    ("unknown_regimen", ("arms", 0, "protocol", "regimen"), "nonsense",
     "arms[0].protocol.regimen"),
    ("negative_n", ("population", "n"), -5, "population.n"),
    ("allocation_sum", ("arms", 1, "allocation"), 0.7, "arms.allocation"),
    ("endpoint_unknown_arm", ("endpoints", 10, "arms"), ["transplant"], "endpoints[10].arms"),
    ("hr_unknown_arm", ("endpoints", 4, "arms"), ["hsct", "placebo"], "endpoints[4].arms"),
    ("unknown_comparator", ("arms", 1, "protocol", "comparator"), "homeopathy",
     "arms[1].protocol.comparator"),
    ("unknown_disease", ("disease",), "psoriasis", "disease"),
    ("bad_atg", ("arms", 0, "protocol", "atg_total_mg_per_kg"), -1,
     "arms[0].protocol.atg_total_mg_per_kg"),
    ("unknown_field", ("population", "size"), 10, "population.size"),
    ("hr_of_non_survival", ("endpoints", 4, "endpoint"), "remission_rate",
     "endpoints[4].endpoint"),
    ("reference_unknown_endpoint", ("reference", 0, "endpoint"), "efs", "reference[0].endpoint"),
    ("negative_follow_up", ("follow_up_years",), -1, "follow_up_years"),
]


@pytest.mark.parametrize(("case", "path", "value", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_spec_names_the_field(case, path, value, field):
    data = _set(synthetic_spec(), path, value)
    with pytest.raises(InputError) as err:
        parse_spec(data)
    assert field in str(err.value)
    assert "\n" not in str(err.value)


def _assert_clean_failure(tmp_path, capsys, out, field):
    err = capsys.readouterr().err
    assert field in err, err
    assert len(err.strip().splitlines()) <= 2
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]


@pytest.mark.parametrize(("case", "path", "value", "field"), BAD[:5], ids=[b[0] for b in BAD[:5]])
def test_bad_spec_cli_exit_2_no_output(tmp_path, capsys, case, path, value, field):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(_set(synthetic_spec(), path, value)))
    out = tmp_path / "run"
    assert main(["trial", "run", str(spec), "--seed", "1", "--out", str(out)]) == 2
    _assert_clean_failure(tmp_path, capsys, out, field)
    assert main(["trial", "validate", str(spec)]) == 2
    assert field in capsys.readouterr().err


def test_yaml_syntax_error_exit_2(tmp_path, capsys):
    spec = tmp_path / "broken.yaml"
    spec.write_text("name: x\narms: [\n  {name: hsct, allocation: 1\n")
    out = tmp_path / "run"
    assert main(["trial", "run", str(spec), "--seed", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "spec" in err and "YAML" in err and "line" in err
    assert not out.exists()


def test_missing_spec_file_exit_2(tmp_path, capsys):
    assert main(["trial", "validate", str(tmp_path / "nope.yaml")]) == 2
    assert "spec" in capsys.readouterr().err


def test_existing_output_dir_is_refused_before_running(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump(synthetic_spec()))
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["trial", "run", str(spec), "--out", str(out)]) == 2
    assert "out" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
