"""Parameter registry (value, unit, source, variability, bounds for every model number)."""

from immunoreset.parameters.registry import (
    Parameter,
    ParameterSet,
    Variability,
    default_parameters,
    load_parameters,
)

__all__ = ["Parameter", "ParameterSet", "Variability", "default_parameters", "load_parameters"]
