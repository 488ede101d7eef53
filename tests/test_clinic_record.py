"""Patient record and FHIR R4 reader: validation, unit conversion, clear errors."""

import copy
import json
from pathlib import Path

import pytest
import yaml

from immunoreset.clinic import ClinicalRecord, load_record, record_from_fhir
from immunoreset.errors import InputError

EX = Path(__file__).resolve().parents[1] / "examples" / "patients"


def _ssc() -> dict:
    return yaml.safe_load((EX / "ssc_eligible.yaml").read_text())


def _bundle() -> dict:
    return json.loads((EX / "ssc_fhir_bundle.json").read_text())


@pytest.mark.parametrize("name", ["ssc_eligible.yaml", "ms_relapsing.yaml",
                                  "ssc_cardiac_exclusion.yaml", "ssc_fhir_bundle.json"])
def test_examples_load(name):
    r = load_record(EX / name)
    assert r.weight_kg > 0 and r.disease in ("systemic_sclerosis", "multiple_sclerosis")


def test_impossible_lvef_names_field_and_range():
    with pytest.raises(InputError, match=r"invalid lvef_percent=150.*\[5, 90\] %"):
        ClinicalRecord(**{**_ssc(), "lvef_percent": 150})


def test_missing_weight_names_field():
    raw = _ssc()
    del raw["weight_kg"]
    with pytest.raises(InputError, match=r"weight_kg.*required"):
        ClinicalRecord(**raw)


def test_unknown_field_and_bad_disease():
    with pytest.raises(InputError, match="lvef"):
        ClinicalRecord(**{**_ssc(), "lvef": 60})
    with pytest.raises(InputError, match="disease"):
        ClinicalRecord(**{**_ssc(), "disease": "psoriasis"})


def test_unknown_fields_are_listed_not_filled():
    r = ClinicalRecord(disease="ssc", age_years=40, sex="F", weight_kg=60, height_cm=165)
    u = r.unknown_fields()
    assert "lvef_percent" in u and "comorbidities.arrhythmia" in u
    assert r.lvef_percent is None and r.simulator_patient().disease_duration_years is None


def test_fhir_bundle_units_converted_and_latest_used():
    read = record_from_fhir(EX / "ssc_fhir_bundle.json")
    r = read.record
    assert r.weight_kg == pytest.approx(141.1 * 0.45359237)  # lb -> kg; the newer of two
    assert r.height_cm == pytest.approx(166.0)  # m -> cm
    assert r.creatinine_mg_per_dl == pytest.approx(62 / 88.4, rel=1e-6)  # umol/L -> mg/dL
    assert r.bilirubin_x_uln == pytest.approx(10 / 21)  # ULN from referenceRange.high
    assert r.crp_mg_per_l == pytest.approx(14.0)  # mg/dL -> mg/L
    assert r.anc_per_uL == pytest.approx(4200) and r.hemoglobin_g_per_dL == pytest.approx(12.6)
    assert r.age_years == pytest.approx((2025 - 1982) - (3.5 / 12), abs=0.05)
    assert r.disease == "systemic_sclerosis" and r.comorbidities.dyspnoea == "slight_activity"


def test_fhir_unknown_resources_warned():
    read = record_from_fhir(_bundle())
    assert any("Encounter x1" in w and "MedicationStatement x1" in w for w in read.warnings)


def test_fhir_unknown_loinc_code_is_error_naming_it():
    b = _bundle()
    obs = copy.deepcopy(next(e for e in b["entry"] if e["resource"].get("id") == "obs4"))
    obs["resource"]["id"] = "obsX"
    obs["resource"]["code"]["coding"][0]["code"] = "99999-9"
    b["entry"].append(obs)
    with pytest.raises(InputError, match=r"Observation.code.*99999-9"):
        record_from_fhir(b)
    read = record_from_fhir(b, unknown_codes="warn")
    assert any("99999-9" in w for w in read.warnings)


def test_fhir_missing_weight_names_field():
    b = _bundle()
    b["entry"] = [e for e in b["entry"] if not any(
        c.get("code") == "29463-7" for c in e["resource"].get("code", {}).get("coding", []))]
    with pytest.raises(InputError, match=r"weight_kg.*29463-7"):
        record_from_fhir(b)


def test_fhir_impossible_value_and_bad_unit():
    b = _bundle()
    for e in b["entry"]:
        if e["resource"].get("id") == "obs4":  # LVEF
            e["resource"]["valueQuantity"]["value"] = 150
    with pytest.raises(InputError, match=r"lvef_percent=150"):
        record_from_fhir(b)
    b = _bundle()
    for e in b["entry"]:
        if e["resource"].get("id") == "obs4":
            e["resource"]["valueQuantity"]["code"] = "mmHg"
            e["resource"]["valueQuantity"]["unit"] = "mmHg"
    with pytest.raises(InputError, match=r"LOINC 10230-1 unit.*%"):
        record_from_fhir(b)
