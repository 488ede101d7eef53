"""The parameter registry: every number the model uses, with unit, source and variability.

``data/parameters.yaml`` holds one entry per parameter::

    hematopoiesis.plt.p_hsc:
      value: 0.027
      unit: 1/day                # unit of ``value`` as written (the source's unit)
      model_unit: 1/day          # optional: converted to this at load
      source: "Zhu C, Stiehl T et al. iScience 2025; code Shelly9018/asct_plt config/params.yaml"
      status: verified_code      # verified_* | transcribed | derived | calibrated | assumed
      reason: ...                # required when status is assumed or calibrated
      variability: {distribution: lognormal, cv: 0.3, source: "..."}
      bounds: [0.005, 0.1]       # plausible range (model units); values outside are an error
      description: ...

The registry is loaded once into frozen :class:`Parameter` objects; a modified set is a new
:class:`ParameterSet` made with :meth:`ParameterSet.evolve` (or, from ``NAME=VALUE`` text, with
:func:`with_overrides`). A run given no set explicitly uses :func:`default_parameters`: the
shipped set, or the set put in force for a block with :func:`using_parameters` (how the CLI's
``--set`` reaches every part of a trial: cohort, screening, simulation, read-outs).
"""

from __future__ import annotations

import difflib
import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import yaml

from immunoreset.errors import InputError
from immunoreset.parameters.units import conversion_factor

STATUSES = frozenset(
    {
        "verified_code",
        "verified_ddmore",
        "verified_abstract",
        "verified_table",
        "transcribed",
        "derived",
        "calibrated",
        "assumed",
    }
)
DISTRIBUTIONS = frozenset({"lognormal", "normal", "logitnormal", "none"})


@dataclass(frozen=True, slots=True)
class Variability:
    """Inter-individual variability of a parameter.

    ``cv`` is the coefficient of variation (lognormal: ``omega = sqrt(log(1 + cv^2))``);
    for ``normal`` it is ``sd / value``.
    """

    distribution: str
    cv: float
    source: str

    @property
    def omega(self) -> float:
        """Standard deviation on the log scale (lognormal) or relative sd (normal)."""
        if self.distribution == "lognormal":
            return math.sqrt(math.log1p(self.cv**2))
        return self.cv


@dataclass(frozen=True, slots=True)
class Parameter:
    """One model parameter, in model units, with its provenance."""

    name: str
    value: float
    unit: str
    source: str
    status: str
    description: str = ""
    reason: str = ""
    source_unit: str = ""
    source_value: float = math.nan
    bounds: tuple[float, float] = (-math.inf, math.inf)
    variability: Variability | None = None

    def __post_init__(self) -> None:
        if not self.unit:
            raise InputError(f"{self.name}.unit", self.unit, "a non-empty unit string")
        if not self.source:
            raise InputError(f"{self.name}.source", self.source, "a citation")
        if self.status not in STATUSES:
            raise InputError(f"{self.name}.status", self.status, ", ".join(sorted(STATUSES)))
        if self.status in {"assumed", "calibrated"} and not self.reason:
            raise InputError(f"{self.name}.reason", self.reason,
                             f"a reason, required for status {self.status}")
        lo, hi = self.bounds
        if not (math.isfinite(self.value) and lo <= self.value <= hi):
            raise InputError(self.name, self.value, f"[{lo}, {hi}] {self.unit}")

    @property
    def to_model_unit(self) -> float:
        """Factor from the unit written in the parameter file to the model unit."""
        if not self.source_unit or self.source_unit == self.unit:
            return 1.0
        return conversion_factor(self.source_unit, self.unit)

    def with_value(self, value: float) -> Parameter:
        """A copy with a new value in the model unit (checked against the bounds)."""
        from dataclasses import replace

        return replace(self, value=float(value),
                       source_value=float(value) / self.to_model_unit)

    def with_written_value(self, value: float) -> Parameter:
        """A copy with a new value in the unit written in the parameter file."""
        return self.with_value(float(value) * self.to_model_unit)


@dataclass(frozen=True)
class ParameterSet(Mapping[str, Parameter]):
    """An immutable, name-indexed set of parameters with a content hash for provenance."""

    _params: Mapping[str, Parameter]
    origin: str = ""
    sha256: str = field(default="")

    def __reduce__(self):
        # the read-only mapping proxy does not pickle: a set travels as a plain dict (to
        # worker processes) and is rebuilt read-only
        return (_rebuild_set, (dict(self._params), self.origin, self.sha256))

    def __getitem__(self, key: str) -> Parameter:
        try:
            return self._params[key]
        except KeyError:
            raise KeyError(f"unknown parameter {key!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def value(self, key: str) -> float:
        """The value of parameter ``key`` in model units."""
        return self[key].value

    def evolve(self, **changes: float) -> ParameterSet:
        """A new set with some values replaced, in model units:
        ``ps.evolve(**{"a.b": 1.0})``."""
        return self._evolved({k: self[k].with_value(v) for k, v in changes.items()})

    def evolve_written(self, **changes: float) -> ParameterSet:
        """Like :meth:`evolve`, with values in the units written in the parameter file."""
        return self._evolved({k: self[k].with_written_value(v) for k, v in changes.items()})

    def _evolved(self, replaced: dict[str, Parameter]) -> ParameterSet:
        new = dict(self._params)
        new.update(replaced)
        # the digest follows the resulting values (model units), however they were given:
        # to 12 significant digits, so that a value written per year and one given per day
        # (x * (1/365.25) against x / 365.25, one rounding apart) are the same set
        digest = hashlib.sha256(
            (self.sha256 + repr(sorted((k, f"{p.value:.12g}") for k, p in replaced.items()))
             ).encode()
        ).hexdigest()
        return ParameterSet(MappingProxyType(new), origin=self.origin + " (modified)",
                            sha256=digest)

    def search(self, word: str | None = None) -> list[Parameter]:
        """Parameters whose name, description, unit or source contains ``word``."""
        if not word:
            return list(self._params.values())
        w = word.lower()
        return [p for p in self._params.values()
                if w in (p.name + " " + p.description + " " + p.source + " " + p.unit).lower()]


def _rebuild_set(params: dict[str, Parameter], origin: str, sha256: str) -> ParameterSet:
    return ParameterSet(MappingProxyType(params), origin=origin, sha256=sha256)


def _parse_entry(name: str, raw: Mapping[str, object]) -> Parameter:
    if not isinstance(raw, Mapping):
        raise InputError(name, raw, "a mapping with value, unit, source, status")
    for key in ("value", "unit", "source", "status"):
        if key not in raw or raw[key] in (None, ""):
            raise InputError(f"{name}.{key}", raw.get(key), "present and non-empty")
    unit = str(raw["unit"])
    model_unit = str(raw.get("model_unit", unit))
    factor = conversion_factor(unit, model_unit)
    source_value = float(raw["value"])  # type: ignore[arg-type]
    value = source_value * factor
    var = None
    if raw.get("variability"):
        v = raw["variability"]
        if not isinstance(v, Mapping) or v.get("distribution") not in DISTRIBUTIONS:
            raise InputError(f"{name}.variability", v,
                             "a mapping with distribution in " + ", ".join(sorted(DISTRIBUTIONS)))
        if v["distribution"] != "none":
            cv = float(v.get("cv", math.nan))
            if not (cv >= 0):
                raise InputError(f"{name}.variability.cv", cv, ">= 0")
            if not v.get("source"):
                raise InputError(f"{name}.variability.source", None,
                                 "a citation or 'assumed: reason'")
            var = Variability(str(v["distribution"]), cv, str(v["source"]))
    bounds = raw.get("bounds", (-math.inf, math.inf))
    lo, hi = (float(b) for b in bounds)  # type: ignore[union-attr]
    return Parameter(
        name=name,
        value=value,
        unit=model_unit,
        source=str(raw["source"]),
        status=str(raw["status"]),
        description=str(raw.get("description", "")),
        reason=str(raw.get("reason", "")),
        source_unit=unit,
        source_value=source_value,
        bounds=(lo, hi),
        variability=var,
    )


def load_parameters(path: str | Path | None = None) -> ParameterSet:
    """Load and validate a parameter file (default: the shipped ``data/parameters.yaml``)."""
    if path is None:
        text = resources.files("immunoreset").joinpath("data/parameters.yaml").read_text("utf-8")
        origin = "immunoreset/data/parameters.yaml"
    else:
        text = Path(path).read_text("utf-8")
        origin = str(path)
    raw = yaml.safe_load(text) or {}
    entries = raw.get("parameters", raw)
    if not isinstance(entries, Mapping):
        raise InputError("parameters", type(entries).__name__, "a mapping of name -> entry")
    params = {name: _parse_entry(name, entry) for name, entry in entries.items()}
    digest = hashlib.sha256(text.encode()).hexdigest()
    return ParameterSet(MappingProxyType(params), origin=origin, sha256=digest)


@lru_cache(maxsize=1)
def shipped_parameters() -> ParameterSet:
    """The shipped parameter set (cached; it is immutable)."""
    return load_parameters()


#: sets put in force by :func:`using_parameters`, innermost last; a context variable, so a
#: block in one thread (or asyncio task) never changes the set another one sees
_IN_FORCE: ContextVar[tuple[ParameterSet, ...]] = ContextVar("immunoreset_parameters",
                                                             default=())


def default_parameters() -> ParameterSet:
    """The set a run uses when given none: the innermost :func:`using_parameters` set, else
    the shipped one."""
    stack = _IN_FORCE.get()
    return stack[-1] if stack else shipped_parameters()


@contextmanager
def using_parameters(params: ParameterSet) -> Iterator[ParameterSet]:
    """Put ``params`` in force for the block: everything that falls back on
    :func:`default_parameters` uses it. Local to the thread or task (and process) that
    enters the block; a chunked run puts its set in force in each of its workers, so the
    result does not depend on where a chunk runs."""
    if not isinstance(params, ParameterSet):
        raise InputError("params", type(params).__name__, "a ParameterSet")
    token = _IN_FORCE.set((*_IN_FORCE.get(), params))
    try:
        yield params
    finally:
        _IN_FORCE.reset(token)


def with_overrides(base: ParameterSet, pairs: Iterable[str]) -> ParameterSet:
    """``base`` with ``NAME=VALUE`` pairs applied, each value in the unit written for it in
    ``data/parameters.yaml`` (the unit ``immunoreset params`` shows); an unknown name, a value
    that is not a number or one outside the parameter's bounds is an :class:`InputError`
    naming it."""
    changes: dict[str, float] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError("set", pair, "NAME=VALUE")
        if name not in base:
            near = difflib.get_close_matches(name, list(base), n=3)
            hint = f" (did you mean {', '.join(near)}?)" if near else ""
            raise InputError("set", name, "a parameter name listed by `immunoreset params`"
                             + hint)
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"set {name}", text, "a number") from None
        if name in changes:
            raise InputError("set", name, "each parameter at most once")
        changes[name] = value
    return base.evolve_written(**changes) if changes else base


def changed_parameters(params: ParameterSet, base: ParameterSet | None = None
                       ) -> list[tuple[str, float, float]]:
    """``(name, base value, value)`` of every parameter whose value differs from ``base``
    (default: the shipped set), sorted by name; values in the units written in the
    parameter file."""
    base = base or shipped_parameters()
    return sorted((k, base[k].source_value, p.source_value) for k, p in params.items()
                  if k in base and base[k].value != p.value)


def provenance_record(params: ParameterSet) -> dict:
    """What a run's provenance says of its parameter set: origin, digest and every value
    changed from the shipped set (written units)."""
    return {"origin": params.origin, "sha256": params.sha256,
            "changed_from_shipped": {k: {"shipped": b, "value": v}
                                     for k, b, v in changed_parameters(params)}}


def not_shipped_note(params: ParameterSet | None = None) -> str:
    """One Markdown line naming every value of ``params`` (default: the set in force) that
    differs from the shipped set, or ``""``: what a scorecard or report of a changed set
    says first."""
    changed = changed_parameters(params or default_parameters())
    if not changed:
        return ""
    return ("**Not the shipped model:** run with parameters changed from the shipped set "
            "(`--set`): " + "; ".join(f"`{k}` = {v:g} (shipped {b:g})"
                                      for k, b, v in changed) + ".")
