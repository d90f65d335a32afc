"""Reports that do not slow a training loop: :meth:`stride.Trial.report` buffers, a background
thread sends.

``trial.report(step, value)`` appends the point to the trial's buffer and returns at once (a few
microseconds) with the latest pruning answer it knows. One daemon thread per :class:`stride.Client` (one per connection)
sends each trial's buffered points as batches (``POST .../report`` with ``{"points": [...]}``, up to
1,000 points a call), in step order, with the client's retry rules:

- a point waits at most ``interval`` seconds (default 0.2) before it is sent, and as soon as
  ``batch`` points (default 100) are pending they go at once;
- the answer of each batch (``should_prune``) is what the next ``report`` returns, so a pruning
  answer is visible at most one batch late: about ``interval`` seconds plus one round trip;
- except at the steps where an ASHA or Hyperband pruner decides (its rungs: a handful per trial,
  geometrically spaced): that report sends what is buffered with it and waits for the answer, so
  successive halving stops a trial exactly at its rung (the median pruner decides at every step,
  so its reports stay buffered);
- ``trial.tell``/``fail``/``prune`` (and ``study.tell``) send what is pending first, so the service
  has every point before the trial ends; ``trial.flush()`` does it on demand, and
  ``trial.report(step, value, wait=True)`` is the synchronous report;
- an error of a background send (after the retries) is raised by the trial's next ``report``,
  ``flush``, ``tell``, ``fail`` or ``prune`` as the :class:`stride.StrideError` it was, with the
  steps that were not stored; the points of that batch are dropped.

Tune it per client::

    stride.reports.configure(client, interval=1.0, batch=500)   # fewer, larger calls

``interval=0`` sends as soon as the thread is free (one call in flight, the rest batched behind it):
the quickest pruning answers, and the most calls.
"""
from __future__ import annotations

import atexit
import logging
import math
import os
import threading
import time
import weakref
from typing import Any, Deque, Dict, List, Mapping, Optional, Protocol, Tuple

from .client import Connection
from .errors import StrideError


class Trial(Protocol):
    """What the sender needs of a trial (:class:`stride.Trial` is one): its identity, its
    buffer of unsent points, whether it is queued here, its locks (new ones in a forked child)
    and the call that sends them."""

    study_id: str
    number: int
    _buffer: Deque[Tuple[int, float]]
    _queued: bool
    _lock: threading.Lock
    _send_lock: threading.Lock

    def _send_pending(self, max_points: int, background: bool = False, give_up: bool = False) -> None:
        ...


__all__ = ["ReportSender", "configure", "sender", "DEFAULT_INTERVAL", "DEFAULT_BATCH", "MAX_POINTS"]

logger = logging.getLogger("stride")

#: Seconds a reported point may wait before the background thread sends it.
DEFAULT_INTERVAL = 0.2
#: Pending points of a trial that are sent at once, without waiting for the interval.
DEFAULT_BATCH = 100
#: The most points one call carries (the service takes up to 1,000).
MAX_POINTS = 1000
#: Seconds the sender thread waits with nothing pending before it ends.
IDLE_EXIT = 30.0

_ATTR = "_stride_report_sender"
_create_lock = threading.Lock()
_senders: "weakref.WeakSet[ReportSender]" = weakref.WeakSet()


class ReportSender:
    """The background sender of one client's buffered reports (see the module's documentation).

    Attributes:
        interval: seconds a point may wait before it is sent (0: as soon as the thread is free).
        batch: pending points of one trial that are sent at once.
        max_points: the most points per call (at most 1,000, the service's bound).
    """

    def __init__(
        self,
        client: Connection,
        *,
        interval: float = DEFAULT_INTERVAL,
        batch: int = DEFAULT_BATCH,
        max_points: int = MAX_POINTS,
    ) -> None:
        self.client = client
        self.interval = interval
        self.batch = batch
        self.max_points = max_points
        self._check()
        self._cond = threading.Condition()
        # Trials with pending points, and when each got its oldest one (time.monotonic()).
        self._due: Dict[int, Tuple["Trial", float]] = {}
        # Every trial that buffered a report, by (study id, number): study.tell(number) finds it.
        self._live: "weakref.WeakValueDictionary[Tuple[str, int], Trial]" = weakref.WeakValueDictionary()
        self._thread: Optional[threading.Thread] = None

    def _check(self) -> None:
        if isinstance(self.interval, bool) or not (
            isinstance(self.interval, (int, float)) and 0 <= self.interval <= 3600
        ):
            raise ValueError(f"interval must be a number of seconds in [0, 3600], got {self.interval!r}")
        if isinstance(self.batch, bool) or not isinstance(self.batch, int) or self.batch < 1:
            raise ValueError(f"batch must be an int >= 1, got {self.batch!r}")
        if (
            isinstance(self.max_points, bool)
            or not isinstance(self.max_points, int)
            or not 1 <= self.max_points <= MAX_POINTS
        ):
            raise ValueError(f"max_points must be an int in [1, {MAX_POINTS}], got {self.max_points!r}")

    # --- called from the training thread --------------------------------------

    def pending(self, trial: "Trial") -> None:
        """``trial`` has pending points: make sure they are sent (called when its buffer may have
        been empty, or holds ``batch`` points)."""
        now = time.monotonic()
        with self._cond:
            if id(trial) not in self._due:
                self._due[id(trial)] = (trial, now)
                self._live[(trial.study_id, trial.number)] = trial
            trial._queued = True
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="stride-reports", daemon=True)
                self._thread.start()
            self._cond.notify()

    def trial(self, study_id: str, number: int) -> Optional["Trial"]:
        """The trial object that buffered reports for this trial, if one is alive."""
        with self._cond:
            return self._live.get((study_id, number))

    # --- the background thread ------------------------------------------------

    def _next(self) -> Optional["Trial"]:
        """The trial to send for now, waiting until one is due; None after IDLE_EXIT seconds with
        nothing pending (the thread then ends; the next report starts another). Under self._cond."""
        while True:
            now = time.monotonic()
            soonest: Optional[float] = None
            for trial, since in list(self._due.values()):
                if len(trial._buffer) >= self.batch or now >= since + self.interval:
                    return trial
                soonest = since + self.interval if soonest is None else min(soonest, since + self.interval)
            if soonest is None:
                if not self._cond.wait(IDLE_EXIT) and not self._due:
                    return None
            else:
                self._cond.wait(max(0.0, soonest - now))

    def _run(self) -> None:
        while True:
            with self._cond:
                trial = self._next()
                if trial is None:
                    # Idle: end, so that a client nobody uses any more is not kept alive by its thread.
                    self._thread = None
                    return
            try:
                trial._send_pending(self.max_points, background=True)
            except BaseException:  # noqa: B902 - kept on the trial by _send_pending; the thread goes on
                logger.debug("stride: background report send failed", exc_info=True)
            with self._cond:
                self._settle(trial)

    def _settle(self, trial: "Trial") -> None:
        """After a send: the trial leaves the due list when nothing is pending (under self._cond)."""
        # Cleared before the buffer is looked at: a report that appends after the look sees the
        # flag down and calls pending() again, which waits for this lock.
        trial._queued = False
        if trial._buffer:
            trial._queued = True
            self._due[id(trial)] = (trial, time.monotonic())
        else:
            self._due.pop(id(trial), None)


def next_rung(pruner: Mapping[str, Any], step: float) -> float:
    """The first step above ``step`` at which the study's pruner decides: an ASHA rung
    (min_resource x reduction_factor^(min_early_stopping_rate + k)), or a Hyperband one (those of
    its first bracket, which hold every other bracket's); ``math.inf`` after the last checked rung
    (below max_resource) and for the other pruners, which decide at any step."""
    name = pruner.get("name")
    if name not in ("asha", "hyperband"):
        return math.inf
    try:
        rf = int(pruner.get("reduction_factor", 3))
        rung = int(pruner.get("min_resource", 1))
        if name == "asha":
            rung *= rf ** int(pruner.get("min_early_stopping_rate", 0))
        cap = pruner.get("max_resource")
        cap = None if cap is None else float(cap)
    except (TypeError, ValueError):
        return math.inf
    if rf < 2 or rung < 1:
        return math.inf
    while rung <= step:
        rung *= rf
    return math.inf if cap is not None and rung >= cap else float(rung)


def sender(client: Connection) -> ReportSender:
    """The client's :class:`ReportSender` (made on first use, with the defaults)."""
    s = getattr(client, _ATTR, None)
    if s is None:
        with _create_lock:
            s = getattr(client, _ATTR, None)
            if s is None:
                s = ReportSender(client)
                setattr(client, _ATTR, s)
                _senders.add(s)
    return s


def configure(
    client: Connection,
    *,
    interval: Optional[float] = None,
    batch: Optional[int] = None,
    max_points: Optional[int] = None,
) -> ReportSender:
    """Set how ``client`` sends buffered reports: ``interval`` (seconds a point may wait, default
    0.2; 0 sends as soon as the thread is free), ``batch`` (pending points of a trial sent at once,
    default 100) and ``max_points`` (per call, at most 1,000). Returns the client's sender."""
    s = sender(client)
    old = (s.interval, s.batch, s.max_points)
    if interval is not None:
        s.interval = interval
    if batch is not None:
        s.batch = batch
    if max_points is not None:
        s.max_points = max_points
    try:
        s._check()
    except ValueError:
        s.interval, s.batch, s.max_points = old
        raise
    with s._cond:
        s._cond.notify()
    return s


def _flush_at_exit() -> None:
    """Send what is pending when the interpreter exits (a script that never told its trial):
    one try per call, 5 s at most each, and nothing more after 15 s or a trial's first failure."""
    deadline = time.monotonic() + 15
    for s in list(_senders):
        s.client.max_retries = 0
        s.client.timeout = min(s.client.timeout, 5.0)
        with s._cond:
            trials = [t for t, _ in s._due.values()]
        for t in trials:
            if not t._buffer:
                continue
            if time.monotonic() > deadline:
                logger.warning(
                    "stride: %d reports of trial %s were not sent before exit (out of time)",
                    len(t._buffer),
                    t.number,
                )
                continue
            try:
                t._send_pending(MAX_POINTS, give_up=True)
            except Exception as e:  # at exit, a lost report is only worth a warning
                logger.warning("stride: reports of trial %s were not sent before exit: %s", t.number, e)


atexit.register(_flush_at_exit)


def _after_fork_in_child() -> None:
    """A forked child (a DataLoader worker) has no sender thread and may hold copies of locks
    taken in the parent: start over, with the points its copies hold left to the parent."""
    for s in list(_senders):
        s._cond = threading.Condition()
        s._thread = None
        for t in list(s._live.values()):
            t._buffer.clear()
            t._queued = False
            t._send_lock = threading.Lock()
            t._lock = threading.Lock()
        s._due.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def describe_steps(points: List[Tuple[int, float]]) -> str:
    """``"step 4"`` or ``"steps 4-103 (100 points)"``."""
    if len(points) == 1:
        return f"step {points[0][0]}"
    return f"steps {points[0][0]}-{points[-1][0]} ({len(points)} points)"


def report_error(error: BaseException, points: List[Tuple[int, float]], trial_number: int) -> StrideError:
    """The error to raise for a background send that failed: the StrideError, with the steps lost."""
    lost = describe_steps(points)
    if isinstance(error, StrideError):
        e = type(error)(
            f"{error} [the report of {lost} of trial {trial_number} was not stored]",
            status=error.status,
            title=error.title,
            detail=error.detail,
            type=error.type,
            errors=error.errors,
            problem=error.problem,
            request_id=error.request_id,
            retry_after=error.retry_after,
            method=error.method,
            url=error.url,
        )
    else:
        e = StrideError(
            f"sending the report of {lost} of trial {trial_number} failed: {type(error).__name__}: {error}"
        )
    e.__cause__ = error
    return e
