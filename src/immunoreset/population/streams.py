"""Per-patient random streams (DESIGN §5).

Patient *k* of a run with seed *s* draws from ``SeedSequence(s, spawn_key=(k, purpose))``:
its numbers depend only on (seed, k, purpose), never on the cohort size, the batch or the
worker, so any patient can be regenerated alone.
"""

from __future__ import annotations

from typing import Final

import numpy as np

#: purposes (one independent stream each; append new ones, never renumber)
COVARIATES: Final = 0
VARIABILITY: Final = 1
GRAFT: Final = 2
EVENTS: Final = 3
CLONES: Final = 4
#: recurrent disease events (variable number of draws: frailty, then exponential gaps)
DISEASE_EVENTS: Final = 5
#: baselines of the disease's clinical read-outs (one standard normal per continuous read-out)
DISEASE_READOUTS: Final = 6
#: spontaneous course of the effector phase (uniforms, one per switch of the two-state
#: process; ``engine.layout.N_EFF_SWITCH`` of them)
EFFECTOR_PHASE: Final = 7

#: fixed block sizes (draws consumed per patient and purpose)
BLOCK: Final = {COVARIATES: 16, VARIABILITY: 64, GRAFT: 32, EVENTS: 64, CLONES: 8,
                EFFECTOR_PHASE: 24}


def patient_generator(seed: int, patient: int, purpose: int) -> np.random.Generator:
    """The generator of one patient and purpose."""
    ss = np.random.SeedSequence(seed, spawn_key=(patient, purpose))
    return np.random.Generator(np.random.PCG64(ss))


def normal_block(seed: int, patient_ids: np.ndarray, purpose: int) -> np.ndarray:
    """Standard normals ``[n, BLOCK[purpose]]``; row *i* from patient ``patient_ids[i]``."""
    size = BLOCK[purpose]
    out = np.empty((len(patient_ids), size))
    for i, k in enumerate(patient_ids):
        out[i] = patient_generator(seed, int(k), purpose).standard_normal(size)
    return out


def uniform_block(seed: int, patient_ids: np.ndarray, purpose: int) -> np.ndarray:
    """Uniforms on (0, 1) ``[n, BLOCK[purpose]]`` from each patient's stream."""
    size = BLOCK[purpose]
    out = np.empty((len(patient_ids), size))
    for i, k in enumerate(patient_ids):
        out[i] = patient_generator(seed, int(k), purpose).random(size)
    return out


def normalize_seed(seed: int | None) -> int:
    """A non-negative integer seed; a fresh one from OS entropy when ``None`` (and recorded)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        from immunoreset.errors import InputError

        raise InputError("seed", seed, "a non-negative integer")
    return int(seed)
