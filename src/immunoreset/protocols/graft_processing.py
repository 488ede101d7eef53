"""Graft processing: optional CD34+ selection and cryopreservation of a collected graft.

:func:`process` turns a :class:`~immunoreset.protocols.mobilisation.Collection` into the
infused graft (viable CD34+, CD3+ and CD19+ cells per kg). Research basis ``model_gaps.md`` §5::

    CD34_inf = CD34_coll · r_sel · r_thaw
    CD3_inf  = CD3_coll  · 10^(-d_T) · r_thaw        (d_T, d_B only after CD34 selection)
    CD19_inf = CD19_coll · 10^(-d_B) · r_thaw

* ``r_sel`` logit-normal around 0.612 (Blood 2005;106(11):1980, Northwestern autoimmune
  selections; spread from Transfusion 2000;40:35, range 13.8–76.2 %);
* ``d_T`` ≈ 3.7 log10, ``d_B`` ≈ 2.8 log10 (Transfusion 2000;40:35; Blood 2005;106:1980);
* ``r_thaw`` logit-normal around 0.95 (leukocyte recovery, Hematol Transfus Cell Ther 2018;
  CD34 viability 96–97 %, Vox Sang 2013;105:77).

Randomness as in :mod:`~immunoreset.protocols.mobilisation`: ``z`` has shape
``(n, N_DRAWS)`` of standard normals, row ``k`` belonging to patient ``k``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from immunoreset.errors import InputError
from immunoreset.parameters import ParameterSet
from immunoreset.protocols.mobilisation import Collection, FrozenSpec

__all__ = ["N_DRAWS", "GraftProcessingSpec", "InfusedGraft", "process"]

#: Standard-normal variates consumed per patient (columns of ``z``).
N_DRAWS = 4
#: Columns of ``z``: selection recovery, T-cell depletion, B-cell depletion, thaw recovery.
Z_SELECTION, Z_T_DEPLETION, Z_B_DEPLETION, Z_THAW = range(N_DRAWS)

_P = "graft_processing."


class GraftProcessingSpec(FrozenSpec):
    """What is done to the collected graft before infusion."""

    cd34_selection: bool = False
    """Immunomagnetic CD34+ selection (T- and B-cell depletion)."""
    cryopreserved: bool = True
    """Frozen and thawed before infusion (cord-blood units always are)."""

    @classmethod
    def unselected(cls, *, cryopreserved: bool = True) -> GraftProcessingSpec:
        """Unmanipulated graft, as in ASSIST and MIST.

        Burt RK et al. Autologous non-myeloablative haemopoietic stem-cell transplantation
        compared with pulse cyclophosphamide once per month for systemic sclerosis (ASSIST):
        an open-label, randomised phase 2 trial. Lancet 2011;378(9790):498 (evidence/trials/
        assist.yaml: no CD34 selection).
        """
        return cls(cd34_selection=False, cryopreserved=cryopreserved)

    @classmethod
    def cd34_selected(cls, *, cryopreserved: bool = True) -> GraftProcessingSpec:
        """CD34+-selected, cryopreserved graft, as in ASTIS and Burt 2006 (SLE).

        van Laar JM et al. JAMA 2014;311(24):2490. doi:10.1001/jama.2014.6368 (CD34+
        selected; evidence/trials/astis.yaml). Selection figures: Blood 2005;106(11):1980;
        Transfusion 2000;40:35 (PMID 10644809).
        """
        return cls(cd34_selection=True, cryopreserved=cryopreserved)


@dataclass(frozen=True)
class InfusedGraft:
    """The infused graft, one entry per patient (per kg recipient weight)."""

    cd34_per_kg: NDArray[np.float64]
    """Viable CD34+ cells infused per kg."""
    cd3_per_kg: NDArray[np.float64]
    """CD3+ cells infused per kg."""
    cd19_per_kg: NDArray[np.float64]
    """CD19+ cells infused per kg."""
    cd34_recovery: NDArray[np.float64]
    """Fraction of the collected CD34+ cells infused (selection × thaw recovery)."""


def process(
    collection: Collection, spec: GraftProcessingSpec, *, z: ArrayLike, params: ParameterSet
) -> InfusedGraft:
    """Apply CD34 selection and/or cryopreservation to ``collection``.

    ``z`` holds standard normals of shape ``(collection.n, N_DRAWS)``; a step that is not
    done ignores its column. ``params`` holds the ``graft_processing.*`` entries.
    """
    zz = _check_z(z, collection.n)
    ones = np.ones(collection.n)
    r_sel, t_kept, b_kept = ones, ones, ones
    if spec.cd34_selection:
        r_sel = selection_recovery(zz[:, Z_SELECTION], params)
        t_kept = _kept_after_depletion("t_depletion_log10", zz[:, Z_T_DEPLETION], params)
        b_kept = _kept_after_depletion("b_depletion_log10", zz[:, Z_B_DEPLETION], params)
    r_thaw = thaw_recovery(zz[:, Z_THAW], params) if spec.cryopreserved else ones
    return InfusedGraft(
        cd34_per_kg=collection.collected_cd34_per_kg * r_sel * r_thaw,
        cd3_per_kg=collection.cd3_per_kg * t_kept * r_thaw,
        cd19_per_kg=collection.cd19_per_kg * b_kept * r_thaw,
        cd34_recovery=r_sel * r_thaw,
    )


def selection_recovery(z: ArrayLike, params: ParameterSet) -> NDArray[np.float64]:
    """CD34+ recovery of CD34 selection: logit-normal around the median recovery."""
    q = _P + "cd34_selection."
    return _logit_normal(
        params.value(q + "recovery_median"), params.value(q + "recovery_logit_sd"), z
    )


def thaw_recovery(z: ArrayLike, params: ParameterSet) -> NDArray[np.float64]:
    """Viable-cell recovery after cryopreservation and thaw: logit-normal around the median."""
    q = _P + "cryo."
    return _logit_normal(
        params.value(q + "recovery_median"), params.value(q + "recovery_logit_sd"), z
    )


def _kept_after_depletion(
    name: str, z: NDArray[np.float64], params: ParameterSet
) -> NDArray[np.float64]:
    q = _P + "cd34_selection."
    log10_depletion = params.value(q + name) + params.value(q + "depletion_log10_sd") * z
    return 10.0 ** (-log10_depletion)


def _logit_normal(median: float, sd: float, z: ArrayLike) -> NDArray[np.float64]:
    centre = np.log(median / (1.0 - median))
    return 1.0 / (1.0 + np.exp(-(centre + sd * np.asarray(z, dtype=float))))


def _check_z(z: ArrayLike, n: int) -> NDArray[np.float64]:
    arr = np.asarray(z, dtype=float)
    if arr.shape != (n, N_DRAWS):
        raise InputError("z", arr.shape, f"an array of standard normals of shape ({n}, {N_DRAWS})")
    if not np.all(np.isfinite(arr)):
        raise InputError("z", "non-finite values", "finite standard-normal variates")
    return arr
