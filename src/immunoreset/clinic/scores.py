"""HCT-CI (Sorror, Blood 2005) item by item, and the comorbidity/age index (Sorror, JCO 2014).

Items, weights and thresholds are data (``data/selection/hct_ci.yaml``, each with its
source). An item whose inputs are not recorded is *unknown*: it scores 0 here and is listed,
with the score it could reach (``score_max``) if every unknown item were present.
"""

from __future__ import annotations

from dataclasses import dataclass

from immunoreset.clinic.data import hct_ci_data
from immunoreset.clinic.record import ClinicalRecord
from immunoreset.clinic.rules import describe, evaluate


@dataclass(frozen=True)
class ScoreItem:
    """One HCT-CI item: present / absent / unknown, its points and why."""

    id: str
    weight: int
    status: str  # present | absent | unknown | superseded
    points: int
    reason: str
    values: dict
    source: str

    def to_dict(self) -> dict:
        return {"item": self.id, "weight": self.weight, "status": self.status,
                "points": self.points, "reason": self.reason, "values": self.values,
                "source": self.source}


@dataclass(frozen=True)
class HctCi:
    """The HCT-CI of one record."""

    score: int
    score_max: int
    items: tuple[ScoreItem, ...]
    risk_group: str
    citation: str

    @property
    def unknown_items(self) -> list[str]:
        return [i.id for i in self.items if i.status == "unknown"]

    @property
    def complete(self) -> bool:
        return not self.unknown_items

    def to_dict(self) -> dict:
        return {"score": self.score, "score_if_unknown_items_present": self.score_max,
                "complete": self.complete, "unknown_items": self.unknown_items,
                "risk_group": self.risk_group,
                "risk_group_context": "Sorror 2005 groups (allogeneic HCT for haematological "
                "malignancy); no validation in autologous HSCT for autoimmune disease found",
                "items": [i.to_dict() for i in self.items], "citation": self.citation}


@dataclass(frozen=True)
class ComorbidityAge:
    """HCT-CI/age (Sorror 2014): HCT-CI + 1 if age >= 40."""

    score: int
    age_points: int
    risk_group: str
    reason: str
    citation: str

    def to_dict(self) -> dict:
        return {"score": self.score, "age_points": self.age_points,
                "risk_group": self.risk_group, "reason": self.reason,
                "citation": self.citation}


def _group(score: int, groups: list[dict]) -> str:
    for g in groups:
        if g["min"] <= score <= g["max"]:
            return g["group"]
    raise ValueError(f"score {score} outside every risk group")


def hct_ci(record: ClinicalRecord) -> HctCi:
    """Score the HCT-CI item by item (tiers: the higher hepatic/pulmonary tier wins)."""
    data = hct_ci_data()
    evals = {it["id"]: evaluate(it["present_if"], record.value) for it in data["items"]}
    items = []
    for it in data["items"]:
        ev = evals[it["id"]]
        cond = describe(it["present_if"])
        sup = it.get("superseded_by")
        if ev.value is True and sup and evals[sup].value is True:
            status, pts = "superseded", 0
            reason = f"criteria met ({'; '.join(ev.fired)}) but the higher tier {sup} applies"
        elif ev.value is True:
            status, pts = "present", int(it["weight"])
            reason = f"present: {'; '.join(ev.fired)}"
        elif ev.value is False:
            status, pts = "absent", 0
            reason = f"absent: not {cond}"
        else:
            status, pts = "unknown", 0
            reason = f"unknown: not recorded {', '.join(ev.missing)} (needed for {cond})"
        items.append(ScoreItem(id=it["id"], weight=int(it["weight"]), status=status,
                               points=pts, reason=reason, values=ev.values,
                               source=it["source"]))
    score = sum(i.points for i in items)
    # the most the score could be if every unknown item were present (tiers respected)
    best = {i.id: i.points for i in items}
    for i in items:
        if i.status == "unknown":
            best[i.id] = i.weight
    for it in data["items"]:
        sup = it.get("superseded_by")
        if sup and best[it["id"]] and best[sup]:
            best[it["id"]] = 0
    idx = data["index"]
    return HctCi(score=score, score_max=sum(best.values()), items=tuple(items),
                 risk_group=_group(score, idx["risk_groups"]),
                 citation="Sorror ML et al. Blood 2005;106(8):2912-2919. "
                          "doi:10.1182/blood-2005-05-2004")


def comorbidity_age(record: ClinicalRecord, hci: HctCi | None = None) -> ComorbidityAge:
    """HCT-CI/age index: HCT-CI plus 1 point at age >= 40 years (Sorror JCO 2014)."""
    hci = hci or hct_ci(record)
    d = hct_ci_data()["comorbidity_age"]
    thr = d["age_threshold_years"]
    pts = int(d["age_points"]) if record.age_years >= thr else 0
    score = hci.score + pts
    reason = (f"HCT-CI {hci.score} + {pts} (age {record.age_years:g} "
              f"{'>=' if pts else '<'} {thr} years)")
    return ComorbidityAge(score=score, age_points=pts,
                          risk_group=_group(score, d["risk_groups"]), reason=reason,
                          citation="Sorror ML et al. J Clin Oncol 2014;32(29):3249-3256. "
                                   "doi:10.1200/JCO.2013.53.8157")
