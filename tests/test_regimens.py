import pytest
from pydantic import ValidationError

from immunoreset.errors import InputError
from immunoreset.protocols.protocol import Protocol
from immunoreset.protocols.regimens import Dose, conditioning, regimen_names


def test_required_presets_exist_with_citations():
    for name in ("cy200_ratg", "cy_tbi_atg", "beam_atg", "bu_cy_atg"):
        assert name in regimen_names()
        reg = conditioning(name)
        assert "doi" in reg.citation.lower()
        assert reg.doses


def test_astis_and_assist_totals():
    # van Laar JAMA 2014 (ASTIS): Cy 200 mg/kg + rATG 7.5 mg/kg; Burt Lancet 2011 (ASSIST) 6.5
    astis = conditioning("cy200_ratg")
    assert astis.total("cyclophosphamide") == pytest.approx(200)
    assert astis.atg_total_mg_per_kg == pytest.approx(7.5)
    assert conditioning("cy200_ratg", atg_total_mg_per_kg=6.5).atg_total_mg_per_kg == \
        pytest.approx(6.5)
    assert conditioning("cy200_ratg_assist").atg_total_mg_per_kg == pytest.approx(6.5)
    tbi = conditioning("cy_tbi_atg")  # Nash 2007: TBI 800 cGy, Cy 120 mg/kg, eATG 90 mg/kg
    assert tbi.total("tbi") == pytest.approx(800)
    assert tbi.total("cyclophosphamide") == pytest.approx(120)
    assert tbi.total("equine_atg") == pytest.approx(90)


def test_bad_regimen_inputs():
    with pytest.raises(InputError, match="regimen"):
        conditioning("nonsense")
    with pytest.raises(ValidationError, match="amount"):
        Dose(agent="cyclophosphamide", amount=-5, unit="mg/kg", day=-2)
    with pytest.raises(ValidationError, match="exceeds"):
        Dose(agent="cyclophosphamide", amount=5000, unit="mg/kg", day=-2)
    with pytest.raises(ValidationError, match="unit"):
        Dose(agent="tbi", amount=200, unit="mg/kg", day=-2)
    with pytest.raises(InputError, match="atg_total"):
        conditioning("cy200_ratg").with_atg_total(500)


def test_protocol_defaults_and_cord_blood_rejected():
    p = Protocol(regimen="cy200_ratg")
    assert p.processing.cd34_selection is True  # ASTIS graft
    assert Protocol(regimen="cy200_ratg_assist").processing.cd34_selection is False
    with pytest.raises(ValidationError, match="cord_blood"):
        Protocol(regimen="cy200_ratg", graft_source="cord_blood")
    with pytest.raises(ValidationError, match="cd34_dose_per_kg"):
        Protocol(regimen="cy200_ratg", cd34_dose_per_kg=1e12)
