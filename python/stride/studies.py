"""Module-level ``create_study`` and ``load_study``, as Optuna's, so that an Optuna script runs
under ``import stride as optuna`` (the differences are in docs/python.md, "Optuna code on stride").

``storage`` is where the study lives: a stride URL (or a :class:`stride.Client`); by default
``$STRIDE_URL`` with ``$STRIDE_API_KEY``, as :class:`stride.Client`.
"""
from __future__ import annotations

import uuid
from typing import Any, Mapping, Optional, Sequence, Union

from .api import Client
from .study import Study

__all__ = ["create_study", "load_study"]

Storage = Union[str, Client, None]


def _client(storage: Storage) -> Client:
    if isinstance(storage, Client):
        return storage
    return Client(url=storage)


def create_study(
    study_name: Optional[str] = None,
    *,
    storage: Storage = None,
    sampler: Union[str, Mapping[str, Any], None] = None,
    pruner: Union[str, Mapping[str, Any], None] = None,
    direction: Optional[str] = None,
    load_if_exists: bool = False,
    directions: Optional[Sequence[str]] = None,
    space: Optional[Mapping[str, Any]] = None,
    max_trials: Optional[int] = None,
    metadata: Optional[Mapping[str, Any]] = None,
    executor: Union[str, Mapping[str, Any], None] = None,
) -> Study:
    """Create a study, as ``optuna.create_study``: define-by-run (the trials' ``suggest_*`` calls
    make the space) unless ``space`` declares parameters. ``study_name`` defaults to a new unique
    name; ``load_if_exists`` returns the project's study of that name when there is one.
    ``sampler`` and ``pruner`` are stride's names (``"tpe"``), dicts with options, or
    :mod:`stride.samplers` / :mod:`stride.pruners` objects (``TPESampler(seed=10)``).
    ``direction`` takes ``"minimize"``/``"maximize"`` (or :class:`stride.study.StudyDirection`)."""
    name = study_name if study_name is not None else f"no-name-{uuid.uuid4()}"
    return _client(storage).create_study(
        name,
        space,
        direction=None if direction is None else str(direction),
        directions=None if directions is None else [str(d) for d in directions],
        sampler=sampler,
        pruner=pruner,
        max_trials=max_trials,
        metadata=metadata,
        executor=executor,
        load_if_exists=load_if_exists,
    )


def load_study(
    study_name: Optional[str] = None, *, storage: Storage = None, study_id: Optional[str] = None
) -> Study:
    """The study of this name (the newest, if several) or id, as ``optuna.load_study``; a
    KeyError when there is none (as Optuna's)."""
    client = _client(storage)
    if study_id is not None:
        return client.study(study_id)
    if study_name is None:
        raise ValueError("load_study needs study_name (or study_id)")
    study = client._study_named(study_name)
    if study is None:
        raise KeyError(f"no study named {study_name!r} in this project")
    return study
