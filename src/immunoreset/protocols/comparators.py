"""Comparator (non-transplant) therapies as dosing schedules (``data/comparators.yaml``)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field

from immunoreset.errors import InputError


class ScheduledDose(BaseModel):
    """One administration of a comparator therapy (day 0 = first treatment)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent: str
    amount: float = Field(gt=0)
    unit: str
    day: float = Field(ge=0, le=3650)
    infusion_hours: float = Field(default=1.0, gt=0, le=24)


class Comparator(BaseModel):
    """A named comparator: repeated doses, no graft."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str
    citation: str
    doses: tuple[ScheduledDose, ...]
    #: immunomodulation without cytotoxic doses (disease-modifying therapy): multiplies the
    #: reproduction ratio of every autoreactive family from day 0 (``1 − efficacy``)
    r0_factor: float = Field(default=1.0, gt=0, le=1)
    r0_factor_source: str = ""

    def describe(self) -> str:
        """Plain-words description with citation."""
        return f"{self.name}: {self.title}\n  source: {self.citation}"


@lru_cache(maxsize=1)
def _raw() -> dict:
    text = resources.files("immunoreset").joinpath("data/comparators.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def comparator_names() -> tuple[str, ...]:
    """Shipped comparator names."""
    return tuple(_raw())


def comparator(name: str) -> Comparator:
    """The named comparator schedule."""
    raw = _raw()
    if name not in raw:
        raise InputError("comparator", name, "one of " + ", ".join(raw))
    r = raw[name]
    doses = ()
    if r["dose"]:
        doses = tuple(ScheduledDose(**r["dose"], day=i * r["every_days"])
                      for i in range(int(r["count"])))
    return Comparator(name=name, title=r["title"], citation=r["citation"], doses=doses,
                      r0_factor=float(r.get("r0_factor", 1.0)),
                      r0_factor_source=str(r.get("r0_factor_source", "")))
