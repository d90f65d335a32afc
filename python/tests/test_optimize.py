"""study.optimize, Optuna's way, against a real local Worker."""
from __future__ import annotations

import threading
import time
from typing import Dict, List

import pytest
import stride
from conftest import unique

X = {"x": {"type": "float", "low": -3.0, "high": 3.0}}


def test_optimize_tells_what_the_objective_returns_and_finds_the_best(client: stride.Client) -> None:
    study = client.create_study(unique("py-opt"), X, sampler={"name": "random", "seed": 11}, max_trials=50)
    seen: Dict[int, float] = {}

    def objective(trial: stride.Trial) -> float:
        value = (trial.params["x"] - 1.0) ** 2
        seen[trial.number] = value
        return value

    study.optimize(objective, n_trials=8)
    trials = study.trials
    assert len(trials) == 8 and all(t.state == "complete" for t in trials)
    assert {t.number: t.value for t in trials} == seen
    best_number = min(seen, key=lambda n: seen[n])
    assert study.best_trial.number == best_number
    assert study.best_value == seen[best_number]
    assert study.best_params == trials[best_number].params
    # A second call goes on from where the first stopped.
    study.optimize(objective, n_trials=2)
    assert len(study.trials) == 10


def test_maximize_ranks_the_other_way(client: stride.Client) -> None:
    study = client.create_study(
        unique("py-max"), X, direction="maximize", sampler={"name": "random", "seed": 5}, max_trials=6
    )
    values: List[float] = []

    def objective(t: stride.Trial) -> float:
        values.append(-abs(t.params["x"]))
        return values[-1]

    study.optimize(objective, n_trials=6)
    assert study.best_value == max(values)


@pytest.mark.parametrize("wait", [True, False], ids=["wait", "buffered"])
@pytest.mark.parametrize(
    "pruner",
    [{"name": "median", "n_startup_trials": 3}, {"name": "asha", "min_resource": 1, "reduction_factor": 3}],
    ids=["median", "asha"],
)
def test_a_bad_trial_is_pruned(client: stride.Client, pruner: dict, wait: bool) -> None:
    study = client.create_study(
        unique("py-prune"), {"x": {"type": "float", "low": 0.0, "high": 1.0}}, pruner=pruner, max_trials=10
    )
    # Three good trials, then a bad one: the loss curve of x is x + 1/(step+1), so a larger x is worse at every step.
    for x in (0.1, 0.2, 0.3, 0.9):
        study.enqueue({"x": x})
    said_prune: Dict[int, bool] = {}
    # wait=True: each report answers for itself (10 ms steps). Buffered (the default): the answer
    # comes a batch later (0.2 s and a round trip), so the steps are longer than that.
    steps, pause = (5, 0.01) if wait else (20, 0.05)

    def objective(trial: stride.Trial) -> float:
        x = float(trial.params["x"])
        loss = 0.0
        for step in range(steps):
            loss = x + 1 / (step + 1)
            if trial.report(step, loss, wait=wait):
                said_prune[trial.number] = trial.should_prune()
                raise stride.TrialPruned(f"pruned at step {step}")
            time.sleep(pause)
        return loss

    study.optimize(objective, n_trials=4)
    by_x = {t.params["x"]: t for t in study.trials}
    assert by_x[0.1].state == "complete" and len(by_x[0.1].intermediate) == steps
    bad = by_x[0.9]
    assert bad.state == "pruned"
    assert len(bad.intermediate) < steps
    assert bad.error and bad.error.startswith("pruned at step")
    assert said_prune.get(bad.number) is True
    # Only trials worse than a complete one were pruned.
    for t in study.trials:
        if t.state == "pruned":
            assert t.params["x"] > 0.1


def test_caught_exceptions_fail_the_trial_and_optimize_goes_on(client: stride.Client) -> None:
    study = client.create_study(unique("py-catch"), X, sampler={"name": "random", "seed": 2}, max_trials=20)
    calls: List[int] = []

    def objective(trial: stride.Trial) -> float:
        calls.append(trial.number)
        if trial.number % 2 == 1:
            raise ValueError(f"bad batch in trial {trial.number}")
        return trial.params["x"] ** 2

    study.optimize(objective, n_trials=4, catch=(ValueError,))
    assert calls == [0, 1, 2, 3]
    states = [(t.number, t.state) for t in study.trials]
    assert states == [(0, "complete"), (1, "failed"), (2, "complete"), (3, "failed")]
    assert study.trials[1].error == "ValueError: bad batch in trial 1"


def test_an_uncaught_exception_fails_the_trial_then_propagates(client: stride.Client) -> None:
    study = client.create_study(unique("py-raise"), X, max_trials=20)

    def objective(trial: stride.Trial) -> float:
        if trial.number == 1:
            raise RuntimeError("CUDA out of memory")
        return 1.0

    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        study.optimize(objective, n_trials=5, catch=(ValueError,))
    assert [(t.number, t.state, t.error) for t in study.trials] == [
        (0, "complete", None),
        (1, "failed", "RuntimeError: CUDA out of memory"),
    ]


def test_none_or_nan_results_fail_the_trial(client: stride.Client) -> None:
    study = client.create_study(unique("py-none"), X, max_trials=20)
    results = [None, float("nan"), "oops", 2.5]

    def objective(trial: stride.Trial):  # type: ignore[no-untyped-def]
        return results[trial.number]

    with pytest.warns(RuntimeWarning, match="not a number"):
        study.optimize(objective, n_trials=4)
    trials = study.trials
    assert [t.state for t in trials] == ["failed", "failed", "failed", "complete"]
    assert (
        "None" in (trials[0].error or "")
        and "diverged" in (trials[1].error or "")
        and "oops" in (trials[2].error or "")
    )
    assert trials[3].value == 2.5


def test_an_objective_that_tells_itself_keeps_its_result(client: stride.Client) -> None:
    study = client.create_study(unique("py-self-tell"), X, max_trials=20)

    def objective(trial: stride.Trial) -> float:
        trial.tell(0.25)
        return 99.0

    study.optimize(objective, n_trials=1)
    assert study.trials[0].value == 0.25


def test_two_jobs_run_two_trials_at_once(client: stride.Client) -> None:
    study = client.create_study(unique("py-jobs"), X, sampler={"name": "random", "seed": 3}, max_trials=50)
    lock = threading.Lock()
    running = 0
    most = 0
    threads = set()

    def objective(trial: stride.Trial) -> float:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            threads.add(threading.get_ident())
        time.sleep(0.3)
        with lock:
            running -= 1
        return trial.params["x"] ** 2

    study.optimize(objective, n_trials=6, n_jobs=2)
    trials = study.trials
    assert len(trials) == 6 and all(t.state == "complete" for t in trials)
    assert sorted(t.number for t in trials) == list(range(6))
    # Two objectives ran at the same time, each in its own thread.
    assert most == 2 and len(threads) == 2


def test_an_error_in_one_job_stops_the_others_and_propagates(client: stride.Client) -> None:
    study = client.create_study(unique("py-jobs-err"), X, max_trials=50)

    def objective(trial: stride.Trial) -> float:
        time.sleep(0.05)
        if trial.number == 2:
            raise KeyError("missing column")
        return 1.0

    with pytest.raises(KeyError):
        study.optimize(objective, n_trials=40, n_jobs=2)
    trials = study.trials
    assert len(trials) < 40
    assert [t.state for t in trials if t.number == 2] == ["failed"]
    assert all(t.state in ("complete", "failed") for t in trials)


def test_optimize_stops_at_max_trials_and_at_the_timeout(client: stride.Client) -> None:
    study = client.create_study(unique("py-stop"), X, max_trials=3)
    study.optimize(lambda t: t.params["x"] ** 2)  # no n_trials: the study's own bound ends it
    assert len(study.trials) == 3 and study.refresh().state == "completed"

    study = client.create_study(unique("py-timeout"), X, max_trials=1000)
    t0 = time.monotonic()

    def slow(t: stride.Trial) -> float:
        time.sleep(0.2)
        return 1.0

    study.optimize(slow, timeout=0.5)
    elapsed = time.monotonic() - t0
    n = len(study.trials)
    assert 1 <= n <= 4 and elapsed < 2.0


def test_optimize_needs_a_client_study(client: stride.Client) -> None:
    study = client.create_study(unique("py-runner"), X, executor="runner", max_trials=2)
    with pytest.raises(ValueError, match="client study"):
        study.optimize(lambda t: 1.0, n_trials=1)
    assert study.refresh().n_trials == 0


def test_callbacks_see_each_finished_trial(client: stride.Client) -> None:
    study = client.create_study(unique("py-callbacks"), X, max_trials=10)
    got: List[tuple] = []
    study.optimize(
        lambda t: 3.0, n_trials=3, callbacks=[lambda s, t: got.append((s.id, t.number, t.state, t.value))]
    )
    assert got == [(study.id, n, "complete", 3.0) for n in range(3)]
