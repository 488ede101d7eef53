import math

import pytest

from immunoreset.errors import InputError
from immunoreset.parameters import load_parameters
from immunoreset.parameters.units import conversion_factor, convert


def test_every_parameter_has_unit_source_and_status(params):
    assert len(params) > 100
    for p in params.values():
        assert p.unit.strip(), p.name
        assert len(p.source.strip()) > 10, p.name
        if p.status in {"assumed", "calibrated"}:
            assert p.reason.strip(), f"{p.name} is {p.status} without a reason"
        lo, hi = p.bounds
        assert lo <= p.value <= hi, p.name
        if p.variability is not None:
            assert p.variability.source.strip(), p.name


def test_unit_conversion_at_load(params):
    # Friberg-type transit time is written in hours in the source (96 h) and used in days
    p = params["hematopoiesis.neutrophil.transit_time"]
    assert p.source_unit == "h" and p.unit == "day"
    assert p.value == pytest.approx(p.source_value / 24)
    # Ahmed 2020 cyclophosphamide clearance 5.41 L/h -> L/day
    assert params.value("pk.cyclophosphamide.clearance") == pytest.approx(5.41 * 24)


def test_conversions():
    assert conversion_factor("1/h", "1/day") == 24
    assert convert(1.0, "week", "day") == 7
    assert convert(40, "week", "day") == 280
    with pytest.raises(InputError, match="unit"):
        conversion_factor("mg", "week")


def _write(tmp_path, body):
    f = tmp_path / "p.yaml"
    f.write_text("parameters:\n" + body)
    return f


def test_missing_unit_or_source_fails(tmp_path):
    with pytest.raises(InputError, match=r"x\.a\.unit"):
        load_parameters(_write(tmp_path, "  x.a: {value: 1, source: s, status: derived}\n"))
    with pytest.raises(InputError, match=r"x\.a\.source"):
        load_parameters(_write(tmp_path, "  x.a: {value: 1, unit: day, status: derived}\n"))


def test_assumed_needs_reason_and_value_in_bounds(tmp_path):
    with pytest.raises(InputError, match="reason"):
        load_parameters(
            _write(tmp_path, "  x.a: {value: 1, unit: d, source: s, status: assumed}\n"))
    with pytest.raises(InputError, match=r"x\.a"):
        load_parameters(_write(
            tmp_path, "  x.a: {value: 5, unit: d, source: s, status: derived, bounds: [0, 1]}\n"))


def test_evolve_is_a_new_set(params):
    new = params.evolve(**{"hematopoiesis.neutrophil.p_gmp": 2.0})
    assert new.value("hematopoiesis.neutrophil.p_gmp") == 2.0
    assert params.value("hematopoiesis.neutrophil.p_gmp") != 2.0
    assert new.sha256 != params.sha256
    assert math.isfinite(new.value("physiology.blood_volume"))
