"""Trial states as Optuna names them, so that ``optuna.trial.TrialState.COMPLETE`` reads the same
under ``import stride as optuna``.

:class:`TrialState` is a ``str`` enum: each member equals the state's name in stride's API
(``TrialState.COMPLETE == "complete"``), so ``trial.state`` compares with either.
"""
from __future__ import annotations

from enum import Enum

__all__ = ["TrialState"]


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
