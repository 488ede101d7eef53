"""Trajectory read-outs that need the dosing history (active ATG)."""

import numpy as np
import polars as pl

import immunoreset as ir


def _atg(params, **protocol):
    c = ir.sample_cohort("systemic_sclerosis", 3, seed=2)
    r = ir.simulate(c, ir.Protocol(**protocol), horizon_days=60, params=params,
                    save=ir.SaveSpec(variables=("atg_active",), max_patients=3))
    tr = r.trajectories.filter(pl.col("patient_id") == 0).sort("day")
    return tr["day"].to_numpy(), tr["value"].to_numpy()


def test_active_atg_trajectory_follows_the_doses(params):
    # cy200_ratg: rabbit ATG 2.5 mg/kg on days -3, -2, -1 (8-hour infusions)
    day, atg = _atg(params, regimen="cy200_ratg")
    assert np.all(atg[day < -3.0] == 0.0)
    peak = day[np.argmax(atg)]
    assert -2.0 <= peak <= 1.0
    # active rabbit ATG persists for weeks after the last dose (Waller 2003 PK), decaying
    at = dict(zip(day, atg, strict=True))
    assert at[0.0] > at[14.0] > at[42.0] > 0.0
    # about 9 ug/mL of active ATG after 6 mg/kg (Waller 2003): same order after 7.5 mg/kg
    assert 1.0 < atg.max() < 30.0


def test_no_atg_no_active_atg(params):
    _, atg = _atg(params, regimen="cy200_ratg", atg_total_mg_per_kg=0.0)
    assert np.all(atg == 0.0)
