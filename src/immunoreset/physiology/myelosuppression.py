"""Friberg et al. (2002) semi-mechanistic myelosuppression model, with docetaxel PK.

Reference: Friberg LE, Henningsson A, Maas H, Nguyen L, Karlsson MO. Model of
chemotherapy-induced myelosuppression with parameter consistency across drugs.
*J Clin Oncol* 2002;20:4713-21, doi:10.1200/JCO.2002.02.140. Equations as in the
review's model_spec §1.1 (checked against radivot/myelo ``myelo/R/friberg02.R`` and the
nlmixr2lib DDMORE models)::

    ktr = (n + 1)/MTT,  n = 3        (k_prol = k_circ = ktr)
    E   = slope · C                   (linear drug effect)
    dProl/dt = ktr·Prol·(1 − E)·(Circ0/Circ)^γ − ktr·Prol
    dT1/dt   = ktr·(Prol − T1),  dT2/dt = ktr·(T1 − T2),  dT3/dt = ktr·(T2 − T3)
    dCirc/dt = ktr·(T3 − Circ)
    Prol(0) = T1(0) = T2(0) = T3(0) = Circ(0) = Circ0

The feedback ``(Circ0/Circ)^γ`` uses ``max(Circ, CIRC_FLOOR_FRACTION·Circ0)`` so that it
stays finite if the circulating pool is (numerically) emptied.

Docetaxel pharmacokinetics: three-compartment model of Bruno et al. (*J Pharmacokinet
Biopharm* 1996;24(2)), as transcribed in radivot/myelo ``inst/doc/fribergPars02.R``
(model_spec §1.2, status ``transcribed``): CL 38.5 L/h, V1 7.4 L, k12 1.06, k21 1.51,
k13 1.26, k31 0.084 h⁻¹, molar mass 0.808 mg/µmol. Solved in closed form (matrix
exponential by eigen-decomposition) for a zero-order infusion into the central
compartment; the Friberg slope is per µM of plasma docetaxel.

Time: the right-hand side works in days (``mtt_days``); :func:`simulate_friberg` takes the
MTT in hours, as published.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numba as nb
import numpy as np
from scipy.integrate import solve_ivp

from immunoreset.errors import InputError

# state order of the Friberg model
PROL: Final = 0
T1: Final = 1
T2: Final = 2
T3: Final = 3
CIRC: Final = 4
N_FRIBERG_STATES: Final = 5
STATE_NAMES: Final = ("prol", "transit1", "transit2", "transit3", "circ")

#: Floor on Circ in the feedback term, as a fraction of Circ0 (numerical guard only).
CIRC_FLOOR_FRACTION: Final = 1e-6


@dataclass(frozen=True)
class FribergParameters:
    """System and drug parameters of one Friberg model fit (Circ0 in 1e9/L, MTT in h)."""

    circ0: float
    mtt_h: float
    gamma: float
    slope: float  # per unit of the concentration supplied (here 1/µM)


#: Docetaxel, neutrophils (Friberg 2002; transcribed in radivot/myelo
#: ``inst/doc/fribergPars02.R``; model_spec §1.2).
DOCETAXEL_FRIBERG_2002: Final = FribergParameters(circ0=5.05, mtt_h=88.7, gamma=0.161, slope=8.58)


@nb.njit(cache=True)
def friberg_rhs(
    t: float, y: np.ndarray, circ0: float, mtt_days: float, gamma: float, slope: float, conc: float
) -> np.ndarray:
    """Right-hand side of the Friberg model (per day); ``conc`` is C(t) in the slope's unit."""
    ktr = 4.0 / mtt_days
    circ = max(y[CIRC], CIRC_FLOOR_FRACTION * circ0)
    feedback = (circ0 / circ) ** gamma
    effect = slope * conc
    dydt = np.empty(5)
    dydt[PROL] = ktr * y[PROL] * (1.0 - effect) * feedback - ktr * y[PROL]
    dydt[T1] = ktr * (y[PROL] - y[T1])
    dydt[T2] = ktr * (y[T1] - y[T2])
    dydt[T3] = ktr * (y[T2] - y[T3])
    dydt[CIRC] = ktr * (y[T3] - y[CIRC])
    return dydt


def simulate_friberg(
    times_days: Sequence[float] | np.ndarray,
    conc_fn: Callable[[float], float],
    circ0: float,
    mtt_h: float,
    gamma: float,
    slope: float,
    *,
    breakpoints_days: Sequence[float] = (),
    rtol: float = 1e-8,
    atol: float | None = None,
) -> np.ndarray:
    """Integrate the Friberg model from steady state at ``times_days[0]``.

    ``conc_fn(t_days)`` returns the drug concentration (unit matching ``slope``).
    ``breakpoints_days`` are times where ``conc_fn`` is not smooth (e.g. the end of an
    infusion); the integration is restarted there so the solver never steps across them.
    Uses scipy LSODA with tight tolerances. Returns an array ``[len(times_days), 5]`` in
    the order ``PROL, T1, T2, T3, CIRC``.
    """
    t = np.asarray(times_days, dtype=float)
    if t.ndim != 1 or t.size < 2 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise InputError("times_days", times_days, "a strictly increasing 1-D array of >= 2 times")
    for name, v in (("circ0", circ0), ("mtt_h", mtt_h)):
        if not (math.isfinite(v) and v > 0):
            raise InputError(name, v, "a positive finite number")
    if not (math.isfinite(gamma) and gamma >= 0):
        raise InputError("gamma", gamma, "a finite number >= 0")
    if not math.isfinite(slope):
        raise InputError("slope", slope, "a finite number")
    mtt_days = mtt_h / 24.0
    atol = 1e-10 * circ0 if atol is None else atol

    def fun(tt: float, y: np.ndarray) -> np.ndarray:
        return friberg_rhs(tt, y, circ0, mtt_days, gamma, slope, float(conc_fn(tt)))

    edges = [t[0], *sorted(b for b in breakpoints_days if t[0] < b < t[-1]), t[-1]]
    out = np.empty((t.size, N_FRIBERG_STATES))
    y = np.full(N_FRIBERG_STATES, float(circ0))
    out[0] = y
    for a, b in itertools.pairwise(edges):
        inside = (t > a) & (t <= b)
        t_eval = np.unique(np.concatenate([t[inside], [b]]))
        sol = solve_ivp(fun, (a, b), y, method="LSODA", t_eval=t_eval, rtol=rtol, atol=atol)
        if not sol.success:  # pragma: no cover - LSODA failure is a bug, not input
            raise RuntimeError(f"Friberg integration failed on [{a}, {b}]: {sol.message}")
        keep = np.isin(sol.t, t[inside])
        out[inside] = sol.y[:, keep].T
        y = sol.y[:, -1]
    return out


# ---------------------------------------------------------------------------- docetaxel PK
@dataclass(frozen=True)
class ThreeCompartmentPK:
    """Linear three-compartment (mammillary) PK; rates in 1/h, volumes in L."""

    cl_L_per_h: float
    v1_L: float
    k12: float
    k21: float
    k13: float
    k31: float
    mw_mg_per_umol: float

    @property
    def k10(self) -> float:
        return self.cl_L_per_h / self.v1_L

    def matrix(self) -> np.ndarray:
        """Rate matrix A of dx/dt = A x for the amounts (central, peripheral 1, peripheral 2)."""
        return np.array(
            [
                [-(self.k10 + self.k12 + self.k13), self.k21, self.k31],
                [self.k12, -self.k21, 0.0],
                [self.k13, 0.0, -self.k31],
            ]
        )


#: Docetaxel, Bruno et al. 1996, as transcribed in radivot/myelo fribergPars02.R.
DOCETAXEL_BRUNO_1996: Final = ThreeCompartmentPK(
    cl_L_per_h=38.5, v1_L=7.4, k12=1.06, k21=1.51, k13=1.26, k31=0.084, mw_mg_per_umol=0.808
)


@functools.lru_cache(maxsize=32)
def _eigen(pk: ThreeCompartmentPK) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigenvalues, eigenvectors and inverse eigenvector matrix of the rate matrix."""
    lam, vec = np.linalg.eig(pk.matrix())
    lam, vec = lam.real, vec.real  # mammillary systems have real, negative eigenvalues
    return lam, vec, np.linalg.inv(vec)


def three_compartment_amounts(
    t_h: np.ndarray | float, dose_mg: float, infusion_h: float, pk: ThreeCompartmentPK
) -> np.ndarray:
    """Drug amounts (mg) in the three compartments after one dose started at t = 0.

    Zero-order infusion of ``dose_mg`` over ``infusion_h`` hours into the central
    compartment (``infusion_h = 0``: bolus). Exact: ``x(t) = V·f(Λ, t)·V⁻¹·b``. Returns an
    array ``[..., 3]`` matching the shape of ``t_h``; zero before the dose.
    """
    if not (math.isfinite(dose_mg) and dose_mg >= 0):
        raise InputError("dose_mg", dose_mg, "a finite number >= 0")
    if not (math.isfinite(infusion_h) and infusion_h >= 0):
        raise InputError("infusion_h", infusion_h, "a finite number >= 0")
    t = np.asarray(t_h, dtype=float)
    lam, vec, inv = _eigen(pk)
    e1 = np.array([1.0, 0.0, 0.0])
    flat = t.reshape(-1)
    out = np.zeros((flat.size, 3))
    if infusion_h == 0.0:
        post = flat >= 0
        out[post] = (vec @ (np.exp(np.outer(flat[post], lam)) * (inv @ (dose_mg * e1))).T).T
        return out.reshape((*t.shape, 3))
    rate = dose_mg / infusion_h
    during = (flat >= 0) & (flat <= infusion_h)
    after = flat > infusion_h
    coef = inv @ (rate * e1)
    growth = np.expm1(np.outer(flat[during], lam)) / lam
    out[during] = (vec @ (growth * coef).T).T
    x_end = vec @ (np.expm1(lam * infusion_h) / lam * coef)
    decay = np.exp(np.outer(flat[after] - infusion_h, lam))
    out[after] = (vec @ (decay * (inv @ x_end)).T).T
    return out.reshape((*t.shape, 3))


def plasma_concentration_uM(
    t_h: np.ndarray | float,
    dose_mg: float,
    infusion_h: float,
    pk: ThreeCompartmentPK = DOCETAXEL_BRUNO_1996,
) -> np.ndarray:
    """Central (plasma) concentration in µM: amount / V1 / molar mass."""
    amounts = three_compartment_amounts(t_h, dose_mg, infusion_h, pk)
    return amounts[..., 0] / pk.v1_L / pk.mw_mg_per_umol


def docetaxel_conc_fn(
    dose_mg: float,
    infusion_h: float = 1.0,
    pk: ThreeCompartmentPK = DOCETAXEL_BRUNO_1996,
    start_day: float = 0.0,
) -> Callable[[float], float]:
    """A ``conc_fn(t_days) -> µM`` for :func:`simulate_friberg` (one dose at ``start_day``)."""
    three_compartment_amounts(0.0, dose_mg, infusion_h, pk)  # validate once

    def conc(t_days: float) -> float:
        return float(plasma_concentration_uM((t_days - start_day) * 24.0, dose_mg, infusion_h, pk))

    return conc
