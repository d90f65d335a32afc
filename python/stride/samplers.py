"""Optuna's sampler classes as stride's sampler settings, so that
``sampler=optuna.samplers.TPESampler(seed=10)`` reads the same under ``import stride as optuna``.

Each is a ``dict`` (``{"name": "tpe", "seed": 10, ...}``) that :func:`stride.create_study` sends as
the study's ``sampler``: the service samples, with the options it knows under Optuna's names
(docs/API.md lists them; an unknown one is a 422 naming the closest). Options left ``None`` are
not sent.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

__all__ = ["AutoSampler", "GPSampler", "NSGAIISampler", "QMCSampler", "RandomSampler", "TPESampler"]


class _Sampler(Dict[str, Any]):
    NAME = ""

    def __init__(self, seed: Optional[int] = None, **options: Any) -> None:
        super().__init__(name=self.NAME)
        if seed is not None:
            self["seed"] = seed
        self.update({k: v for k, v in options.items() if v is not None})


class AutoSampler(_Sampler):
    """``auto``, the service's default: QMC, then GP, then TPE as the study grows."""

    NAME = "auto"


class TPESampler(_Sampler):
    """``tpe`` (options ``n_startup_trials``, ``n_ei_candidates``, ``multivariate``, ``constant_liar``, ``prior_weight``)."""

    NAME = "tpe"


class GPSampler(_Sampler):
    """``gp`` (options ``n_startup_trials``, ``n_candidates``, ``n_local_search``, ``warp_output``)."""

    NAME = "gp"


class RandomSampler(_Sampler):
    """``random``."""

    NAME = "random"


class QMCSampler(_Sampler):
    """``qmc`` (Sobol')."""

    NAME = "qmc"


class NSGAIISampler(_Sampler):
    """``nsga2`` (options ``population_size``, ``mutation_prob``, ``crossover_prob``, ``swapping_prob``)."""

    NAME = "nsga2"
