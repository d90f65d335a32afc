"""The length a trial trains: ``trial.horizon``.

A trial of :func:`stride.lr_suggest` (and of ``stride agent`` running one) carries the length its
run trains as a param, ``epochs`` or ``steps``: the full horizon unless the service asks for a
shorter run, which then trains its whole schedule compressed into that length.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

#: The params that name a run's length, in the order they are looked for.
UNITS = ("epochs", "steps")


def horizon_of(params: Mapping[str, Any]) -> Optional[Dict[str, int]]:
    """``{"epochs": n}`` or ``{"steps": n}`` from a trial's params; None when neither is there."""
    for unit in UNITS:
        value = params.get(unit)
        if isinstance(value, int) and not isinstance(value, bool):
            return {unit: value}
        if isinstance(value, float) and value.is_integer():
            return {unit: int(value)}
    return None
