"""Guideline eligibility of one patient for autologous HSCT, criterion by criterion.

The criteria are data (``data/selection/eligibility.yaml``: EBMT 2012 indication
categories, EBMT 2025 rheumatic-disease and SSc recommendations, EBMT 2017 SSc cardiopulmonary
thresholds, ECTRIMS-EBMT / ASTCT MS criteria, trial-level rules where no guideline number
exists), each with its source. Statuses, from best to worst: ``eligible``, ``needs_review``,
``not_eligible``. A criterion that cannot be evaluated because a value is not recorded makes
the assessment ``needs_review`` (never ``eligible``). Criteria with ``applies_to`` depend
on the protocol (e.g. the PAH exclusion of cyclophosphamide 200 mg/kg protocols); the
patient's status is the best over the candidate protocols, each protocol's status is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from immunoreset.clinic.data import eligibility_data
from immunoreset.clinic.record import ClinicalRecord
from immunoreset.clinic.rules import describe, evaluate
from immunoreset.protocols import Protocol

STATUSES = ("eligible", "needs_review", "not_eligible")


def _worst(a: str, b: str) -> str:
    return a if STATUSES.index(a) >= STATUSES.index(b) else b


@dataclass(frozen=True)
class Reason:
    """One criterion's verdict with the patient's values, the threshold and the source."""

    criterion: str
    text: str
    result: str  # met | not_met | unknown
    effect: str  # eligible (no effect) | needs_review | not_eligible
    values: dict
    threshold: str
    source: str
    protocols: tuple[str, ...] | None = None  # None: every protocol
    note: str = ""

    def to_dict(self) -> dict:
        return {"criterion": self.criterion, "text": self.text, "result": self.result,
                "effect": self.effect, "values": self.values, "threshold": self.threshold,
                "source": self.source, "applies_to_protocols": list(self.protocols)
                if self.protocols is not None else "all", "note": self.note}

    def line(self) -> str:
        vals = ", ".join(f"{k}={'not recorded' if v is None else v}"
                         for k, v in self.values.items())
        return (f"[{self.effect}] {self.criterion}: {self.result} ({vals}; threshold "
                f"{self.threshold}) - {self.source}")


@dataclass(frozen=True)
class Eligibility:
    """Overall status, the per-protocol statuses, and every criterion's reason."""

    status: str
    by_protocol: dict[str, str]
    reasons: tuple[Reason, ...]
    indication: dict
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"status": self.status, "by_protocol": self.by_protocol,
                "indication": self.indication,
                "reasons": [r.to_dict() for r in self.reasons
                            if r.effect != "eligible"],
                "criteria_met": [r.to_dict() for r in self.reasons if r.effect == "eligible"],
                "notes": list(self.notes)}


def _applies(crit: dict, protocol: Protocol) -> bool:
    a = crit.get("applies_to")
    if a is None:
        return True
    if not protocol.is_transplant:
        return False
    reg = protocol.conditioning
    total = sum(d.amount for d in reg.doses if d.agent == a["agent"] and d.unit == "mg/kg")
    return total >= float(a["total_mg_per_kg_ge"])


def _lookup(record: ClinicalRecord, extra: dict):
    def f(name: str):
        return extra[name] if name in extra else record.value(name)
    return f


def _judge(crit: dict, lookup) -> Reason:
    kind = "require" if "require" in crit else "exclude_if"
    ev = evaluate(crit[kind], lookup)
    unit = crit.get("unit", "")
    thr = describe(crit[kind]) + (f" [{unit}]" if unit else "")
    thr = ("must hold: " if kind == "require" else "excluded if: ") + thr
    note = crit.get("on_fail_note", "")
    if ev.value is None:
        return Reason(crit["id"], crit["text"], "unknown", "needs_review", ev.values, thr,
                      crit["source"], note=f"not recorded: {', '.join(ev.missing)}")
    passed = ev.value if kind == "require" else not ev.value
    if passed:
        return Reason(crit["id"], crit["text"], "met", "eligible", ev.values, thr,
                      crit["source"])
    effect = crit["on_fail"]
    if effect == "not_eligible" and "unless" in crit:
        ex = evaluate(crit["unless"], lookup)
        if ex.value is not False:  # exception holds, or is not recorded: a board decides
            effect = "needs_review"
            note = (crit.get("unless_text", "") + ("" if ex.value else
                    f" (exception not recorded: {', '.join(ex.missing)})")).strip()
    return Reason(crit["id"], crit["text"], "not_met", effect, ev.values, thr, crit["source"],
                  note=note)


def evaluate_eligibility(record: ClinicalRecord, protocols: Sequence[Protocol] | None = None,
                         *, names: Sequence[str] | None = None,
                         hct_ci_complete: bool | None = None) -> Eligibility:
    """Judge ``record`` against the guideline criteria of its disease.

    ``protocols`` are the candidate transplant protocols (named by ``names``); criteria that
    depend on the protocol are judged per protocol. ``hct_ci_complete`` (whether every
    HCT-CI item is recorded) is computed when not given.
    """
    if hct_ci_complete is None:
        from immunoreset.clinic.scores import hct_ci

        hct_ci_complete = hct_ci(record).complete
    protocols = [p for p in (protocols or [Protocol()]) if p.is_transplant] or [Protocol()]
    names = list(names) if names else [p.regimen or p.conditioning.name for p in protocols]
    data = eligibility_data()
    dis = data["diseases"][record.disease]
    crits = list(data["general_all"]["criteria"])
    if record.disease in data["general_rmd"]["diseases"]:
        crits = list(data["general_rmd"]["criteria"]) + crits
    crits += dis["criteria"]
    lookup = _lookup(record, {"hct_ci_complete": hct_ci_complete})
    reasons: list[Reason] = []
    by_protocol = dict.fromkeys(names, "eligible")
    for c in crits:
        r = _judge(c, lookup)
        applies = [n for n, p in zip(names, protocols, strict=True) if _applies(c, p)]
        if "applies_to" in c:
            r = Reason(**{**r.__dict__, "protocols": tuple(applies)})
        reasons.append(r)
        for n in applies:
            by_protocol[n] = _worst(by_protocol[n], r.effect)
    status = min(by_protocol.values(), key=STATUSES.index)
    notes = [dis["note"]] if dis.get("note") else []
    ind = dis["indication"]
    if ind["category"].startswith("D"):
        notes.append(f"EBMT indication category {ind['category']} (developmental): "
                     f"{ind['source']}")
    return Eligibility(status=status, by_protocol=by_protocol,
                       reasons=tuple(reasons), indication=dict(ind), notes=tuple(notes))
