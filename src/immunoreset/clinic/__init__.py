"""Decision support for one patient (research use only; not a medical device).

* :func:`assess` — eligibility, HCT-CI and comorbidity/age index, individual forecasts
  from digital twins, and protocol plans, in one :class:`Assessment`;
* :class:`ClinicalRecord`, :func:`load_record`, :func:`record_from_fhir` — the patient;
* :func:`evaluate_eligibility`, :func:`hct_ci`, :func:`comorbidity_age`,
  :func:`plan_protocol` — the parts, usable alone.
"""

from immunoreset.clinic.assess import Assessment, assess
from immunoreset.clinic.eligibility import Eligibility, evaluate_eligibility
from immunoreset.clinic.fhir import record_from_fhir
from immunoreset.clinic.planner import Plan, plan_protocol
from immunoreset.clinic.record import ClinicalRecord, Comorbidities, load_record
from immunoreset.clinic.scores import comorbidity_age, hct_ci

__all__ = [
    "Assessment", "ClinicalRecord", "Comorbidities", "Eligibility", "Plan", "assess",
    "comorbidity_age", "evaluate_eligibility", "hct_ci", "load_record", "plan_protocol",
    "record_from_fhir",
]
