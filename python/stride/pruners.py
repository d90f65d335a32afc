"""Optuna's pruner classes as stride's pruner settings (``pruner=optuna.pruners.MedianPruner()``
under ``import stride as optuna``): each is a ``dict`` (``{"name": "median", ...}``) that
:func:`stride.create_study` sends as the study's ``pruner``. Options left ``None`` are not sent.
"""
from __future__ import annotations

from typing import Any, Dict

__all__ = ["HyperbandPruner", "MedianPruner", "NopPruner", "SuccessiveHalvingPruner"]


class _Pruner(Dict[str, Any]):
    NAME = ""

    def __init__(self, **options: Any) -> None:
        super().__init__(name=self.NAME)
        self.update({k: v for k, v in options.items() if v is not None})


class NopPruner(_Pruner):
    """``none``: never prunes."""

    NAME = "none"


class MedianPruner(_Pruner):
    """``median`` (options ``n_startup_trials``, ``n_warmup_steps``, ``interval_steps``, ``n_min_trials``)."""

    NAME = "median"


class SuccessiveHalvingPruner(_Pruner):
    """``asha`` (options ``min_resource``, ``reduction_factor``, ``min_early_stopping_rate``, ``max_resource``)."""

    NAME = "asha"


class HyperbandPruner(_Pruner):
    """``hyperband`` (options ``min_resource``, ``max_resource``, ``reduction_factor``)."""

    NAME = "hyperband"
