"""A small rule language for criteria kept as data (eligibility, HCT-CI items).

A condition is a leaf ``{field, op, value}`` or a combination ``{any_of: [...]}`` /
``{all_of: [...]}``. Evaluation is three-valued (Kleene): ``True``, ``False`` or ``None``
when a field it needs is not recorded; ``any_of`` is true as soon as one part is true even
if others are unknown, and unknown only when no part is true and some part is unknown.
Every evaluation returns the recorded values it looked at and the fields it missed, so a
reason can always name the patient's value and the threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_OPS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = {
    "gt": (">", lambda x, v: x > v),
    "ge": (">=", lambda x, v: x >= v),
    "lt": ("<", lambda x, v: x < v),
    "le": ("<=", lambda x, v: x <= v),
    "eq": ("=", lambda x, v: x == v),
    "ne": ("!=", lambda x, v: x != v),
    "in": ("in", lambda x, v: x in v),
    "in_open_closed": ("in", lambda x, v: v[0] < x <= v[1]),
}


@dataclass
class Evaluation:
    """Result of one condition: truth value, values looked at, fields not recorded."""

    value: bool | None
    values: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)  # leaves that were true


def check_condition(cond: dict, known_fields: Callable[[str], bool]) -> None:
    """Raise ``ValueError`` for a malformed condition or an unknown field (data-file check)."""
    if "any_of" in cond or "all_of" in cond:
        parts = cond.get("any_of", cond.get("all_of"))
        if not isinstance(parts, list) or not parts:
            raise ValueError(f"empty combination in {cond}")
        for c in parts:
            check_condition(c, known_fields)
        return
    if set(cond) != {"field", "op", "value"}:
        raise ValueError(f"a condition needs field, op and value: {cond}")
    if cond["op"] not in _OPS:
        raise ValueError(f"unknown operator {cond['op']!r} in {cond}")
    if not known_fields(cond["field"]):
        raise ValueError(f"unknown record field {cond['field']!r}")


def evaluate(cond: dict, lookup: Callable[[str], Any]) -> Evaluation:
    """Evaluate ``cond`` with ``lookup(field) -> value or None``."""
    if "any_of" in cond or "all_of" in cond:
        is_any = "any_of" in cond
        parts = [evaluate(c, lookup) for c in cond["any_of" if is_any else "all_of"]]
        out = Evaluation(None)
        for p in parts:
            out.values.update(p.values)
            out.missing += [m for m in p.missing if m not in out.missing]
            out.fired += p.fired
        vals = [p.value for p in parts]
        if is_any:
            out.value = True if True in vals else (None if None in vals else False)
        else:
            out.value = False if False in vals else (None if None in vals else True)
        return out
    name, op, ref = cond["field"], cond["op"], cond["value"]
    x = lookup(name)
    if x is None:
        return Evaluation(None, {name: None}, [name])
    ok = bool(_OPS[op][1](x, ref))
    shown = f"{x:.4g}" if isinstance(x, float) else str(x)
    return Evaluation(ok, {name: x}, [], [f"{name} = {shown} ({describe(cond)})"] if ok else [])


def describe(cond: dict, unit: str = "") -> str:
    """Plain text of a condition, e.g. ``lvef_percent <= 50`` or ``mrss > 15 and …``."""
    if "any_of" in cond:
        return "(" + " or ".join(describe(c, unit) for c in cond["any_of"]) + ")"
    if "all_of" in cond:
        return "(" + " and ".join(describe(c, unit) for c in cond["all_of"]) + ")"
    op, v = cond["op"], cond["value"]
    if op == "in_open_closed":
        return f"{v[0]} < {cond['field']} <= {v[1]}"
    if isinstance(v, bool):
        v = "yes" if v else "no"
    if isinstance(v, list):
        v = "{" + ", ".join(map(str, v)) + "}"
    return f"{cond['field']} {_OPS[op][0]} {v}"
