"""Numbers as stride's JSON carries them: JSON has no infinite number, so an infinite objective
value travels as the string ``"Infinity"`` or ``"-Infinity"`` (both ways). NaN is not a value:
a trial whose result is NaN is told failed."""
from __future__ import annotations

import math
from typing import Any, List, Optional, Sequence, Union

__all__ = ["from_wire", "to_wire", "values_from_wire"]


def to_wire(v: float) -> Union[float, str]:
    """A finite value as itself, an infinite one as ``"Infinity"`` or ``"-Infinity"``."""
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def from_wire(v: Any) -> Any:
    """A value as the service answered it: ``"Infinity"`` and ``"-Infinity"`` become floats."""
    if v == "Infinity":
        return math.inf
    if v == "-Infinity":
        return -math.inf
    return v


def values_from_wire(vs: Optional[Sequence[Any]]) -> Optional[List[float]]:
    """A list of values as the service answered it (None stays None)."""
    return None if vs is None else [from_wire(v) for v in vs]
