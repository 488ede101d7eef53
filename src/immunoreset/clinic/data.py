"""The clinic's data files (``data/selection/*.yaml``), loaded once and checked."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from immunoreset.clinic.record import ClinicalRecord, Comorbidities
from immunoreset.clinic.rules import check_condition

#: values the rules may use besides record fields (computed by the clinic)
DERIVED = ("bmi_kg_m2", "bilirubin_x_uln", "alt_x_uln", "ast_x_uln", "hct_ci_complete")


def known_field(name: str) -> bool:
    """Whether a rule may refer to ``name``."""
    if name in DERIVED or name in ClinicalRecord.model_fields:
        return True
    head, _, tail = name.partition(".")
    return head == "comorbidities" and tail in Comorbidities.model_fields


def _load(name: str) -> dict:
    text = resources.files("immunoreset").joinpath(f"data/selection/{name}").read_text("utf-8")
    return yaml.safe_load(text)


@lru_cache(maxsize=1)
def hct_ci_data() -> dict:
    """``hct_ci.yaml`` (items checked: every condition names a known field)."""
    d = _load("hct_ci.yaml")
    for item in d["items"]:
        check_condition(item["present_if"], known_field)
        if not item.get("source"):
            raise ValueError(f"HCT-CI item {item['id']} has no source")
    return d


@lru_cache(maxsize=1)
def eligibility_data() -> dict:
    """``eligibility.yaml`` (criteria checked: conditions, statuses, sources)."""
    d = _load("eligibility.yaml")
    groups = [d["general_rmd"]["criteria"], d["general_all"]["criteria"]]
    groups += [v["criteria"] for v in d["diseases"].values()]
    for crits in groups:
        for c in crits:
            for key in ("require", "exclude_if", "unless"):
                if key in c:
                    check_condition(c[key], known_field)
            if ("require" in c) == ("exclude_if" in c):
                raise ValueError(f"criterion {c['id']}: exactly one of require / exclude_if")
            if c["on_fail"] not in ("not_eligible", "needs_review"):
                raise ValueError(f"criterion {c['id']}: bad on_fail {c['on_fail']!r}")
            if not c.get("source"):
                raise ValueError(f"criterion {c['id']} has no source")
    return d


@lru_cache(maxsize=1)
def fhir_codes() -> dict:
    """``fhir_codes.yaml``: LOINC → field with unit factors; SNOMED → disease."""
    d = _load("fhir_codes.yaml")
    for code, m in d["loinc"].items():
        if not known_field(m["field"]):
            raise ValueError(f"LOINC {code} maps to unknown field {m['field']!r}")
    return d
