"""Bench section "LR cost-quality frontier", run by `node bench/run.mjs --only lr-frontier`.

What each way of picking a peak learning rate costs and what it gets, on the 17 PyTorch tasks of
bench/lr_tasks.py, against the local Worker that run.mjs starts (STRIDE_URL, STRIDE_API_KEY).

Per task, everything the methods do uses seed 0 (task seeds 101-103 are the truth's alone):

- ``stride.lr_find`` on ``lr_tasks.lr_find_setup(task, 0)`` (its defaults: 1e-7 to 10 over 100
  steps, stopped at divergence) measures the curve and posts it; the stored range test is what
  every ``stride@R`` reads.
- ``default``: the optimizer's conventional lr (lr_tasks.DEFAULT_LR); costs nothing.
- ``context``: ``POST /v1/lr/suggest`` with only a context (optimizer, batch size, model family,
  parameter count): published rules, and the project's validated answers for the same optimizer
  and family, which here are the earlier tasks' (it is asked before the task's own suggestions);
  costs nothing.
- ``valley``: fastai's valley rule (bench/lr_client.py's ``fastai_valley``) on the measured curve;
  costs the sweep's steps, in full runs (sweep steps / the horizon's steps).
- ``stride@R``: ``stride.lr_suggest(train_fn, range_test=found, training=horizon,
  schedule=..., budget=R)``, ``steps_per_epoch`` from the task when the horizon is in epochs (the
  client sends it from ``len(loader)``); train_fn trains ``lr_tasks.train(task, lr, seed, length)``
  with the trial's lr, length (``trial.horizon``) and seed (the service's seeds are small ints:
  seed k is the task's seed k, never a truth seed) and reports every evaluation. Cost: the
  answer's ``compute.runs`` (the sweep's share included); the runs train_fn trained are tallied
  here too, to check the budget.
- ``grid10``: the grid search a user would run: the truth grid's lrs (lr-truth.json, 10 points or
  more where it was extended) each trained to the horizon once, on seed 0 (the seed stride's
  searches use), and the lowest final validation loss picked; cost: its points in full runs.
- ``grid10x2``: the same grid on seeds 0 and 1, the lowest mean picked; cost: 2 x its points.
- ``truth``: the truth grid's best lr (the same lrs on the 3 truth seeds); cost: 3 x its points.
  Its ratio is 1 by definition: the yardstick, out of reach of any method that picks on one seed.

Scoring: each picked lr trained at the full horizon on seeds 101, 102, 103 (lr_tasks' cache; the
truth file's losses when the lr is one of its grid's lrs or the default); loss = the mean final
validation loss; ratio = loss / the truth's best_mean. An lr that diverged (NaN/inf) on any seed
scores the truth file's ``diverged_penalty`` (2 x the worst finite per-seed loss on the task).

Time per method: ``seconds``, the wall time of this run (lr_tasks' cache replays runs trained
before), and ``train_s``, what its runs took when trained (the sweep's wall time included; for
grid10 the truth's median seconds per run x its points): the cost on this machine, uncached.

Usage: ``/usr/bin/python3 bench/lr_frontier.py [--only id1,id2] [--budgets 0,1,2,3,5]``.
Progress on stderr; ONE JSON object on the last line of stdout.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import lr_tasks  # noqa: E402
import stride  # noqa: E402
from lr_client import fastai_valley  # noqa: E402

torch.set_num_threads(1)

TRUTH = os.path.join(HERE, "lr-truth.json")
TRUTH_SEEDS = [101, 102, 103]
SWEEP_STEPS = 100  # lr_find's default; fastai_valley trims num_it // 10 from the start
SCHEDULE = {"constant": "constant", "cosine": "cosine", "one_cycle": "one_cycle", "warmup_cosine": "cosine"}


def log(msg: str) -> None:
    print(f"[lr-frontier] {msg}", file=sys.stderr, flush=True)


def r6(lr: float) -> float:
    return float(f"{lr:.6g}")


class Scorer:
    """Full-horizon losses on the truth seeds: the truth file's where it has the lr, else trained."""

    def __init__(self, t: lr_tasks.Task, truth: Dict[str, Any]) -> None:
        self.t = t
        self.truth = truth
        self.known: Dict[float, List[Optional[float]]] = {r6(g["lr"]): list(g["losses"]) for g in truth["grid"]}
        self.known.setdefault(r6(truth["default_lr"]), list(truth["default_losses"]))
        self.trained = 0
        self.train_s = 0.0

    def score(self, lr: float) -> Dict[str, Any]:
        key = r6(lr)
        source = "truth"
        if key not in self.known:
            source = "trained"
            losses: List[Optional[float]] = []
            for s in TRUTH_SEEDS:
                r = lr_tasks.train(self.t, key, s)
                if not r.get("cached"):
                    self.trained += 1
                    self.train_s += r["seconds"]
                losses.append(r["final"])
            self.known[key] = losses
        losses = self.known[key]
        diverged = any(v is None for v in losses)
        loss = self.truth["diverged_penalty"] if diverged else statistics.fmean(losses)  # type: ignore[arg-type]
        return {
            "lr": lr,
            "losses": losses,
            "loss": loss,
            "diverged": diverged,
            "ratio": loss / self.truth["best_mean"],
            "score_source": source,
        }


def run_stride(t: lr_tasks.Task, found: Any, budget: float, client: stride.Client, spe: int) -> Dict[str, Any]:
    """lr_suggest with this budget, train_fn on lr_tasks.train; what it answered and what train_fn trained."""
    trained: List[Dict[str, Any]] = []
    unit, H = t.unit, t.length

    def train_fn(lr: float, trial: Any) -> float:
        h = trial.horizon
        if not h or unit not in h:
            raise ValueError(f"{t.id}: trial {trial.number} has no {unit} length: params {trial.params}")
        seed = int(trial.seed)
        if seed in TRUTH_SEEDS:
            raise ValueError(f"{t.id}: the service asked for seed {seed}, a truth seed")
        length = h[unit]
        last = [-1]

        def on_eval(at: float, val: float) -> bool:
            step = int(round(at))
            if step <= last[0]:
                return False
            last[0] = step
            return bool(trial.report(step, val))

        r = lr_tasks.train(t, lr, seed, length=length, on_eval=on_eval)
        ran = r["at"][-1] if r.get("at") else length
        trained.append({"lr": lr, "length": length, "seed": seed, "final": r["final"], "ran": ran, "pruned": r.get("pruned", False), "cached": bool(r.get("cached")), "seconds": r["seconds"]})
        return math.nan if r["final"] is None else float(r["final"])

    training = {unit: H}
    t0 = time.perf_counter()
    res = stride.lr_suggest(train_fn, range_test=found, training=training, schedule=SCHEDULE[t.schedule], budget=budget, client=client)
    seconds = time.perf_counter() - t0
    sweep_runs = len(found.measured) / (H * spe if unit == "epochs" else H)
    tally = sweep_runs + sum(x["length"] for x in trained) / H
    compute = res.compute or {}
    return {
        "lr": res.lr,
        "method": res.method,
        "confidence": res.confidence,
        "compute": compute,
        "compute_runs": compute.get("runs"),
        "budget": budget,
        "runs_trained": len(trained),
        "runs_tally": tally,
        # The sweep counts in the budget, but a budget below it cannot give it back: over budget is
        # training past what the sweep left, or an answer that says it spent more than both.
        "overspent": tally - sweep_runs > max(0.0, budget - sweep_runs) + 1e-6
        or (compute.get("runs") or 0) > max(budget, sweep_runs) + 1e-3,
        "seeds": sorted({x["seed"] for x in trained}),
        # Runs replayed from lr_tasks' cache (trained before, by this bench or another), not trained now.
        "replayed": sum(1 for x in trained if x["cached"]),
        "reasoning": res.reasoning,
        # Wall time of this call (runs from lr_tasks' cache are replayed, not trained) and the
        # training time its runs took when they were trained (what the call costs uncached).
        "seconds": seconds,
        "train_s": sum(x["seconds"] for x in trained),
    }


def run_grid(t: lr_tasks.Task, truth: Dict[str, Any], seeds: List[int]) -> Dict[str, Any]:
    """The truth grid's lrs trained to the horizon on ``seeds``; the lowest mean final loss picked
    (an lr that diverged on any seed is out)."""
    t0 = time.perf_counter()
    means: List[Any] = []
    train_s = 0.0
    for g in truth["grid"]:
        finals = []
        for seed in seeds:
            r = lr_tasks.train(t, g["lr"], seed)
            train_s += r["seconds"]
            finals.append(r["final"])
        ok = all(v is not None and math.isfinite(v) for v in finals)
        means.append((statistics.fmean(finals) if ok else None, g["lr"]))
    finite = [(v, lr) for v, lr in means if v is not None]
    lr = min(finite)[1] if finite else None
    return {"lr": lr, "compute_runs": float(len(means) * len(seeds)), "seconds": time.perf_counter() - t0,
            "train_s": train_s, "seeds": seeds, "means": [v for v, _ in means]}


def run_task(t: lr_tasks.Task, truth: Dict[str, Any], budgets: List[float], client: stride.Client) -> Dict[str, Any]:
    t_start = time.perf_counter()
    spe = lr_tasks.steps_per_epoch(t, 0)
    horizon_steps = t.length * spe if t.unit == "epochs" else t.length
    model, opt, loader, loss_fn = lr_tasks.lr_find_setup(t, 0)
    t0 = time.perf_counter()
    found = stride.lr_find(model, opt, loader, loss_fn, steps=SWEEP_STEPS, client=client)
    find_s = time.perf_counter() - t0
    sweep = len(found.measured)
    sweep_runs = sweep / horizon_steps
    sg = found.suggestion
    log(f"{t.id}: lr_find {sweep} steps ({sweep_runs:.3f} runs), suggestion {sg.lr} ({sg.method}, {sg.confidence}), max stable {sg.max_stable_lr}, {find_s:.1f} s")
    scorer = Scorer(t, truth)
    methods: Dict[str, Dict[str, Any]] = {}

    methods["default"] = {"lr": t.default_lr, "compute_runs": 0.0, "seconds": 0.0, "train_s": 0.0}
    # The context-only answer (no curve, no training): what is trained, as a user would describe it.
    # It runs before this task's own suggestions, so the project's history is the earlier tasks'.
    family = {"mlp": "mlp", "cnn": "cnn"}.get(t.family) or ("transformer" if "former" in t.id else "rnn")
    context = {
        "optimizer": t.optimizer["name"],
        "batch_size": t.batch,
        "model_family": family,
        "parameters": int(sum(p.numel() for p in model.parameters())),
    }
    try:
        ans = client.request("POST", "/v1/lr/suggest", {"context": context})
        methods["context"] = {"lr": ans["lr"], "confidence": ans["confidence"], "compute_runs": 0.0, "seconds": 0.0,
                              "train_s": 0.0, "studies_used": (ans.get("prior") or {}).get("studies_used")}
    except Exception as e:
        methods["context"] = {"lr": None, "error": f"{type(e).__name__}: {e}", "compute_runs": 0.0, "seconds": 0.0}
    try:
        v = fastai_valley(found.measured.lr, found.measured.smoothed_loss, SWEEP_STEPS)
        methods["valley"] = {"lr": v, "compute_runs": sweep_runs, "seconds": find_s, "train_s": find_s}
    except Exception as e:  # a curve too short for fastai's trim
        methods["valley"] = {"lr": None, "error": f"{type(e).__name__}: {e}", "compute_runs": sweep_runs, "seconds": find_s}
    for b in budgets:
        name = f"stride@{b:g}"
        try:
            r = run_stride(t, found, b, client, spe)
            r["seconds"] += find_s
            r["train_s"] += find_s
            methods[name] = r
            flag = " OVERSPENT" if r["overspent"] else ""
            log(f"  {name}: lr {r['lr']} ({r['method']}, {r['confidence']}), compute {r['compute_runs']} runs "
                f"(tally {r['runs_tally']:.3f}, {r['runs_trained']} runs trained){flag}, {r['seconds']:.0f} s")
        except Exception as e:
            methods[name] = {"lr": None, "error": f"{type(e).__name__}: {e}", "budget": b, "compute_runs": None}
            log(f"  {name}: FAILED {type(e).__name__}: {e}")
    methods["grid10"] = run_grid(t, truth, [0])
    methods["grid10x2"] = run_grid(t, truth, [0, 1])
    grid_s = truth.get("seconds_per_run", 0.0) * len(truth["grid"])
    methods["truth"] = {"lr": truth["best_lr"], "compute_runs": 3.0 * len(truth["grid"]), "seconds": 3 * grid_s,
                        "train_s": 3 * grid_s}

    t0 = time.perf_counter()
    for name, m in methods.items():
        if m.get("lr") is None or not m["lr"] > 0:
            continue
        m.update(scorer.score(m["lr"]))
    score_s = time.perf_counter() - t0
    log(f"{t.id}: " + ", ".join(f"{k} {m['ratio']:.3f}" + ("(div)" if m.get("diverged") else "") if m.get("ratio") is not None else f"{k} -" for k, m in methods.items())
        + f"; scored {scorer.trained} new runs in {score_s:.0f} s; task {time.perf_counter() - t_start:.0f} s")
    return {
        "id": t.id,
        "name": t.name,
        "family": t.family,
        "split": t.split,
        "optimizer": t.optimizer,
        "schedule": t.schedule,
        "horizon": t.horizon,
        "steps_per_epoch": spe,
        "horizon_steps": horizon_steps,
        "sweep_steps": sweep,
        "sweep_runs": sweep_runs,
        "find_s": find_s,
        "range_test": {"id": found.id, "lr": sg.lr, "method": sg.method, "confidence": sg.confidence, "max_stable_lr": sg.max_stable_lr, "candidates": sg.candidates},
        "best_lr": truth["best_lr"],
        "best_mean": truth["best_mean"],
        "diverged_penalty": truth["diverged_penalty"],
        "methods": methods,
        "score_runs": scorer.trained,
        "score_s": scorer.train_s,
        "seconds": time.perf_counter() - t_start,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="", help="comma-separated task ids")
    ap.add_argument("--budgets", default="0,1,2,3,5", help="stride's budgets, full runs")
    args = ap.parse_args()
    ids = [i for i in args.only.split(",") if i]
    budgets = [float(b) for b in args.budgets.split(",") if b]
    with open(TRUTH) as f:
        truth = {r["id"]: r for r in json.load(f)["tasks"]}
    unknown = [i for i in ids if i not in truth]
    if unknown:
        raise SystemExit(f"--only: unknown task ids {unknown}")
    tasks = [t for t in lr_tasks.TASKS if (not ids or t.id in ids)]
    client = stride.Client()
    started = time.perf_counter()
    rows = []
    for i, t in enumerate(tasks):
        log(f"[{i + 1}/{len(tasks)}] {t.id} ({t.split}, {t.family}, {t.optimizer['name']}, {t.schedule}, {t.horizon})")
        rows.append(run_task(t, truth[t.id], budgets, client))
    print(json.dumps({
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "client": getattr(stride, "__version__", None),
        "truth_seeds": TRUTH_SEEDS,
        "budgets": budgets,
        "sweep_steps": SWEEP_STEPS,
        "rows": rows,
        "seconds": time.perf_counter() - started,
    }))


if __name__ == "__main__":
    main()
