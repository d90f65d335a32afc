"""stride: tune deep-learning hyperparameters, learning rate first.

The Python client of the stride HTTP API (docs/API.md)::

    import stride

    client = stride.Client()                       # $STRIDE_URL, $STRIDE_API_KEY
    study = client.create_study(
        "mlp-lr",
        space={"lr": {"type": "float", "low": 1e-5, "high": 1, "log": True}},
        sampler={"name": "tpe", "seed": 7}, pruner="median", max_trials=20,
    )

    def objective(trial):
        lr = trial.params["lr"]                    # declared with the study, or asked for:
        # momentum = trial.suggest_float("momentum", 0.5, 0.99)   (define-by-run, as Optuna)
        for epoch in range(10):
            loss = train_one_epoch(lr)
            if trial.report(epoch, loss):          # True: the pruner says stop
                raise stride.TrialPruned()
        return loss

    study.optimize(objective, n_trials=20)
    print(study.best_params, study.best_value)

Optuna code runs with ``import stride as optuna`` (:func:`create_study`, :func:`load_study`,
``trial.suggest_*``; the differences are in docs/python.md). Also :func:`current_trial` (one script for ``stride agent`` and alone), :func:`lr_find`
(an LR range test of your own PyTorch model) and :func:`lr_suggest` (its candidates validated
by training them with your code, for your run's length). Standard library only; PyTorch is
imported by :func:`lr_find` alone (and :func:`lr_suggest` to describe a torch optimizer).
"""
from __future__ import annotations

from ._version import __version__

from .agent import AgentTrial, current_trial, in_agent
from .api import Client
from .client import DEFAULT_API_KEY, DEFAULT_URL, Connection
from .errors import Issue, StrideConnectionError, StrideError, StrideTimeoutError, TrialPruned
from .lr import (
    Curve,
    LrFindResult,
    LrRangeTest,
    LrSuggestResult,
    Suggestion,
    describe_optimizer,
    lr_find,
    lr_suggest,
)
from . import pruners, samplers
from .studies import create_study, load_study
from .study import ParamValue, Study, StudyDirection, Trial
from .trial import TrialState

__all__ = [
    "__version__",
    "AgentTrial",
    "Client",
    "Connection",
    "Curve",
    "DEFAULT_API_KEY",
    "DEFAULT_URL",
    "Issue",
    "LrFindResult",
    "LrRangeTest",
    "LrSuggestResult",
    "ParamValue",
    "StrideConnectionError",
    "StrideError",
    "StrideTimeoutError",
    "Study",
    "StudyDirection",
    "Suggestion",
    "Trial",
    "TrialPruned",
    "TrialState",
    "create_study",
    "current_trial",
    "describe_optimizer",
    "in_agent",
    "lr_find",
    "load_study",
    "lr_suggest",
    "pruners",
    "samplers",
]
