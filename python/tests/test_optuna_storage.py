"""stride.integrations.optuna against the Worker: Optuna's own samplers with StrideStorage, shared
by two processes at once, and StrideSampler asking stride's sampler for an Optuna study."""
from __future__ import annotations

import json
import math
import os
import pickle
import subprocess
import sys
import uuid
from typing import Any, List, Tuple

import optuna
import pytest

import stride
from conftest import ROOT, Server
from stride.integrations.optuna import StrideSampler, StrideStorage

optuna.logging.set_verbosity(optuna.logging.WARNING)

WORKER = """
import json, sys
import optuna
from stride.integrations.optuna import StrideStorage
optuna.logging.set_verbosity(optuna.logging.WARNING)
url, key, name, seed = sys.argv[1:5]
study = optuna.load_study(study_name=name, storage=StrideStorage(url, key),
                          sampler=optuna.samplers.TPESampler(seed=int(seed), n_startup_trials=5))
mine = []
def objective(trial):
    x = trial.suggest_float("x", -5, 5)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    if kind == "b":
        trial.suggest_int("depth", 1, 8)
    trial.report(x * x, 0)
    trial.set_user_attr("pid", seed)
    mine.append(trial.number)
    return (x - 1) ** 2 + (kind == "b")
study.optimize(objective, n_trials=12)
print(json.dumps(mine))
"""


def _storage(server: Server) -> StrideStorage:
    return StrideStorage(server.url, server.key)


def test_two_processes_share_one_study_through_stride_storage(server: Server) -> None:
    name = f"optuna-{uuid.uuid4()}"
    optuna.create_study(study_name=name, storage=_storage(server))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, server.url, server.key, name, str(seed)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    numbers = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    # Every trial landed once: each process ran 12, none ran another's.
    assert len(numbers[0]) == len(numbers[1]) == 12
    assert sorted(numbers[0] + numbers[1]) == list(range(24))
    study = optuna.load_study(study_name=name, storage=_storage(server))
    trials = study.trials
    assert [t.number for t in trials] == list(range(24))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    for t in trials:
        assert set(t.params) == ({"x", "kind", "depth"} if t.params["kind"] == "b" else {"x", "kind"})
        assert t.intermediate_values == {0: t.params["x"] ** 2}
        assert t.value == (t.params["x"] - 1) ** 2 + (t.params["kind"] == "b")
    by_pid = {seed: [t.number for t in trials if t.user_attrs["pid"] == seed] for seed in ("1", "2")}
    assert sorted(by_pid["1"]) == sorted(numbers[0]) and sorted(by_pid["2"]) == sorted(numbers[1])
    # The same study in stride's own API: a define-by-run study, its space learned from Optuna.
    own = stride.Client(server.url, server.key).study(_stride_id(study))
    assert own.n_trials == 24 and set(own.space) == {"x", "kind", "depth"}
    assert own.space["depth"] == {"type": "int", "low": 1, "high": 8}


def _stride_id(study: optuna.Study) -> str:
    storage = study._storage
    assert isinstance(storage, StrideStorage)
    return storage._study(study._study_id).id


def test_enqueued_trials_are_run_once_and_templates_keep_their_attributes(server: Server) -> None:
    storage = _storage(server)
    study = optuna.create_study(study_name=f"optuna-{uuid.uuid4()}", storage=storage)
    study.enqueue_trial({"x": 0.5})
    study.add_trial(
        optuna.trial.create_trial(
            params={"x": 2.0},
            distributions={"x": optuna.distributions.FloatDistribution(-5, 5)},
            value=1.0,
            user_attrs={"source": "earlier run"},
        )
    )
    study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=3)
    trials = study.trials
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 4
    assert trials[0].params == {"x": 0.5} and trials[0].value == 0.25
    assert trials[1].params == {"x": 2.0} and trials[1].user_attrs == {"source": "earlier run"}
    assert study.best_value <= 0.25
    # Another distribution for x is Optuna's ValueError.
    with pytest.raises(ValueError):
        study.ask().suggest_int("x", 0, 3)
    # A pickled storage (as Optuna's multiprocessing sends it) reads the same study.
    again = pickle.loads(pickle.dumps(storage))
    assert [t.params for t in again.get_all_trials(study._study_id)][:2] == [{"x": 0.5}, {"x": 2.0}]


def test_stride_sampler_asks_strides_sampler(server: Server) -> None:
    # An in-memory Optuna study: a stride study of the same name mirrors it.
    name = f"optuna-sampler-{uuid.uuid4()}"
    sampler = StrideSampler(server.url, server.key, sampler={"name": "tpe", "seed": 3, "n_startup_trials": 4})
    study = optuna.create_study(study_name=name, sampler=sampler)
    study.optimize(lambda t: (t.suggest_float("y", -5, 5) - 1) ** 2, n_trials=12)
    mirror = stride.load_study(name, storage=stride.Client(server.url, server.key))
    assert mirror.n_trials == 12 and mirror.space == {"y": {"type": "float", "low": -5, "high": 5}}
    theirs = [t.params["y"] for t in study.trials]
    ours = [t.params["y"] for t in mirror.trials]
    assert theirs == ours
    assert [t.value for t in mirror.trials] == [t.value for t in study.trials]
    assert [t.sampler for t in mirror.trials][4:] == ["tpe"] * 8
    # With StrideStorage, the study's own stride trials are asked.
    storage = StrideStorage(server.url, server.key, sampler="auto")
    own = optuna.create_study(
        study_name=f"optuna-own-{uuid.uuid4()}",
        storage=storage,
        sampler=StrideSampler(server.url, server.key),
    )
    own.optimize(lambda t: t.suggest_float("z", 0, 1), n_trials=3)
    assert len(own.trials) == 3 and all(0 <= t.params["z"] <= 1 for t in own.trials)
    strides = stride.Client(server.url, server.key).study(storage._study(own._study_id).id).trials
    assert [t.params for t in strides] == [t.params for t in own.trials]
    assert {t.sampler for t in strides} == {"qmc"}  # auto's first


def test_intermediate_values_of_own_trials_go_in_one_batch(server: Server) -> None:
    storage = _storage(server)
    sent: List[Tuple[str, str]] = []
    request = storage.client.request

    def counted(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        sent.append((method, path.rsplit("/", 1)[-1]))
        return request(method, path, *args, **kwargs)

    setattr(storage.client, "request", counted)
    study = optuna.create_study(study_name=f"optuna-{uuid.uuid4()}", storage=storage)

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        for step in range(10):
            trial.report(x + step, step)
        # This process's own trial reads back its values without asking the service.
        assert storage.get_trial(trial._trial_id).intermediate_values[9] == x + 9
        return x

    study.optimize(objective, n_trials=2)
    assert sent.count(("POST", "report")) == 2  # one batch of 10 a trial
    for t in optuna.load_study(study_name=study.study_name, storage=_storage(server)).trials:
        assert t.intermediate_values == {s: t.params["x"] + s for s in range(10)}


def test_stride_storage_keeps_what_optunas_storages_keep(server: Server) -> None:
    """What Optuna 3.1.1's storage tests ask of a storage and stride's API does not take as is:
    infinite values, COMPLETE without values, values given with WAITING, a param outside its
    distribution or set twice, another range of the same kind, intermediate values of a study with
    several objectives, NaN and infinite ones, and one overwriting a step."""
    storage = _storage(server)
    sid = storage.create_new_study([optuna.study.StudyDirection.MINIMIZE])
    t = [storage.create_new_trial(sid) for _ in range(5)]
    storage.set_trial_state_values(t[0], optuna.trial.TrialState.COMPLETE, [float("inf")])
    storage.set_trial_state_values(t[1], optuna.trial.TrialState.COMPLETE, [float("-inf")])
    storage.set_trial_state_values(t[2], optuna.trial.TrialState.COMPLETE)
    storage.set_trial_state_values(t[3], optuna.trial.TrialState.WAITING, [0.1, 0.2])
    x = optuna.distributions.FloatDistribution(1.0, 2.0)
    storage.set_trial_param(t[4], "x", 1.5, x)
    storage.set_trial_param(t[4], "x", 0.5, x)  # outside, and a second value
    storage.set_trial_param(t[4], "y", 3.0, optuna.distributions.FloatDistribution(0.0, 10.0))
    storage.set_trial_intermediate_value(t[4], 0, 0.3)
    storage.set_trial_intermediate_value(t[4], 1, float("nan"))
    storage.set_trial_intermediate_value(t[4], 2, float("inf"))
    storage.get_all_trials(sid)  # sends the batched values
    storage.set_trial_intermediate_value(t[4], 0, 0.2)  # overwrites a stored step
    storage.set_trial_param(t[4], "z", 1, optuna.distributions.IntDistribution(0, 3))
    with pytest.raises(ValueError):  # another kind
        storage.set_trial_param(t[4], "z", 1.0, optuna.distributions.FloatDistribution(0.0, 3.0))

    # A fresh storage reads all of it from the service.
    again = StrideStorage(server.url, server.key)
    sid2 = again.get_study_id_from_name(storage.get_study_name_from_id(sid))
    trials = again.get_all_trials(sid2)
    assert [tr.values for tr in trials[:4]] == [[float("inf")], [float("-inf")], None, [0.1, 0.2]]
    assert [tr.state.name for tr in trials[:4]] == ["COMPLETE", "COMPLETE", "COMPLETE", "WAITING"]
    assert trials[4].params == {"x": 0.5, "y": 3.0, "z": 1}
    iv = trials[4].intermediate_values
    assert iv[0] == 0.2 and math.isnan(iv[1]) and iv[2] == float("inf")
    assert trials[4].system_attrs == {}
    # stride's own view: the infinite values as the API writes them, the complete-without-values
    # trial failed, the first value of x.
    raw = {tr.number: tr for tr in stride.Client(server.url, server.key).study(storage._study(sid).id).trials}
    assert raw[0].values == [float("inf")] and raw[0].raw["values"] == ["Infinity"]
    assert raw[2].state == "failed"
    assert raw[4].params["x"] == 1.5


def test_stride_storage_other_range_same_kind_and_several_objectives(server: Server) -> None:
    storage = _storage(server)
    sid = storage.create_new_study([optuna.study.StudyDirection.MINIMIZE])
    a, b = storage.create_new_trial(sid), storage.create_new_trial(sid)
    storage.set_trial_param(a, "x", 1.5, optuna.distributions.FloatDistribution(1.0, 2.0))
    storage.set_trial_param(b, "x", 5.0, optuna.distributions.FloatDistribution(1.0, 9.0))
    assert storage.get_trial(b).params == {"x": 5.0}
    mo = storage.create_new_study(
        [optuna.study.StudyDirection.MINIMIZE, optuna.study.StudyDirection.MAXIMIZE]
    )
    m = storage.create_new_trial(mo)
    storage.set_trial_intermediate_value(m, 0, 1.0)
    storage.set_trial_intermediate_value(m, 1, 2.0)
    storage.set_trial_state_values(m, optuna.trial.TrialState.COMPLETE, [1.0, 2.0])
    fresh = StrideStorage(server.url, server.key)
    got = fresh.get_all_trials(fresh.get_study_id_from_name(storage.get_study_name_from_id(mo)))
    assert got[0].intermediate_values == {0: 1.0, 1: 2.0}
    assert got[0].values == [1.0, 2.0]


def test_an_enqueued_trial_gets_its_times_when_it_runs(server: Server) -> None:
    """A trial enqueued through StrideStorage (a WAITING template, without times) has the times
    stride gives it once it runs and ends (it kept the template's None before)."""
    study = optuna.create_study(storage=_storage(server))
    study.enqueue_trial({"x": 1})
    assert study.trials[0].datetime_start is None
    study.optimize(lambda t: t.suggest_int("x", -10, 10), n_trials=1)
    t = study.trials[0]
    assert t.params == {"x": 1} and t.datetime_start is not None and t.datetime_complete is not None


def test_attributes_keep_nan_and_infinite_floats(server: Server) -> None:
    """Optuna's storages keep NaN and infinite floats in attributes (enqueue_trial's fixed params,
    a user's NaN loss); JSON has none, so StrideStorage writes them tagged and reads them back."""
    study = optuna.create_study(storage=_storage(server))
    study.set_user_attr("worst", float("-inf"))
    study.enqueue_trial({"x": float("inf")})
    study.enqueue_trial({"x": float("inf")}, skip_if_exists=True)
    # An integral float stays a float in system attributes (JSON would give back the int 0).
    study.enqueue_trial({"x": 0.0})
    study.enqueue_trial({"x": 0.0}, skip_if_exists=True)
    assert len(study.trials) == 2
    trial = study.ask()
    trial.set_user_attr("loss", float("nan"))
    trial.set_user_attr("nested", {"a": [1.0, float("inf")]})
    fresh = optuna.load_study(study_name=study.study_name, storage=_storage(server))
    got = fresh.trials[0]
    assert got.system_attrs["fixed_params"] == {"x": float("inf")}
    assert math.isnan(got.user_attrs["loss"]) and got.user_attrs["nested"] == {"a": [1.0, float("inf")]}
    assert fresh.user_attrs == {"worst": float("-inf")}
