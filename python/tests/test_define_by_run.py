"""Optuna's surface in the stride client: ``trial.suggest_*`` (define-by-run), attributes,
``trials_dataframe``, ``create_study``/``load_study`` and the state enums, against the Worker."""
from __future__ import annotations

import builtins
import uuid
from typing import Any

import pytest

import stride
from conftest import Server


def _client(server: Server) -> stride.Client:
    return stride.Client(server.url, server.key)


def _name() -> str:
    return f"dbr-{uuid.uuid4()}"


def test_suggest_adds_parameters_and_answers_the_same_value(server: Server) -> None:
    study = stride.create_study(
        _name(), storage=_client(server), sampler=stride.samplers.RandomSampler(seed=2)
    )
    assert study.space == {} and study.sampler["name"] == "random"
    trial = study.ask()
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    units = trial.suggest_int("units", 16, 256, step=16)
    opt = trial.suggest_categorical("opt", ["sgd", "adam"])
    assert 1e-5 <= lr <= 1e-1 and units % 16 == 0 and opt in ("sgd", "adam")
    assert isinstance(lr, float) and isinstance(units, int)
    # Asking again answers the same, from the trial and from the service alike.
    assert trial.suggest_float("lr", 1e-5, 1e-1, log=True) == lr
    again = study.trials[0]
    assert again.params == {"lr": lr, "units": units, "opt": opt}
    assert again.suggest_int("units", 16, 256, step=16) == units
    assert study.refresh().space["units"] == {"type": "int", "low": 16, "high": 256, "step": 16}
    assert trial.distributions["lr"] == {"type": "float", "low": 1e-5, "high": 1e-1, "log": True}


def test_another_kind_of_distribution_for_a_name_is_a_409_naming_both(server: Server) -> None:
    study = stride.create_study(_name(), storage=_client(server))
    study.ask().suggest_float("x", 0, 1)
    # Another range of the same kind is the trial's own, as in Optuna.
    assert 1.5 <= study.ask().suggest_float("x", 1.5, 2) <= 2
    with pytest.raises(stride.StrideError) as e:
        study.ask().suggest_int("x", 0, 2)
    assert e.value.status == 409
    assert "float [0, 1]" in str(e.value) and "int [0, 2]" in str(e.value)
    with pytest.raises(stride.StrideError) as bad:
        study.ask().suggest_float("y", 0, 1, log=True)
    assert bad.value.status == 422 and "distribution.low" in bad.value.paths


def test_report_without_an_int_step_says_so() -> None:
    study = stride.Study(stride.Client("http://127.0.0.1:9"), {"id": "std_x", "name": "x"})
    trial = stride.Trial(study, {"study_id": "std_x", "number": 0})
    with pytest.raises(ValueError, match="report\\(step, value\\) \\(or Optuna's report\\(value, step\\)\\)"):
        trial.report(0.37, 3.0)


def test_attributes_of_a_study_and_a_trial(server: Server) -> None:
    study = stride.create_study(_name(), storage=_client(server))
    study.set_user_attr("team", "vision")
    trial = study.ask()
    trial.set_user_attr("gpu", "a100")
    trial.set_system_attr("seed", 3)
    trial.tell(0.5)
    loaded = stride.load_study(study.name, storage=_client(server))
    assert loaded.id == study.id and loaded.user_attrs == {"team": "vision"}
    (t,) = loaded.trials
    assert t.user_attrs == {"gpu": "a100"} and t.system_attrs == {"seed": 3}
    with pytest.raises(stride.StrideError) as e:
        t.set_user_attr("late", 1)
    assert e.value.status == 409


def test_load_study_of_no_such_name_is_a_key_error(server: Server) -> None:
    with pytest.raises(KeyError):
        stride.load_study(_name(), storage=_client(server))


def test_create_study_load_if_exists_returns_the_study(server: Server) -> None:
    name = _name()
    first = stride.create_study(name, storage=_client(server), direction="maximize")
    again = stride.create_study(name, storage=_client(server), load_if_exists=True)
    assert again.id == first.id and again.direction == stride.StudyDirection.MAXIMIZE


def test_states_and_dataframe(server: Server) -> None:
    import pandas as pd

    study = stride.create_study(_name(), storage=_client(server))

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -1, 1)
        trial.set_user_attr("sign", "+" if x > 0 else "-")
        if trial.number == 2:
            raise stride.TrialPruned()
        return x * x

    study.optimize(objective, n_trials=4)
    states = [t.state for t in study.trials]
    assert states[2] == stride.TrialState.PRUNED and states[0] == stride.trial.TrialState.COMPLETE
    assert len(study.get_trials(states=(stride.TrialState.COMPLETE,))) == 3
    df = study.trials_dataframe()
    assert isinstance(df, pd.DataFrame) and len(df) == 4
    assert list(df.columns) == [
        "number",
        "value",
        "datetime_start",
        "datetime_complete",
        "duration",
        "params_x",
        "user_attrs_sign",
        "state",
    ]
    assert list(df["state"]) == ["COMPLETE", "COMPLETE", "PRUNED", "COMPLETE"]
    assert list(study.trials_dataframe(attrs=("number", "params")).columns) == ["number", "params_x"]


def test_dataframe_without_pandas_says_what_to_install(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = stride.create_study(_name(), storage=_client(server))
    real = builtins.__import__

    def no_pandas(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="trials_dataframe needs pandas"):
        study.trials_dataframe()


def test_infinite_values_are_told_and_read_back_nan_fails_the_trial(server: Server) -> None:
    """As Optuna: an objective returning inf completes its trial with inf (the string "Infinity" on
    the wire), -inf is the best of a minimized study, NaN fails the trial."""
    study = stride.create_study(
        _name(), storage=_client(server), sampler=stride.samplers.RandomSampler(seed=1)
    )
    results = iter([float("inf"), 1.0, float("-inf"), float("nan")])

    def objective(trial: Any) -> float:
        trial.suggest_float("x", 0, 1)
        return next(results)

    study.optimize(objective, n_trials=4)
    trials = study.trials
    assert [t.state for t in trials] == ["complete", "complete", "complete", "failed"]
    assert [t.value for t in trials[:3]] == [float("inf"), 1.0, float("-inf")]
    assert trials[0].raw["value"] == "Infinity"
    assert study.best_trial.number == 2 and study.best_value == float("-inf")


def test_report_takes_optunas_order_too(server: Server) -> None:
    """``trial.report(value, step)`` (Optuna's order) reads as ``report(step, value)``."""
    study = stride.create_study(
        _name(), storage=_client(server), sampler=stride.samplers.RandomSampler(seed=1)
    )
    trial = study.ask()
    trial.report(0.75, 3)  # Optuna's order
    trial.report(4, 0.5)  # stride's
    trial.report(value=0.25, step=5)
    trial.tell(0.25)
    assert [(p["step"], p["value"]) for p in study.trials[0].intermediate] == [(3, 0.75), (4, 0.5), (5, 0.25)]
