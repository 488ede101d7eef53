"""Stem-cell collection: mobilisation and apheresis, bone-marrow harvest, or a cord-blood unit.

One verb, :func:`collect`, turns patient covariates and a protocol into the collected graft
(:class:`Collection`: CD34+, CD3+ and CD19+ cells per kg) for the graft sources of
:data:`immunoreset.vocabulary.GRAFT_SOURCES`. Graft processing (CD34 selection,
cryopreservation) is :func:`immunoreset.protocols.graft_processing.process`.

Model (research basis: ``model_gaps.md`` §1; every number is a registry parameter, see
``data/parameters.yaml``):

* **PB CD34+ course** (cells/µL) is an empirical unimodal curve, no mechanistic model having
  been published::

      CD34(t) = b + (P - b) · g(t),   g(t) = (t/tp)^a · exp(a (1 - t/tp)),   g(tp) = 1

  with baseline ``b``, peak ``P`` on day ``tp`` (day 1 = first G-CSF dose, or the CY day).
  The median peak is anchored to published medians: G-CSF alone in donors (79/µL, Blood
  2008;112:2092) times a patient factor; CY + G-CSF log-linear between 35/µL at 1.5 g/m² and
  160/µL at 3–4 g/m² (PMID 22248715), flat from 2.5 g/m² (PMID 27640002), times an
  autoimmune-vs-myeloma factor calibrated to Kyrcz-Krzemień 2016. Covariates multiply the
  peak: G-CSF dose ``(dose/10)^β``, age ``exp(s (age - age_ref))``, female sex, disease
  (MS = 1, SLE lowest; Blood 2005;106:1980, Statkute 2007); the inter-individual variability
  is log-normal. Plerixafor multiplies PB CD34+ on every apheresis day by a log-normal fold
  (median 3.1, PMID 22080963).
* **Apheresis** on consecutive days from ``tp``: yield per session (cells/kg) =
  ``CE2 · CD34(t) [cells/µL] · 1e6 µL/L · V [L] / W [kg]`` (Neyrinck, J Clin Apher
  2015;30:38), CE2 log-normal around 0.51 (autologous) or 0.58 (allogeneic), ``V`` = blood
  volumes processed × Nadler blood volume (Nadler, Surgery 1962;51:224). Sessions stop when
  the cumulative yield reaches the target or after ``max_sessions``. CD3+/CD19+ collected are
  proportional to litres processed (G-CSF donor figures per litre; lower after CY).
* **Bone marrow**: volume (mL/kg) × nucleated cells per mL × CD34+/CD3+/CD19+ fractions.
* **Cord blood** (allogeneic only): TNC per kg recipient × CD34+/CD3+/CD19+ fractions.

Randomness: the functions never draw. Each patient brings its own row of :data:`N_DRAWS`
standard normal variates ``z[k]`` (drawn from that patient's stream upstream), so patient
``k``'s collection depends only on row ``k`` of every input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from immunoreset.errors import InputError, check_range
from immunoreset.parameters import ParameterSet
from immunoreset.vocabulary import DISEASES, GRAFT_SOURCES, canonical_disease

__all__ = [
    "N_DRAWS",
    "ApheresisSpec",
    "Collection",
    "FrozenSpec",
    "HarvestSpec",
    "MobilisationSpec",
    "apheresis_yield_per_kg",
    "blood_volume_L",
    "collect",
    "peak_pb_cd34_per_uL",
]

#: Standard-normal variates consumed per patient (columns of ``z``).
N_DRAWS = 5
#: Column of ``z``: PB CD34+ peak (pbsc), CD34+ per mL (bone_marrow), TNC per kg (cord_blood).
Z_CONTENT = 0
#: Column of ``z``: collection efficiency CE2 (pbsc), CD34+ fraction of TNC (cord_blood).
Z_EFFICIENCY = 1
#: Column of ``z``: plerixafor fold rise (pbsc with plerixafor).
Z_PLERIXAFOR = 2
#: Column of ``z``: CD3+ content.
Z_CD3 = 3
#: Column of ``z``: CD19+ content.
Z_CD19 = 4

UL_PER_L = 1e6  # µL per litre: cells/µL × L → cells
CM_PER_M = 100.0

_P = "mobilisation."


# ---------------------------------------------------------------------------------------------
# Protocol specifications
# ---------------------------------------------------------------------------------------------
class FrozenSpec(BaseModel):
    """Base of the protocol specs: frozen, no extra fields, errors raised as :class:`InputError`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _input_error(type(self), exc) from None


def _input_error(cls: type[BaseModel], exc: ValidationError) -> InputError:
    """The first pydantic error as an :class:`InputError` naming the field and allowed values."""
    err = exc.errors()[0]
    inner = err.get("ctx", {}).get("error")
    if isinstance(inner, InputError):
        return inner
    field = ".".join(str(part) for part in err["loc"]) or cls.__name__
    if err["type"] == "extra_forbidden":
        return InputError(field, err.get("input"), "one of " + ", ".join(cls.model_fields))
    return InputError(field, err.get("input"), err["msg"])


class MobilisationSpec(FrozenSpec):
    """How stem cells are mobilised into the blood before apheresis."""

    cyclophosphamide_g_per_m2: float = 2.0
    """Cyclophosphamide dose (g/m², total): 0 (G-CSF alone) or 1–4."""
    gcsf_ug_per_kg_per_day: float = 10.0
    """G-CSF (filgrastim) dose, µg/kg/day, 0–20."""
    plerixafor: bool = False
    """Plerixafor the evening before each apheresis."""

    CY_RANGE: ClassVar[tuple[float, float]] = (1.0, 4.0)
    GCSF_RANGE: ClassVar[tuple[float, float]] = (0.0, 20.0)

    @field_validator("cyclophosphamide_g_per_m2")
    @classmethod
    def _check_cy(cls, v: float) -> float:
        lo, hi = cls.CY_RANGE
        if v == 0.0 or (math.isfinite(v) and lo <= v <= hi):
            return float(v)
        raise InputError("cyclophosphamide_g_per_m2", v, f"0 or [{lo}, {hi}] g/m2")

    @field_validator("gcsf_ug_per_kg_per_day")
    @classmethod
    def _check_gcsf(cls, v: float) -> float:
        return check_range("gcsf_ug_per_kg_per_day", v, *cls.GCSF_RANGE, unit="ug/kg/day")

    @classmethod
    def cy_gcsf(
        cls,
        cy_g_per_m2: float = 2.0,
        gcsf_ug_per_kg_per_day: float = 10.0,
        *,
        plerixafor: bool = False,
    ) -> MobilisationSpec:
        """Cyclophosphamide + G-CSF, the usual autoimmune regimen (CY 2 g/m² + G-CSF 10 µg/kg).

        Kyrcz-Krzemień S et al. Hematology 2016;21(1):42 (MS, CY 2 g/m² + G-CSF 10 µg/kg).
        doi:10.1179/1607845415Y.0000000049. Also Statkute L, …, Burt RK. Bone Marrow Transplant
        2007;39(6):317 (Northwestern: CY 2 g/m² + G-CSF 5 or 10 µg/kg).
        """
        return cls(
            cyclophosphamide_g_per_m2=cy_g_per_m2,
            gcsf_ug_per_kg_per_day=gcsf_ug_per_kg_per_day,
            plerixafor=plerixafor,
        )

    @classmethod
    def astis(cls) -> MobilisationSpec:
        """CY 4 g/m² (2 × 2 g/m²) + G-CSF 10 µg/kg/day, as in ASTIS and ASTIC.

        van Laar JM et al. Autologous hematopoietic stem cell transplantation vs intravenous
        pulse cyclophosphamide in diffuse cutaneous systemic sclerosis: a randomized clinical
        trial. JAMA 2014;311(24):2490. doi:10.1001/jama.2014.6368 (mobilisation per
        evidence/trials/astis.yaml; ASTIC: Hawkey CJ et al. JAMA 2015;314(23):2524).
        """
        return cls(cyclophosphamide_g_per_m2=4.0, gcsf_ug_per_kg_per_day=10.0)

    @classmethod
    def gcsf_alone(
        cls, gcsf_ug_per_kg_per_day: float = 10.0, *, plerixafor: bool = False
    ) -> MobilisationSpec:
        """G-CSF alone (filgrastim 10 µg/kg/day s.c., apheresis on day 5).

        The kinetics of G-CSF mobilization of CD34+ cells in healthy people. Transfus Med
        1997;7(1):19–24; day-5 counts: Blood 2008;112(5):2092 (639 donors). With plerixafor:
        DiPersio JF et al. J Clin Oncol 2009;27(28):4767. doi:10.1200/JCO.2008.20.7209.
        """
        return cls(
            cyclophosphamide_g_per_m2=0.0,
            gcsf_ug_per_kg_per_day=gcsf_ug_per_kg_per_day,
            plerixafor=plerixafor,
        )


class ApheresisSpec(FrozenSpec):
    """How apheresis is run: volume per session, CD34+ target and maximum number of sessions."""

    blood_volumes_processed: float = 3.0
    """Patient blood volumes processed per session, 1–6."""
    target_cd34_per_kg: float = 5e6
    """Collection stops once the cumulative CD34+/kg reaches this, 1e6–2e7."""
    max_sessions: int = 4
    """At most this many daily sessions, 1–6."""

    @field_validator("blood_volumes_processed")
    @classmethod
    def _check_volumes(cls, v: float) -> float:
        return check_range("blood_volumes_processed", v, 1.0, 6.0, unit="blood volumes")

    @field_validator("target_cd34_per_kg")
    @classmethod
    def _check_target(cls, v: float) -> float:
        return check_range("target_cd34_per_kg", v, 1e6, 2e7, unit="CD34+ cells/kg")

    @field_validator("max_sessions")
    @classmethod
    def _check_sessions(cls, v: int) -> int:
        return int(check_range("max_sessions", v, 1, 6, unit="sessions"))

    @classmethod
    def standard(cls, target_cd34_per_kg: float = 5e6) -> ApheresisSpec:
        """Three blood volumes per session, ≥ 5e6 CD34+/kg in at most 4 sessions.

        Target and session limit as the "optimal collection" endpoint of DiPersio JF et al.
        J Clin Oncol 2009;27(28):4767 (doi:10.1200/JCO.2008.20.7209); ≈ 3 blood volumes (15 L)
        as in the worked example of Neyrinck MM et al. Calculations in apheresis. J Clin Apher
        2015;30:38–42.
        """
        return cls(
            blood_volumes_processed=3.0, target_cd34_per_kg=target_cd34_per_kg, max_sessions=4
        )


class HarvestSpec(FrozenSpec):
    """Bone-marrow harvest: volume of marrow aspirated per kg of recipient weight."""

    volume_mL_per_kg: float = 15.0
    """Marrow harvested, mL per kg recipient weight, 5–25."""

    @field_validator("volume_mL_per_kg")
    @classmethod
    def _check_volume(cls, v: float) -> float:
        return check_range("volume_mL_per_kg", v, 5.0, 25.0, unit="mL/kg")

    @classmethod
    def standard(cls) -> HarvestSpec:
        """15 mL/kg, the middle of the usual 10–20 mL/kg.

        Barrett J, Treleaven J. Marrow collection and processing. In: The Clinical Practice of
        Stem-Cell Transplantation. doi:10.3109/9780203025079-40.
        """
        return cls(volume_mL_per_kg=15.0)


# ---------------------------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Collection:
    """The collected graft, one entry per patient (before processing).

    Per-kg figures are per kg of the recipient (the patient, unless ``recipient_weight_kg``
    was given). Fields that do not apply to the graft source are NaN.
    """

    source: str
    """Graft source (``pbsc``, ``bone_marrow`` or ``cord_blood``)."""
    collected_cd34_per_kg: NDArray[np.float64]
    """CD34+ cells collected per kg."""
    sessions: NDArray[np.int64]
    """Apheresis sessions (1 for a marrow harvest, 0 for a cord-blood unit)."""
    peak_pb_cd34_per_uL: NDArray[np.float64]
    """Peak PB CD34+ (cells/µL) before plerixafor (pbsc only)."""
    cd3_per_kg: NDArray[np.float64]
    """CD3+ cells collected per kg."""
    cd19_per_kg: NDArray[np.float64]
    """CD19+ cells collected per kg."""
    first_collection_day: NDArray[np.float64]
    """Day of the first apheresis counted from the start of mobilisation (day 1; pbsc only)."""
    litres_processed: NDArray[np.float64]
    """Blood processed over all sessions, L (pbsc only)."""
    tnc_per_kg: NDArray[np.float64]
    """Total nucleated cells per kg (bone_marrow and cord_blood only)."""

    @property
    def n(self) -> int:
        """Number of patients."""
        return int(self.collected_cd34_per_kg.shape[0])


@dataclass(frozen=True)
class _Patients:
    weight_kg: NDArray[np.float64]
    height_cm: NDArray[np.float64]
    female: NDArray[np.bool_]
    age_years: NDArray[np.float64]
    dose_weight_kg: NDArray[np.float64]
    disease: NDArray[np.int64] | None


# ---------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------
def collect(
    source: str,
    *,
    weight_kg: ArrayLike,
    height_cm: ArrayLike,
    sex_female: ArrayLike,
    age_years: ArrayLike,
    disease: str | Sequence[str] | ArrayLike | None = None,
    z: ArrayLike,
    params: ParameterSet,
    mobilisation: MobilisationSpec | None = None,
    apheresis: ApheresisSpec | None = None,
    harvest: HarvestSpec | None = None,
    allogeneic: bool = False,
    recipient_weight_kg: ArrayLike | None = None,
) -> Collection:
    """Collect a graft from ``n`` patients (or their donors) at once.

    Parameters
    ----------
    source
        ``"pbsc"`` (needs ``mobilisation`` and ``apheresis``), ``"bone_marrow"`` (needs
        ``harvest``) or ``"cord_blood"`` (needs ``allogeneic=True``).
    weight_kg, height_cm, sex_female, age_years
        Covariates of the person collected, arrays of length ``n`` or scalars.
    disease
        Disease of autologous patients: a name (aliases accepted), ``n`` names, or indices into
        :data:`~immunoreset.vocabulary.DISEASES`. Required for autologous ``pbsc``; ignored
        for healthy allogeneic donors.
    z
        Standard-normal variates, shape ``(n, N_DRAWS)``; row ``k`` belongs to patient ``k``.
    params
        Parameter set holding the ``mobilisation.*``, ``apheresis.*``, ``marrow_harvest.*`` and
        ``cord_blood.*`` entries.
    allogeneic
        The graft comes from a healthy donor: no disease or patient factor, G-CSF alone, the
        allogeneic collection efficiency; required for ``cord_blood``.
    recipient_weight_kg
        Express per-kg doses per kg of this weight (an allogeneic recipient) instead of
        ``weight_kg``.
    """
    if source not in GRAFT_SOURCES:
        raise InputError("graft_source", source, "one of " + ", ".join(GRAFT_SOURCES))
    if source == "cord_blood" and not allogeneic:
        raise InputError(
            "graft_source", "cord_blood", "pbsc or bone_marrow unless an allogeneic donor is given"
        )
    zz = _check_z(z)
    needs_disease = source == "pbsc" and not allogeneic
    pts = _patients(
        zz.shape[0],
        weight_kg,
        height_cm,
        sex_female,
        age_years,
        recipient_weight_kg,
        disease if needs_disease else None,
        needs_disease,
    )
    if source == "pbsc":
        mob = _require(mobilisation, MobilisationSpec, "mobilisation", source)
        aph = _require(apheresis, ApheresisSpec, "apheresis", source)
        if allogeneic and mob.cyclophosphamide_g_per_m2 > 0:
            raise InputError(
                "cyclophosphamide_g_per_m2",
                mob.cyclophosphamide_g_per_m2,
                "0 for a healthy allogeneic donor (G-CSF alone)",
            )
        return _collect_pbsc(mob, aph, pts, zz, params, allogeneic=allogeneic)
    if source == "bone_marrow":
        return _collect_marrow(_require(harvest, HarvestSpec, "harvest", source), zz, params)
    return _collect_cord(zz, params)


# ---------------------------------------------------------------------------------------------
# Peripheral blood: mobilisation and apheresis
# ---------------------------------------------------------------------------------------------
def blood_volume_L(
    height_cm: ArrayLike, weight_kg: ArrayLike, sex_female: ArrayLike, params: ParameterSet
) -> NDArray[np.float64]:
    """Total blood volume (L) by Nadler's formula: ``a·H[m]³ + b·W[kg] + c`` by sex.

    Nadler SB, Hidalgo JH, Bloch T. Prediction of blood volume in normal human adults.
    Surgery 1962;51(2):224–232.
    """
    h3 = (np.asarray(height_cm, dtype=float) / CM_PER_M) ** 3
    w = np.asarray(weight_kg, dtype=float)

    def nadler(sex: str) -> NDArray[np.float64]:
        p = f"apheresis.nadler.{sex}_"
        return (
            params.value(p + "height_coef") * h3
            + params.value(p + "weight_coef") * w
            + params.value(p + "intercept")
        )

    return np.where(np.asarray(sex_female, dtype=bool), nadler("female"), nadler("male"))


def apheresis_yield_per_kg(
    ce2: ArrayLike, pb_cd34_per_uL: ArrayLike, litres_processed: ArrayLike, weight_kg: ArrayLike
) -> NDArray[np.float64]:
    """CD34+ cells/kg collected in one session: ``CE2 · PB CD34 [/µL] · 1e6 µL/L · V [L] / W [kg]``.

    Collection efficiency CE2 rearranged (Neyrinck MM et al. Calculations in apheresis.
    J Clin Apher 2015;30:38–42); e.g. 0.5 · 50 · 1e6 · 15 / 70 = 5.4e6/kg.
    """
    ce, pb = np.asarray(ce2, dtype=float), np.asarray(pb_cd34_per_uL, dtype=float)
    litres, weight = np.asarray(litres_processed, dtype=float), np.asarray(weight_kg, dtype=float)
    return ce * pb * UL_PER_L * litres / weight


def peak_pb_cd34_per_uL(
    mobilisation: MobilisationSpec,
    *,
    age_years: ArrayLike,
    sex_female: ArrayLike,
    disease: ArrayLike | None,
    z_peak: ArrayLike,
    params: ParameterSet,
    allogeneic: bool = False,
) -> NDArray[np.float64]:
    """Peak PB CD34+ (cells/µL, without plerixafor) for each patient.

    ``disease`` holds indices into :data:`DISEASES` (ignored when ``allogeneic``);
    ``z_peak`` is the patient's standard-normal variate for the peak.
    """
    base = params.value(_P + "curve.baseline_per_uL")
    median = _regimen_peak_median(mobilisation, params, allogeneic=allogeneic)
    gcsf = _gcsf_factor(mobilisation.gcsf_ug_per_kg_per_day, params)
    cov = _covariate_factor(age_years, sex_female, params)
    if not allogeneic:
        cov = cov * _disease_factor(np.asarray(disease), params)
    iiv = _lognormal(params.value(_P + "peak_cv"), np.asarray(z_peak, dtype=float))
    return base + np.maximum(median - base, 0.0) * gcsf * cov * iiv


def _regimen_peak_median(mob: MobilisationSpec, params: ParameterSet, *, allogeneic: bool) -> float:
    """Median peak at the reference G-CSF dose, age and sex (MS level for patients)."""
    cy = mob.cyclophosphamide_g_per_m2
    if cy == 0.0:
        donors = params.value(_P + "gcsf_alone.peak_median_per_uL")
        return donors if allogeneic else donors * params.value(_P + "gcsf_alone.patients_vs_donors")
    d_lo = params.value(_P + "cy_gcsf.low_dose_g_per_m2")
    d_hi = params.value(_P + "cy_gcsf.plateau_dose_g_per_m2")
    p_lo = params.value(_P + "cy_gcsf.peak_median_low_dose_per_uL")
    p_hi = params.value(_P + "cy_gcsf.peak_median_high_dose_per_uL")
    slope = math.log(p_hi / p_lo) / (d_hi - d_lo)
    log_peak = math.log(p_lo) + slope * (min(cy, d_hi) - d_lo)
    return math.exp(log_peak) * params.value(_P + "cy_gcsf.autoimmune_vs_myeloma")


def _gcsf_factor(dose: float, params: ParameterSet) -> float:
    ref = params.value(_P + "gcsf.reference_dose_ug_per_kg_per_day")
    return float((dose / ref) ** params.value(_P + "gcsf.dose_exponent"))


def _covariate_factor(
    age_years: ArrayLike, sex_female: ArrayLike, params: ParameterSet
) -> NDArray[np.float64]:
    age = np.asarray(age_years, dtype=float)
    slope = params.value(_P + "covariates.age_log_slope_per_year")
    ref = params.value(_P + "covariates.reference_age_years")
    female = np.where(
        np.asarray(sex_female, dtype=bool), params.value(_P + "covariates.female_factor"), 1.0
    )
    return np.exp(slope * (age - ref)) * female


def _disease_factor(disease_idx: NDArray[Any], params: ParameterSet) -> NDArray[np.float64]:
    table = np.array([params.value(f"{_P}disease_factor.{d}") for d in DISEASES])
    return table[disease_idx.astype(np.int64)]


def _peak_day(mob: MobilisationSpec, params: ParameterSet) -> float:
    cy = mob.cyclophosphamide_g_per_m2
    if cy == 0.0:
        return params.value(_P + "gcsf_alone.peak_day")
    q = _P + "cy_gcsf.peak_day_"
    doses = [params.value(q + "low_dose_g_per_m2"), params.value(q + "high_dose_g_per_m2")]
    days = [params.value(q + "low_dose"), params.value(q + "high_dose")]
    return float(np.interp(cy, doses, days))


def _gamma_variate(t: NDArray[np.float64], tp: float, shape: float) -> NDArray[np.float64]:
    """Normalised gamma-variate ``(t/tp)^a exp(a (1 - t/tp))``, equal to 1 at ``t = tp``."""
    x = t / tp
    return np.exp(shape * (np.log(x) + 1.0 - x))


def _collect_pbsc(
    mob: MobilisationSpec,
    aph: ApheresisSpec,
    pts: _Patients,
    z: NDArray[np.float64],
    params: ParameterSet,
    *,
    allogeneic: bool,
) -> Collection:
    n = z.shape[0]
    peak = peak_pb_cd34_per_uL(
        mob,
        age_years=pts.age_years,
        sex_female=pts.female,
        disease=pts.disease,
        z_peak=z[:, Z_CONTENT],
        params=params,
        allogeneic=allogeneic,
    )
    tp = _peak_day(mob, params)
    days = tp + np.arange(aph.max_sessions, dtype=float)
    base = params.value(_P + "curve.baseline_per_uL")
    pb = base + (peak - base)[:, None] * _gamma_variate(days, tp, params.value(_P + "curve.shape"))
    if mob.plerixafor:
        fold = params.value(_P + "plerixafor.fold_median") * _lognormal(
            params.value(_P + "plerixafor.fold_cv"), z[:, Z_PLERIXAFOR]
        )
        pb = pb * fold[:, None]
    ce_name = "apheresis.ce2_median_" + ("allogeneic" if allogeneic else "autologous")
    ce = params.value(ce_name) * _lognormal(params.value("apheresis.ce2_cv"), z[:, Z_EFFICIENCY])
    litres = aph.blood_volumes_processed * blood_volume_L(
        pts.height_cm, pts.weight_kg, pts.female, params
    )
    per_session = apheresis_yield_per_kg(
        ce[:, None], pb, litres[:, None], pts.dose_weight_kg[:, None]
    )
    sessions, collected = _sessions_to_target(per_session, aph.target_cd34_per_kg)
    total_litres = sessions * litres
    cd3, cd19 = _apheresis_lymphocytes(total_litres / pts.dose_weight_kg, mob, z, params)
    nan = np.full(n, np.nan)
    return Collection(
        source="pbsc",
        collected_cd34_per_kg=collected,
        sessions=sessions,
        peak_pb_cd34_per_uL=peak,
        cd3_per_kg=cd3,
        cd19_per_kg=cd19,
        first_collection_day=np.full(n, tp),
        litres_processed=total_litres,
        tnc_per_kg=nan,
    )


def _sessions_to_target(
    per_session: NDArray[np.float64], target: float
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Sessions needed (first cumulative yield ≥ target, else all) and the cumulative yield."""
    cumulative = np.cumsum(per_session, axis=1)
    reached = cumulative >= target
    last = per_session.shape[1]
    sessions = np.where(reached.any(axis=1), reached.argmax(axis=1) + 1, last).astype(np.int64)
    collected = np.take_along_axis(cumulative, (sessions - 1)[:, None], axis=1)[:, 0]
    return sessions, collected


def _apheresis_lymphocytes(
    litres_per_kg: NDArray[np.float64],
    mob: MobilisationSpec,
    z: NDArray[np.float64],
    params: ParameterSet,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """CD3+ and CD19+ per kg: donor content per litre processed × litres per kg × CY factor."""
    ref = "apheresis.gcsf_donor."
    per_litre_scale = params.value(ref + "weight_kg") / params.value(ref + "litres_processed")
    cy = params.value("apheresis.cy_lymphocyte_factor") if mob.cyclophosphamide_g_per_m2 else 1.0
    cv = params.value("apheresis.lymphocyte_cv")
    scale = litres_per_kg * per_litre_scale * cy
    cd3 = scale * params.value(ref + "cd3_collected_per_kg") * _lognormal(cv, z[:, Z_CD3])
    cd19 = scale * params.value(ref + "cd19_collected_per_kg") * _lognormal(cv, z[:, Z_CD19])
    return cd3, cd19


# ---------------------------------------------------------------------------------------------
# Bone marrow and cord blood
# ---------------------------------------------------------------------------------------------
def _collect_marrow(
    harvest: HarvestSpec, z: NDArray[np.float64], params: ParameterSet
) -> Collection:
    n = z.shape[0]
    p = "marrow_harvest."
    tnc = np.full(n, harvest.volume_mL_per_kg * params.value(p + "tnc_per_mL"))
    cd34 = (
        tnc
        * params.value(p + "cd34_fraction_of_tnc")
        * _lognormal(params.value(p + "cd34_cv"), z[:, Z_CONTENT])
    )
    lymph_cv = params.value("apheresis.lymphocyte_cv")
    cd3 = tnc * params.value(p + "cd3_fraction_of_tnc") * _lognormal(lymph_cv, z[:, Z_CD3])
    cd19 = tnc * params.value(p + "cd19_fraction_of_tnc") * _lognormal(lymph_cv, z[:, Z_CD19])
    nan = np.full(n, np.nan)
    return Collection(
        source="bone_marrow",
        collected_cd34_per_kg=cd34,
        sessions=np.ones(n, dtype=np.int64),
        peak_pb_cd34_per_uL=nan,
        cd3_per_kg=cd3,
        cd19_per_kg=cd19,
        first_collection_day=nan,
        litres_processed=nan,
        tnc_per_kg=tnc,
    )


def _collect_cord(z: NDArray[np.float64], params: ParameterSet) -> Collection:
    n = z.shape[0]
    p = "cord_blood."
    tnc = params.value(p + "tnc_per_kg") * _lognormal(params.value(p + "tnc_cv"), z[:, Z_CONTENT])
    cd34 = (
        tnc
        * params.value(p + "cd34_fraction_of_tnc")
        * _lognormal(params.value(p + "cd34_fraction_cv"), z[:, Z_EFFICIENCY])
    )
    lymph_cv = params.value(p + "lymphocyte_cv")
    cd3 = tnc * params.value(p + "cd3_fraction_of_tnc") * _lognormal(lymph_cv, z[:, Z_CD3])
    cd19 = tnc * params.value(p + "cd19_fraction_of_tnc") * _lognormal(lymph_cv, z[:, Z_CD19])
    nan = np.full(n, np.nan)
    return Collection(
        source="cord_blood",
        collected_cd34_per_kg=cd34,
        sessions=np.zeros(n, dtype=np.int64),
        peak_pb_cd34_per_uL=nan,
        cd3_per_kg=cd3,
        cd19_per_kg=cd19,
        first_collection_day=nan,
        litres_processed=nan,
        tnc_per_kg=tnc,
    )


# ---------------------------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------------------------
def _lognormal(cv: float, z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Median-1 log-normal factor with coefficient of variation ``cv``."""
    return np.exp(math.sqrt(math.log1p(cv * cv)) * z)


def _check_z(z: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(z, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != N_DRAWS or arr.shape[0] < 1:
        raise InputError(
            "z",
            getattr(arr, "shape", None),
            f"an array of standard normals of shape (n, {N_DRAWS})",
        )
    if not np.all(np.isfinite(arr)):
        raise InputError("z", "non-finite values", "finite standard-normal variates")
    return arr


def _require(spec: Any, kind: type[FrozenSpec], field: str, source: str) -> Any:
    if not isinstance(spec, kind):
        raise InputError(field, spec, f"a {kind.__name__} for graft_source {source}")
    return spec


def _array(
    field: str, value: ArrayLike, n: int, lo: float, hi: float, unit: str
) -> NDArray[np.float64]:
    try:
        arr = np.broadcast_to(np.asarray(value, dtype=float), (n,))
    except (TypeError, ValueError):
        raise InputError(field, value, f"a number or {n} numbers in [{lo}, {hi}] {unit}") from None
    bad = ~(np.isfinite(arr) & (arr >= lo) & (arr <= hi))
    if bad.any():
        raise InputError(field, float(arr[bad.argmax()]), f"[{lo}, {hi}] {unit}")
    return arr


def _disease_indices(disease: Any, n: int) -> NDArray[np.int64]:
    if disease is None:
        raise InputError("disease", None, "a disease name or index for autologous pbsc collection")
    arr = np.atleast_1d(np.asarray(disease))
    if arr.dtype.kind in "iu":
        if np.any((arr < 0) | (arr >= len(DISEASES))):
            raise InputError(
                "disease", arr.tolist(), f"indices 0..{len(DISEASES) - 1} into DISEASES"
            )
        idx = arr.astype(np.int64)
    else:
        idx = np.array([DISEASES.index(canonical_disease(str(s))) for s in arr.ravel()])
    try:
        return np.broadcast_to(idx, (n,))
    except ValueError:
        raise InputError("disease", f"{idx.size} entries", f"1 or {n} entries") from None


def _patients(
    n: int,
    weight_kg: ArrayLike,
    height_cm: ArrayLike,
    sex_female: ArrayLike,
    age_years: ArrayLike,
    recipient_weight_kg: ArrayLike | None,
    disease: Any,
    needs_disease: bool,
) -> _Patients:
    weight = _array("weight_kg", weight_kg, n, 20.0, 250.0, "kg")
    dose_weight = (
        weight
        if recipient_weight_kg is None
        else _array("recipient_weight_kg", recipient_weight_kg, n, 2.0, 250.0, "kg")
    )
    try:
        female = np.broadcast_to(np.asarray(sex_female, dtype=bool), (n,))
    except ValueError:
        raise InputError("sex_female", sex_female, f"a bool or {n} bools") from None
    return _Patients(
        weight_kg=weight,
        height_cm=_array("height_cm", height_cm, n, 100.0, 230.0, "cm"),
        female=female,
        age_years=_array("age_years", age_years, n, 1.0, 100.0, "years"),
        dose_weight_kg=dose_weight,
        disease=_disease_indices(disease, n) if needs_disease else None,
    )
