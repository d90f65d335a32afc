"""Optuna anchor for the sampler-quality bench (part of `npm run bench`).

Optuna's TPESampler(seed=seed) with its defaults on the same problems as
bench/samplers.ts (the four real surfaces read from bench/surfaces.json) (same domains, log scale where stride uses it, conditional
parameters via `if` in the objective), N trials per seed, simple regret =
best value - known minimum. Prints one JSON object on stdout; bench/run.mjs
computes the statistics so both sides use the same quantile rule.

With --fix-logpdf, an Optuna whose truncated-normal log density ignores the
kernel width (optuna/optuna#5109: `_truncnorm.logpdf` lacks the -log(scale)
term; Optuna 3.1.0 to 3.4, fixed by #5110) is patched with the upstream fix
before running, so TPE's l(x)/g(x) are proper densities as in later Optuna.
The output says whether the installed Optuna has the bug either way.

Usage: python3 bench/optuna_ref.py [--trials 50] [--seeds 10] [--fix-logpdf]
"""

import argparse
import json
import math
import os
import platform
import sys
import time

import numpy as np
import optuna

PI = math.pi


def logpdf_ignores_scale():
    """Whether this Optuna's TPE truncated-normal logpdf misses -log(scale) (optuna/optuna#5109)."""
    try:
        from optuna.samplers._tpe import _truncnorm as tn
    except ImportError:
        return False
    # N(0, 2^2) truncated to [-2, 2] (a = -1, b = 1 in standard units), at 0.
    got = float(np.atleast_1d(tn.logpdf(np.array([0.0]), -1.0, 1.0, loc=0.0, scale=2.0))[0])
    want = -math.log(2.0) - 0.5 * math.log(2 * PI) - math.log(math.erf(1 / math.sqrt(2)))
    return abs(got - want) > 1e-6


def patch_logpdf():
    """The upstream fix (optuna/optuna#5110): shift the log density by -log(scale)."""
    from optuna.samplers._tpe import _truncnorm as tn

    original = tn.logpdf

    def logpdf(x, a, b, loc=0, scale=1):
        return original(x, a, b, loc, scale) - np.log(scale)

    tn.logpdf = logpdf


def xs(p, d):
    return [p[f"x{i}"] for i in range(d)]


def branin(p):
    x1, x2 = xs(p, 2)
    b = 5.1 / (4 * PI**2)
    c = 5 / PI
    t = 1 / (8 * PI)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


H_ALPHA = [1.0, 1.2, 3.0, 3.2]
H_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
H_P = [
    [v * 1e-4 for v in row]
    for row in [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
]


def hartmann6(p):
    x = xs(p, 6)
    s = 0.0
    for i in range(4):
        e = sum(H_A[i][j] * (x[j] - H_P[i][j]) ** 2 for j in range(6))
        s += H_ALPHA[i] * math.exp(-e)
    return -s


def rosenbrock(d):
    def f(p):
        x = xs(p, d)
        return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(d - 1))

    return f


def ackley(d):
    def f(p):
        x = xs(p, d)
        sq = sum(v * v for v in x)
        cs = sum(math.cos(2 * PI * v) for v in x)
        return -20 * math.exp(-0.2 * math.sqrt(sq / d)) - math.exp(cs / d) + 20 + math.e

    return f


def levy(d):
    def f(p):
        w = [1 + (v - 1) / 4 for v in xs(p, d)]
        s = math.sin(PI * w[0]) ** 2
        for i in range(d - 1):
            s += (w[i] - 1) ** 2 * (1 + 10 * math.sin(PI * w[i] + 1) ** 2)
        s += (w[d - 1] - 1) ** 2 * (1 + math.sin(2 * PI * w[d - 1]) ** 2)
        return s

    return f


def styblinski_tang(d):
    return lambda p: sum(0.5 * (v**4 - 16 * v**2 + 5 * v) for v in xs(p, d))


def st_minimizer():
    x = -2.9
    for _ in range(50):
        x -= (4 * x**3 - 32 * x + 5) / (12 * x**2 - 32)
    return x


def six_hump_camel(p):
    x1, x2 = xs(p, 2)
    return (4 - 2.1 * x1**2 + x1**4 / 3) * x1**2 + x1 * x2 + (-4 + 4 * x2**2) * x2**2


def lr_optimizer(p):
    """Same synthetic validation loss as lrOptimizer in bench/samplers.ts (global minimum 0.2, adam)."""
    opt = p["optimizer"]
    u = math.log10(p["lr"])
    w = math.log10(p["weight_decay"])

    def wall(lim):
        return 3 * max(0.0, u - lim) ** 2

    if opt == "sgd":
        m = p["momentum"]
        loss = 0.25 + 0.1 * (u - math.log10(0.1 * (1 - m))) ** 2 + 0.5 * (m - 0.9) ** 2 + wall(-0.5)
    elif opt == "adam":
        b2 = p["beta2"]
        loss = 0.2 + 0.1 * (u + 3.5) ** 2 + 0.04 * (math.log10(1 - b2) + 2.5) ** 2 + wall(-2)
    else:
        loss = 0.23 + 0.12 * (u + 3) ** 2 + wall(-2)
    return loss + 0.02 * (w + 4) ** 2


def box(d, low, high):
    return {f"x{i}": {"type": "float", "low": low, "high": high} for i in range(d)}


def pt(v):
    return {f"x{i}": x for i, x in enumerate(v)}


ST_X = st_minimizer()

LR_SPACE = {
    "optimizer": {"type": "categorical", "choices": ["sgd", "adam", "rmsprop"]},
    "lr": {"type": "float", "low": 1e-5, "high": 1, "log": True},
    "weight_decay": {"type": "float", "low": 1e-6, "high": 0.1, "log": True},
    "momentum": {"type": "float", "low": 0, "high": 0.99, "when": {"optimizer": "sgd"}},
    "beta2": {"type": "float", "low": 0.9, "high": 0.9999, "when": {"optimizer": "adam"}},
}

def surface_problem(sf):
    """Same bilinear interpolation as surfaceProblem in bench/samplers.ts (tables from bench/make_surfaces.py)."""
    a, b = sf["params"]
    t = sf["values"]

    def pos(q, v):
        if q["log"]:
            r = (math.log10(v) - math.log10(q["low"])) / (math.log10(q["high"]) - math.log10(q["low"]))
        else:
            r = (v - q["low"]) / (q["high"] - q["low"])
        return min(q["n"] - 1, max(0.0, r * (q["n"] - 1)))

    def f(p):
        u = pos(a, p[a["name"]])
        v = pos(b, p[b["name"]])
        i = min(a["n"] - 2, math.floor(u))
        j = min(b["n"] - 2, math.floor(v))
        du, dv = u - i, v - j
        return (1 - du) * ((1 - dv) * t[i][j] + dv * t[i][j + 1]) + du * ((1 - dv) * t[i + 1][j] + dv * t[i + 1][j + 1])

    fmin, at = min((v, (i, j)) for i, row in enumerate(t) for j, v in enumerate(row))

    def node(q, k):
        if q["log"]:
            return 10 ** (math.log10(q["low"]) + k * (math.log10(q["high"]) - math.log10(q["low"])) / (q["n"] - 1))
        return q["low"] + k * (q["high"] - q["low"]) / (q["n"] - 1)

    space = {q["name"]: {"type": "float", "low": q["low"], "high": q["high"], **({"log": True} if q["log"] else {})} for q in (a, b)}
    return (f"{sf['name']} (real, 2-D)", space, f, fmin, {a["name"]: node(a, at[0]), b["name"]: node(b, at[1])})


with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "surfaces.json")) as _fh:
    SURFACES = json.load(_fh)["surfaces"]

# name, space (stride's format, for the check points), f, known minimum, a minimiser
PROBLEMS = [
    ("Branin (2-D)", {"x0": {"type": "float", "low": -5, "high": 10}, "x1": {"type": "float", "low": 0, "high": 15}}, branin, 5 / (4 * PI), pt([PI, 2.275])),
    ("Hartmann6 (6-D)", box(6, 0, 1), hartmann6, -3.322368011415515, pt([0.20168951, 0.15001069, 0.47687398, 0.27533243, 0.31165162, 0.65730054])),
    ("Rosenbrock-4D", box(4, -5, 10), rosenbrock(4), 0.0, pt([1, 1, 1, 1])),
    ("Ackley-5D", box(5, -32.768, 32.768), ackley(5), 0.0, pt([0, 0, 0, 0, 0])),
    ("Levy-4D", box(4, -10, 10), levy(4), 0.0, pt([1, 1, 1, 1])),
    ("Styblinski-Tang-5D", box(5, -5, 5), styblinski_tang(5), 5 * 0.5 * (ST_X**4 - 16 * ST_X**2 + 5 * ST_X), pt([ST_X] * 5)),
    ("Six-hump camel (2-D)", {"x0": {"type": "float", "low": -3, "high": 3}, "x1": {"type": "float", "low": -2, "high": 2}}, six_hump_camel, -1.0316284534898774, pt([0.08984201368301331, -0.7126564032704135])),
    ("LR/optimizer (conditional)", LR_SPACE, lr_optimizer, 0.2, {"optimizer": "adam", "lr": 10**-3.5, "weight_decay": 1e-4, "beta2": 1 - 10**-2.5}),
] + [surface_problem(sf) for sf in SURFACES]


def active(spec, p):
    when = spec.get("when")
    if not when:
        return True
    for k, v in when.items():
        allowed = v if isinstance(v, list) else [v]
        if k not in p or p[k] not in allowed:
            return False
    return True


def suggest(trial, space):
    """Suggest the space's parameters in dependency order: categoricals first, then the active numeric ones."""
    p = {}
    for name, spec in space.items():
        if spec["type"] == "categorical":
            p[name] = trial.suggest_categorical(name, spec["choices"])
    for name, spec in space.items():
        if spec["type"] == "categorical" or not active(spec, p):
            continue
        p[name] = trial.suggest_float(name, spec["low"], spec["high"], log=bool(spec.get("log")))
    return p


def probe_point(space, u):
    """Same rule as probePoint in bench/samplers.ts."""
    p = {}
    for name, spec in space.items():
        if spec["type"] == "categorical":
            k = len(spec["choices"])
            p[name] = spec["choices"][min(k - 1, math.floor(u * k))]
    for name, spec in space.items():
        if spec["type"] == "categorical" or not active(spec, p):
            continue
        lo, hi = spec["low"], spec["high"]
        p[name] = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))) if spec.get("log") else lo + u * (hi - lo)
    return p


PROBE_FRACTIONS = [0.1, 0.37, 0.5, 0.83]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--problems", default="")
    ap.add_argument("--fix-logpdf", action="store_true")
    args = ap.parse_args()
    bug = logpdf_ignores_scale()
    if args.fix_logpdf and bug:
        patch_logpdf()
        assert not logpdf_ignores_scale()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seeds = list(range(args.seeds))
    problems = [pr for pr in PROBLEMS if not args.problems or any(pr[0].lower().startswith(s.lower()) for s in args.problems.split(","))]
    started = time.perf_counter()
    results = {}
    for name, space, f, fmin, _ in problems:
        regrets = []
        t0 = time.perf_counter()
        for seed in seeds:
            study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
            study.optimize(lambda trial: f(suggest(trial, space)), n_trials=args.trials)
            regrets.append(study.best_value - fmin)
        dt = time.perf_counter() - t0
        # Per trial: Optuna's whole ask/tell cycle (sampling, storage, the objective).
        results[name] = {"regrets": regrets, "ms_per_trial": 1000 * dt / (len(seeds) * args.trials)}
        print(f"[optuna] {name}: done in {dt:.1f} s", file=sys.stderr)
    checks = {name: [f(xmin)] + [f(probe_point(space, u)) for u in PROBE_FRACTIONS] for name, space, f, _, xmin in problems}
    out = {
        "trials": args.trials,
        "seeds": seeds,
        "optuna": optuna.__version__,
        "logpdf_scale_bug": bug,
        "patched": bool(args.fix_logpdf and bug),
        "python": platform.python_version(),
        "python_path": sys.executable,
        "results": results,
        "checks": checks,
        "seconds": time.perf_counter() - started,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
