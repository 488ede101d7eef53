"""Trial statistics as the endpoints compute them (issue 6, part 3).

Reference values of the estimators themselves (Kaplan–Meier with at-risk numbers, Cox HR
with CI, log-rank, Aalen–Johansen, exact binomial CI, paired and Welch t) live in
``test_statistics.py`` with their R or textbook sources. Here:

* the identity between competing-risks and all-cause estimators through the endpoint path:
  with every cause of death as its own event, the Aalen–Johansen cumulative incidences sum
  to 1 − Kaplan–Meier overall survival at every time (Kalbfleisch & Prentice, *The
  Statistical Analysis of Failure Time Data*, 2nd ed. 2002, §8.2.2: the AJ estimator is the
  KM product-limit split by cause, CIF_k(t) = Σ_{t_j ≤ t} S(t_j−) d_kj / n_j, so
  Σ_k CIF_k(t) = Σ_j S(t_j−) d_j / n_j = 1 − S(t)). The identity is algebraic, with or without
  censoring; it is asserted to 1e-12 without censoring and 1e-9 with it (floating-point
  accumulation over hundreds of steps), on the daily grid where causes tie;
* NEDA (no evidence of disease activity) as a survival endpoint on the first of relapse and
  progression, against the product-limit estimate by hand (Kaplan & Meier, J Am Stat Assoc
  1958;53:457, eq. 2).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from immunoreset.trials.endpoints import compute_endpoints
from immunoreset.trials.spec import parse_spec
from immunoreset.trials.survival import cumulative_incidence, kaplan_meier
from immunoreset.vocabulary import DEATH_CAUSES

TIMES = [0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0]


def _spec(timepoints=TIMES, extra=()):
    return parse_spec({
        "name": "identity", "disease": "systemic_sclerosis", "design": "single_arm",
        "follow_up_years": 5.0,
        "population": {"n": 10},
        "arms": [{"name": "hsct", "allocation": 1.0, "protocol": {"regimen": "cy200_ratg"}}],
        "endpoints": [
            *({"name": f"cif_{c}", "type": "cumulative_incidence", "event": f"{c}_death",
               "competing": ["death"], "timepoints_years": list(timepoints)}
              for c in DEATH_CAUSES),
            {"name": "mortality", "events": ["death"], "report_as": "incidence",
             "timepoints_years": list(timepoints)},
            *extra,
        ],
    })


def _patients(n, seed, *, censored):
    """Deaths on the daily grid (causes tie) with cause-specific exponential hazards."""
    rng = np.random.default_rng(seed)
    rates = np.array([0.30, 0.10, 0.05, 0.25, 0.08])  # per year, one per cause
    t = rng.exponential(1 / rates, size=(n, rates.size))
    cause = np.argmin(t, axis=1)
    death_day = np.ceil(t.min(axis=1) * 365.25)  # days, ties between causes
    if censored:
        censor = np.minimum(rng.uniform(0.5, 5.0, n), rng.exponential(4.0, n))
    else:
        censor = np.full(n, 50.0)
        death_day = np.minimum(death_day, 4.5 * 365.25)  # everyone dies within follow-up
    return pl.DataFrame({
        "patient_id": np.arange(n), "arm": "hsct", "simulated": True, "simulation_note": "",
        "days_randomisation_to_infusion": 0.0, "censor_years": censor,
        "dropped_out": censor < 5.0, "death_day": death_day,
        "death_cause": pl.Series([DEATH_CAUSES[k] for k in cause], dtype=pl.String),
    })


def _cif_sum_and_mortality(spec, patients):
    e = compute_endpoints(spec, patients)
    cif = sum(e.filter(pl.col("endpoint") == f"cif_{c}")["estimate"].to_numpy()
              for c in DEATH_CAUSES)
    mort = e.filter(pl.col("endpoint") == "mortality")["estimate"].to_numpy()
    return cif, mort


@pytest.mark.parametrize(("censored", "tol"), [(False, 1e-12), (True, 1e-9)])
def test_cause_specific_cifs_sum_to_one_minus_km_overall_survival(censored, tol):
    patients = _patients(400, 7, censored=censored)
    cif, mort = _cif_sum_and_mortality(_spec(), patients)
    assert np.isfinite(cif).all() and np.isfinite(mort).all()
    np.testing.assert_allclose(cif, mort, rtol=0, atol=tol)
    assert mort[-1] > 0.5  # the test has many deaths of every cause
    causes = patients["death_cause"].value_counts()
    assert causes.height == len(DEATH_CAUSES)


@pytest.mark.parametrize(("censored", "tol"), [(False, 1e-12), (True, 1e-9)])
def test_identity_holds_at_every_event_time(censored, tol):
    p = _patients(300, 11, censored=censored)
    years = p["death_day"].to_numpy() / 365.25
    end = p["censor_years"].to_numpy()
    t = np.minimum(years, end)
    code = np.where(years <= end, [DEATH_CAUSES.index(c) + 1 for c in p["death_cause"]], 0)
    grid = np.unique(t[code > 0])
    grid = grid[grid < t.max()]
    km = kaplan_meier(t, (code > 0).astype(int), timepoints=grid)
    total = sum(cumulative_incidence(t, code, cause=k, timepoints=grid).cif
                for k in range(1, len(DEATH_CAUSES) + 1))
    np.testing.assert_allclose(total, 1.0 - km.survival, rtol=0, atol=tol)


def test_neda_is_the_product_limit_of_first_relapse_or_progression():
    """Six patients (days): relapse 100 | progression 200 | relapse 300 and progression 150 |
    none, censored at 1 year | none, died at 250 (death censors NEDA) | progression 400.
    Ordered first events (years): 100/365.25 (6 at risk), 150/365.25 (5), 200/365.25 (4),
    then the death-censored patient leaves at 250 and the censored one at 1 year, 400/365.25
    (1 at risk). Product limit: S = 5/6 → 5/6·4/5 = 2/3 → 2/3·3/4 = 1/2 → 0 after 400."""
    d = 365.25
    p = pl.DataFrame({
        "patient_id": np.arange(6), "arm": "hsct", "simulated": True, "simulation_note": "",
        "days_randomisation_to_infusion": 0.0,
        "censor_years": [5.0, 5.0, 5.0, 1.0, 5.0, 5.0], "dropped_out": False,
        "death_day": [np.nan, np.nan, np.nan, np.nan, 250.0, np.nan],
        "death_cause": pl.Series([None, None, None, None, "disease", None], dtype=pl.String),
        "relapse_day": [100.0, np.nan, 300.0, np.nan, np.nan, np.nan],
        "progression_day": [np.nan, 200.0, 150.0, np.nan, np.nan, 400.0],
    })
    spec = _spec(timepoints=[1.0], extra=[
        {"name": "neda", "events": ["relapse", "progression"],
         "timepoints_years": [120 / d, 160 / d, 220 / d, 300 / d, 420 / d]}])
    e = compute_endpoints(spec, p).filter(pl.col("endpoint") == "neda")
    np.testing.assert_allclose(e["estimate"].to_numpy(), [5 / 6, 2 / 3, 1 / 2, 1 / 2, 0.0],
                               atol=1e-12)
    assert (e["n"] == 6).all()


def test_proportion_all_of_requires_every_column():
    """A composite responder (``all_of``): a patient counts only when every column is true;
    missing counts as failure under ``missing: failure``."""
    import polars as pl

    from immunoreset.trials.endpoints import _proportion_rows
    from immunoreset.trials.spec import ProportionEndpoint

    df = pl.DataFrame({"arm": ["a"] * 5,
                       "remission": [True, True, True, False, True],
                       "endoscopic_remission_y1": [True, False, True, True, None]})
    e = ProportionEndpoint(name="sr", column="remission", all_of=["endoscopic_remission_y1"],
                           missing="failure")
    (row,) = _proportion_rows(e, df, ["a"])
    assert row["estimate"] == 2 / 5 and row["n"] == 5
    plain = ProportionEndpoint(name="cr", column="remission", missing="failure")
    assert _proportion_rows(plain, df, ["a"])[0]["estimate"] == 4 / 5


def test_no_deaths_gives_zero_cause_specific_incidence_not_missing():
    """A cohort in which nobody dies has an all-null ``death_cause``: that is zero
    treatment-related deaths (estimate 0), not an unmodelled column (found in the T1D
    reproduction, 23 patients, no death)."""
    p = pl.DataFrame({
        "patient_id": np.arange(4), "arm": "hsct", "simulated": True, "simulation_note": "",
        "days_randomisation_to_infusion": 0.0, "censor_years": 5.0, "dropped_out": False,
        "death_day": [np.nan] * 4, "death_cause": pl.Series([None] * 4, dtype=pl.String),
    })
    e = compute_endpoints(_spec(timepoints=[1.0]), p)
    for c in DEATH_CAUSES:
        cif = e.filter(pl.col("endpoint") == f"cif_{c}")
        assert cif["estimate"].to_list() == [0.0]
        assert "not modelled" not in cif["note"][0]
