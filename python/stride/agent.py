"""One training script for both: run by ``stride agent``, or on its own.

``stride agent`` runs your command once per trial and tells it the trial through
the environment: ``STRIDE_PARAMS`` (the params as JSON), ``STRIDE_TRIAL``,
``STRIDE_STUDY`` and ``STRIDE_METRICS_FILE``. The script reports intermediate
values as JSON lines ``{"step": 3, "value": 0.41}`` and its result as
``{"value": 0.37}`` (for a study with several objectives ``{"values": [0.37, 12.5]}``,
one per direction; either with ``"constraints": [...]``), which the agent reports and
tells to the service.

:func:`current_trial` speaks that protocol, so a script reads::

    trial = stride.current_trial(defaults={"lr": 1e-3, "momentum": 0.9})
    for epoch in range(20):
        ...
        trial.report(epoch, val_loss)
    trial.tell(val_loss)

Under the agent, ``trial.params`` are the trial's (``defaults`` fill in any the
trial lacks, such as a conditional parameter); run alone, they are ``defaults``.
For several objectives, ``trial.tell(values=[val_loss, seconds])`` (or
``trial.tell(objective(trial))`` with an objective returning a sequence), and
constraints with ``trial.tell(..., constraints=[c1, ...])`` or ``trial.set_constraints``.
"""
from __future__ import annotations

import json
import math
import os
import sys
import threading
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from .horizon import horizon_of

from .study import _constraint_list, _iterable
from .trial import step_and_value


__all__ = ["AgentTrial", "current_trial", "in_agent"]


def in_agent() -> bool:
    """True when this process was started by ``stride agent`` (``STRIDE_PARAMS`` is set)."""
    return "STRIDE_PARAMS" in os.environ


class AgentTrial:
    """The trial a ``stride agent`` gave this process, or a stand-in when run alone.

    Attributes:
        params: the trial's params (defaults fill in what it lacks); alone, the defaults.
        number: the trial's number (``STRIDE_TRIAL``); ``None`` alone.
        study_id: the study (``STRIDE_STUDY``); ``None`` alone.
        under_agent: whether ``stride agent`` runs this process.
        intermediate: the ``(step, value)`` pairs reported so far (kept in both modes).
        value: the value told, once told (None when several values were told).
        values: the values told (one per objective), once told.
        constraints: the constraints told (or set with :meth:`set_constraints`), if any.

    Under the agent, :meth:`report` and :meth:`tell` append JSON lines to the file
    ``STRIDE_METRICS_FILE`` names (or, when it is not set, print ``stride: {...}`` lines on
    stdout, which the agent reads as well). The file keeps the metrics apart from the script's
    own output, whatever it prints (a progress bar mid-line cannot swallow a metric).
    Pruning is the agent's: when the study's pruner says stop, the agent stops the process
    (SIGTERM, then SIGKILL) and tells the trial pruned; :meth:`report` answers False.
    A script that fails should exit non-zero (an uncaught exception does): the agent tells the
    trial failed with the last lines of stderr. A NaN or infinite final value is told failed
    ("diverged"); so is a number of values other than the study's objectives (the agent
    checks it against the study and says what was wrong).

    Alone, :meth:`report` and :meth:`tell` only record (``intermediate``, ``value``) and print
    nothing, so the script's output is its own.
    """

    def __init__(
        self,
        params: Mapping[str, Any],
        *,
        number: Optional[int] = None,
        study_id: Optional[str] = None,
        metrics_file: Optional[str] = None,
        under_agent: bool = False,
    ) -> None:
        self.params: Dict[str, Any] = dict(params)
        self.number = number
        self.study_id = study_id
        self.metrics_file = metrics_file
        self.under_agent = under_agent
        self.intermediate: List[Tuple[int, float]] = []
        self.value: Optional[float] = None
        self.values: Optional[List[float]] = None
        self.constraints: Optional[List[float]] = None
        self._told: Optional[Dict[str, Any]] = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        where = f"trial {self.number} of {self.study_id}" if self.under_agent else "alone"
        return f"AgentTrial({where}, params={self.params!r})"

    @property
    def horizon(self) -> Optional[Dict[str, int]]:
        """How long to train: ``{"epochs": n}`` or ``{"steps": n}`` from the params (a trial of an
        lr/suggest search names its length so; the script compresses its whole schedule into it),
        None when they name none."""
        return horizon_of(self.params)

    def report(self, step: Any, value: Any) -> bool:
        """Report the value at ``step`` (an int >= 0; Optuna's order, ``report(value, step)``,
        reads the same, as :meth:`stride.Trial.report`). Answers False: under the agent, pruning
        stops the process instead (see the class). A NaN or infinite value is not sent."""
        step, value = step_and_value(step, value)
        if step < 0:
            raise ValueError(f"step must be an int >= 0, got {step!r}")
        v = float(value)
        self.intermediate.append((step, v))
        if math.isfinite(v):
            self._emit({"step": step, "value": v})
        return False

    def should_prune(self) -> bool:
        """Always False: under the agent, a pruned trial's process is stopped by the agent."""
        return False

    def set_constraints(self, constraints: Sequence[float]) -> None:
        """Set the constraint values :meth:`tell` sends with the result (the trial is feasible when
        every one is <= 0, as Optuna's ``constraints_func``). A NaN or infinite one is a ValueError."""
        cs = _constraint_list(constraints)
        with self._lock:
            if self._told is not None:
                raise RuntimeError("the trial was already told: set constraints before tell")
            self.constraints = cs

    def tell(
        self,
        value: Union[float, Sequence[float], None] = None,
        *,
        values: Union[float, Sequence[float], None] = None,
        constraints: Optional[Sequence[float]] = None,
    ) -> None:
        """The trial's result: ``value``, or ``values`` (one per objective of a study with several;
        as :meth:`stride.Trial.tell`, either takes a number or a sequence, so an objective's
        sequence can be passed as it is), with ``constraints`` (or those of :meth:`set_constraints`).
        NaN or infinity is sent as null, which the agent tells as failed ("diverged"); a NaN or
        infinite constraint is a ValueError. Telling a different result a second time is a
        RuntimeError."""
        if (value is None) == (values is None):
            raise ValueError("tell needs a value, or values (one per objective), not both")
        given: Any = value if values is None else values
        several = isinstance(given, (list, tuple)) or (
            _iterable(given) and not isinstance(given, (int, float))
        )
        vs = [float(v) for v in given] if several else [float(given)]
        if not vs:
            raise ValueError("values needs at least one value")
        cs = None if constraints is None else _constraint_list(constraints)
        with self._lock:
            cs = cs if cs is not None else self.constraints
            result: Dict[str, Any] = {"value": vs[0]} if values is None and not several else {"values": vs}
            if cs is not None:
                result["constraints"] = cs
            if self._told is not None:
                if _same(self._told, result):
                    return
                raise RuntimeError(
                    f"the trial was already told {_show(self._told)}; a different result ({_show(result)}) is refused"
                )
            self._told = result
            self.values = vs
            self.value = vs[0] if len(vs) == 1 else None
            self.constraints = cs

        def finite(v: float) -> Optional[float]:
            return v if math.isfinite(v) else None

        line: Dict[str, Any] = (
            {"value": finite(vs[0])} if "value" in result else {"values": [finite(v) for v in vs]}
        )
        if cs is not None:
            line["constraints"] = cs
        self._emit(line)

    def _emit(self, obj: Dict[str, Any]) -> None:
        if not self.under_agent:
            return
        line = json.dumps(obj, allow_nan=False)
        with self._lock:
            if self.metrics_file:
                # One write per line, in append mode: whole lines, in order, even from several threads.
                with open(self.metrics_file, "a", encoding="utf-8") as f:
                    f.write(line + "\n")
            else:
                sys.stdout.write(f"stride: {line}\n")
                sys.stdout.flush()


def _same(a: Dict[str, Any], b: Dict[str, Any]) -> bool:
    """Two results alike, NaN equal to NaN."""

    def key(r: Dict[str, Any]) -> Tuple[bool, List[Union[str, float]], Any]:
        vs = r["values"] if "values" in r else [r["value"]]
        return ("values" in r, ["nan" if math.isnan(v) else v for v in vs], r.get("constraints"))

    return key(a) == key(b)


def _show(r: Dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in r.items())


def current_trial(defaults: Optional[Mapping[str, Any]] = None) -> AgentTrial:
    """The trial this process runs for ``stride agent``, or, run alone, a stand-in with ``defaults``.

    Under the agent the params come from ``STRIDE_PARAMS`` over ``defaults`` (a param the trial
    lacks, such as a conditional one, keeps its default). Alone, ``params`` is ``defaults`` and
    :meth:`AgentTrial.report`/:meth:`AgentTrial.tell` only record: one script runs the same
    either way.
    """
    base: Dict[str, Any] = dict(defaults or {})
    raw = os.environ.get("STRIDE_PARAMS")
    if raw is None:
        return AgentTrial(base)
    try:
        params = json.loads(raw)
    except ValueError as e:
        raise RuntimeError(f"STRIDE_PARAMS is not JSON ({e}): {raw[:200]!r}") from e
    if not isinstance(params, dict):
        raise RuntimeError(f"STRIDE_PARAMS is not a JSON object: {raw[:200]!r}")
    trial_env = os.environ.get("STRIDE_TRIAL")
    number = int(trial_env) if trial_env else None
    return AgentTrial(
        {**base, **params},
        number=number,
        study_id=os.environ.get("STRIDE_STUDY") or None,
        metrics_file=os.environ.get("STRIDE_METRICS_FILE") or None,
        under_agent=True,
    )
