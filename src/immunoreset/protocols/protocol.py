"""A transplant protocol: graft source and collection, graft processing, conditioning."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from immunoreset.errors import InputError
from immunoreset.protocols.comparators import (
    Comparator,
    ComparatorField,
    ComparatorSpec,
    comparator,
)
from immunoreset.protocols.graft_processing import GraftProcessingSpec
from immunoreset.protocols.mobilisation import ApheresisSpec, HarvestSpec, MobilisationSpec
from immunoreset.protocols.regimens import Conditioning, conditioning, preset_defaults

#: allogeneic donor types
Donor = Literal["matched_sibling", "matched_unrelated", "haploidentical", "cord_blood"]


class Protocol(BaseModel):
    """Everything done to the patient, from mobilisation to infusion.

    Either ``regimen`` (a named preset, see ``immunoreset regimens``) or ``conditioning``
    (explicit doses). ``cd34_dose_per_kg`` fixes the infused viable CD34⁺/kg for everyone;
    otherwise the dose follows from mobilisation, apheresis/harvest and processing.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    regimen: str | None = "cy200_ratg"
    comparator: ComparatorField | None = Field(
        default=None,
        description="a named comparator (`data/comparators.yaml`) or an explicit schedule")
    conditioning_spec: Conditioning | None = Field(default=None, alias="conditioning")
    atg_total_mg_per_kg: float | None = Field(default=None, ge=0, le=150)
    graft_source: Literal["pbsc", "bone_marrow", "cord_blood"] = "pbsc"
    cd34_selection: bool | None = None
    cryopreserved: bool = True
    cd34_dose_per_kg: float | None = Field(default=None, gt=0)
    allogeneic: bool = False
    donor: Donor | None = Field(
        default=None,
        description="allogeneic donor type (sets allogeneic); cord_blood needs a cord_blood graft")
    centre_autoimmune_transplants: int | None = Field(
        default=None, ge=0, le=10000,
        description="autoimmune transplants done by the centre (CIBMTR volume categories); "
                    "None = an experienced centre (> 15)")
    mobilisation: MobilisationSpec = Field(
        default_factory=lambda: MobilisationSpec.cy_gcsf(cy_g_per_m2=2.0)
    )
    apheresis: ApheresisSpec = Field(default_factory=ApheresisSpec)
    harvest: HarvestSpec = Field(default_factory=HarvestSpec)

    @model_validator(mode="before")
    @classmethod
    def _donor_defaults(cls, data: Any) -> Any:
        """A named donor makes the graft allogeneic; a healthy donor is mobilised with G-CSF
        alone (no cyclophosphamide) unless a mobilisation is given."""
        if isinstance(data, dict) and data.get("donor") is not None:
            data = dict(data)
            data.setdefault("allogeneic", True)
            if "mobilisation" not in data:
                data["mobilisation"] = MobilisationSpec.gcsf_alone()
        return data

    @model_validator(mode="after")
    def _check(self) -> Protocol:
        if self.comparator is not None:
            _ = self.comparator_schedule  # raises InputError for an unknown name
            return self
        if self.regimen is None and self.conditioning_spec is None:
            raise InputError("regimen", None, "a preset name or explicit conditioning doses")
        if self.regimen is not None:
            conditioning(self.regimen)  # raises InputError for an unknown name
        if self.cd34_dose_per_kg is not None and not (1e4 <= self.cd34_dose_per_kg <= 1e8):
            raise InputError(
                "cd34_dose_per_kg", self.cd34_dose_per_kg, "[1e4, 1e8] infused CD34+ cells/kg"
            )
        if self.graft_source == "cord_blood" and self.donor != "cord_blood":
            raise InputError("graft_source", "cord_blood",
                             "pbsc or bone_marrow unless donor is cord_blood")
        if self.donor == "cord_blood" and self.graft_source != "cord_blood":
            raise InputError("donor", "cord_blood", "a cord_blood graft_source")
        if self.allogeneic and self.donor is None:
            raise InputError("donor", None, "matched_sibling, matched_unrelated, haploidentical "
                             "or cord_blood for an allogeneic graft")
        if self.donor is not None and not self.allogeneic:
            raise InputError("allogeneic", False, "true when a donor is given")
        return self

    @property
    def is_transplant(self) -> bool:
        """False for a comparator arm (no graft)."""
        return self.comparator is None

    @property
    def comparator_schedule(self) -> Comparator:
        """The comparator therapy (only for comparator arms)."""
        if self.comparator is None:
            raise InputError("comparator", None, "set for a comparator arm")
        if isinstance(self.comparator, ComparatorSpec):
            return self.comparator.to_comparator()
        return comparator(self.comparator)

    @property
    def comparator_name(self) -> str | None:
        """The comparator's name (named or explicit); None for a transplant."""
        if isinstance(self.comparator, ComparatorSpec):
            return self.comparator.name
        return self.comparator

    @property
    def conditioning(self) -> Conditioning:
        """The resolved conditioning regimen."""
        if self.conditioning_spec is not None:
            reg = self.conditioning_spec
        else:
            reg = conditioning(self.regimen)  # type: ignore[arg-type]
        if self.atg_total_mg_per_kg is not None:
            reg = reg.with_atg_total(self.atg_total_mg_per_kg)
        return reg

    @property
    def processing(self) -> GraftProcessingSpec:
        """Graft processing, with the preset's default CD34 selection when not given."""
        sel = self.cd34_selection
        if sel is None:
            sel = (
                bool(preset_defaults(self.regimen).get("cd34_selection", False))
                if self.regimen
                else False
            )
        return GraftProcessingSpec(cd34_selection=sel, cryopreserved=self.cryopreserved)

    def describe(self) -> str:
        """Plain-words description."""
        if not self.is_transplant:
            # a comparator arm names its centre only where a spec gave it
            extra = "" if self.centre_autoimmune_transplants is None else \
                self._describe_centre()
            return self.comparator_schedule.describe() + extra
        p = self.processing
        lines = [
            self.conditioning.describe(),
            f"graft: {self.graft_source}"
            f"{f' from a {self.donor} donor (allogeneic)' if self.donor else ' (autologous)'}, "
            f"CD34 selection {'yes' if p.cd34_selection else 'no'},"
            f" {'cryopreserved' if p.cryopreserved else 'fresh'}",
        ]
        if self.cd34_dose_per_kg:
            lines.append(f"infused CD34+ fixed at {self.cd34_dose_per_kg:.3g}/kg")
        return "\n".join(lines) + self._describe_centre()

    @property
    def centre_category(self) -> str | None:
        """The CIBMTR centre-experience category of ``centre_autoimmune_transplants``:
        ``"lt5"`` (< 5), ``"5_15"`` or ``None`` for an experienced centre (> 15, or not
        given); its relative risk is ``complications.centre_rr_<category>``."""
        n = self.centre_autoimmune_transplants
        if n is None or n > 15:
            return None
        return "lt5" if n < 5 else "5_15"

    def _describe_centre(self) -> str:
        """The centre-experience line (treatment-related death hazards; CIBMTR categories)."""
        cat = self.centre_category
        if cat is None:
            what = "experienced (> 15 autoimmune transplants; reference death hazards)"
        else:
            label = "< 5" if cat == "lt5" else "5-15"
            what = (f"{self.centre_autoimmune_transplants} autoimmune transplants ({label}: "
                    f"treatment-related death hazards x complications.centre_rr_{cat})")
        return f"\ncentre: {what}"
