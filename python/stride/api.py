"""The public :class:`Client`: a :class:`~stride.client.Connection` with the service's objects,
studies and range tests. The top of the package's layers (client at the bottom; reports, study
and lr above it; this module above them all), so no module imports another that imports it back.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from .client import Connection, _quote
from .lr import LrRangeTest
from .study import Study

__all__ = ["Client"]


class Client(Connection):
    """A connection to a stride service with its objects: :meth:`create_study`, :meth:`study`,
    :meth:`studies`, :meth:`lr_range_test`, :meth:`get_lr_range_test`, and every request of
    :class:`~stride.client.Connection` (``url``, ``api_key``, ``timeout``, ``max_retries``,
    ``max_retry_wait``: defaults from ``$STRIDE_URL`` and ``$STRIDE_API_KEY``, else a local
    ``npm start`` and its development key). Safe to share between threads.
    """

    # --- studies -------------------------------------------------------------

    def create_study(
        self,
        name: str,
        space: Optional[Mapping[str, Any]] = None,
        *,
        direction: Optional[str] = None,
        sampler: Union[str, Mapping[str, Any], None] = None,
        pruner: Union[str, Mapping[str, Any], None] = None,
        max_trials: Optional[int] = None,
        metric: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        executor: Union[str, Mapping[str, Any], None] = None,
        directions: Optional[Sequence[str]] = None,
        metrics: Optional[Sequence[str]] = None,
        load_if_exists: bool = False,
    ) -> "Study":
        """Create a study (``POST /v1/studies``) and return it.

        The search space may be declared here, or left out (or partial): then the trials'
        ``trial.suggest_float(...)`` calls add their parameters at first use (define-by-run, as
        in Optuna). Each declared parameter is a dict, as in docs/API.md::

            space = {
                "lr": {"type": "float", "low": 1e-5, "high": 1, "log": True},
                "batch_size": {"type": "int", "low": 16, "high": 256, "log": True},
                "optimizer": {"type": "categorical", "choices": ["sgd", "adam"]},
                "beta1": {"type": "float", "low": 0.8, "high": 0.99, "when": {"optimizer": "adam"}},
            }

        Args:
            direction: ``"minimize"`` (the service's default) or ``"maximize"``.
            space: the declared parameters (default: none; the trials ask for theirs).
            sampler: ``"auto"`` (the service's default: GP, TPE or QMC as the trial suits; each
                trial's :attr:`Trial.sampler` says which), ``"tpe"``, ``"gp"``, ``"random"``,
                ``"qmc"``, ``"grid"``, or a dict with options (``{"name": "tpe", "seed": 7}``).
            pruner: ``"none"`` (default), ``"median"``, ``"asha"``, ``"hyperband"``, or a dict with options.
            max_trials: the study completes after this many trials (default: no bound).
            metric: the name of the value (``"val_loss"``); the service's default is ``"value"``.
            metadata: free-form JSON kept with the study.
            executor: ``"client"`` (default: you ask and tell, e.g. with ``optimize``), ``"runner"``
                (``stride agent`` runs the trials) or ``"edge"``, or a dict with options
                (``{"kind": "client", "lease_seconds": 60}``: a trial whose process died is asked
                again after 60 s without a heartbeat, instead of the default 300).
            directions: several objectives, one direction each (``["minimize", "maximize"]``),
                instead of ``direction``, as ``optuna.create_study(directions=...)``: the objective
                returns one value per direction and :attr:`Study.best_trials` is the Pareto front.
            metrics: the objectives' names, one per direction (default ``objective_0``, ...).
            load_if_exists: as Optuna's: when the project has a study of this ``name``, return it
                (the newest, if several) instead of creating one, its configuration as it was
                created (the other arguments are not compared). With
                ``study.optimize(objective, resume=True)``, a script started again after a crash
                finishes the study it started. Not atomic: two processes starting at once may
                each create one; start one first.
        """
        if load_if_exists:
            existing = self._study_named(name)
            if existing is not None:
                return existing
        body: Dict[str, Any] = {"name": name, "space": dict(space or {})}
        if direction is not None:
            body["direction"] = direction
        if directions is not None:
            body["directions"] = list(directions)
        if metrics is not None:
            body["metrics"] = list(metrics)
        if sampler is not None:
            body["sampler"] = {"name": sampler} if isinstance(sampler, str) else dict(sampler)
        if pruner is not None:
            body["pruner"] = {"name": pruner} if isinstance(pruner, str) else dict(pruner)
        if max_trials is not None:
            body["max_trials"] = max_trials
        if metric is not None:
            body["metric"] = metric
        if metadata is not None:
            body["metadata"] = dict(metadata)
        if executor is not None:
            body["executor"] = {"kind": executor} if isinstance(executor, str) else dict(executor)
        return Study(self, self.request("POST", "/v1/studies", body))

    def _study_named(self, name: str) -> Optional["Study"]:
        """The project's newest study of this name that the service still holds (``GET
        /v1/studies?name=``: a listed study whose live state is gone is ``unavailable``), or None."""
        cursor: Optional[str] = None
        while True:
            page = self.request("GET", "/v1/studies", query={"name": name, "limit": 100, "cursor": cursor})
            for s in page["studies"]:
                if s.get("state") != "unavailable":
                    return Study(self, s)
            cursor = page.get("next_cursor")
            if not cursor:
                return None

    def study(self, study_id: str) -> "Study":
        """The study with this id (``GET /v1/studies/{id}``); a 404 :class:`StrideError` when there is none."""
        return Study(self, self.request("GET", f"/v1/studies/{_quote(study_id)}"))

    def studies(self, limit: Optional[int] = None, *, page_size: int = 100) -> List["Study"]:
        """The project's studies, newest first (``GET /v1/studies``, following ``next_cursor``).

        ``limit`` stops after that many; ``page_size`` (1-100) is how many each request fetches.
        """
        out: List[Study] = []
        cursor: Optional[str] = None
        while limit is None or len(out) < limit:
            size = page_size if limit is None else max(1, min(page_size, limit - len(out)))
            page = self.request("GET", "/v1/studies", query={"cursor": cursor, "limit": size})
            out.extend(Study(self, s) for s in page["studies"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return out if limit is None else out[:limit]

    # --- learning rates ------------------------------------------------------

    def lr_range_test(self, body: Mapping[str, Any], *, timeout: float = 300.0) -> "LrRangeTest":
        """Run an LR range test on the service (``POST /v1/lr-range-tests``) with ``body`` as in
        docs/API.md (``{"probe": {...}, "range": {...}}``); the same request again answers from
        the service's cache. For your own PyTorch model, use :func:`stride.lr_find`.
        """
        return LrRangeTest(
            self.request("POST", "/v1/lr-range-tests", dict(body), timeout=timeout, idempotent=True)
        )

    def get_lr_range_test(self, test_id: str) -> "LrRangeTest":
        """A stored range test (``GET /v1/lr-range-tests/{id}``)."""
        return LrRangeTest(self.request("GET", f"/v1/lr-range-tests/{_quote(test_id)}"))
