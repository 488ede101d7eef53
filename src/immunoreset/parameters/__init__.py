"""Parameter registry (value, unit, source, variability, bounds for every model number)."""

from immunoreset.parameters.registry import (
    Parameter,
    ParameterSet,
    Variability,
    changed_parameters,
    default_parameters,
    load_parameters,
    not_shipped_note,
    provenance_record,
    shipped_parameters,
    using_parameters,
    with_overrides,
)

__all__ = ["Parameter", "ParameterSet", "Variability", "changed_parameters",
           "default_parameters", "load_parameters", "not_shipped_note", "provenance_record",
           "shipped_parameters", "using_parameters", "with_overrides"]
