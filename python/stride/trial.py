"""Trial states as Optuna names them, so that ``optuna.trial.TrialState.COMPLETE`` reads the same
under ``import stride as optuna``.

:class:`TrialState` is a ``str`` enum: each member equals the state's name in stride's API
(``TrialState.COMPLETE == "complete"``), so ``trial.state`` compares with either.
"""
from __future__ import annotations

import numbers
from enum import Enum
from typing import Any, Tuple

__all__ = ["TrialState", "step_and_value"]


def _is_step(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def step_and_value(first: Any, second: Any) -> Tuple[int, Any]:
    """``report``'s two positional arguments as (step, value), in either order: stride's
    ``report(step, value)``, or Optuna's ``report(value, step)``, recognised by its step, the
    second argument, being an int where the first is not (``report(0.35, 3)``). With two ints,
    stride's order is read: pass keywords (``step=``, ``value=``) to be explicit."""
    if _is_step(first):
        return int(first), second
    if _is_step(second):
        return int(second), first
    raise ValueError(
        f"step must be an int >= 0, got {first!r} and {second!r}: report(step, value) "
        "(or Optuna's report(value, step)) takes one int step"
    )


class TrialState(str, Enum):
    """A trial's state: ``RUNNING``, ``COMPLETE``, ``PRUNED``, ``FAIL`` or ``WAITING`` (Optuna's
    names), each equal to stride's (``"running"``, ``"complete"``, ``"pruned"``, ``"failed"``,
    ``"waiting"``)."""

    RUNNING = "running"
    COMPLETE = "complete"
    PRUNED = "pruned"
    FAIL = "failed"
    WAITING = "waiting"

    def __str__(self) -> str:
        return self.value

    def is_finished(self) -> bool:
        """True for ``COMPLETE``, ``PRUNED`` and ``FAIL``, as Optuna's."""
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
