"""Several objectives, constraints and the trial's sampler from Python, against a real local Worker."""
from __future__ import annotations

import math
from typing import Dict, Iterator, List, Tuple, Union

import pytest
import stride
from conftest import known, unique

XY = {"x": {"type": "float", "low": 0.0, "high": 1.0}, "y": {"type": "float", "low": 0.0, "high": 1.0}}


def _front(points: Dict[int, Tuple[float, float]], directions: List[str]) -> List[int]:
    """The Pareto front of ``points`` (trial number -> values), by the definition, here in Python."""
    sign = [1.0 if d == "minimize" else -1.0 for d in directions]

    def dominates(a: Tuple[float, float], b: Tuple[float, float]) -> bool:
        a2 = [v * s for v, s in zip(a, sign)]
        b2 = [v * s for v, s in zip(b, sign)]
        return all(x <= y for x, y in zip(a2, b2)) and any(x < y for x, y in zip(a2, b2))

    return sorted(
        n for n, p in points.items() if not any(dominates(q, p) for m, q in points.items() if m != n)
    )


def test_create_study_with_directions_and_metrics(client: stride.Client) -> None:
    study = client.create_study(
        unique("py-mo"), XY, directions=["minimize", "maximize"], metrics=["loss", "acc"]
    )
    assert study.directions == ["minimize", "maximize"]
    assert study.metrics == ["loss", "acc"]
    assert study.direction == "minimize" and study.metric == "loss"
    plain = client.create_study(unique("py-plain"), XY)
    assert plain.directions == ["minimize"] and plain.metrics == ["value"]
    assert plain.sampler["name"] == "auto"
    with pytest.raises(stride.StrideError) as e:
        client.create_study(unique("py-bad"), XY, direction="minimize", directions=["minimize", "minimize"])
    assert e.value.status == 422
    assert "direction" in e.value.paths


def test_optimize_with_two_objectives_answers_the_pareto_front(client: stride.Client) -> None:
    directions = ["minimize", "maximize"]
    study = client.create_study(
        unique("py-front"), XY, directions=directions, sampler={"name": "random", "seed": 4}, max_trials=12
    )
    returned: Dict[int, Tuple[float, float]] = {}

    def objective(trial: stride.Trial) -> Tuple[float, float]:
        x, y = trial.params["x"], trial.params["y"]
        returned[trial.number] = (x, x * y)
        return x, x * y

    study.optimize(objective)
    trials = study.trials
    assert len(trials) == 12 and all(t.state == "complete" for t in trials)
    assert {t.number: tuple(t.values or ()) for t in trials} == returned
    assert all(t.value is None for t in trials)
    assert [t.number for t in study.best_trials] == _front(returned, directions)
    with pytest.raises(ValueError, match="best_trials"):
        study.best_trial
    assert study.importance()["objective"] == {"index": 0, "metric": "objective_0"}
    assert study.importance(objective=1)["objective"] == {"index": 1, "metric": "objective_1"}


def test_a_wrong_number_of_values_fails_the_trial(client: stride.Client) -> None:
    study = client.create_study(unique("py-count"), XY, directions=["minimize", "minimize"], sampler="random")
    results: Iterator[Union[float, Tuple[float, ...]]] = iter(
        [1.0, (1.0, 2.0, 3.0), (1.0, float("nan")), (0.5, 0.25)]
    )
    with pytest.warns(RuntimeWarning):
        study.optimize(lambda t: next(results), n_trials=4)
    states = [(t.state, t.error) for t in study.trials]
    assert states[0][0] == "failed" and "2 objectives" in (states[0][1] or "")
    assert states[1][0] == "failed" and "3 values" in (states[1][1] or "")
    assert states[2] == ("failed", "diverged: the value was nan")
    assert states[3] == ("complete", None)
    assert study.trials[3].values == [0.5, 0.25]


def test_report_is_for_one_objective(client: stride.Client) -> None:
    study = client.create_study(
        unique("py-mo-report"), XY, directions=["minimize", "minimize"], sampler="random"
    )
    trial = study.ask()
    with pytest.raises(NotImplementedError):
        trial.report(0, 1.0)


@pytest.mark.parametrize("how", ["constraints_func", "set_constraints"])
def test_constraints_keep_infeasible_trials_from_best(client: stride.Client, how: str) -> None:
    study = client.create_study(unique("py-cons"), XY, sampler={"name": "random", "seed": 9}, max_trials=10)
    values: Dict[int, float] = {}
    feasible: Dict[int, bool] = {}

    def constraint(x: float) -> float:
        # Feasible when x >= 0.5: the unconstrained best (smallest x) is usually infeasible.
        return 0.5 - x

    def objective(trial: stride.Trial) -> float:
        x = trial.params["x"]
        values[trial.number] = x
        feasible[trial.number] = constraint(x) <= 0
        if how == "set_constraints":
            trial.set_constraints([constraint(x)])
        return x

    def constraints_func(t: stride.Trial) -> List[float]:
        return [constraint(known(t.values)[0])]

    study.optimize(objective, constraints_func=constraints_func if how == "constraints_func" else None)
    trials = study.trials
    assert [t.constraints for t in trials] == [[constraint(values[t.number])] for t in trials]
    ok = {n: v for n, v in values.items() if feasible[n]}
    assert ok, "the seed gives at least one feasible trial"
    best = min(ok, key=lambda n: ok[n])
    assert study.best_trial.number == best
    assert [t.number for t in study.best_trials] == [best]
    if any(not f for f in feasible.values()):
        assert min(values.values()) < study.best_value


def test_a_constraints_func_that_fails_fails_the_trial(client: stride.Client) -> None:
    study = client.create_study(unique("py-cons-bad"), XY, sampler="random")

    def bad(trial: stride.Trial) -> List[float]:
        return [math.inf]

    with pytest.warns(RuntimeWarning):
        study.optimize(lambda t: t.params["x"], n_trials=1, constraints_func=bad)
    t = study.trials[0]
    assert t.state == "failed" and "constraints_func failed" in (t.error or "")


def test_tell_with_values_and_constraints_and_the_trial_sampler(client: stride.Client) -> None:
    study = client.create_study(
        unique("py-tell"), XY, directions=["minimize", "maximize"], sampler={"name": "random", "seed": 2}
    )
    study.enqueue({"x": 0.5, "y": 0.5})
    given = study.ask()
    assert given.sampler is None
    told = given.tell(values=[1.0, 2.0], constraints=[-1.0])
    assert told.values == [1.0, 2.0] and told.constraints == [-1.0] and told.value is None
    # The same tell again answers the same (a retry); a different one is a 409.
    assert study.tell(given.number, values=[1.0, 2.0], constraints=[-1.0]).values == [1.0, 2.0]
    with pytest.raises(stride.StrideError) as e:
        study.tell(given.number, values=[1.0, 3.0], constraints=[-1.0])
    assert e.value.status == 409
    asked = study.ask()
    assert asked.sampler == "random"
    with pytest.raises(stride.StrideError) as e:
        asked.tell(0.3)
    assert e.value.status == 422 and e.value.paths == ["value"]
    with pytest.raises(ValueError):
        asked.tell(values=[1.0, 2.0], constraints=[math.nan])
    assert asked.tell(values=[0.5, 1.0], constraints=[2.0]).constraints == [2.0]
    # As Optuna's study.tell: a sequence as the value, a number as values.
    assert study.ask().tell((0.25, 0.5), constraints=[0.0]).values == [0.25, 0.5]
    one = client.create_study(unique("py-tell-one"), XY, sampler="random")
    assert one.ask().tell(values=0.5).values == [0.5]
    assert [t.number for t in study.best_trials] == sorted([given.number, asked.number + 1])
