"""The clinical record of one patient: a validated schema with units and allowed ranges.

Every numeric field carries its unit in its name and an allowed range (:data:`RANGES`);
an impossible value (LVEF 150 %) is an :class:`~immunoreset.errors.InputError` naming the
field, the value and the range. Optional fields left out are *unknown*: they are listed in
the assessment and never filled in by a guess. :func:`load_record` reads YAML or JSON;
:mod:`immunoreset.clinic.fhir` reads an HL7 FHIR R4 bundle into the same record.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from immunoreset.errors import InputError, check_range
from immunoreset.population import Patient
from immunoreset.vocabulary import canonical_disease

#: allowed range and unit of every numeric field (physically possible values, not normal ranges)
RANGES: dict[str, tuple[float, float, str]] = {
    "age_years": (0, 100, "years"),
    "weight_kg": (2, 350, "kg"),
    "height_cm": (40, 250, "cm"),
    "disease_duration_years": (0, 80, "years"),
    "mrss": (0, 51, "mRSS points"),
    "edss": (0, 10, "EDSS points"),
    "sledai": (0, 105, "SLEDAI-2K points"),
    "das28": (0, 10, "DAS28 points"),
    "cdai": (0, 1100, "CDAI points (Crohn's Disease Activity Index)"),
    "c_peptide_nmol_per_l": (0, 10, "nmol/L"),
    "crp_mg_per_l": (0, 500, "mg/L"),
    "relapses_past_year": (0, 50, "relapses"),
    "relapses_past_3_years": (0, 100, "relapses"),
    "high_efficacy_dmt_failures": (0, 20, "therapies"),
    "first_line_therapy_months": (0, 600, "months"),
    "ecog": (0, 4, "ECOG grade"),
    "karnofsky_percent": (0, 100, "%"),
    "lvef_percent": (5, 90, "%"),
    "dlco_percent_predicted": (5, 200, "% of predicted"),
    "fev1_percent_predicted": (5, 200, "% of predicted"),
    "fvc_percent_predicted": (5, 200, "% of predicted"),
    "creatinine_mg_per_dl": (0.05, 25, "mg/dL"),
    "egfr_ml_min_1_73m2": (1, 200, "mL/min/1.73 m2"),
    "bilirubin_mg_per_dl": (0, 50, "mg/dL"),
    "bilirubin_uln_mg_per_dl": (0.1, 5, "mg/dL"),
    "alt_u_per_l": (0, 20000, "U/L"),
    "alt_uln_u_per_l": (1, 300, "U/L"),
    "ast_u_per_l": (0, 20000, "U/L"),
    "ast_uln_u_per_l": (1, 300, "U/L"),
    "pasp_mmhg": (5, 150, "mmHg"),
    "pasp_fluid_challenge_mmhg": (5, 150, "mmHg"),
    "mpap_mmhg": (3, 100, "mmHg"),
    "mpap_fluid_challenge_mmhg": (3, 100, "mmHg"),
    "pvr_wood_units": (0, 40, "Wood units"),
    "tapse_cm": (0.2, 5, "cm"),
    "anc_per_uL": (1, 100000, "cells/uL"),
    "platelets_per_uL": (1000, 2000000, "cells/uL"),
    "hemoglobin_g_per_dL": (2, 25, "g/dL"),
    "centre_autoimmune_transplants": (0, 10000, "transplants"),
}

Flag = bool | None


class Comorbidities(BaseModel):
    """HCT-CI comorbidities (Sorror, Blood 2005): ``True`` present, ``False`` absent,
    ``None`` not recorded. Definitions in ``data/selection/hct_ci.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    arrhythmia: Flag = None
    coronary_artery_disease: Flag = None
    congestive_heart_failure: Flag = None
    myocardial_infarction: Flag = None
    inflammatory_bowel_disease: Flag = None
    diabetes_on_treatment: Flag = None
    cerebrovascular_disease: Flag = None
    psychiatric_disturbance: Flag = None
    chronic_hepatitis: Flag = None
    liver_cirrhosis: Flag = None
    rheumatologic: Flag = None
    peptic_ulcer: Flag = None
    dialysis: Flag = None
    prior_renal_transplant: Flag = None
    prior_solid_tumour: Flag = None
    heart_valve_disease: Flag = None
    dyspnoea: Literal["none", "slight_activity", "rest_or_oxygen"] | None = None

    @classmethod
    def none_present(cls) -> Comorbidities:
        """Every comorbidity recorded as absent (a fully documented healthy work-up)."""
        return cls(**{k: ("none" if k == "dyspnoea" else False) for k in cls.model_fields})


class ClinicalRecord(BaseModel):
    """What the transplant team knows about one patient (units in the field names)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patient_id: str | None = None
    assessment_date: dt.date | None = None
    # demographics and body size
    disease: str
    disease_subtype: str | None = None
    age_years: float
    sex: Literal["F", "M"]
    weight_kg: float
    height_cm: float
    disease_duration_years: float | None = None
    # activity scores
    mrss: float | None = None
    edss: float | None = None
    sledai: float | None = None
    das28: float | None = None
    cdai: float | None = None
    c_peptide_nmol_per_l: float | None = None
    crp_mg_per_l: float | None = None
    # disease course and prior therapy
    refractory_to_standard_therapy: Flag = None
    first_line_therapy_months: float | None = None
    first_line_intolerance: Flag = None
    visceral_organ_involvement: Flag = None
    progressive_ild: Flag = None
    inflammatory_activity: Flag = None
    relapses_past_year: int | None = None
    relapses_past_3_years: int | None = None
    high_efficacy_dmt_failures: int | None = None
    able_to_walk_100m: Flag = None
    within_clinical_trial: Flag = None
    prior_therapies: tuple[str, ...] = ()
    # performance status
    ecog: int | None = None
    karnofsky_percent: float | None = None
    # organ function
    lvef_percent: float | None = None
    dlco_percent_predicted: float | None = None
    fev1_percent_predicted: float | None = None
    fvc_percent_predicted: float | None = None
    creatinine_mg_per_dl: float | None = None
    egfr_ml_min_1_73m2: float | None = None
    bilirubin_mg_per_dl: float | None = None
    bilirubin_uln_mg_per_dl: float | None = None
    alt_u_per_l: float | None = None
    alt_uln_u_per_l: float | None = None
    ast_u_per_l: float | None = None
    ast_uln_u_per_l: float | None = None
    pasp_mmhg: float | None = None
    pasp_fluid_challenge_mmhg: float | None = None
    mpap_mmhg: float | None = None
    mpap_fluid_challenge_mmhg: float | None = None
    pvr_wood_units: float | None = None
    tapse_cm: float | None = None
    # cardiac findings
    cardiac_involvement: Flag = None
    septal_bounce: Flag = None
    constrictive_pericarditis: Flag = None
    cardiac_tamponade: Flag = None
    unrevascularised_severe_cad: Flag = None
    untreated_severe_arrhythmia: Flag = None
    symptomatic_cardiac_disease: Flag = None
    # blood counts (feed the simulator's baseline)
    anc_per_uL: float | None = None
    platelets_per_uL: float | None = None
    hemoglobin_g_per_dL: float | None = None
    # serostatus, infection
    cmv_igg: Literal["positive", "negative"] | None = None
    ebv_igg: Literal["positive", "negative"] | None = None
    active_infection: Flag = None
    infection_requiring_antimicrobials: Flag = None
    # comorbidities and habits
    comorbidities: Comorbidities = Comorbidities()
    smoking: Literal["never", "former", "current"] | None = None
    pregnant: Flag = None
    # where the transplant would be done
    centre_autoimmune_transplants: int | None = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _record_error(exc) from None

    @field_validator("disease")
    @classmethod
    def _disease(cls, v: str) -> str:
        return canonical_disease(v)

    @field_validator(*RANGES, mode="after")
    @classmethod
    def _range(cls, v: Any, info) -> Any:
        if v is None:
            return v
        lo, hi, unit = RANGES[info.field_name]
        x = check_range(info.field_name, v, lo, hi, unit=unit)
        return int(v) if isinstance(v, int) and not isinstance(v, bool) else x

    # ---- derived values (used by the rules; None when an input is unknown) -------------
    @property
    def bmi_kg_m2(self) -> float:
        """Body-mass index, kg/m²."""
        return self.weight_kg / (self.height_cm / 100.0) ** 2

    @property
    def bilirubin_x_uln(self) -> float | None:
        return _ratio(self.bilirubin_mg_per_dl, self.bilirubin_uln_mg_per_dl)

    @property
    def alt_x_uln(self) -> float | None:
        return _ratio(self.alt_u_per_l, self.alt_uln_u_per_l)

    @property
    def ast_x_uln(self) -> float | None:
        return _ratio(self.ast_u_per_l, self.ast_uln_u_per_l)

    def value(self, name: str) -> Any:
        """A field, a derived value or a dotted comorbidity (``comorbidities.arrhythmia``)."""
        obj: Any = self
        for part in name.split("."):
            if not hasattr(obj, part):
                raise KeyError(f"unknown record field {name!r}")
            obj = getattr(obj, part)
        return obj

    def unknown_fields(self) -> list[str]:
        """Optional fields not recorded (comorbidities as ``comorbidities.<item>``)."""
        out = [k for k, f in type(self).model_fields.items()
               if getattr(self, k) is None and not f.is_required() and k != "assessment_date"]
        out += [f"comorbidities.{k}" for k in Comorbidities.model_fields
                if getattr(self.comorbidities, k) is None]
        return out

    def simulator_patient(self) -> Patient:
        """The covariates the simulator takes (unknown ones stay unknown: sampled there)."""
        return Patient(disease=self.disease, age_years=self.age_years, sex=self.sex,
                       weight_kg=self.weight_kg, height_cm=self.height_cm,
                       disease_duration_years=self.disease_duration_years,
                       anc_per_uL=self.anc_per_uL, platelets_per_uL=self.platelets_per_uL,
                       hemoglobin_g_per_dL=self.hemoglobin_g_per_dL,
                       cmv_seropositive=_igg(self.cmv_igg),
                       ebv_seropositive=_igg(self.ebv_igg),
                       progressive=self._progressive())

    def _progressive(self) -> bool:
        """A progressive subtype of a disease with a progressive phenotype (MS: secondary or
        primary progressive); any other or no subtype is simulated as relapsing."""
        from immunoreset.diseases import disease_model

        try:
            subtypes = disease_model(canonical_disease(self.disease)).progressive_subtypes
        except ValueError:
            return False
        return self.disease_subtype in subtypes


def _igg(v: str | None) -> bool | None:
    """Recorded IgG serostatus; ``None`` (unknown) is sampled from the prevalence."""
    return None if v is None else v == "positive"


def _ratio(x: float | None, uln: float | None) -> float | None:
    return None if x is None or uln is None else x / uln


def _record_error(exc: ValidationError) -> InputError:
    err = exc.errors()[0]
    inner = err.get("ctx", {}).get("error")
    if isinstance(inner, InputError):
        return inner
    field = ".".join(str(p) for p in err["loc"]) or "record"
    if err["type"] == "missing":
        top = str(err["loc"][0])
        if top in RANGES:
            lo, hi, unit = RANGES[top]
            return InputError(field, None, f"a value in [{lo}, {hi}] {unit} (required)")
        return InputError(field, None, "a value (required)")
    if err["type"] == "extra_forbidden":
        return InputError(field, err.get("input"), "a known record field (see the record schema)")
    if field in RANGES:
        lo, hi, unit = RANGES[field]
        return InputError(field, err.get("input"), f"a number in [{lo}, {hi}] {unit}")
    return InputError(field, err.get("input"), err["msg"])


def load_record(source: str | Path | dict) -> ClinicalRecord:
    """A record from a YAML/JSON file (a FHIR R4 Bundle JSON is recognised) or a mapping."""
    if isinstance(source, dict):
        raw = source
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError("patient", str(path), "an existing YAML or JSON file")
        text = path.read_text("utf-8")
        try:
            raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise InputError("patient", str(path), f"valid JSON/YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise InputError("patient", type(raw).__name__, "a mapping of record fields")
    if raw.get("resourceType") == "Bundle":
        from immunoreset.clinic.fhir import record_from_fhir

        return record_from_fhir(raw).record
    return ClinicalRecord(**raw)
