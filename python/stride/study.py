"""Studies and trials: ask and tell, and Optuna-style ``optimize``.

A study's search space may be declared when the study is created (see
:meth:`stride.Client.create_study`): a trial then arrives with those ``params`` already chosen
by the service's sampler (read ``trial.params["lr"]``). Or define-by-run, as in Optuna:
``trial.suggest_float("lr", 1e-5, 1e-1, log=True)`` asks the service for the parameter, which
joins the study's space at first use (docs/API.md, "Define-by-run"). Both mix in one study.
"""
from __future__ import annotations

import datetime
import logging
import math
import os
import threading
import time
import warnings
from collections import deque
from enum import Enum
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Deque,
    Dict,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    Union,
)

from . import reports
from .errors import StrideError, TrialPruned
from .trial import TrialState, step_and_value
from .heartbeat import heartbeats
from .horizon import horizon_of
from .reports import ReportSender
from .wire import from_wire, to_wire, values_from_wire

if TYPE_CHECKING:  # pragma: no cover
    from .client import Connection

__all__ = ["Study", "StudyDirection", "Trial", "ParamValue"]

logger = logging.getLogger("stride")

#: A parameter's value: a float or int (numeric parameters) or a categorical choice.
#: ``params`` dicts are typed ``Dict[str, Any]`` (as Optuna's) so that ``math.log10(trial.params["lr"])`` type-checks.
ParamValue = Union[float, int, str, bool]

ExceptionTypes = Union[Type[BaseException], Tuple[Type[BaseException], ...]]


class StudyDirection(str, Enum):
    """A study's direction as Optuna names it (``optuna.study.StudyDirection.MINIMIZE``); each
    member equals stride's name (``StudyDirection.MINIMIZE == "minimize"``)."""

    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"

    def __str__(self) -> str:
        return self.value


def _same_distribution(a: Optional[Mapping[str, Any]], b: Mapping[str, Any]) -> bool:
    """Whether two distributions (space entries) are the same, as the service compares them (an
    int's step 1 and an absent log are the defaults)."""
    if a is None or a.get("type") != b.get("type"):
        return False
    if a["type"] == "categorical":
        return list(a.get("choices") or []) == list(b.get("choices") or [])

    def step(d: Mapping[str, Any]) -> Any:
        return d.get("step", 1 if d["type"] == "int" else None)

    return (
        a.get("low") == b.get("low")
        and a.get("high") == b.get("high")
        and bool(a.get("log")) == bool(b.get("log"))
        and step(a) == step(b)
    )


def _column_group(column: str) -> str:
    """The ``attrs`` group of a ``trials_dataframe`` column: ``params_lr`` -> ``params``, ``values_0`` -> ``value``."""
    for prefix, group in (("params_", "params"), ("user_attrs_", "user_attrs"), ("values_", "value")):
        if column.startswith(prefix):
            return group
    return column


def _parse_time(iso: Any) -> Optional[datetime.datetime]:
    if not isinstance(iso, str):
        return None
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _seg(s: str) -> str:
    import urllib.parse

    return urllib.parse.quote(str(s), safe="")


class Trial:
    """One trial of a study: its ``params`` (chosen by the service), ``number`` and state.

    ``params`` are fixed when the trial is asked: the space was declared with the study.
    Report intermediate values with :meth:`report` (the answer says whether to prune), then
    end the trial with :meth:`tell`, :meth:`fail` or :meth:`prune`.

    An asked trial is held under a lease (``lease``): its reports and tell carry the lease's
    token, and a background thread heartbeats it until it ends (:mod:`stride.heartbeat`). If
    this process dies, the lease expires and the study hands the trial out again.

    Attributes:
        study: the :class:`Study` it belongs to.
        number: dense from 0, in ask order.
        params: parameter name -> value (a conditional parameter is absent when its condition is false).
        state: ``"waiting"``, ``"running"``, ``"complete"``, ``"pruned"`` or ``"failed"``.
        value: the told value (``None`` unless complete, and in a study with several objectives).
        values: a complete trial's values, one per objective (``[value]`` with one); else ``None``.
        constraints: the constraint values told with the result (feasible when all <= 0), or ``None``.
        sampler: the sampler that proposed the params (with ``"auto"``, the one it picked for this
            trial: ``"qmc"``, ``"gp"``, ``"tpe"``, ...); ``None`` when they were given (enqueued).
        intermediate: ``[{"step", "value"}, ...]`` as the service last answered.
        error: why it failed or was pruned, when said.
        attempts: the leases the trial has had (2 or more: it was asked again after a lease expired).
        lease: this process's lease on the trial, ``{"token", "expires_at", "attempt",
            "heartbeat_seconds"}``, when it asked for it (None for trials read from a listing).
        raw: the service's JSON of the trial, as last seen.
    """

    def __init__(self, study: "Study", data: Mapping[str, Any]) -> None:
        self.study = study
        self._should_prune = False
        self._lock = threading.Lock()
        # Reports waiting for the client's background sender (stride/reports.py), oldest first.
        self._buffer: Deque[Tuple[int, float]] = deque()
        # Held while points are sent: batches leave in order, and flush() waits for one in flight.
        self._send_lock = threading.Lock()
        # Whether the sender knows this trial has pending points (it lowers it when none are left).
        self._queued = False
        self._last_step = -1
        self._error: Optional[StrideError] = None
        self._sender: Optional[ReportSender] = None
        # The next step at which the study's pruner decides (ASHA, Hyperband): reported at once.
        self._rung = reports.next_rung(study.pruner, -1)
        # Set with set_constraints: sent with the result optimize tells.
        self._constraints: Optional[List[float]] = None
        lease = data.get("lease")
        self.lease: Optional[Dict[str, Any]] = dict(lease) if isinstance(lease, Mapping) else None
        self._update(data)

    def _update(self, data: Mapping[str, Any]) -> None:
        self.raw: Dict[str, Any] = dict(data)
        self.study_id: str = data["study_id"]
        self.number: int = int(data["number"])
        self.params: Dict[str, Any] = dict(data.get("params") or {})
        self.state: str = TrialState(data.get("state", "running"))
        self.value: Optional[float] = from_wire(data.get("value"))
        self.user_attrs: Dict[str, Any] = dict(data.get("user_attrs") or {})
        self.system_attrs: Dict[str, Any] = dict(data.get("system_attrs") or {})
        values = data.get("values")
        self.values: Optional[List[float]] = values_from_wire(values)
        constraints = data.get("constraints")
        self.constraints: Optional[List[float]] = None if constraints is None else list(constraints)
        self.sampler: Optional[str] = data.get("sampler")
        self.intermediate: List[Dict[str, Any]] = list(data.get("intermediate") or [])
        self.error: Optional[str] = data.get("error")
        self.attempts: int = int(data.get("attempts") or 0)

    def __repr__(self) -> str:
        if self.value is not None:
            value = f", value={self.value!r}"
        elif self.values is not None:
            value = f", values={self.values!r}"
        else:
            value = ""
        return f"Trial(number={self.number}, state={str(self.state)!r}, params={self.params!r}{value})"

    @property
    def seed(self) -> int:
        """The trial's ``seed`` param, 0 without one: :func:`stride.lr_suggest` trains each
        candidate on seeds 0, 1, ... (seed your model's initialisation and data order with it)."""
        value = self.params.get("seed", 0)
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0

    @property
    def horizon(self) -> Optional[Dict[str, int]]:
        """How long to train this trial: ``{"epochs": n}`` or ``{"steps": n}`` (its ``epochs`` or
        ``steps`` param). Under :func:`stride.lr_suggest` every trial has one: the full horizon, or
        a shorter run the service asks for, into which ``train_fn`` compresses its whole schedule.
        None when the params name no length."""
        return horizon_of(self.params)

    @property
    def is_finished(self) -> bool:
        """True once the trial is complete, pruned or failed."""
        return self.state in ("complete", "pruned", "failed")

    # --- define-by-run: Optuna's suggest API ---------------------------------

    def suggest_float(
        self, name: str, low: float, high: float, *, step: Optional[float] = None, log: bool = False
    ) -> float:
        """A float parameter in [low, high] (``log``: sampled on a log scale; ``step``: on the grid
        low + k * step), as Optuna's ``trial.suggest_float``. The first trial to ask for ``name``
        adds it to the study's space; the study's sampler picks the value, and asking again
        answers the same. The same name with another distribution is a 409 :class:`StrideError`
        (Optuna raises a ValueError)."""
        d: Dict[str, Any] = {"type": "float", "low": low, "high": high}
        if log:
            d["log"] = True
        if step is not None:
            d["step"] = step
        return float(self._suggest(name, d))

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        """An int parameter in [low, high] (``step`` apart; ``log``: on a log scale), as Optuna's
        ``trial.suggest_int``."""
        d: Dict[str, Any] = {"type": "int", "low": int(low), "high": int(high)}
        if log:
            d["log"] = True
        if step != 1:
            d["step"] = int(step)
        return int(self._suggest(name, d))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """One of ``choices`` (strings, finite numbers or booleans; ``None`` is not a choice in
        stride), as Optuna's ``trial.suggest_categorical``."""
        return self._suggest(name, {"type": "categorical", "choices": list(choices)})

    def _suggest(self, name: str, distribution: Dict[str, Any]) -> Any:
        """The trial's value of ``name``: from ``params`` when the trial has it under the same
        distribution (declared with the study, or asked before), else asked from the service
        (``POST .../params``). A numeric range of one value (low == high) answers it, unsent."""
        if name in self.params and _same_distribution(self.study.space.get(name), distribution):
            return self.params[name]
        if distribution["type"] != "categorical" and distribution["low"] == distribution["high"]:
            self.params[name] = distribution["low"]
            return distribution["low"]
        answer = self.study.client.request(
            "POST",
            f"{self._path}/params",
            self._leased({"name": name, "distribution": distribution}),
            idempotent=True,
        )
        self.params[name] = answer["value"]
        self.study.space[name] = answer["distribution"]
        return answer["value"]

    @property
    def distributions(self) -> Dict[str, Dict[str, Any]]:
        """Each of the trial's params' distribution (its entry of the study's space), as Optuna's
        ``FrozenTrial.distributions`` (stride's dict form)."""
        return {k: self.study.space[k] for k in self.params if k in self.study.space}

    def set_user_attr(self, key: str, value: Any) -> None:
        """Set a user attribute (any JSON), as Optuna's ``trial.set_user_attr``; a finished
        trial's attributes do not change (409)."""
        self._set_attrs({"user_attrs": {key: value}})

    def set_system_attr(self, key: str, value: Any) -> None:
        """Set a system attribute (any JSON), as Optuna's ``trial.set_system_attr``."""
        self._set_attrs({"system_attrs": {key: value}})

    def _set_attrs(self, body: Dict[str, Any]) -> None:
        answer = self.study.client.request("POST", f"{self._path}/attrs", self._leased(body), idempotent=True)
        self.user_attrs = dict(answer["user_attrs"])
        self.system_attrs = dict(answer["system_attrs"])

    @property
    def datetime_start(self) -> Optional[datetime.datetime]:
        """When the trial started (``started_at``), as Optuna's."""
        return _parse_time(self.raw.get("started_at"))

    @property
    def datetime_complete(self) -> Optional[datetime.datetime]:
        """When the trial ended (``completed_at``), as Optuna's."""
        return _parse_time(self.raw.get("completed_at"))

    @property
    def duration(self) -> Optional[datetime.timedelta]:
        """How long the trial ran, once it ended."""
        start, end = self.datetime_start, self.datetime_complete
        return None if start is None or end is None else end - start

    @property
    def _path(self) -> str:
        return f"/v1/studies/{_seg(self.study_id)}/trials/{self.number}"

    def _leased(self, body: Dict[str, Any]) -> Dict[str, Any]:
        """``body`` with this process's lease token, when it holds one (the service refuses a
        report or tell whose trial was asked again elsewhere; without a token, a call acts for
        the trial's first lease)."""
        if self.lease and self.lease.get("token"):
            body["lease_token"] = self.lease["token"]
        return body

    def report(self, step: Any, value: Any, *, wait: bool = False) -> bool:
        """Report an intermediate value at ``step`` (an int >= 0: an epoch, an iteration); answers
        whether the study's pruner says to stop this trial (then raise :class:`stride.TrialPruned`
        from an objective, or call :meth:`prune`). Optuna's order, ``report(value, step)``, is read
        the same when the value is not an int (``report(0.35, 3)``); with two ints the first is the
        step (keywords, ``report(value=..., step=...)``, are explicit in both).

        It does not wait for the service: the point joins the trial's buffer, which the client's
        background thread sends in batches (``POST .../report`` with ``points``) at most
        ``interval`` seconds later (0.2 by default), or at once when ``batch`` points (100) are
        pending; see :mod:`stride.reports`. So a report costs microseconds, and the answer is the
        latest the service gave: a pruning answer is visible at most one batch late. Once the
        pruner said prune, it stays True. At a rung of the study's ASHA or Hyperband pruner (the
        few steps where it decides) the report sends what is buffered and waits for the answer.

        ``wait=True`` sends what is buffered, then this point, and answers for it (the synchronous
        report). A step not above the last one reported (a repeat, or out of order) is sent that
        way too: the same step with the same value is accepted, with a different value it is a
        409 :class:`StrideError`, raised here. A NaN or infinite value is not sent (it is not
        JSON). When a background send failed (after the client's retries), this call raises that
        :class:`StrideError`, which names the steps that were not stored.
        """
        if len(self.study.directions) > 1:
            raise NotImplementedError(
                f"trial.report is for single-objective studies; study {self.study_id} has {len(self.study.directions)} objectives "
                "(as in Optuna: pruners judge one objective)"
            )
        # Optuna's order, report(value, step), reads the same (an int step after a float value).
        step, value = step_and_value(step, value)
        if step < 0:
            raise ValueError(f"step must be an int >= 0, got {step!r}")
        v = float(value)
        if self._error is not None:
            self._raise_error()
        if not math.isfinite(v):
            return self._should_prune
        if wait or step <= self._last_step or self.state != "running":
            return self._report_now(step, v)
        self._last_step = step
        buffer = self._buffer
        buffer.append((step, v))
        if step >= self._rung:
            # A rung of the study's ASHA/Hyperband pruner: this answer decides, so wait for it.
            self._rung = reports.next_rung(self.study.pruner, step)
            self.flush()
            return self._should_prune
        sender = self._sender
        if sender is None:
            sender = self._sender = reports.sender(self.study.client)
        if not self._queued or len(buffer) % sender.batch == 0:
            sender.pending(self)
        return self._should_prune

    def flush(self) -> None:
        """Send the buffered reports now, in this thread, and wait until the service has them
        (and for a batch the background thread has in flight). Raises the :class:`StrideError`
        of a send that failed, in the background or here (the earliest, when several did)."""
        failed: Optional[StrideError] = None
        try:
            self._send_pending(reports.MAX_POINTS)
        except StrideError as e:
            failed = e
        # Read after the sends: a background send that was in flight has finished by now.
        earlier, self._error = self._error, None
        if earlier is not None:
            if failed is not None:
                logger.warning("stride: %s", failed)
            raise earlier
        if failed is not None:
            raise failed

    def _raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _report_now(self, step: int, v: float) -> bool:
        self.flush()
        answer = self.study.client.request(
            "POST", f"{self._path}/report", self._leased({"step": step, "value": v}), idempotent=True
        )
        self._note(bool(answer["should_prune"]))
        with self._lock:
            self.intermediate = [p for p in self.intermediate if p.get("step") != step] + [
                {"step": step, "value": v}
            ]
            self._last_step = max(self._last_step, step)
        return self._should_prune

    def _note(self, should_prune: bool) -> None:
        if should_prune:
            self._should_prune = True

    def _send_pending(self, max_points: int, background: bool = False, give_up: bool = False) -> None:
        """Send the buffered points, ``max_points`` a call, in order: all of them, or
        (``background``) one batch. A batch that fails is dropped; the background thread keeps its
        error for the trial's next call, the foreground raises the first one after the rest went
        (``give_up``: at once, dropping the rest, as at interpreter exit)."""
        failed: Optional[StrideError] = None
        with self._send_lock:
            buffer = self._buffer
            while buffer:
                points = [buffer.popleft() for _ in range(min(len(buffer), max_points))]
                body = self._leased({"points": [{"step": s, "value": v} for s, v in points]})
                try:
                    answer = self.study.client.request("POST", f"{self._path}/report", body, idempotent=True)
                except Exception as e:
                    error = reports.report_error(e, points, self.number)
                    if background:
                        if self._error is None:
                            self._error = error
                        else:
                            logger.warning("stride: %s", error)
                        return
                    if give_up:
                        buffer.clear()
                        raise error from e
                    if failed is None:
                        failed = error
                    else:
                        logger.warning("stride: %s", error)
                    continue
                self._note(bool(answer["should_prune"]))
                with self._lock:
                    self.intermediate.extend({"step": s, "value": v} for s, v in points)
                if background:
                    return
        if failed is not None:
            raise failed

    def should_prune(self) -> bool:
        """What the pruner said at the last answered report (False before any; True once it said prune).

        stride's pruner answers each report, so this asks the service nothing.
        """
        return self._should_prune

    def set_constraints(self, constraints: Sequence[float]) -> None:
        """Set the constraint values :meth:`Study.optimize` tells with this trial's result (the
        trial is feasible when every one is <= 0, as values of Optuna's ``constraints_func``).
        Call it inside the objective; :meth:`tell` takes ``constraints=`` directly."""
        self._constraints = _constraint_list(constraints)

    def tell(
        self,
        value: Union[float, Sequence[float], None] = None,
        *,
        values: Union[float, Sequence[float], None] = None,
        constraints: Optional[Sequence[float]] = None,
    ) -> "Trial":
        """End the trial with its result (``POST .../tell``): ``value``, or ``values`` (one per
        objective of a study with several; as with Optuna's ``study.tell``, either argument takes a
        number or a sequence), and optionally ``constraints`` (1 to 16 numbers; the
        trial is feasible when every one is <= 0). An infinite value is told as such (the
        string ``"Infinity"`` or ``"-Infinity"`` on the wire), as Optuna keeps it; a NaN value ends
        the trial ``failed`` (``"diverged: ..."``) instead, as Optuna fails it; a NaN or infinite
        constraint is a ValueError (nothing is sent)."""
        if (value is None) == (values is None):
            raise ValueError("tell needs a value, or values (one per objective), not both")
        # As Optuna's study.tell, either takes a number or a sequence of them.
        given: Any = value if values is None else values
        several = isinstance(given, (list, tuple)) or (
            _iterable(given) and not isinstance(given, (int, float))
        )
        vs = [float(v) for v in given] if several else [float(given)]
        if values is None and several:
            values = vs
        cs = None if constraints is None else _constraint_list(constraints)
        bad = [v for v in vs if math.isnan(v)]
        if bad:
            return self._tell({"state": "failed", "error": f"diverged: the value was {bad[0]}"})
        wire = [to_wire(v) for v in vs]
        body: Dict[str, Any] = {"value": wire[0]} if values is None else {"values": wire}
        if cs is not None:
            body["constraints"] = cs
        return self._tell(body)

    def fail(self, error: Union[str, BaseException, None] = None) -> "Trial":
        """End the trial as failed, with the reason (a message or the exception)."""
        body: Dict[str, Any] = {"state": "failed"}
        if error is not None:
            body["error"] = _error_text(error)
        return self._tell(body)

    def prune(self, reason: Optional[str] = None) -> "Trial":
        """End the trial as pruned (``optimize`` does this when the objective raises :class:`stride.TrialPruned`)."""
        body: Dict[str, Any] = {"state": "pruned"}
        if reason:
            body["error"] = reason
        return self._tell(body)

    def _tell(self, body: Dict[str, Any]) -> "Trial":
        # The service gets every reported point before the trial ends. A report that could not be
        # stored does not keep the trial from ending: its error is raised once the tell is through.
        report_error: Optional[StrideError] = None
        try:
            self.flush()
        except StrideError as e:
            report_error = e
        try:
            data = self.study.client.request(
                "POST", f"{self._path}/tell", self._leased(body), idempotent=True
            )
        except StrideError as e:
            if _lost_lease(e):
                heartbeats(self.study.client).remove(self)
            if report_error is not None:
                raise e from report_error
            raise
        self._update(data)
        # Ended: the lease is over, and so are its heartbeats.
        heartbeats(self.study.client).remove(self)
        if report_error is not None:
            raise report_error
        return self


def _lost_lease(e: BaseException) -> bool:
    """Whether ``e`` says this process's lease on the trial is gone (a 409 at ``lease_token``: it
    expired and the trial was asked again elsewhere)."""
    return isinstance(e, StrideError) and e.status == 409 and "lease_token" in e.paths


def _iterable(x: Any) -> bool:
    if isinstance(x, (str, bytes, Mapping)):
        return False
    try:
        iter(x)
    except TypeError:
        return False
    return True


def _constraint_list(constraints: Sequence[float]) -> List[float]:
    out = [float(c) for c in constraints]
    bad = [c for c in out if not math.isfinite(c)]
    if bad:
        raise ValueError(f"constraint values must be finite numbers, got {bad[0]}")
    if not out:
        raise ValueError("constraints needs at least one value")
    return out


def _error_text(error: Union[str, BaseException]) -> str:
    if isinstance(error, BaseException):
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    else:
        text = str(error)
    return text[:10_000]


class Study:
    """A study of the service: create one with :meth:`stride.Client.create_study`, or get one
    with :meth:`stride.Client.study`.

    Its configuration (``id``, ``name``, ``direction``, ``metric``, ``directions``, ``metrics``
    (one per objective), ``space``, ``sampler``, ``pruner``, ``executor``, ``max_trials``,
    ``metadata``, ``created_at``) is read once; ``state`` and ``n_trials`` are as of the last
    :meth:`refresh` (or creation), while ``best_trial``, ``best_trials``, ``best_params``,
    ``best_value`` and ``trials`` ask the service each time.
    """

    def __init__(self, client: "Connection", data: Mapping[str, Any]) -> None:
        self.client = client
        self._set(data)

    def _set(self, data: Mapping[str, Any]) -> None:
        self.raw: Dict[str, Any] = dict(data)
        self.id: str = data["id"]
        self.name: str = data["name"]
        self.direction: str = StudyDirection(data.get("direction", "minimize"))
        self.metric: str = data.get("metric", "value")
        self.directions: List[str] = [StudyDirection(d) for d in data.get("directions") or [self.direction]]
        self.metrics: List[str] = list(data.get("metrics") or [self.metric])
        self.space: Dict[str, Any] = dict(data.get("space") or {})
        self.sampler: Dict[str, Any] = dict(data.get("sampler") or {})
        self.pruner: Dict[str, Any] = dict(data.get("pruner") or {})
        self.executor: Dict[str, Any] = dict(data.get("executor") or {"kind": "client"})
        self.max_trials: Optional[int] = data.get("max_trials")
        self.metadata: Dict[str, Any] = dict(data.get("metadata") or {})
        self.created_at: Optional[str] = data.get("created_at")
        self.user_attrs: Dict[str, Any] = dict(data.get("user_attrs") or {})
        self.system_attrs: Dict[str, Any] = dict(data.get("system_attrs") or {})
        self.state: str = data.get("state", "running")
        self.n_trials: int = int(data.get("n_trials") or 0)

    def __repr__(self) -> str:
        return f"Study(id={self.id!r}, name={self.name!r}, state={self.state!r}, n_trials={self.n_trials})"

    @property
    def _path(self) -> str:
        return f"/v1/studies/{_seg(self.id)}"

    def refresh(self) -> "Study":
        """Read the study again (``GET /v1/studies/{id}``): ``state``, ``n_trials``, ``raw``."""
        self._set(self.client.request("GET", self._path))
        return self

    # --- ask and tell --------------------------------------------------------

    def ask(self) -> Trial:
        """Start the next trial (``POST .../ask``): a waiting one first (enqueued, or one whose
        lease expired, on its next attempt), else the sampler's next point. Past ``max_trials``
        (or an exhausted grid) it is a 409 :class:`StrideError`.

        The trial is held under a lease (``trial.lease``), heartbeated in the background until
        it ends (:mod:`stride.heartbeat`).
        """
        return self._held(Trial(self, self.client.request("POST", f"{self._path}/ask", {})))

    def ask_many(self, count: int) -> List[Trial]:
        """Start ``count`` trials at once (``POST .../ask-batch`` with ``{"count": k}``, 1-100),
        each under its own lease. Near ``max_trials`` it returns the trials that could start
        (fewer than ``count``); when none can, it is a 409 :class:`StrideError`, as :meth:`ask` is."""
        answer = self.client.request("POST", f"{self._path}/ask-batch", {"count": count})
        return [self._held(Trial(self, t)) for t in answer["trials"]]

    def _held(self, trial: Trial) -> Trial:
        """``trial``, heartbeated while it runs."""
        heartbeats(self.client).add(trial)
        return trial

    def enqueue(self, params: Mapping[str, Any]) -> Trial:
        """Enqueue a trial with these params (``POST .../trials``): the next :meth:`ask` returns it
        first (a warm start, a known-good configuration). The trial is ``waiting`` until then."""
        return Trial(self, self.client.request("POST", f"{self._path}/trials", {"params": dict(params)}))

    def tell(
        self,
        trial: Union[Trial, int],
        value: Union[float, Sequence[float], None] = None,
        *,
        values: Union[float, Sequence[float], None] = None,
        constraints: Optional[Sequence[float]] = None,
        state: Optional[str] = None,
        error: Optional[str] = None,
    ) -> Trial:
        """Tell the result of trial ``trial`` (a :class:`Trial` or its number): a ``value`` (or
        ``values``, one per objective, and optionally ``constraints``), or
        ``state="failed"``/``"pruned"`` with an ``error``. The same tell again answers the same;
        a different one is a 409."""
        if isinstance(trial, Trial):
            t = trial
        else:
            # The trial object that buffered this trial's reports, when there is one: they go first.
            # (The sender holds only Trials of this module; the check tells the type checker so.)
            buffered = reports.sender(self.client).trial(self.id, int(trial))
            t = (
                buffered
                if isinstance(buffered, Trial)
                else Trial(
                    self, {"study_id": self.id, "number": int(trial), "params": {}, "state": "running"}
                )
            )
        if state is None or state == "complete":
            if value is None and values is None:
                raise ValueError("tell needs a value (or values), or state='failed' or 'pruned'")
            return t.tell(value, values=values, constraints=constraints)
        if state == "failed":
            return t.fail(error)
        if state == "pruned":
            return t.prune(error)
        raise ValueError(f"state must be 'complete', 'failed' or 'pruned', got {state!r}")

    def enqueue_trial(
        self, params: Mapping[str, Any], user_attrs: Optional[Mapping[str, Any]] = None
    ) -> Trial:
        """Optuna's name for :meth:`enqueue` (with ``user_attrs`` set on the waiting trial)."""
        trial = self.enqueue(params)
        if user_attrs:
            trial._set_attrs({"user_attrs": dict(user_attrs)})
        return trial

    @property
    def study_name(self) -> str:
        """The study's name (Optuna's ``study.study_name``)."""
        return self.name

    def set_user_attr(self, key: str, value: Any) -> None:
        """Set a user attribute of the study (any JSON), as Optuna's ``study.set_user_attr``."""
        self._set_attrs({"user_attrs": {key: value}})

    def set_system_attr(self, key: str, value: Any) -> None:
        """Set a system attribute of the study (any JSON)."""
        self._set_attrs({"system_attrs": {key: value}})

    def _set_attrs(self, body: Dict[str, Any]) -> None:
        answer = self.client.request("POST", f"{self._path}/attrs", body, idempotent=True)
        self.user_attrs = dict(answer["user_attrs"])
        self.system_attrs = dict(answer["system_attrs"])

    def get_trials(self, deepcopy: bool = True, states: Optional[Sequence[str]] = None) -> List[Trial]:
        """The study's trials, in number order, only those in ``states`` when given
        (``(TrialState.COMPLETE,)``), as Optuna's ``study.get_trials``."""
        trials = self.trials
        if states is None:
            return trials
        wanted = {TrialState(s) for s in states}
        return [t for t in trials if t.state in wanted]

    def trials_dataframe(self, attrs: Sequence[str] = ()) -> Any:
        """The trials as a ``pandas.DataFrame``, one row each, with Optuna's columns: ``number``,
        ``value`` (``values_0``, ``values_1``, ... with several objectives), ``datetime_start``,
        ``datetime_complete``, ``duration``, ``params_<name>``, ``user_attrs_<name>`` and
        ``state`` (``"COMPLETE"``, ...); ``attrs`` keeps only those groups. Needs pandas
        (an ImportError saying so without it)."""
        try:
            import pandas as pd
        except ImportError as e:  # pandas is optional: only this method needs it
            raise ImportError(
                "Study.trials_dataframe needs pandas: pip install pandas (or apt install python3-pandas)"
            ) from e
        several = len(self.directions) > 1
        rows = []
        for t in self.trials:
            row: Dict[str, Any] = {"number": t.number}
            if several:
                for i in range(len(self.directions)):
                    row[f"values_{i}"] = t.values[i] if t.values else None
            else:
                row["value"] = t.value
            row.update(
                datetime_start=t.datetime_start, datetime_complete=t.datetime_complete, duration=t.duration
            )
            row.update({f"params_{k}": v for k, v in sorted(t.params.items())})
            row.update({f"user_attrs_{k}": v for k, v in sorted(t.user_attrs.items())})
            row["state"] = TrialState(t.state).name
            rows.append(row)
        df = pd.DataFrame(rows)
        if attrs:
            df = df[[c for c in df.columns if _column_group(c) in attrs]]
        return df

    @property
    def trials(self) -> List[Trial]:
        """Every trial of the study, in number order (``GET .../trials``)."""
        return [Trial(self, t) for t in self.client.request("GET", f"{self._path}/trials")["trials"]]

    @property
    def best_trials(self) -> List[Trial]:
        """The Pareto front of the feasible complete trials, by number, as ``optuna.Study.best_trials``:
        those no other feasible trial is at least as good as on every objective and better on one
        (a trial told constraints is feasible when every one is <= 0). With one objective,
        ``[best_trial]`` (or ``[]``)."""
        self.refresh()
        return [Trial(self, t) for t in self.raw.get("best_trials") or []]

    @property
    def best_trial(self) -> Trial:
        """The best feasible complete trial, as the service ranks them by ``direction``.
        ValueError when no trial has completed yet, and in a study with several objectives (use
        :attr:`best_trials`, as Optuna's ``best_trial`` raises too)."""
        if len(self.directions) > 1:
            raise ValueError(
                f"study {self.id} has {len(self.directions)} objectives: it has best_trials (the Pareto front), not one best_trial"
            )
        self.refresh()
        best = self.raw.get("best_trial")
        if not best:
            raise ValueError(
                f"no trial of study {self.id} has completed yet (or none that was told constraints is feasible)"
            )
        return Trial(self, best)

    @property
    def best_params(self) -> Dict[str, Any]:
        """The params of :attr:`best_trial`."""
        return self.best_trial.params

    @property
    def best_value(self) -> float:
        """The value of :attr:`best_trial`."""
        value = self.best_trial.value
        assert value is not None
        return value

    def importance(self, objective: Optional[int] = None) -> Dict[str, Any]:
        """Parameter importance from the complete trials (``GET .../importance``):
        ``{"method", "objective", "n_trials", "min_trials", "meaningful", "params": [{"name", "importance", "eta_squared"}]}``.
        Below ``min_trials`` complete trials, ``meaningful`` is False: the figures are noise.
        ``objective``: which objective of a study with several (an index into ``metrics``, default 0)."""
        query = None if objective is None else {"objective": objective}
        result: Dict[str, Any] = self.client.request("GET", f"{self._path}/importance", query=query)
        return result

    def run(self) -> "Study":
        """Start an edge study's trials on the edge (``POST .../run``); a 409 for other executors."""
        self._set(self.client.request("POST", f"{self._path}/run"))
        return self

    # --- optimize ------------------------------------------------------------

    def optimize(
        self,
        objective: Callable[[Trial], Union[None, float, Sequence[float]]],
        n_trials: Optional[int] = None,
        *,
        timeout: Optional[float] = None,
        n_jobs: int = 1,
        catch: Union[ExceptionTypes, Sequence[Type[BaseException]]] = (),
        callbacks: Optional[Sequence[Callable[["Study", Trial], None]]] = None,
        constraints_func: Optional[Callable[[Trial], Sequence[float]]] = None,
        resume: bool = False,
    ) -> None:
        """Run ``objective`` on trials asked from the service, as ``optuna.Study.optimize`` does.

        ``objective(trial)`` reads ``trial.params`` (stride chose them: the space was declared with
        the study), trains, may ``trial.report(step, value)`` and raise :class:`stride.TrialPruned`
        when that answers True, and returns the value, which is told; in a study with several
        objectives it returns a sequence of values, one per direction (``return loss, seconds``),
        and does not report. Then:

        - raising :class:`stride.TrialPruned` ends the trial ``pruned``;
        - raising one of ``catch`` ends it ``failed`` (with the exception as the reason) and goes on;
        - raising anything else ends it ``failed``, then the exception propagates (other threads
          finish their trial and stop);
        - returning None, a non-number, the wrong number of values, NaN or an infinity ends it
          ``failed`` (NaN is "diverged");
        - an objective that told the trial itself keeps that result.

        Constraints, as Optuna's ``constraints_func``: the objective may call
        ``trial.set_constraints([c1, ...])``, or ``constraints_func(trial)`` is called once the
        objective has returned, with ``trial.values`` (and ``trial.value``) set to what it
        returned, and answers the constraint values. They are told with the result; the trial is
        feasible when every one is <= 0, and ``best_trial``/``best_trials`` are among feasible
        trials. ``constraints_func`` wins over ``set_constraints``; one that raises, or answers a
        NaN, ends the trial ``failed``.

        It stops after ``n_trials`` trials (counted by this call), when ``timeout`` seconds have
        passed (checked before each ask; a running trial is not interrupted), or when the study
        has no more trials to give (``max_trials`` reached, grid exhausted); without either
        bound and without ``max_trials`` it runs until interrupted.

        ``n_jobs`` > 1 runs that many trials at once in threads (-1: one per CPU), sharing the
        client: useful when the objective waits (a GPU, a subprocess, I/O). Each callback is
        called as ``callback(study, trial)`` after each trial ends.

        Every asked trial is under a lease that a background thread heartbeats while the
        objective runs (:mod:`stride.heartbeat`). A process that dies mid-trial stops
        heartbeating: after the study's ``lease_seconds`` the trial waits again and the next ask,
        in any process, runs it (on attempt 2). ``resume=True`` finishes such a study (after a
        crash: ``client.study(id).optimize(objective, resume=True)``, or
        ``client.create_study(name, ..., load_if_exists=True)``): when the study has no trial to
        give now but trials are still out under another lease, it waits for them, asking again
        every few seconds, until none is left (each ended here or by its holder) or
        ``n_trials``/``timeout`` says stop. Trials already complete are never run again.

        A trial whose lease was lost (this process stalled past ``lease_seconds`` and the trial
        was asked again elsewhere) is left to its new holder with a warning: its result is not
        told, and ``optimize`` goes on.
        """
        kind = self.executor.get("kind", "client")
        if kind != "client":
            raise ValueError(
                f"study {self.id} is a {kind!r} study: its trials are not asked; optimize needs a client study"
            )
        if n_trials is not None and n_trials < 0:
            raise ValueError("n_trials must be >= 0")
        if n_jobs == -1:
            n_jobs = os.cpu_count() or 1
        if n_jobs < 1:
            raise ValueError("n_jobs must be >= 1 or -1")
        catch_types: Tuple[Type[BaseException], ...]
        if isinstance(catch, type):
            catch_types = (catch,)
        else:
            catch_types = tuple(catch)
        deadline = None if timeout is None else time.monotonic() + timeout
        state = _OptimizeState(n_trials, deadline)

        def worker() -> None:
            while state.claim():
                try:
                    trial = self.ask()
                except StrideError as e:
                    if e.status == 409:  # max_trials reached or the grid is exhausted
                        logger.info("stride: study %s has no more trials: %s", self.id, e.detail)
                        state.exhausted = True
                        state.stop.set()
                        state.unclaim()
                        return
                    raise
                try:
                    self._run_trial(objective, trial, catch_types, constraints_func)
                except StrideError as e:
                    if not _lost_lease(e):
                        raise
                    logger.warning(
                        "stride: trial %d of study %s lost its lease (%s): left to its new holder",
                        trial.number,
                        self.id,
                        e.detail or e,
                    )
                    continue
                for cb in callbacks or ():
                    cb(self, trial)

        while True:
            self._run_workers(worker, n_jobs, state)
            if not (resume and state.exhausted) or not self._wait_for_others(state):
                return
            state.restart()

    def _wait_for_others(self, state: "_OptimizeState") -> bool:
        """``optimize(resume=True)``, once no trial could be asked: wait until a trial is waiting
        again (a lease held elsewhere expired) and answer True (ask again), or answer False when
        no trial is out any more (the study is done) or ``n_trials``/``timeout`` says stop."""
        terms = self.executor
        # Poll about ten times a lease: a dead holder's trial waits again lease_seconds after its last beat.
        poll = min(5.0, max(0.5, float(terms.get("lease_seconds") or 300) / 10))
        while True:
            trials = self.trials
            if any(t.state == "waiting" for t in trials):
                return True
            if not any(t.state == "running" for t in trials):
                return False
            if state.n_trials is not None and state.started >= state.n_trials:
                return False
            if state.deadline is not None and time.monotonic() + poll >= state.deadline:
                return False
            running = [t.number for t in trials if t.state == "running"]
            logger.info(
                "stride: study %s: trials %s are out under other leases; waiting for them", self.id, running
            )
            self.client._sleep(poll)

    def _run_workers(self, worker: Callable[[], None], n_jobs: int, state: "_OptimizeState") -> None:
        """Run ``worker`` in this thread (``n_jobs`` 1) or in ``n_jobs`` threads, until they stop."""
        if n_jobs == 1:
            worker()
            return

        errors: List[BaseException] = []

        def guarded() -> None:
            try:
                worker()
            except BaseException as e:  # noqa: B902 - re-raised in the calling thread
                errors.append(e)
                state.stop.set()

        threads = [
            threading.Thread(target=guarded, name=f"stride-optimize-{i}", daemon=True) for i in range(n_jobs)
        ]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.1)
        except BaseException:
            # Ctrl-C in the calling thread: no new trials; the running ones end as they end.
            state.stop.set()
            raise
        if errors:
            raise errors[0]

    def _run_trial(
        self,
        objective: Callable[[Trial], Any],
        trial: Trial,
        catch: Tuple[Type[BaseException], ...],
        constraints_func: Optional[Callable[[Trial], Sequence[float]]] = None,
    ) -> None:
        try:
            result = objective(trial)
        except TrialPruned as e:
            if not trial.is_finished:
                trial.prune(str(e) or None)
            return
        except catch as e:
            logger.warning("stride: trial %d failed (caught, continuing): %s", trial.number, _error_text(e))
            if not trial.is_finished:
                trial.fail(e)
            return
        except BaseException as e:
            # A lost lease (raised by a report) is not this process's to tell.
            if not trial.is_finished and not _lost_lease(e):
                try:
                    trial.fail(e)
                except Exception as tell_error:  # the original error matters more
                    logger.warning("stride: could not tell trial %d failed: %s", trial.number, tell_error)
            raise
        if trial.is_finished:
            return
        n = len(self.directions)
        values, msg = _objective_values(result, n)
        if values is None:
            warnings.warn(f"stride: trial {trial.number}: {msg}", RuntimeWarning, stacklevel=3)
            trial.fail(msg)
            return
        constraints = trial._constraints
        if constraints_func is not None and not any(math.isnan(v) for v in values):
            trial.values = list(values)
            trial.value = values[0] if n == 1 else None
            try:
                constraints = _constraint_list(constraints_func(trial))
            except Exception as e:  # noqa: BLE001 - the trial fails with the reason, as Optuna's does
                msg = f"constraints_func failed: {_error_text(e)}"
                warnings.warn(f"stride: trial {trial.number}: {msg}", RuntimeWarning, stacklevel=3)
                trial.fail(msg)
                return
        if n == 1:
            trial.tell(values[0], constraints=constraints)
        else:
            trial.tell(values=values, constraints=constraints)


def _objective_values(result: Any, n: int) -> Tuple[Optional[List[float]], str]:
    """What an objective returned, as ``n`` floats (a number for one objective, a sequence of
    ``n`` for several; a one-element sequence for one objective too), or None and why not."""

    def number(x: Any) -> Optional[float]:
        if x is None or isinstance(x, (bool, str, bytes)):
            return None
        try:
            return float(x)
        except (TypeError, ValueError):
            return None

    if isinstance(result, (list, tuple)) or (number(result) is None and _iterable(result)):
        items = list(result)
        if len(items) != n:
            want = "a number" if n == 1 else f"{n} values, one per direction"
            return (
                None,
                f"the objective returned {len(items)} value{'s' if len(items) != 1 else ''} ({result!r}); the study needs {want}",
            )
        values = [number(x) for x in items]
        if any(v is None for v in values):
            return None, f"the objective returned {result!r}, not {n} numbers"
        return [v for v in values if v is not None], ""
    v = number(result)
    if v is None:
        return None, f"the objective returned {result!r}, not a number"
    if n != 1:
        return (
            None,
            f"the objective returned one value ({result!r}); the study has {n} objectives: return {n} values, one per direction",
        )
    return [v], ""


class _OptimizeState:
    """The trials ``optimize`` may still start, shared by its threads."""

    def __init__(self, n_trials: Optional[int], deadline: Optional[float]) -> None:
        self.n_trials = n_trials
        self.deadline = deadline
        self.started = 0
        self.stop = threading.Event()
        # Set when an ask answered 409: the study had no trial to give then.
        self.exhausted = False
        self._lock = threading.Lock()

    def unclaim(self) -> None:
        """A claim that asked for nothing (the ask answered 409): it does not count in n_trials."""
        with self._lock:
            self.started -= 1

    def restart(self) -> None:
        """Claim again (resume: trials came back to waiting)."""
        self.exhausted = False
        self.stop.clear()

    def claim(self) -> bool:
        with self._lock:
            if self.stop.is_set():
                return False
            if self.n_trials is not None and self.started >= self.n_trials:
                return False
            if self.deadline is not None and time.monotonic() >= self.deadline:
                return False
            self.started += 1
            return True
