"""Comparator (non-transplant) therapies as dosing schedules.

Named comparators live in ``data/comparators.yaml``, each citing its trial; a trial spec or
the Python API may also give one explicitly (:class:`ComparatorSpec`: a dose repeated
``count`` times every ``every_days`` days, an immunomodulatory ``r0_factor`` and/or an
anti-inflammatory ``activity_factor``). Both are read by the same :class:`ComparatorSpec`,
so a named comparator and its explicit copy simulate identically.

The two non-cytotoxic actions differ in where they act. ``r0_factor`` lowers the
autoreactive families' reproduction ratio, so the load (and the disease with it) falls only
as fast as memory cells turn over (months to years) and stays down. ``activity_factor``
blocks the effector phase: the disease sees that share of the load at once, as a biologic
or a trafficking blocker gives, while the autoreactive clones stay as they are.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from immunoreset.errors import InputError
from immunoreset.physiology.pharmacology import AGENTS
from immunoreset.protocols.regimens import MAX_PER_DOSE

#: drugs a comparator can give (the conditioning agents the pharmacology knows; no TBI)
ComparatorAgent = Literal[AGENTS]  # type: ignore[valid-type]


class ComparatorDose(BaseModel):
    """The repeated administration of a comparator therapy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent: ComparatorAgent
    amount: float = Field(gt=0, description="dose per administration as written by the clinic")
    unit: Literal["mg/kg", "mg/m2"]
    infusion_hours: float = Field(default=1.0, gt=0, le=24)

    @model_validator(mode="after")
    def _check(self) -> ComparatorDose:
        cap = MAX_PER_DOSE[self.unit]
        if self.amount > cap:
            raise ValueError(f"amount {self.amount} {self.unit} exceeds the plausible single "
                             f"dose limit {cap} {self.unit}")
        return self


class ScheduledDose(ComparatorDose):
    """One administration of a comparator therapy (day 0 = first treatment)."""

    day: float = Field(ge=0, le=3650)


class ComparatorSpec(BaseModel):
    """A comparator therapy as written in ``data/comparators.yaml`` or in a trial spec:
    ``dose`` given ``count`` times every ``every_days`` days from day 0, an immunomodulatory
    ``r0_factor`` and/or an anti-inflammatory ``activity_factor`` (each with the reason for
    its value)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    title: str = ""
    citation: str = Field(min_length=1, description="where the schedule comes from")
    dose: ComparatorDose | None = None
    every_days: float = Field(default=0.0, ge=0, le=365)
    count: int = Field(default=0, ge=0, le=120)
    r0_factor: float = Field(default=1.0, gt=0, le=1)
    r0_factor_source: str = ""
    activity_factor: float = Field(
        default=1.0, gt=0, le=1,
        description="share of the autoreactive load whose inflammation reaches the tissues "
                    "while on the therapy (1 - its anti-inflammatory efficacy); acts at once, "
                    "leaves the autoreactive clones as they are")
    activity_factor_source: str = ""

    @model_validator(mode="after")
    def _check(self) -> ComparatorSpec:
        if self.dose is not None and self.count < 1:
            raise ValueError("count must be >= 1 when a dose is given")
        if self.dose is None and self.count > 0:
            raise ValueError("count > 0 needs a dose")
        if self.count > 1 and self.every_days <= 0:
            raise ValueError("every_days must be > 0 for repeated doses")
        if self.r0_factor != 1.0 and not self.r0_factor_source.strip():
            raise ValueError("r0_factor_source must say where an r0_factor below 1 comes from")
        if self.activity_factor != 1.0 and not self.activity_factor_source.strip():
            raise ValueError("activity_factor_source must say where an activity_factor below "
                             "1 comes from")
        return self

    def to_comparator(self) -> Comparator:
        """The dosing schedule the engine reads."""
        doses: tuple[ScheduledDose, ...] = ()
        if self.dose is not None:
            doses = tuple(ScheduledDose(**self.dose.model_dump(), day=i * self.every_days)
                          for i in range(self.count))
        return Comparator(name=self.name, title=self.title or self.name,
                          citation=self.citation, doses=doses, r0_factor=self.r0_factor,
                          r0_factor_source=self.r0_factor_source,
                          activity_factor=self.activity_factor,
                          activity_factor_source=self.activity_factor_source)


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
    #: anti-inflammatory action: the share of the autoreactive load whose inflammation reaches
    #: the tissues while on the therapy (``1 − efficacy``), from day 0, acting at once
    activity_factor: float = Field(default=1.0, gt=0, le=1)
    activity_factor_source: str = ""

    def describe(self) -> str:
        """Plain-words description: schedule, immunomodulation and citation."""
        lines = [f"{self.name}: {self.title}"]
        if self.doses:
            d = self.doses[0]
            days = ", ".join(f"{x.day:g}" for x in self.doses)
            lines.append(f"  {d.agent}: {d.amount:g} {d.unit} x {len(self.doses)} "
                         f"(days {days})")
        if self.r0_factor != 1.0:
            lines.append(f"  immunomodulation: autoreactive R0 x {self.r0_factor:g}")
        if self.activity_factor != 1.0:
            lines.append(f"  anti-inflammatory: disease activity x {self.activity_factor:g} "
                         "(the autoreactive load is untouched)")
        lines.append(f"  source: {self.citation}")
        return "\n".join(lines)


@lru_cache(maxsize=1)
def _raw() -> dict:
    text = resources.files("immunoreset").joinpath("data/comparators.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def comparator_names() -> tuple[str, ...]:
    """Shipped comparator names."""
    return tuple(_raw())


def _comparator_kind(v: object) -> str:
    return "named" if isinstance(v, str) else "schedule"


#: a comparator field: a shipped name or an explicit :class:`ComparatorSpec` (errors in the
#: latter name its fields, not a failed string alternative)
ComparatorField = Annotated[
    Annotated[str, Tag("named")] | Annotated[ComparatorSpec, Tag("schedule")],
    Discriminator(_comparator_kind),
]


def comparator(name: str) -> Comparator:
    """The named comparator schedule."""
    raw = _raw()
    if name not in raw:
        raise InputError("comparator", name, "one of " + ", ".join(raw))
    return ComparatorSpec(name=name, **raw[name]).to_comparator()
