"""Optuna on stride: :class:`StrideStorage`, an ``optuna.storages.BaseStorage`` over stride's
HTTP API, and :class:`StrideSampler`, an ``optuna.samplers.BaseSampler`` that asks stride's
server-side sampler.

``optuna.create_study(storage=StrideStorage(url, api_key), study_name="x")`` runs Optuna's own
samplers and pruners with stride as the durable store that several processes (and machines)
share; the study is a stride study like any other (its API, its dashboard). Optuna is imported
here only: the rest of the package does not need it.

What it costs: every read of a trial that has finished is answered from this object's cache
(a finished trial never changes), and a read of the study's trials asks the service only for
those from the first one not finished yet (``GET .../trials?from=n``); the trials this process
runs are kept here as it writes them, so ``get_trial`` of one's own trial asks nothing. Writes go
through at once (another process may read them), one call for a parameter, an attribute or the
end of a trial, except the intermediate values of this process's own trials: those go in
batches, before the trial ends, before this storage reads the study's trials (as a pruner does),
and every 100 values.

Where stride differs from Optuna's own storages: what stride's trial does not hold as is (a trial
set COMPLETE without values, values given with WAITING, a parameter value outside its
distribution or set twice, intermediate values of a study with several objectives, non-finite
ones, one overwriting a step) is kept in the trial's ``stride:*`` system attributes, which this
storage reads back (stride's samplers and dashboard do not); a study is deleted by marking it
(``system_attrs["stride:deleted"]``; stride keeps its trials); a pruned trial's value is not
stored.
"""
from __future__ import annotations

import copy
import datetime
import math
import threading
import uuid
from typing import Any, Container, Dict, List, Mapping, Optional, Sequence, Tuple

from optuna import distributions as od
from optuna.exceptions import DuplicatedStudyError
from optuna.samplers import BaseSampler
from optuna.storages import BaseStorage
from optuna.study import Study as OptunaStudy
from optuna.study import StudyDirection
from optuna.study._frozen import FrozenStudy
from optuna.trial import FrozenTrial, TrialState

from ..api import Client
from ..errors import StrideError
from ..wire import to_wire, values_from_wire

__all__ = ["StrideSampler", "StrideStorage"]

#: The system attribute that marks a study deleted through :meth:`StrideStorage.delete_study`.
DELETED = "stride:deleted"
#: The system attribute where a trial made from a template keeps what stride's trial cannot hold.
EXTRA = "stride:template"
#: The system attribute of a trial Optuna set COMPLETE without values: stride's trial is failed.
NO_VALUES = "stride:complete_without_values"
#: The system attribute of the parameter values the service's params do not take (a value outside
#: its distribution, a second value for a parameter the trial has): ``{name: [value, spec]}``.
PARAMS = "stride:params"
#: The system attribute that holds the intermediate values the service's reports do not take
#: (those of a study with several objectives, NaN and infinite ones, one overwriting a step):
#: ``[[step, value], ...]``, a non-finite value as the string "NaN", "Infinity" or "-Infinity".
INTERMEDIATE = "stride:intermediate"
#: The most intermediate values of one trial this storage holds before it sends them.
BATCH = 100
#: How long a trial's lease lasts (the most stride allows): Optuna's storages have no lease.
LEASE_SECONDS = 86_400

_STATES = {
    "waiting": TrialState.WAITING,
    "running": TrialState.RUNNING,
    "complete": TrialState.COMPLETE,
    "pruned": TrialState.PRUNED,
    "failed": TrialState.FAIL,
}


def spec_of(d: od.BaseDistribution) -> Dict[str, Any]:
    """An Optuna distribution as a stride space entry."""
    if isinstance(d, od.CategoricalDistribution):
        return {"type": "categorical", "choices": list(d.choices)}
    if isinstance(d, od.IntDistribution):
        spec: Dict[str, Any] = {"type": "int", "low": d.low, "high": d.high}
        if d.log:
            spec["log"] = True
        if d.step != 1:
            spec["step"] = d.step
        return spec
    if isinstance(d, od.FloatDistribution):
        spec = {"type": "float", "low": d.low, "high": d.high}
        if d.log:
            spec["log"] = True
        if d.step is not None:
            spec["step"] = d.step
        return spec
    raise ValueError(f"stride has no distribution like {d!r}")


def distribution_of(spec: Mapping[str, Any]) -> od.BaseDistribution:
    """A stride space entry as an Optuna distribution."""
    if spec["type"] == "categorical":
        return od.CategoricalDistribution(list(spec["choices"]))
    if spec["type"] == "int":
        return od.IntDistribution(
            spec["low"], spec["high"], log=bool(spec.get("log")), step=spec.get("step", 1)
        )
    return od.FloatDistribution(spec["low"], spec["high"], log=bool(spec.get("log")), step=spec.get("step"))


def _time(iso: Any) -> Optional[datetime.datetime]:
    if not isinstance(iso, str):
        return None
    # Optuna's storages keep naive local times.
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone().replace(tzinfo=None)


def _template_time(extra: Mapping[str, Any], key: str, iso: Any) -> Optional[datetime.datetime]:
    """A trial's time: its template's (naive, as given), else stride's (also where the template
    had none: an enqueued trial that has started since)."""
    if extra.get(key) is not None:
        return datetime.datetime.fromisoformat(extra[key])
    return _time(iso)


#: How an attribute holds a float JSON cannot carry (NaN, an infinity): ``{FLOAT: "NaN"}``.
FLOAT = "stride:float"


def _encode(v: Any, exact: bool = False) -> Any:
    """An attribute's value with each NaN or infinite float as ``{FLOAT: "NaN"|"Infinity"|"-Infinity"}``
    (Optuna's storages keep them; JSON has none). ``exact`` (system attributes, Optuna's own,
    such as an enqueued trial's ``fixed_params``): an integral float too, ``{FLOAT: 1.0}``, which
    the service's JSON would give back as the int 1."""
    if isinstance(v, float) and (not math.isfinite(v) or (exact and v.is_integer())):
        return {FLOAT: _attr_number(v)}
    if isinstance(v, Mapping):
        return {k: _encode(x, exact) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_encode(x, exact) for x in v]
    return v


def _decode(v: Any) -> Any:
    """An attribute's value as :func:`_encode` wrote it."""
    if isinstance(v, Mapping):
        if len(v) == 1 and FLOAT in v:
            return float(v[FLOAT])
        return {k: _decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_decode(x) for x in v]
    return v


def _attrs_of(data: Mapping[str, Any], kind: str) -> Dict[str, Any]:
    """A study's or trial's ``user_attrs`` or ``system_attrs`` as the service answered them, decoded."""
    return {k: _decode(x) for k, x in (data.get(kind) or {}).items()}


def _attr_number(v: float) -> Any:
    """A float as an attribute holds it (JSON has no NaN or infinity: those as strings, which
    ``float()`` reads back)."""
    v = float(v)
    return v if math.isfinite(v) else str(to_wire(v)) if math.isinf(v) else "NaN"


class _Study:
    """What this process knows of one stride study: its immutable parts and its finished trials."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.id: str = data["id"]
        self.name: str = data["name"]
        self.directions = [StudyDirection[d.upper()] for d in data.get("directions") or [data["direction"]]]
        self.space: Dict[str, Any] = dict(data.get("space") or {})
        #: Finished trials (they never change), by number.
        self.finished: Dict[int, FrozenTrial] = {}
        #: The other trials as last read, by number.
        self.live: Dict[int, FrozenTrial] = {}
        #: The trials this process started, with their lease tokens.
        self.tokens: Dict[int, str] = {}

    def first_unfinished(self) -> int:
        n = 0
        while n in self.finished:
            n += 1
        return n


class StrideStorage(BaseStorage):
    """An Optuna storage in a stride service: ``StrideStorage(url, api_key)`` (defaults
    ``$STRIDE_URL`` and ``$STRIDE_API_KEY``), or ``StrideStorage(client=stride.Client(...))``.

    Every abstract method of ``optuna.storages.BaseStorage`` (Optuna 3.1 to 4.x). Studies it
    creates are define-by-run stride studies (each trial's params are those Optuna's sampler
    chose) with leases of a day (Optuna's storages hold a running trial until it is told), and
    ``sampler`` as their stride sampler: ``"random"`` by default, the cheapest, since Optuna's
    sampler picks the values; ``"auto"`` (or another) for a study that :class:`StrideSampler`
    samples.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        client: Optional[Client] = None,
        sampler: Any = "random",
        **_: Any,
    ) -> None:
        self.client = client if client is not None else Client(url, api_key)
        self.sampler = {"name": sampler} if isinstance(sampler, str) else dict(sampler)
        self._lock = threading.RLock()
        self._studies: Dict[int, _Study] = {}
        self._ids: Dict[str, int] = {}
        # Study ids are never reused, also after a deletion (as Optuna's storages).
        self._last_id = 0
        #: Intermediate values of this process's own trials not sent yet, by (study, trial number).
        self._pending: Dict[Tuple[int, int], Dict[int, float]] = {}

    def __getstate__(self) -> Dict[str, Any]:
        # A pickled storage (Optuna's multiprocessing) connects again where it is unpickled.
        state = {k: v for k, v in self.__dict__.items() if k not in ("client", "_lock")}
        return {**state, "url": self.client.url, "api_key": self.client.api_key}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        url, key = state.pop("url"), state.pop("api_key")
        self.__dict__.update(state)
        self.client = Client(url, key)
        self._lock = threading.RLock()

    # --- studies -------------------------------------------------------------

    def _remember(self, data: Mapping[str, Any]) -> int:
        with self._lock:
            sid = self._ids.get(data["id"])
            if sid is None:
                self._last_id += 1
                sid = self._ids[data["id"]] = self._last_id
                self._studies[sid] = _Study(data)
            return sid

    def _study(self, study_id: int) -> _Study:
        with self._lock:
            s = self._studies.get(study_id)
        if s is None:
            raise KeyError(f"no study with id {study_id}")
        return s

    def _read_study(self, study_id: int) -> Dict[str, Any]:
        """The stride study's answer now (a KeyError once it was deleted)."""
        s = self._study(study_id)
        data: Dict[str, Any] = self.client.request("GET", f"/v1/studies/{s.id}")
        if data.get("system_attrs", {}).get(DELETED):
            raise KeyError(f"study {study_id} was deleted")
        with self._lock:
            s.space = dict(data.get("space") or {})
        return data

    def _named(self, name: str) -> Optional[Dict[str, Any]]:
        cursor: Optional[str] = None
        while True:
            page = self.client.request(
                "GET", "/v1/studies", query={"name": name, "limit": 100, "cursor": cursor}
            )
            for s in page["studies"]:
                if s.get("state") != "unavailable" and not (s.get("system_attrs") or {}).get(DELETED):
                    return dict(s)
            cursor = page.get("next_cursor")
            if not cursor:
                return None

    def create_new_study(
        self, directions: Sequence[StudyDirection], study_name: Optional[str] = None, **_: Any
    ) -> int:
        name = study_name if study_name is not None else f"no-name-{uuid.uuid4()}"
        if self._named(name) is not None:
            raise DuplicatedStudyError(f"another study named {name!r} exists")
        body = {
            "name": name,
            "space": {},
            "directions": ["maximize" if d == StudyDirection.MAXIMIZE else "minimize" for d in directions],
            "sampler": self.sampler,
            "executor": {"kind": "client", "lease_seconds": LEASE_SECONDS},
            "metadata": {"created_by": "optuna StrideStorage"},
        }
        return self._remember(self.client.request("POST", "/v1/studies", body))

    def delete_study(self, study_id: int) -> None:
        self._read_study(study_id)
        self._attrs(study_id, None, "system_attrs", DELETED, True)
        with self._lock:
            s = self._studies.pop(study_id)
            self._ids.pop(s.id, None)

    def _attrs(self, study_id: int, number: Optional[int], kind: str, key: str, value: Any) -> Dict[str, Any]:
        s = self._study(study_id)
        path = f"/v1/studies/{s.id}" + ("" if number is None else f"/trials/{number}")
        body: Dict[str, Any] = {kind: {key: _encode(value, kind == "system_attrs")}}
        if number is not None and number in s.tokens:
            body["lease_token"] = s.tokens[number]
        try:
            answer: Dict[str, Any] = self.client.request("POST", f"{path}/attrs", body, idempotent=True)
        except StrideError as e:
            if e.status == 409:
                raise RuntimeError(str(e)) from e
            raise
        return answer

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        self._attrs(study_id, None, "user_attrs", key, value)

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self._attrs(study_id, None, "system_attrs", key, value)

    def get_study_id_from_name(self, study_name: str) -> int:
        data = self._named(study_name)
        if data is None:
            raise KeyError(f"no study named {study_name!r}")
        return self._remember(data)

    def get_study_name_from_id(self, study_id: int) -> str:
        return self._study(study_id).name

    def get_study_directions(self, study_id: int) -> List[StudyDirection]:
        return list(self._study(study_id).directions)

    def get_study_user_attrs(self, study_id: int) -> Dict[str, Any]:
        return _attrs_of(self._read_study(study_id), "user_attrs")

    def get_study_system_attrs(self, study_id: int) -> Dict[str, Any]:
        return _attrs_of(self._read_study(study_id), "system_attrs")

    def get_all_studies(self) -> List[FrozenStudy]:
        out: List[FrozenStudy] = []
        cursor: Optional[str] = None
        while True:
            page = self.client.request("GET", "/v1/studies", query={"limit": 100, "cursor": cursor})
            for data in page["studies"]:
                attrs = data.get("system_attrs") or {}
                if data.get("state") == "unavailable" or attrs.get(DELETED):
                    continue
                sid = self._remember(data)
                directions = self._study(sid).directions
                out.append(
                    FrozenStudy(
                        study_name=data["name"],
                        direction=None,
                        directions=directions,
                        user_attrs=_attrs_of(data, "user_attrs"),
                        system_attrs=_attrs_of(data, "system_attrs"),
                        study_id=sid,
                    )
                )
            cursor = page.get("next_cursor")
            if not cursor:
                return out

    # --- trials --------------------------------------------------------------

    def _trial_id(self, study_id: int, number: int) -> int:
        return (study_id << 32) | number

    def _locate(self, trial_id: int) -> Tuple[_Study, int, int]:
        study_id, number = trial_id >> 32, trial_id & 0xFFFFFFFF
        return self._study(study_id), study_id, number

    def _frozen(self, s: _Study, study_id: int, data: Mapping[str, Any]) -> FrozenTrial:
        params = dict(data.get("params") or {})
        if any(k not in s.space for k in params):
            self._read_study(study_id)
        dists = {k: distribution_of(s.space[k]) for k in params}
        for k, (v, spec) in (_attrs_of(data, "system_attrs").get(PARAMS) or {}).items():
            params[k], dists[k] = v, distribution_of(spec)
        # JSON has one number type: a float parameter's 1.0 comes back as 1.
        params = {k: float(v) if isinstance(dists[k], od.FloatDistribution) else v for k, v in params.items()}
        state = _STATES[data["state"]]
        values = values_from_wire(data.get("values"))
        system_attrs = _attrs_of(data, "system_attrs")
        system_attrs.pop(PARAMS, None)
        extra = system_attrs.pop(EXTRA, None) or {}
        if system_attrs.pop(NO_VALUES, None) and state == TrialState.FAIL:
            state = TrialState.COMPLETE  # as Optuna set it: complete, without values
        elif state != TrialState.COMPLETE:
            values = values_from_wire(extra.get("values"))
        intermediate = {int(p["step"]): float(p["value"]) for p in data.get("intermediate") or []}
        intermediate.update({int(k): float(v) for k, v in extra.get("intermediate") or []})
        intermediate.update({int(k): float(v) for k, v in system_attrs.pop(INTERMEDIATE, None) or []})
        return FrozenTrial(
            number=int(data["number"]),
            state=state,
            value=None,
            values=None if values is None else list(values),
            datetime_start=_template_time(extra, "datetime_start", data.get("started_at")),
            datetime_complete=_template_time(extra, "datetime_complete", data.get("completed_at")),
            params=params,
            distributions=dists,
            user_attrs=_attrs_of(data, "user_attrs"),
            system_attrs=system_attrs,
            intermediate_values=intermediate,
            trial_id=self._trial_id(study_id, int(data["number"])),
        )

    def _keep(self, s: _Study, study_id: int, data: Mapping[str, Any]) -> FrozenTrial:
        t = self._frozen(s, study_id, data)
        with self._lock:
            if t.state.is_finished():
                s.finished[t.number] = t
                s.live.pop(t.number, None)
                s.tokens.pop(t.number, None)
            else:
                s.live[t.number] = t
        return t

    def _refresh(self, study_id: int) -> _Study:
        """Read the trials from the first one not finished on, keeping what they are now."""
        self._flush(study_id)
        s = self._study(study_id)
        start = s.first_unfinished()
        answer = self.client.request("GET", f"/v1/studies/{s.id}/trials", query={"from": start})
        for data in answer["trials"]:
            if int(data["number"]) not in s.finished:
                self._keep(s, study_id, data)
        return s

    def create_new_trial(self, study_id: int, template_trial: Optional[FrozenTrial] = None, **_: Any) -> int:
        s = self._study(study_id)
        if template_trial is not None and template_trial.state == TrialState.WAITING:
            body: Dict[str, Any] = {
                "params": dict(template_trial.params),
                "distributions": {k: spec_of(d) for k, d in template_trial.distributions.items()},
            }
            data = self.client.request("POST", f"/v1/studies/{s.id}/trials", body)
            number = int(data["number"])
            self._template_attrs(study_id, number, template_trial)
            return self._trial_id(study_id, number)
        asked = self.client.request("POST", f"/v1/studies/{s.id}/ask", {"fresh": True})
        number = int(asked["number"])
        with self._lock:
            s.tokens[number] = asked["lease"]["token"]
        self._keep(s, study_id, asked)
        trial_id = self._trial_id(study_id, number)
        if template_trial is not None:
            self._fill(trial_id, template_trial)
            self._flush(study_id, number)
            self._fetch(study_id, number)  # the trial as the template made it
        return trial_id

    def _template_attrs(self, study_id: int, number: int, template: FrozenTrial) -> None:
        """A template's attributes, in one call, with what stride's trial cannot hold itself
        (EXTRA: the values of a trial that is not complete, a waiting trial's intermediate values,
        the template's times)."""
        extra: Dict[str, Any] = {
            "datetime_start": None
            if template.datetime_start is None
            else template.datetime_start.isoformat(),
            "datetime_complete": (
                None if template.datetime_complete is None else template.datetime_complete.isoformat()
            ),
        }
        if template.values is not None and template.state != TrialState.COMPLETE:
            extra["values"] = [to_wire(float(v)) for v in template.values]
        if template.state == TrialState.WAITING and template.intermediate_values:
            extra["intermediate"] = [[k, _attr_number(v)] for k, v in template.intermediate_values.items()]
        body: Dict[str, Any] = {
            "user_attrs": _encode(dict(template.user_attrs)),
            "system_attrs": {**_encode(dict(template.system_attrs), True), EXTRA: extra},
        }
        s = self._study(study_id)
        if number in s.tokens:
            body["lease_token"] = s.tokens[number]
        self.client.request("POST", f"/v1/studies/{s.id}/trials/{number}/attrs", body, idempotent=True)

    def _fill(self, trial_id: int, template: FrozenTrial) -> None:
        """A trial made from a template that is not waiting: its params, attributes, values and state."""
        s, study_id, number = self._locate(trial_id)
        for name, value in template.params.items():
            d = template.distributions[name]
            self.set_trial_param(trial_id, name, d.to_internal_repr(value), d)
        self._template_attrs(study_id, number, template)
        for step, v in sorted(template.intermediate_values.items()):
            self.set_trial_intermediate_value(trial_id, step, v)
        if template.state != TrialState.RUNNING:
            self.set_trial_state_values(trial_id, template.state, template.values)

    def _trial_call(self, trial_id: int, what: str, body: Dict[str, Any]) -> Dict[str, Any]:
        """A write to a trial that has not finished (a RuntimeError when it has, as Optuna's)."""
        s, study_id, number = self._locate(trial_id)
        known = s.finished.get(number)
        if known is not None:
            raise RuntimeError(f"Trial#{number} has already finished and can not be updated.")
        token = s.tokens.get(number)
        if token is not None:
            body["lease_token"] = token
        try:
            answer: Dict[str, Any] = self.client.request(
                "POST", f"/v1/studies/{s.id}/trials/{number}/{what}", body, idempotent=True
            )
        except StrideError as e:
            if e.status == 404:
                raise KeyError(f"study {study_id} has no trial {number}") from e
            raise
        return answer

    def set_trial_param(
        self, trial_id: int, param_name: str, param_value_internal: float, distribution: od.BaseDistribution
    ) -> None:
        s, study_id, number = self._locate(trial_id)
        spec = spec_of(distribution)
        value = distribution.to_external_repr(param_value_internal)
        if number in s.finished:
            raise RuntimeError(f"Trial#{number} has already finished and can not be updated.")
        if param_name in s.space:
            od.check_distribution_compatibility(distribution_of(s.space[param_name]), distribution)
        with self._lock:
            t = s.live.get(number)
            held = t is not None and param_name in t.params
        if held or not distribution._contains(param_value_internal):
            self._override_param(trial_id, param_name, value, distribution)
            return
        try:
            self._trial_call(trial_id, "params", {"name": param_name, "distribution": spec, "value": value})
        except StrideError as e:
            if e.status == 409 and "already has" in str(e):  # another process set it first
                self._override_param(trial_id, param_name, value, distribution)
                return
            if e.status == 409 and "finished" not in str(e) and " is " in str(e) and "running" in str(e):
                raise RuntimeError(str(e)) from e
            if e.status in (409, 422):
                raise ValueError(str(e)) from e
            raise
        with self._lock:
            s.space.setdefault(param_name, spec)
        self._set_live_param(s, number, param_name, value, distribution)

    def _override_param(
        self, trial_id: int, name: str, value: Any, distribution: od.BaseDistribution
    ) -> None:
        """Optuna's storages take a value outside its distribution and a second value for a
        parameter: here in PARAMS, which this storage reads over the trial's params (stride's
        samplers and dashboard see the first value, or none)."""
        s, study_id, number = self._locate(trial_id)
        data = self._raw(study_id, number)
        over = dict(_attrs_of(data, "system_attrs").get(PARAMS) or {})
        over[name] = [value, spec_of(distribution)]
        self._trial_attr(trial_id, "system_attrs", PARAMS, over)
        self._set_live_param(s, number, name, value, distribution)

    def _set_live_param(
        self, s: _Study, number: int, name: str, value: Any, distribution: od.BaseDistribution
    ) -> None:
        with self._lock:
            t = s.live.get(number)
            if t is not None:
                t = copy.copy(t)
                t.params = {**t.params, name: value}
                t.distributions = {**t.distributions, name: distribution}
                s.live[number] = t

    def get_trial_id_from_study_id_trial_number(self, study_id: int, trial_number: int) -> int:
        s = self._study(study_id)
        if trial_number in s.finished or trial_number in s.live:
            return self._trial_id(study_id, trial_number)
        self._fetch(study_id, trial_number)
        return self._trial_id(study_id, trial_number)

    def _raw(self, study_id: int, number: int) -> Dict[str, Any]:
        """The trial as the service answers it now."""
        s = self._study(study_id)
        answer = self.client.request("GET", f"/v1/studies/{s.id}/trials", query={"from": number, "limit": 1})
        found = [t for t in answer["trials"] if int(t["number"]) == number]
        if not found:
            raise KeyError(f"study {study_id} has no trial {number}")
        return dict(found[0])

    def _fetch(self, study_id: int, number: int) -> FrozenTrial:
        return self._keep(self._study(study_id), study_id, self._raw(study_id, number))

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Optional[Sequence[float]] = None
    ) -> bool:
        s, study_id, number = self._locate(trial_id)
        if number in s.finished:
            raise RuntimeError(f"Trial#{number} has already finished and can not be updated.")
        if state == TrialState.RUNNING:
            try:
                asked = self.client.request("POST", f"/v1/studies/{s.id}/ask", {"number": number})
            except StrideError as e:
                if e.status == 409:
                    return False
                raise
            with self._lock:
                s.tokens[number] = asked["lease"]["token"]
            self._keep(s, study_id, asked)
            return True
        if state == TrialState.WAITING:
            with self._lock:
                self._pending.pop((study_id, number), None)  # a released trial's values are dropped
            if values is not None:
                # Optuna's storages keep values given with WAITING: here in EXTRA, as a template's.
                extra = dict(_attrs_of(self._raw(study_id, number), "system_attrs").get(EXTRA) or {})
                extra["values"] = [to_wire(float(v)) for v in values]
                self._trial_attr(trial_id, "system_attrs", EXTRA, extra)
            data = self._trial_call(trial_id, "release", {})
            with self._lock:
                s.tokens.pop(number, None)
            self._keep(s, study_id, data)
            return True
        body: Dict[str, Any]
        if state == TrialState.COMPLETE and values is None:
            # Optuna's storages take it; a stride tell needs values: the trial ends failed, marked
            # so that this storage reads it complete without values (stride's samplers skip it).
            self._trial_attr(trial_id, "system_attrs", NO_VALUES, True)
            body = {"state": "failed", "error": "set complete without values (Optuna's storage API)"}
        elif state == TrialState.COMPLETE:
            vs = [float(v) for v in values]  # type: ignore[union-attr]
            if any(math.isnan(v) for v in vs):
                body = {"state": "failed", "error": f"diverged: the value was {vs}"}
            else:
                body = {"values": [to_wire(v) for v in vs]}
        elif state == TrialState.PRUNED:
            body = {"state": "pruned"}
        else:
            body = {"state": "failed"}
        self._flush(study_id, number)
        try:
            data = self._trial_call(trial_id, "tell", body)
        except StrideError as e:
            if e.status == 409:
                raise RuntimeError(str(e)) from e
            raise
        self._keep(s, study_id, data)
        return True

    def set_trial_intermediate_value(self, trial_id: int, step: int, intermediate_value: float) -> None:
        """An intermediate value. Those of this process's own trials are batched: sent together
        (one report of ``points``) before the trial's end, before this storage reads the study's
        trials, and every BATCH points; others are sent at once. What a report does not take (a
        study with several objectives, a NaN or infinite value, another value at a step already
        stored) goes to the trial's INTERMEDIATE system attribute, which this storage reads over
        the reported values (stride's pruners see the reported ones only)."""
        s, study_id, number = self._locate(trial_id)
        if number in s.finished:
            raise RuntimeError(f"Trial#{number} has already finished and can not be updated.")
        value = float(intermediate_value)
        step = int(step)
        key = (study_id, number)
        with self._lock:
            pending = self._pending.get(key, {})
            t = s.live.get(number)
            stored = t is not None and step in t.intermediate_values and step not in pending
            own = number in s.tokens
        if not math.isfinite(value) or len(s.directions) > 1 or stored:
            self._extra_intermediate(trial_id, step, value)
        elif own:
            with self._lock:
                self._pending.setdefault(key, {})[step] = value
        else:
            try:
                self._trial_call(trial_id, "report", {"step": step, "value": value})
            except StrideError as e:
                if e.status != 409:
                    raise
                if self._fetch(study_id, number).state.is_finished():
                    raise RuntimeError(str(e)) from e
                self._extra_intermediate(trial_id, step, value)  # another value at a stored step
        with self._lock:
            t = s.live.get(number)
            if t is not None:
                t = copy.copy(t)
                t.intermediate_values = {**t.intermediate_values, step: value}
                s.live[number] = t
            full = len(self._pending.get(key, {})) >= BATCH
        if full:
            self._flush(study_id, number)

    def _extra_intermediate(self, trial_id: int, step: int, value: float) -> None:
        """One intermediate value into the trial's INTERMEDIATE system attribute (merged with
        what it holds on the service)."""
        s, study_id, number = self._locate(trial_id)
        data = self._raw(study_id, number)
        held = {int(k): v for k, v in _attrs_of(data, "system_attrs").get(INTERMEDIATE) or []}
        held[step] = _attr_number(value)
        self._trial_attr(trial_id, "system_attrs", INTERMEDIATE, [[k, v] for k, v in sorted(held.items())])

    def _flush(self, study_id: int, number: Optional[int] = None) -> None:
        """Send the batched intermediate values of one trial (or of every trial of the study)."""
        with self._lock:
            keys = [k for k in self._pending if k[0] == study_id and (number is None or k[1] == number)]
            batches = [(k[1], self._pending.pop(k)) for k in keys]
        s = self._study(study_id)
        for n, points in batches:
            body: Dict[str, Any] = {"points": [{"step": k, "value": v} for k, v in sorted(points.items())]}
            if n in s.tokens:
                body["lease_token"] = s.tokens[n]
            try:
                self.client.request("POST", f"/v1/studies/{s.id}/trials/{n}/report", body, idempotent=True)
            except StrideError as e:
                if e.status == 409:
                    raise RuntimeError(str(e)) from e
                raise

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._trial_attr(trial_id, "user_attrs", key, value)

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._trial_attr(trial_id, "system_attrs", key, value)

    def _trial_attr(self, trial_id: int, kind: str, key: str, value: Any) -> None:
        s, study_id, number = self._locate(trial_id)
        try:
            answer = self._trial_call(
                trial_id, "attrs", {kind: {key: _encode(value, kind == "system_attrs")}}
            )
        except StrideError as e:
            if e.status == 409:
                raise RuntimeError(str(e)) from e
            raise
        hidden = (EXTRA, NO_VALUES, INTERMEDIATE, PARAMS)
        with self._lock:
            t = s.live.get(number)
            if t is not None:
                t = copy.copy(t)
                t.user_attrs = _attrs_of(answer, "user_attrs")
                t.system_attrs = {
                    k: v for k, v in _attrs_of(answer, "system_attrs").items() if k not in hidden
                }
                s.live[number] = t

    def get_trial(self, trial_id: int) -> FrozenTrial:
        s, study_id, number = self._locate(trial_id)
        with self._lock:
            t = s.finished.get(number)
            if t is None and number in s.tokens:
                t = s.live.get(number)  # this process's own running trial: only it writes there
        if t is None:
            t = self._fetch(study_id, number)
        return copy.deepcopy(t)

    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Optional[Container[TrialState]] = None,
    ) -> List[FrozenTrial]:
        s = self._refresh(study_id)
        with self._lock:
            merged = {**s.live, **s.finished}
            trials = [merged[n] for n in sorted(merged)]
        if states is not None:
            trials = [t for t in trials if t.state in states]
        return copy.deepcopy(trials) if deepcopy else list(trials)


class StrideSampler(BaseSampler):
    """An Optuna sampler that asks stride's server-side sampler (``auto`` by default: QMC, then
    GP, then TPE as the study grows). With a :class:`StrideStorage`, the Optuna study's own
    stride study is asked; with any other storage, a stride study of the same name mirrors it
    (created on first use). Each parameter is asked as the objective suggests it: stride proposes
    the parameters it knows jointly at the trial's start and a new one alone, as Optuna's
    relative and independent sampling do.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        sampler: Any = "auto",
        client: Optional[Client] = None,
    ) -> None:
        self.client = client if client is not None else Client(url, api_key)
        self.sampler = {"name": sampler} if isinstance(sampler, str) else dict(sampler)
        self._lock = threading.Lock()
        #: Optuna study name -> (stride study id, {optuna trial number: (stride number, token)}).
        self._mirrors: Dict[str, Tuple[str, Dict[int, Tuple[int, Optional[str]]]]] = {}

    def infer_relative_search_space(self, study: OptunaStudy, trial: FrozenTrial) -> Dict[str, Any]:
        return {}

    def sample_relative(
        self, study: OptunaStudy, trial: FrozenTrial, search_space: Dict[str, od.BaseDistribution]
    ) -> Dict[str, Any]:
        return {}

    def _mirror(self, study: OptunaStudy, trial: FrozenTrial) -> Tuple[str, int, Optional[str]]:
        """The stride study and trial that stand for ``trial``: its own with a StrideStorage."""
        storage = study._storage
        if isinstance(storage, StrideStorage):
            s, _, number = storage._locate(trial._trial_id)
            return s.id, number, s.tokens.get(number)
        with self._lock:
            entry = self._mirrors.get(study.study_name)
            if entry is None:
                made = self.client.create_study(
                    study.study_name,
                    directions=[d.name.lower() for d in study.directions],
                    sampler=self.sampler,
                    executor={"kind": "client", "lease_seconds": LEASE_SECONDS},
                    load_if_exists=True,
                )
                entry = self._mirrors[study.study_name] = (made.id, {})
            sid, numbers = entry
            if trial.number not in numbers:
                asked = self.client.request("POST", f"/v1/studies/{sid}/ask", {"fresh": True})
                numbers[trial.number] = (int(asked["number"]), asked["lease"]["token"])
            number, token = numbers[trial.number]
        return sid, number, token

    def sample_independent(
        self, study: OptunaStudy, trial: FrozenTrial, param_name: str, param_distribution: od.BaseDistribution
    ) -> Any:
        sid, number, token = self._mirror(study, trial)
        body: Dict[str, Any] = {"name": param_name, "distribution": spec_of(param_distribution)}
        if token is not None:
            body["lease_token"] = token
        answer = self.client.request(
            "POST", f"/v1/studies/{sid}/trials/{number}/params", body, idempotent=True
        )
        return answer["value"]

    def after_trial(
        self,
        study: OptunaStudy,
        trial: FrozenTrial,
        state: TrialState,
        values: Optional[Sequence[float]],
    ) -> None:
        if isinstance(study._storage, StrideStorage):
            return  # the storage tells the trial itself
        with self._lock:
            entry = self._mirrors.get(study.study_name)
            found = entry[1].pop(trial.number, None) if entry else None
        if entry is None or found is None:
            return
        number, token = found
        body: Dict[str, Any]
        if state == TrialState.COMPLETE and values is not None and not any(math.isnan(v) for v in values):
            body = {"values": [to_wire(float(v)) for v in values]}
        else:
            body = {"state": "pruned" if state == TrialState.PRUNED else "failed"}
        if token is not None:
            body["lease_token"] = token
        self.client.request("POST", f"/v1/studies/{entry[0]}/trials/{number}/tell", body, idempotent=True)
