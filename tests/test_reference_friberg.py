"""Friberg et al. (2002) myelosuppression model with docetaxel PK.

Reference: Friberg LE, Henningsson A, Maas H, Nguyen L, Karlsson MO. J Clin Oncol
2002;20:4713-21, doi:10.1200/JCO.2002.02.140. Docetaxel parameters (Circ0 5.05e9/L,
MTT 88.7 h, γ 0.161, slope 8.58 /µM) and Bruno 1996 PK as transcribed in radivot/myelo
``myelo/inst/doc/fribergPars02.R`` (model_spec §1.2, status ``transcribed``).

The paper's own typical-course numbers were not readable (only its abstract is stored).
The references used are:

* R1 (tight, cross-implementation): radivot/myelo's published simulation of the same
  model and parameters, ``docs/friberg02.png``, produced by an earlier version of
  ``myelo/demo/friberg02Demo.R`` ("value=33.5" µM bolus into C1, i.e. 200/0.808/7.4, a
  200 mg bolus; the saved file name matches that script's ``ggsave``). We read the curve
  off the 1500×1800 PNG (axis ticks found automatically, centre of the line of dark pixels
  in the column of each day; the line is ≈ 0.03 ×10⁹/L thick).
* R2 (loose, the paper itself at second hand): the same demo script's reading of Friberg
  2002 Fig. 4 upper-left (docetaxel) panel, "want nadir at 7 days and repeak at 20 day",
  points (day, ANC 1e9/L) = (0, 5.4), (6, 2), (9, 0.6), (13, 1), (16, 1.7), (20, 7),
  (22, 8.6) ("mouse-balling it", i.e. read by eye).
* Context only (not asserted): the nlmixr2lib vignette for Netterberg 2017 / Kloft 2006
  docetaxel (a different parameter set) describes its typical course as "nadir around days
  7-9 (~0.5 x 10^9 cells/L), recovery toward and slightly above baseline by days 14-21".
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from immunoreset.errors import InputError
from immunoreset.physiology import myelosuppression as my

P = my.DOCETAXEL_FRIBERG_2002
PK = my.DOCETAXEL_BRUNO_1996
TYPICAL_DOSE_MG = 100.0 * 1.8  # 100 mg/m² × 1.8 m²
GRID = np.round(np.arange(0.0, 35.0 + 1e-9, 0.01), 10)  # days


def course(dose_mg: float, infusion_h: float, slope: float = P.slope) -> np.ndarray:
    """Circulating neutrophils (1e9/L) on GRID after one docetaxel dose at t = 0."""
    y = my.simulate_friberg(
        GRID,
        my.docetaxel_conc_fn(dose_mg, infusion_h),
        P.circ0,
        P.mtt_h,
        P.gamma,
        slope,
        breakpoints_days=(infusion_h / 24.0,) if infusion_h > 0 else (),
    )
    return y[:, my.CIRC]


def at(c: np.ndarray, day: float) -> float:
    return float(c[round(day * 100)])


@pytest.fixture(scope="module")
def typical() -> np.ndarray:
    return course(TYPICAL_DOSE_MG, 1.0)


@pytest.fixture(scope="module")
def radivot_bolus() -> np.ndarray:
    return course(33.5 * PK.v1_L * PK.mw_mg_per_umol, 0.0)  # 33.5 µM in V1 = 200.3 mg


# ---------------------------------------------------------------------------------------------
# Reference tests
# ---------------------------------------------------------------------------------------------
# R1: radivot/myelo docs/friberg02.png, read off at whole days (1e9/L).
RADIVOT_FIG = {
    2: 4.27, 4: 2.18, 5: 1.45, 6: 1.00, 7: 0.79, 8: 0.76, 9: 0.88, 10: 1.17,
    12: 2.24, 14: 3.82, 16: 5.29, 18: 6.19, 20: 6.42, 22: 6.20, 24: 5.81,
}  # fmt: skip


@pytest.mark.parametrize(("day", "anc"), sorted(RADIVOT_FIG.items()))
def test_reproduces_radivot_myelo_published_course(radivot_bolus, day, anc):
    # R1. Tolerance ±0.05e9/L: line thickness (≈0.03) plus reading error; same model and
    # parameters, so only solver/plot error is allowed. Simulated values agree to ≤0.02.
    assert at(radivot_bolus, day) == pytest.approx(anc, abs=0.05)


def test_radivot_nadir_and_rebound(radivot_bolus):
    # R1: curve minimum 0.756 at day 7.9, maximum 6.42 at day 19.9 (read off the figure).
    # Tolerance ±0.05e9/L and ±0.5 day (the minimum is flat: ±0.01e9/L over days 7.4-8.4).
    # Simulated: nadir 0.749 on day 7.69, rebound 6.416 on day 19.82.
    i = int(np.argmin(radivot_bolus))
    assert radivot_bolus[i] == pytest.approx(0.756, abs=0.05)
    assert GRID[i] == pytest.approx(7.9, abs=0.5)
    j = int(np.argmax(radivot_bolus))
    assert radivot_bolus[j] == pytest.approx(6.42, abs=0.05)
    assert GRID[j] == pytest.approx(19.9, abs=0.5)


def test_typical_course_nadir_day(typical):
    # R2 (Friberg 2002 Fig. 4, docetaxel, read by eye in radivot/myelo demo): nadir "at 7
    # days"; lowest plotted point on day 9. Accept days 7-9. Simulated (100 mg/m², 1-h
    # infusion, BSA 1.8 m²): nadir on day 7.57.
    nadir_day = GRID[int(np.argmin(typical))]
    assert 7.0 <= nadir_day <= 9.0


def test_typical_course_nadir_depth(typical):
    # R2: lowest plotted point 0.6e9/L (read by eye, one figure point). Accept 0.5-1.0e9/L
    # (grade 3-4 neutropenia band; ±0.4 around the eyeball reading). Simulated: 0.897e9/L,
    # i.e. 17.8 % of Circ0. Not tighter: the source reading is an eyeball of a plot.
    assert 0.5 <= typical.min() <= 1.0


def test_typical_course_rebound(typical):
    # R2: "repeak at 20 day", plotted 7 and 8.6e9/L on days 20 and 22. Accept a rebound
    # maximum on day 20 ± 1.5 that overshoots Circ0 (γ = 0.161 gives a damped oscillation).
    # Simulated: 6.28e9/L (124 % of Circ0) on day 19.8. The eyeballed data rebound higher
    # (8.6) and recover later (1.0 and 1.7 on days 13 and 16 vs simulated 3.17 and 5.28):
    # reported, not asserted.
    j = int(np.argmax(typical))
    assert GRID[j] == pytest.approx(20.0, abs=1.5)
    assert typical[j] > P.circ0


def test_infusion_vs_bolus_same_course():
    # The linear effect integrates exposure: a 1-h infusion and a bolus of the same dose give
    # nearly the same course (same AUC). Tolerance 0.05e9/L at every grid point.
    assert np.max(np.abs(course(TYPICAL_DOSE_MG, 1.0) - course(TYPICAL_DOSE_MG, 0.0))) < 0.05


# ---------------------------------------------------------------------------------------------
# Docetaxel PK
# ---------------------------------------------------------------------------------------------
def test_pk_auc_equals_dose_over_clearance():
    # Linear PK: AUC(0-∞) = dose / CL; 180 mg / 38.5 L/h / 0.808 mg/µmol = 5.786 µM·h.
    # Tolerance 0.1 % (trapezoid on a fine grid to 2000 h; terminal t½ 10.3 h).
    t = np.concatenate([np.linspace(0, 2, 4001), np.linspace(2, 2000, 200_001)[1:]])
    c = my.plasma_concentration_uM(t, TYPICAL_DOSE_MG, 1.0)
    auc = float(np.sum((c[1:] + c[:-1]) / 2 * np.diff(t)))
    assert auc == pytest.approx(TYPICAL_DOSE_MG / PK.cl_L_per_h / PK.mw_mg_per_umol, rel=1e-3)


def test_pk_closed_form_matches_ode():
    # Closed form vs numerical integration of the three-compartment ODE (rtol 1e-10).
    rate = TYPICAL_DOSE_MG / 1.0
    a = PK.matrix()

    def f(t, x):
        return a @ x + (np.array([rate, 0.0, 0.0]) if t < 1.0 else 0.0)

    t1 = np.linspace(0, 1, 11)
    t2 = np.linspace(1, 48, 95)
    s1 = solve_ivp(f, (0, 1), np.zeros(3), t_eval=t1, method="LSODA", rtol=1e-10, atol=1e-12)
    s2 = solve_ivp(f, (1, 48), s1.y[:, -1], t_eval=t2, method="LSODA", rtol=1e-10, atol=1e-12)
    t = np.concatenate([t1, t2])
    ode = np.concatenate([s1.y, s2.y], axis=1).T
    exact = my.three_compartment_amounts(t, TYPICAL_DOSE_MG, 1.0, PK)
    np.testing.assert_allclose(exact, ode, rtol=1e-6, atol=1e-8)


def test_pk_end_of_infusion_concentration():
    # Peak at the end of the 1-h infusion, zero before the dose, monotone decline after.
    t = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 6.0, 24.0])
    c = my.plasma_concentration_uM(t, TYPICAL_DOSE_MG, 1.0)
    assert c[0] == 0.0 and c[1] == 0.0
    assert np.argmax(c) == 3
    assert np.all(np.diff(c[3:]) < 0)


# ---------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------
def test_zero_dose_stays_at_baseline():
    y = my.simulate_friberg(GRID, lambda t: 0.0, P.circ0, P.mtt_h, P.gamma, P.slope)
    np.testing.assert_allclose(y, P.circ0, rtol=1e-9)


def test_rhs_zero_at_steady_state_and_finite_at_empty_pool():
    y = np.full(5, P.circ0)
    np.testing.assert_allclose(my.friberg_rhs(0.0, y, P.circ0, 3.7, P.gamma, P.slope, 0.0), 0.0)
    empty = np.array([1.0, 1.0, 1.0, 1.0, 0.0])
    d = my.friberg_rhs(0.0, empty, P.circ0, 3.7, P.gamma, P.slope, 0.0)
    assert np.all(np.isfinite(d))  # the floor on Circ keeps (Circ0/Circ)^γ finite


def test_larger_slope_gives_deeper_nadir():
    nadirs = [course(TYPICAL_DOSE_MG, 0.0, slope).min() for slope in (2.0, 4.0, 8.58, 16.0)]
    assert all(a > b for a, b in itertools.pairwise(nadirs))


def test_larger_dose_gives_deeper_nadir():
    nadirs = [course(d, 0.0).min() for d in (60.0, 120.0, 180.0, 240.0)]
    assert all(a > b for a, b in itertools.pairwise(nadirs))


def test_recovery_by_day_21_to_28(typical):
    # Counts are back to >= 95 % of Circ0 over the whole of days 21-28 (next 3-weekly cycle
    # can start) and within 5 % of Circ0 by day 28. Simulated: ≥ 95 % from day 15.2 on;
    # rebound 6.21 (123 %) on day 21, 5.14 (101.7 %) on day 28. Note: because of the
    # rebound, |Circ - Circ0| <= 5 % does NOT hold on day 21.
    window = (GRID >= 21.0) & (GRID <= 28.0)
    assert np.all(typical[window] >= 0.95 * P.circ0)
    assert at(typical, 28.0) == pytest.approx(P.circ0, rel=0.05)


def test_long_term_return_to_baseline():
    # The damped oscillation settles: within 0.5 % of Circ0 by day 60.
    t = np.array([0.0, 60.0])
    y = my.simulate_friberg(
        t,
        my.docetaxel_conc_fn(TYPICAL_DOSE_MG, 1.0),
        P.circ0,
        P.mtt_h,
        P.gamma,
        P.slope,
        breakpoints_days=(1 / 24,),
    )
    assert y[-1, my.CIRC] == pytest.approx(P.circ0, rel=0.005)


# ---------------------------------------------------------------------------------------------
# Error tests
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"times_days": [0.0, 0.0, 1.0]}, "times_days"),
        ({"times_days": [0.0]}, "times_days"),
        ({"circ0": -1.0}, "circ0"),
        ({"mtt_h": 0.0}, "mtt_h"),
        ({"gamma": float("nan")}, "gamma"),
    ],
)
def test_bad_input_names_field(kwargs, field):
    args = {"times_days": [0.0, 1.0], "conc_fn": lambda t: 0.0, "circ0": 5.0, "mtt_h": 88.7,
            "gamma": 0.161, "slope": 8.58} | kwargs  # fmt: skip
    with pytest.raises(InputError, match=field):
        my.simulate_friberg(**args)


def test_bad_dose_names_field():
    with pytest.raises(InputError, match="dose_mg"):
        my.docetaxel_conc_fn(-5.0)
    with pytest.raises(InputError, match="infusion_h"):
        my.plasma_concentration_uM(1.0, 100.0, -1.0)
