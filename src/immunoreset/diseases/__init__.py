"""Disease layers: one module per disease, each defining a ``MODEL``.

Adding a disease: write ``diseases/<id>.py`` with ``MODEL = DiseaseModel(...)``, add
``disease.<id>.*`` entries to ``data/parameters.yaml`` and the population to
``data/populations.yaml``; nothing else changes (see ``docs/adding_a_disease.md``).
"""

from __future__ import annotations

import importlib

from immunoreset.diseases.base import DiseaseModel
from immunoreset.errors import InputError


def disease_model(disease_id: str) -> DiseaseModel:
    """The disease module's ``MODEL`` for ``disease_id`` (a canonical id)."""
    try:
        mod = importlib.import_module(f"immunoreset.diseases.{disease_id}")
    except ModuleNotFoundError:
        raise InputError("disease", disease_id, "a disease with a module under diseases/"
                         ) from None
    return mod.MODEL


__all__ = ["DiseaseModel", "disease_model"]
