"""Optuna anchor for the failures bench (section `failures` of bench/run.mjs).

Optuna's TPESampler(seed=seed) with MedianPruner(), both with their defaults, on the same
synthetic deep-learning problem as bench/failures.ts (see there): a diverged run (NaN) and an
out-of-memory batch are told FAIL, a pruned one PRUNED. Per variant and seed: the best final loss,
and the failed, pruned and complete counts. Prints one JSON object on stdout (NaN written null).

Usage: python3 bench/optuna_failures_ref.py [--trials 50] [--seeds 20]
"""

import argparse
import json
import math
import time

import optuna

EPOCHS = 20
L0 = 2.3
BASE = 0.2
ADAM_SCALE = 30
SPEED = 6

# name, half, edge, ratio, wd_star, adam_gain, mem, batch_star (bench/failures.ts VARIANTS)
VARIANTS = [
    ("v0", "design", 0.5, 0.5, 1e-4, 0.05, 512, 128),
    ("v1", "design", 0.2, 0.7, 1e-3, -0.05, 4096, 64),
    ("v2", "design", 1.0, 0.35, 3e-5, 0, 256, 256),
    ("v3", "design", 0.1, 0.6, 5e-4, -0.1, 128, 64),
    ("v4", "held-out", 0.3, 0.8, 2e-4, 0.02, 1024, 96),
    ("v5", "held-out", 2.0, 0.4, 1e-5, -0.02, 192, 160),
    ("v6", "held-out", 0.05, 0.5, 2e-3, 0.1, 4096, 32),
    ("v7", "held-out", 0.7, 0.65, 1e-4, -0.08, 384, 512),
]

PROBES = [
    {"lr": 0.1, "momentum": 0.5, "weight_decay": 1e-4, "optimizer": "sgd", "batch_size": 64},
    {"lr": 0.01, "momentum": 0.9, "weight_decay": 1e-3, "optimizer": "adam", "batch_size": 128},
    {"lr": 1e-4, "momentum": 0, "weight_decay": 1e-6, "optimizer": "sgd", "batch_size": 300},
    {"lr": 0.5, "momentum": 0.95, "weight_decay": 1e-2, "optimizer": "sgd", "batch_size": 16},
]


def effective_lr(p):
    raw = p["lr"] * ADAM_SCALE if p["optimizer"] == "adam" else p["lr"] / (1 - p["momentum"])
    return raw / math.sqrt(p["batch_size"] / 64)


def final_loss(v, p, eff):
    _, _, edge, ratio, wd_star, adam_gain, _, batch_star = v
    adam = adam_gain + 0.3 * (p["momentum"] - 0.9) ** 2 if p["optimizer"] == "adam" else 0
    return (
        BASE
        + 0.5 * math.log10(eff / (edge * ratio)) ** 2
        + 0.15 * math.log10(p["weight_decay"] / wd_star) ** 2
        + 0.02 * math.log2(p["batch_size"] / batch_star) ** 2
        + adam
    )


def curve(v, p):
    """The losses a run reports, epoch 1..EPOCHS; NaN from the epoch it diverges; None: out of memory."""
    edge, ratio, mem = v[2], v[3], v[6]
    if p["batch_size"] > mem:
        return None
    eff = effective_lr(p)
    fin = final_loss(v, p, eff)
    speed = math.sqrt(min(1, eff / (edge * ratio)))
    diverge = max(1, math.ceil(EPOCHS * (edge / eff) ** 4)) if eff > edge else math.inf
    return [
        math.nan if t >= diverge else fin + (L0 - fin) * math.exp(-SPEED * speed * t / EPOCHS)
        for t in range(1, EPOCHS + 1)
    ]


def optimum(v):
    adam_gain, mem, batch_star = v[5], v[6], v[7]
    batch = min(batch_star, mem)
    fin = BASE + min(0, adam_gain) + 0.02 * math.log2(batch / batch_star) ** 2
    return fin + (L0 - fin) * math.exp(-SPEED)


def run(v, seed, n_trials):
    study = optuna.create_study(
        sampler=optuna.samplers.TPESampler(seed=seed), pruner=optuna.pruners.MedianPruner()
    )
    best = math.inf
    for _ in range(n_trials):
        trial = study.ask()
        p = {
            "lr": trial.suggest_float("lr", 1e-5, 1, log=True),
            "momentum": trial.suggest_float("momentum", 0, 0.99),
            "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
            "optimizer": trial.suggest_categorical("optimizer", ["sgd", "adam"]),
            "batch_size": trial.suggest_int("batch_size", 16, 1024, log=True),
        }
        losses = curve(v, p)
        if losses is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        state = optuna.trial.TrialState.COMPLETE
        for t, loss in enumerate(losses, start=1):
            if math.isnan(loss):
                state = optuna.trial.TrialState.FAIL
                break
            trial.report(loss, t)
            if t < EPOCHS and trial.should_prune():
                state = optuna.trial.TrialState.PRUNED
                break
        if state == optuna.trial.TrialState.COMPLETE:
            best = min(best, losses[-1])
            study.tell(trial, losses[-1])
        else:
            study.tell(trial, state=state)
    counts = {s: 0 for s in ("failed", "pruned", "complete")}
    names = {"FAIL": "failed", "PRUNED": "pruned", "COMPLETE": "complete"}
    for t in study.trials:
        counts[names[t.state.name]] += 1
    return {"regret": best - optimum(v), **counts}


def nan_null(xs):
    return None if xs is None else [None if math.isnan(x) else x for x in xs]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--variants", default="")
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    only = args.variants.split(",") if args.variants else None
    variants = [v for v in VARIANTS if only is None or v[0] in only]
    started = time.time()
    results = {}
    for v in variants:
        cell = {"regret": [], "failed": [], "pruned": [], "complete": []}
        for seed in range(args.seeds):
            r = run(v, seed, args.trials)
            for k in cell:
                cell[k].append(r[k])
        results[v[0]] = cell
    print(
        json.dumps(
            {
                "optuna": optuna.__version__,
                "trials": args.trials,
                "seeds": args.seeds,
                "results": results,
                "checks": {v[0]: [nan_null(curve(v, p)) for p in PROBES] for v in variants},
                "seconds": time.time() - started,
            }
        )
    )


if __name__ == "__main__":
    main()
