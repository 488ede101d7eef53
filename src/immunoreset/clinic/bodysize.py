"""Dosing weights and body-surface area, each a named, cited formula.

* BSA: Mosteller RD. Simplified calculation of body-surface area. N Engl J Med
  1987;317(17):1098 — ``sqrt(height_cm · weight_kg / 3600)``, the formula the simulator
  uses (``population.covariates.bsa_mosteller``).
* Ideal body weight: Devine BJ. Gentamicin therapy. Drug Intell Clin Pharm 1974;8:650-655 —
  men 50 kg, women 45.5 kg, + 2.3 kg per inch of height above 5 feet (152.4 cm).
* Adjusted body weight: IBW + 0.4·(actual − IBW), the dosing-weight correction factor 0.4 of
  Traynor AM, Nafziger AN, Bertino JS. Aminoglycoside dosing weight correction factors for
  patients of various body sizes. Antimicrob Agents Chemother 1995;39(2):545-548.
"""

from __future__ import annotations

from typing import Literal

from immunoreset.errors import InputError

WeightBasis = Literal["actual", "ideal", "adjusted"]
WEIGHT_BASES: tuple[str, ...] = ("actual", "ideal", "adjusted")
ADJUSTED_FACTOR = 0.4  # Traynor 1995
CM_PER_INCH = 2.54


def bsa_mosteller_m2(weight_kg: float, height_cm: float) -> float:
    """Body-surface area (m²), Mosteller 1987."""
    return (weight_kg * height_cm / 3600.0) ** 0.5


def ideal_body_weight_kg(height_cm: float, sex: str) -> float:
    """Devine 1974 ideal body weight (kg). Below 5 feet the formula is extrapolated
    linearly (it then falls under the base weight), as the formula is written."""
    base = 50.0 if sex == "M" else 45.5
    return base + 2.3 * (height_cm / CM_PER_INCH - 60.0)


def adjusted_body_weight_kg(weight_kg: float, height_cm: float, sex: str) -> float:
    """IBW + 0.4·(actual − IBW) (Traynor 1995 correction factor)."""
    ibw = ideal_body_weight_kg(height_cm, sex)
    return ibw + ADJUSTED_FACTOR * (weight_kg - ibw)


def dosing_weight_kg(basis: str, weight_kg: float, height_cm: float, sex: str) -> float:
    """The weight a per-kg dose is computed from."""
    if basis == "actual":
        return weight_kg
    if basis == "ideal":
        return ideal_body_weight_kg(height_cm, sex)
    if basis == "adjusted":
        return adjusted_body_weight_kg(weight_kg, height_cm, sex)
    raise InputError("dosing_weight", basis, "one of " + ", ".join(WEIGHT_BASES))


FORMULAS = {
    "bsa": "Mosteller RD. N Engl J Med 1987;317(17):1098: BSA = sqrt(height_cm * weight_kg / 3600)",
    "ideal": "Devine BJ. Drug Intell Clin Pharm 1974;8:650: IBW = 50 (men) / 45.5 (women) kg "
             "+ 2.3 kg per inch above 60 inches",
    "adjusted": "Traynor AM et al. Antimicrob Agents Chemother 1995;39(2):545: AdjBW = IBW + "
                "0.4 x (actual - IBW)",
    "actual": "actual body weight as recorded",
}
