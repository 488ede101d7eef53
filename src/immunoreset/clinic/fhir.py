"""Read a patient from an HL7 FHIR R4 Bundle (Patient, Condition, Observations).

Parsed and validated with the ``fhir.resources`` package (its ``R4B`` models: FHIR R4B is
R4 with minor, for these resources irrelevant, changes). The code table
``data/selection/fhir_codes.yaml`` maps LOINC codes to record fields with the accepted UCUM
units and the explicit factor converting each to the field's unit; SNOMED CT condition
codes give the disease. Items without a verified LOINC code use the local code system
``urn:immunoreset:clinic-record`` whose codes are the record's field names.

* Patient: ``gender`` → sex; ``birthDate`` → age at the assessment date (``as_of``, else
  the bundle's ``timestamp``, else today — said in the warnings).
* Condition (SNOMED CT) → disease; ``onsetDateTime`` → disease duration.
* Observation → one field; ``referenceRange.high`` of bilirubin / ALT / AST → the field's
  upper limit of normal. Several Observations of one field: the latest one is used.
* An Observation code that is neither in the table nor local → :class:`InputError` naming
  the code (or, with ``unknown_codes="warn"``, a warning). Resource types other than these
  three are read with a warning listing what was ignored.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from immunoreset.clinic.data import fhir_codes
from immunoreset.clinic.record import RANGES, ClinicalRecord, Comorbidities
from immunoreset.errors import InputError

_USED = ("Patient", "Condition", "Observation")


@dataclass(frozen=True)
class FhirRead:
    """The record, what was ignored, and where each field came from."""

    record: ClinicalRecord
    warnings: tuple[str, ...]
    provenance: dict[str, str]


def _date(x: Any) -> dt.date | None:
    if x is None:
        return None
    if isinstance(x, dt.datetime):
        return x.date()
    if isinstance(x, dt.date):
        return x
    return dt.date.fromisoformat(str(x)[:10])


def _years(a: dt.date, b: dt.date) -> float:
    return (b - a).days / 365.25


def _field_kind(name: str) -> Any:
    head, _, tail = name.partition(".")
    model = Comorbidities if head == "comorbidities" else ClinicalRecord
    key = tail if head == "comorbidities" else name
    if key not in model.model_fields:
        return None
    return model.model_fields[key].annotation


def _obs_value(obs: Any, field: str, factors: dict | None, code: str) -> Any:
    q = obs.valueQuantity
    if q is not None:
        value = float(q.value)
        if factors is None:  # local code: the field's own unit
            return value
        unit = q.code or q.unit
        if unit not in factors:
            raise InputError(f"Observation {code} unit", unit,
                             f"one of {', '.join(factors)} for {field}")
        return value * float(factors[unit])
    if obs.valueBoolean is not None:
        return bool(obs.valueBoolean)
    if obs.valueInteger is not None:
        return int(obs.valueInteger)
    if obs.valueString is not None:
        return str(obs.valueString)
    cc = obs.valueCodeableConcept
    if cc is not None:
        if cc.coding:
            return str(cc.coding[0].code)
        return str(cc.text)
    raise InputError(f"Observation {code} value", None,
                     "valueQuantity, valueBoolean, valueInteger, valueString or "
                     "valueCodeableConcept")


def record_from_fhir(bundle: dict | str | Path, *, as_of: dt.date | None = None,
                     unknown_codes: str = "error",
                     centre_autoimmune_transplants: int | None = None) -> FhirRead:
    """Build a :class:`ClinicalRecord` from a FHIR R4 Bundle (a dict, JSON text or path)."""
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    if unknown_codes not in ("error", "warn"):
        raise InputError("unknown_codes", unknown_codes, "error or warn")
    if isinstance(bundle, Path) or (isinstance(bundle, str) and not bundle.lstrip()
                                    .startswith("{")):
        path = Path(bundle)
        if not path.is_file():
            raise InputError("bundle", str(path), "an existing FHIR Bundle JSON file")
        bundle = path.read_text("utf-8")
    raw = json.loads(bundle) if isinstance(bundle, str) else bundle
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        raise InputError("resourceType", raw.get("resourceType") if isinstance(raw, dict)
                         else type(raw).__name__, "Bundle")
    try:
        b = Bundle.model_validate(raw)
    except ValidationError as exc:
        e = exc.errors()[0]
        raise InputError("bundle." + ".".join(map(str, e["loc"])), e.get("input"),
                         e["msg"]) from None
    codes = fhir_codes()
    warnings: list[str] = []
    ignored: Counter = Counter()
    patients, conditions, observations = [], [], []
    for entry in b.entry or []:
        res = entry.resource
        kind = res.get_resource_type() if res is not None else "empty entry"
        if kind == "Patient":
            patients.append(res)
        elif kind == "Condition":
            conditions.append(res)
        elif kind == "Observation":
            observations.append(res)
        else:
            ignored[kind] += 1
    if ignored:
        warnings.append("ignored FHIR resources (not used by the clinic record): " +
                        ", ".join(f"{k} x{v}" for k, v in sorted(ignored.items())))
    if len(patients) != 1:
        raise InputError("Patient", len(patients), "exactly one Patient resource in the bundle")
    pat = patients[0]
    if as_of is None:
        as_of = _date(b.timestamp)
        if as_of is None:
            as_of = dt.date.today()
            warnings.append(f"bundle has no timestamp: ages and durations computed at "
                            f"today's date {as_of.isoformat()}")
    fields: dict[str, Any] = {"assessment_date": as_of}
    prov: dict[str, str] = {}
    if pat.id:
        fields["patient_id"] = str(pat.id)
    sex = {"female": "F", "male": "M"}.get(str(pat.gender))
    if sex is None:
        raise InputError("Patient.gender", pat.gender, "female or male (the simulator's "
                         "covariate); other values need a manual record")
    fields["sex"] = sex
    prov["sex"] = f"Patient.gender={pat.gender}"
    if pat.birthDate is None:
        raise InputError("Patient.birthDate", None, "a birth date (needed for age_years)")
    fields["age_years"] = round(_years(_date(pat.birthDate), as_of), 2)
    prov["age_years"] = f"Patient.birthDate={pat.birthDate} at {as_of.isoformat()}"

    diseases = set()
    for c in conditions:
        for cd in (c.code.coding or []) if c.code else []:
            d = codes["snomed_diseases"].get(str(cd.code)) \
                if cd.system == codes["snomed_system"] else None
            if d:
                diseases.add(d)
                onset = getattr(c, "onsetDateTime", None)
                if onset is not None:
                    fields["disease_duration_years"] = round(_years(_date(onset), as_of), 2)
                    prov["disease_duration_years"] = f"Condition.onsetDateTime={onset}"
    if len(diseases) != 1:
        raise InputError("Condition.code", sorted(diseases) or None,
                         "exactly one Condition with a SNOMED CT code of "
                         + ", ".join(f"{k} ({v})" for k, v in codes["snomed_diseases"].items()))
    fields["disease"] = diseases.pop()

    latest: dict[str, tuple[dt.date | None, Any, str]] = {}
    comorb: dict[str, Any] = {}
    for obs in observations:
        code_s, field, factors, mapping = None, None, None, None
        for cd in (obs.code.coding or []):
            if cd.system == codes["loinc_system"] and str(cd.code) in codes["loinc"]:
                code_s = f"LOINC {cd.code}"
                mapping = codes["loinc"][str(cd.code)]
                field, factors = mapping["field"], mapping["units"]
                break
            if cd.system == codes["local_system"] and _field_kind(str(cd.code)) is not None:
                code_s, field = f"local {cd.code}", str(cd.code)
                break
        if field is None:
            shown = ", ".join(f"{cd.system}|{cd.code}" for cd in (obs.code.coding or [])) \
                or (obs.code.text or "no coding")
            if unknown_codes == "error":
                raise InputError("Observation.code", shown,
                                 "a LOINC code listed in data/selection/fhir_codes.yaml or a "
                                 f"record field in {codes['local_system']}")
            warnings.append(f"ignored Observation with unknown code {shown}")
            continue
        value = _obs_value(obs, field, factors, code_s)
        when = _date(getattr(obs, "effectiveDateTime", None))
        prev = latest.get(field)
        if prev is None or (when is not None and (prev[0] is None or when >= prev[0])):
            latest[field] = (when, value, f"Observation/{obs.id or '?'} ({code_s})")
            uln = mapping.get("uln_field") if mapping else None
            rr = obs.referenceRange[0].high if obs.referenceRange else None
            if uln and rr is not None and rr.value is not None:
                unit = rr.code or rr.unit or (obs.valueQuantity.code if obs.valueQuantity
                                              else None)
                f = factors.get(unit) if factors else 1.0
                if f is None:
                    raise InputError(f"Observation {code_s} referenceRange unit", unit,
                                     f"one of {', '.join(factors)}")
                latest[uln] = (when, float(rr.value) * float(f),
                               f"Observation/{obs.id or '?'} referenceRange.high")
    for field, (_, value, src) in latest.items():
        prov[field] = src
        if field.startswith("comorbidities."):
            comorb[field.split(".", 1)[1]] = value
        elif field == "prior_therapies":
            fields[field] = tuple(str(value).split(";"))
        else:
            fields[field] = value
    if comorb:
        fields["comorbidities"] = comorb
    if centre_autoimmune_transplants is not None:
        fields["centre_autoimmune_transplants"] = centre_autoimmune_transplants
    try:
        record = ClinicalRecord(**fields)
    except InputError as exc:
        if exc.value is None and exc.field in ("weight_kg", "height_cm"):
            loinc = {"weight_kg": "29463-7", "height_cm": "8302-2"}[exc.field]
            raise InputError(exc.field, None, f"{exc.allowed}; the bundle has no Observation "
                             f"with LOINC {loinc}") from None
        raise
    return FhirRead(record=record, warnings=tuple(warnings), provenance=prov)


def field_units() -> dict[str, str]:
    """The unit of each numeric record field (what local-code Observations must carry)."""
    return {k: u for k, (_, _, u) in RANGES.items()}


__all__ = ["FhirRead", "field_units", "record_from_fhir"]
