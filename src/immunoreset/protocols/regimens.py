"""Conditioning regimens: named, citable presets and explicit doses (validated specs).

A regimen is a list of doses written as the clinic writes them (mg/kg, mg/m², cGy) on days
relative to graft infusion (day 0). Presets live in ``data/regimens.yaml``, each with the
trial paper it comes from; :func:`conditioning` returns one, optionally with a different ATG
total (the ATG schedule is scaled).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from immunoreset.errors import InputError
from immunoreset.physiology.pharmacology import AGENTS, ATG_AGENTS

#: every conditioning agent the pharmacology knows, plus TBI (one list: pharmacology.AGENTS)
AgentName = Literal[(*AGENTS, "tbi")]  # type: ignore[valid-type]
#: plausible single-dose ceilings by unit (conditioning and comparator doses)
MAX_PER_DOSE = {"mg/kg": 100.0, "mg/m2": 5000.0, "cGy": 400.0}


class Dose(BaseModel):
    """One administration: ``amount`` in ``unit`` on ``day`` (day 0 = graft infusion)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent: AgentName
    amount: float = Field(gt=0, description="dose as written by the clinic")
    unit: Literal["mg/kg", "mg/m2", "cGy"]
    day: float = Field(ge=-30, le=30, description="day relative to graft infusion")
    infusion_hours: float = Field(default=1.0, ge=0, le=24)
    status: str = "explicit"
    reason: str = ""

    @model_validator(mode="after")
    def _check(self) -> Dose:
        if (self.agent == "tbi") != (self.unit == "cGy"):
            raise ValueError(
                f"unit {self.unit!r} does not fit agent {self.agent!r} "
                "(TBI is given in cGy, drugs in mg/kg or mg/m2)"
            )
        cap = MAX_PER_DOSE[self.unit]
        if self.amount > cap:
            raise ValueError(
                f"amount {self.amount} {self.unit} exceeds the plausible single "
                f"dose limit {cap} {self.unit}"
            )
        return self


class GcsfSchedule(BaseModel):
    """G-CSF after infusion: from ``start_day`` for ``days`` days."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_day: float = Field(ge=-5, le=30)
    days: float = Field(ge=0, le=60)
    ug_per_kg_per_day: float = Field(ge=0, le=20)
    status: str = "explicit"
    reason: str = ""


class Conditioning(BaseModel):
    """A conditioning regimen: doses plus post-infusion G-CSF."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "custom"
    title: str = ""
    citation: str = ""
    bibtex_key: str = ""
    doses: tuple[Dose, ...]
    gcsf_after_infusion: GcsfSchedule | None = None

    @property
    def atg_total_mg_per_kg(self) -> float:
        """Total ATG dose (mg/kg), whatever the product."""
        return sum(d.amount for d in self.doses if d.agent in ATG_AGENTS)

    def total(self, agent: str) -> float:
        """Total amount of ``agent`` in its unit."""
        return sum(d.amount for d in self.doses if d.agent == agent)

    def with_atg_total(self, total_mg_per_kg: float) -> Conditioning:
        """The same regimen with the ATG schedule scaled to a new total."""
        if not (0 <= total_mg_per_kg <= 150):
            raise InputError("atg_total_mg_per_kg", total_mg_per_kg, "[0, 150] mg/kg")
        current = self.atg_total_mg_per_kg
        if current == 0:
            raise InputError(
                "atg_total_mg_per_kg",
                total_mg_per_kg,
                f"only for regimens that contain ATG ({self.name} has none)",
            )
        f = total_mg_per_kg / current
        doses = tuple(
            d.model_copy(update={"amount": d.amount * f}) if d.agent in ATG_AGENTS else d
            for d in self.doses
            if not (d.agent in ATG_AGENTS and f == 0)
        )
        return self.model_copy(update={"doses": doses})

    def describe(self) -> str:
        """The regimen in plain words with its citation."""
        lines = [f"{self.name}: {self.title}"]
        for agent in (*AGENTS, "tbi"):
            ds = [d for d in self.doses if d.agent == agent]
            if ds:
                days = ", ".join(f"{d.day:+g}" for d in ds)
                lines.append(
                    f"  {agent}: total {sum(d.amount for d in ds):g} {ds[0].unit} (days {days})"
                )
        if self.gcsf_after_infusion:
            g = self.gcsf_after_infusion
            lines.append(
                f"  G-CSF {g.ug_per_kg_per_day:g} ug/kg/day from day {g.start_day:+g} "
                f"for {g.days:g} days"
            )
        lines.append(f"  source: {self.citation}")
        return "\n".join(lines)


@lru_cache(maxsize=1)
def _presets() -> dict[str, dict]:
    text = resources.files("immunoreset").joinpath("data/regimens.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def regimen_names() -> tuple[str, ...]:
    """Names of the shipped presets."""
    return tuple(_presets())


def preset_defaults(name: str) -> dict:
    """The preset's default graft (source, CD34 selection)."""
    return dict(_raw(name).get("default_graft", {}))


def _raw(name: str) -> dict:
    presets = _presets()
    if name not in presets:
        raise InputError("regimen", name, "one of " + ", ".join(presets))
    return presets[name]


def conditioning(name: str, *, atg_total_mg_per_kg: float | None = None) -> Conditioning:
    """A named preset (see ``immunoreset regimens``), optionally with another ATG total."""
    raw = _raw(name)
    reg = Conditioning(
        name=name,
        title=raw["title"],
        citation=raw["citation"],
        bibtex_key=raw.get("bibtex_key", ""),
        doses=tuple(Dose(**d) for d in raw["doses"]),
        gcsf_after_infusion=GcsfSchedule(**raw["gcsf_after_infusion"])
        if raw.get("gcsf_after_infusion")
        else None,
    )
    if atg_total_mg_per_kg is not None:
        reg = reg.with_atg_total(atg_total_mg_per_kg)
    return reg
