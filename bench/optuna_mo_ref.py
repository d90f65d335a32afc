"""Optuna anchor for the several-objectives bench (section `multiobjective` of bench/run.mjs).

Optuna's NSGAIISampler(seed=seed) and TPESampler(seed=seed) with their defaults (constraints
through `constraints_func` where the problem has them) on the same problems as
bench/multiobjective.ts: ZDT1 with 5 variables, the synthetic training run (validation loss vs
training seconds) and the same with a memory constraint. N trials per seed; the hypervolume of
the feasible trials against the problem's fixed reference point (computed here with the same
2-D sweep as stride's, so only the samplers differ). Prints one JSON object on stdout.

With --fix-logpdf, the upstream fix of optuna/optuna#5109 is patched into TPE's truncated
normal (see bench/optuna_ref.py).

Usage: python3 bench/optuna_mo_ref.py [--trials 100] [--seeds 20] [--samplers nsga2,tpe] [--fix-logpdf]
"""

import argparse
import json
import math
import time

import optuna

from optuna_ref import logpdf_ignores_scale, patch_logpdf

ZDT_N = 5


def zdt1(p):
    x = [p[f"x{i}"] for i in range(ZDT_N)]
    f1 = x[0]
    g = 1 + 9 * sum(x[1:]) / (ZDT_N - 1)
    return [f1, g * (1 - math.sqrt(f1 / g))]


def train_run(p):
    """bench/multiobjective.ts `trainRun`: validation loss and training seconds."""
    lr, b, w, d = p["lr"], p["batch_size"], p["width"], p["dropout"]
    lr_star = 3e-3 * math.sqrt(b / 64)
    d_star = 0.4 * math.log(w / 16) / math.log(64)
    loss = 0.1 + 0.6 * math.sqrt(32 / w) + LR_COEF * math.log10(lr / lr_star) ** 2 + 0.03 * math.log2(b / 64) ** 2 + DROPOUT_COEF * (d - d_star) ** 2
    seconds = 10 * (50000 / b) * (0.004 + 4e-8 * b * w)
    return [loss, seconds]


LR_COEF = 0.6
DROPOUT_COEF = 2.0


def mem_constraint(p):
    return [p["batch_size"] * p["width"] / 16384 - 1]


def zdt_params(trial):
    return {f"x{i}": trial.suggest_float(f"x{i}", 0, 1) for i in range(ZDT_N)}


def train_params(trial):
    return {
        "lr": trial.suggest_float("lr", 1e-5, 1, log=True),
        "batch_size": trial.suggest_int("batch_size", 16, 1024, log=True),
        "width": trial.suggest_int("width", 16, 1024, log=True),
        "dropout": trial.suggest_float("dropout", 0, 0.5),
    }


TRAIN_PROBES = [
    {"lr": 3e-3, "batch_size": 64, "width": 1024, "dropout": 0.4},
    {"lr": 1e-5, "batch_size": 16, "width": 16, "dropout": 0},
    {"lr": 0.1, "batch_size": 1024, "width": 16, "dropout": 0.5},
    {"lr": 0.01, "batch_size": 256, "width": 64, "dropout": 0.15},
]

PROBLEMS = {
    "zdt1": dict(
        params=zdt_params,
        f=zdt1,
        constraints=None,
        ref=[1.1, 5],
        probes=[
            {"x0": 0.25, "x1": 0, "x2": 0, "x3": 0, "x4": 0},
            {"x0": 1, "x1": 1, "x2": 1, "x3": 1, "x4": 1},
            {"x0": 0, "x1": 0.5, "x2": 0.25, "x3": 0.75, "x4": 0.1},
            {"x0": 0.6, "x1": 0.1, "x2": 0.2, "x3": 0.3, "x4": 0.4},
        ],
    ),
    "lr-throughput": dict(params=train_params, f=train_run, constraints=None, ref=[1.2, 100], probes=TRAIN_PROBES),
    "lr-throughput-mem": dict(params=train_params, f=train_run, constraints=mem_constraint, ref=[1.2, 100], probes=TRAIN_PROBES),
}


def hypervolume_2d(points, ref):
    """The same sweep as stride's pareto.ts `hypervolume` for two objectives."""
    inside = sorted(p for p in points if p[0] < ref[0] and p[1] < ref[1])
    hv, y_prev = 0.0, ref[1]
    for x, y in inside:
        if y < y_prev:
            hv += (ref[0] - x) * (y_prev - y)
            y_prev = y
    return hv


def run(name, sampler_name, seed, n_trials):
    prob = PROBLEMS[name]
    cons = prob["constraints"]
    constraints_func = (lambda t: t.user_attrs["constraints"]) if cons else None
    if sampler_name == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(seed=seed, constraints_func=constraints_func)
    elif sampler_name == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed, constraints_func=constraints_func)
    else:
        raise ValueError(sampler_name)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)

    def objective(trial):
        p = prob["params"](trial)
        if cons:
            trial.set_user_attr("constraints", cons(p))
        return tuple(prob["f"](p))

    study.optimize(objective, n_trials=n_trials)
    pts = []
    for t in study.trials:
        if t.values is None:
            continue
        if cons and any(c > 0 for c in t.user_attrs["constraints"]):
            continue
        pts.append(list(t.values))
    return hypervolume_2d(pts, prob["ref"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--samplers", default="nsga2,tpe")
    ap.add_argument("--problems", default="")
    ap.add_argument("--fix-logpdf", action="store_true")
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    import warnings

    warnings.filterwarnings("ignore")
    bug = logpdf_ignores_scale()
    if args.fix_logpdf and bug:
        patch_logpdf()
    names = [n for n in PROBLEMS if not args.problems or n in args.problems.split(",")]
    started = time.time()
    results = {}
    for name in names:
        results[name] = {}
        for s in args.samplers.split(","):
            t0 = time.time()
            hv = [run(name, s, seed, args.trials) for seed in range(args.seeds)]
            results[name][s] = {"hv": hv, "seconds_per_trial": (time.time() - t0) / (args.seeds * args.trials)}
            import sys

            print(f"[optuna_mo_ref] {name} / {s}: {sorted(hv)[len(hv) // 2]:.5g} ({time.time() - t0:.1f} s)", file=sys.stderr)
    checks = {
        n: [{"values": PROBLEMS[n]["f"](q), "constraints": PROBLEMS[n]["constraints"](q) if PROBLEMS[n]["constraints"] else None} for q in PROBLEMS[n]["probes"]]
        for n in names
    }
    out = {
        "optuna": optuna.__version__,
        "logpdf_scale_bug": bug,
        "fixed_logpdf": bool(args.fix_logpdf and bug),
        "trials": args.trials,
        "seeds": args.seeds,
        "results": results,
        "checks": checks,
        "seconds": time.time() - started,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
