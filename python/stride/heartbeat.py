"""Heartbeats of asked trials: the lease a trial holds stays alive while its objective runs.

Every trial :meth:`stride.Study.ask` hands out is under a lease (docs/API.md, "Leases"): the
service gives it back to the study (``waiting``, asked again on its next attempt) when no
heartbeat, report or tell came for the study's ``lease_seconds``. So a process that dies in the
middle of a trial does not leave it ``running`` forever. While the process lives, one daemon
thread per :class:`stride.Client` heartbeats each of its trials every ``lease.heartbeat_seconds``
(a third of the lease), however long a step takes:

- a trial joins when it is asked, and leaves when it ends (``tell``, ``fail``, ``prune``), when
  the :class:`stride.Trial` object is garbage collected, or when the service says its lease is
  gone (a 409 or 404: the trial was asked again elsewhere after an expiry; the trial keeps that
  :class:`stride.StrideError` and raises it at its next ``report``, ``flush`` or ``tell``: stop
  working on it);
- a heartbeat that fails for another reason (the network, after the client's retries) is tried
  again sooner, at a third of the interval; the lease lasts three intervals;
- the thread ends when no trial is left (the next ask starts another), and with the interpreter
  (it is a daemon): a killed process stops heartbeating, and its trials come back after their lease.
"""
from __future__ import annotations

import logging
import threading
import time
import urllib.parse
import weakref
from typing import Any, Dict, Mapping, Optional, Protocol, Tuple

from .client import Connection
from .errors import StrideError

__all__ = ["Heartbeats", "heartbeats"]

logger = logging.getLogger("stride")

#: The shortest wait between two heartbeats of a trial, whatever its lease says.
MIN_INTERVAL = 0.5

_ATTR = "_stride_heartbeats"
_create_lock = threading.Lock()


class Leased(Protocol):
    """What the heartbeat thread needs of a trial (:class:`stride.Trial` is one)."""

    study_id: str
    number: int
    lease: Optional[Dict[str, Any]]
    _error: Optional[StrideError]

    @property
    def is_finished(self) -> bool:
        ...


class Heartbeats:
    """The heartbeat thread of one client (see the module's documentation)."""

    def __init__(self, client: Connection) -> None:
        self.client = client
        self._cond = threading.Condition()
        # By id(trial): the trial (weakly), its token, its interval and when it is next due.
        self._due: Dict[int, Tuple["weakref.ReferenceType[Leased]", str, float, float]] = {}
        self._thread: Optional[threading.Thread] = None

    def add(self, trial: Leased) -> None:
        """Heartbeat ``trial`` under its ``lease`` (``{"token", "heartbeat_seconds", ...}``) from now on."""
        lease = trial.lease
        if not lease or not lease.get("token"):
            return
        every = max(MIN_INTERVAL, float(lease.get("heartbeat_seconds") or 1))
        with self._cond:
            self._due[id(trial)] = (weakref.ref(trial), str(lease["token"]), every, time.monotonic() + every)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="stride-heartbeats", daemon=True)
                self._thread.start()
            self._cond.notify()

    def remove(self, trial: Leased) -> None:
        """Stop heartbeating ``trial`` (it ended, or its lease is gone)."""
        with self._cond:
            self._due.pop(id(trial), None)
            self._cond.notify()

    def holds(self, trial: Leased) -> bool:
        """Whether ``trial`` is being heartbeated."""
        with self._cond:
            return id(trial) in self._due

    def _next(self) -> Optional[Tuple[int, "Leased", str, float]]:
        """The next trial due, waiting until it is; None when none is left (under self._cond)."""
        while True:
            if not self._due:
                return None
            key, (ref, token, every, at) = min(self._due.items(), key=lambda kv: kv[1][3])
            trial = ref()
            if trial is None or trial.is_finished:
                # Collected (nobody can tell it any more) or ended: its lease is not ours to keep.
                del self._due[key]
                continue
            wait = at - time.monotonic()
            if wait <= 0:
                return key, trial, token, every
            del trial
            self._cond.wait(wait)

    def _run(self) -> None:
        while True:
            with self._cond:
                due = self._next()
                if due is None:
                    self._thread = None
                    return
            key, trial, token, every = due
            next_at = time.monotonic() + every
            try:
                answer = self.client.request(
                    "POST",
                    f"/v1/studies/{urllib.parse.quote(trial.study_id, safe='')}/trials/{trial.number}/heartbeat",
                    {"lease_token": token},
                    idempotent=True,
                )
            except StrideError as e:
                if e.status in (404, 409):
                    logger.warning(
                        "stride: trial %d lost its lease (%s); stop working on it: its result will be refused",
                        trial.number,
                        e.detail or e,
                    )
                    if trial._error is None:
                        trial._error = e
                    self._drop(key, token)
                    continue
                logger.info("stride: heartbeat of trial %d failed (%s); trying again soon", trial.number, e)
                next_at = time.monotonic() + max(MIN_INTERVAL, every / 3)
            except Exception as e:  # noqa: BLE001 - the thread goes on; the next beat tries again
                logger.info("stride: heartbeat of trial %d failed (%s); trying again soon", trial.number, e)
                next_at = time.monotonic() + max(MIN_INTERVAL, every / 3)
            else:
                lease = answer.get("lease") if isinstance(answer, Mapping) else None
                if isinstance(lease, Mapping) and trial.lease is not None:
                    trial.lease = {**trial.lease, **lease}
            with self._cond:
                entry = self._due.get(key)
                # Still the same lease (not removed, nor replaced by a new ask of the same object).
                if entry is not None and entry[1] == token:
                    self._due[key] = (entry[0], token, entry[2], next_at)
            del trial

    def _drop(self, key: int, token: str) -> None:
        with self._cond:
            entry = self._due.get(key)
            if entry is not None and entry[1] == token:
                del self._due[key]


def heartbeats(client: Connection) -> Heartbeats:
    """The client's :class:`Heartbeats` (made on first use)."""
    h = getattr(client, _ATTR, None)
    if h is None:
        with _create_lock:
            h = getattr(client, _ATTR, None)
            if h is None:
                h = Heartbeats(client)
                setattr(client, _ATTR, h)
    return h
