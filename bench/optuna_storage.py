"""Bench section "Optuna storages" (bench/optuna-storage.mjs): what one trial of an Optuna study
costs through stride.integrations.optuna.StrideStorage against a local stride, beside Optuna's
in-memory and SQLite (RDB) storages on the same machine.

Each storage runs the same 200-trial study with Optuna's TPESampler (seed fixed): ask, three
suggestions (a log-scale float, an int, a categorical), tell, timed per trial with
``study.ask()``/``study.tell()`` (the objective itself is a formula: the time is the storage's
and the sampler's). Prints one JSON line: per storage, the per-trial times and, for stride, the
HTTP calls per trial.
"""
from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from collections import Counter
from typing import Any, Dict, List

import optuna

from stride.integrations.optuna import StrideStorage

optuna.logging.set_verbosity(optuna.logging.WARNING)

N_TRIALS = int(os.environ.get("BENCH_OPTUNA_TRIALS", "200"))
SEED = 7


def objective_value(params: Dict[str, Any]) -> float:
    lr, layers, opt = params["lr"], params["layers"], params["optimizer"]
    return (math.log10(lr) + 3) ** 2 + 0.1 * (layers - 3) ** 2 + (0.0 if opt == "adam" else 0.2)


def run(storage: Any, name: str) -> List[float]:
    study = optuna.create_study(
        study_name=name, storage=storage, sampler=optuna.samplers.TPESampler(seed=SEED)
    )
    times: List[float] = []
    for _ in range(N_TRIALS):
        t0 = time.perf_counter()
        trial = study.ask()
        params = {
            "lr": trial.suggest_float("lr", 1e-5, 1, log=True),
            "layers": trial.suggest_int("layers", 1, 6),
            "optimizer": trial.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop"]),
        }
        study.tell(trial, objective_value(params))
        times.append((time.perf_counter() - t0) * 1000)
    assert len(study.trials) == N_TRIALS
    return times


def main() -> None:
    url, key = sys.argv[1], sys.argv[2]
    out: Dict[str, Any] = {"n_trials": N_TRIALS, "optuna": optuna.__version__, "storages": {}}
    out["storages"]["in-memory"] = {"ms": run(None, "bench-inmemory")}
    with tempfile.TemporaryDirectory() as d:
        out["storages"]["sqlite"] = {"ms": run(f"sqlite:///{d}/optuna.db", "bench-sqlite")}
    storage = StrideStorage(url, key)
    calls: Counter = Counter()
    request = storage.client.request

    def counted(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        calls[method] += 1
        return request(method, path, *args, **kwargs)

    storage.client.request = counted  # type: ignore[method-assign]
    ms = run(storage, f"bench-stride-{time.time()}")
    out["storages"]["stride"] = {"ms": ms, "calls_per_trial": {k: v / N_TRIALS for k, v in calls.items()}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
