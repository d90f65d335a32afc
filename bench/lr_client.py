"""Bench section "LR from Python (lr_find)" (issue 12), run by `node bench/run.mjs --only lr-client`.

Two parts, against the local Worker that run.mjs starts (STRIDE_URL, STRIDE_API_KEY):

1. What `trial.report` costs a training loop: microseconds per call (mean and p99 over 100,000
   calls in a tight loop, buffered), the synchronous report (`wait=True`) for contrast, and the
   step time of a tiny PyTorch training loop without reports, with a report every step, and with a
   synchronous report every step.

2. The learning rates the Python client finds on the real-data tasks of bench/lr-real.mjs (same
   CSVs, splits, label noise, MLP shapes, optimizers, batch sizes and horizons), trained in PyTorch:
   `stride.lr_find` on seed 0's training split (the exponential sweep, posted as a curve; the
   service answers with its rules), fastai's `valley` rule on the same measured curve, the
   optimizer's default, and (when the client has it) `stride.lr_suggest`, which trains its
   candidates here at the horizon. Ground truth: a log grid plus every method's lr, each trained
   to the horizon on seeds 1-3 (held-out splits and initialisations), final validation loss
   averaged. Each method's score is its loss over the best grid loss.

Input: a JSON file written by run.mjs (the tasks, each seed's CSV text and the server's split).
Output: progress on stderr, one JSON object on the last line of stdout.
"""
from __future__ import annotations

import inspect
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

import stride
from stride import reports

torch.set_num_threads(1)


def log(msg: str) -> None:
    print(f"[lr-client] {msg}", file=sys.stderr, flush=True)


# --- data and models, as the probe reads them -------------------------------------------------


def read_csv(text: str, kind: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """Features standardised per column over all rows (zero mean, unit population variance; a
    constant column becomes 0), as src/probe/data.ts does; regression targets standardised the
    same way, class labels as ids in sorted order."""
    lines = [l for l in text.strip().split("\n") if l.strip()]
    header = lines[0].split(",")
    t = header.index("target")
    rows = [l.split(",") for l in lines[1:]]
    x = torch.tensor([[float(c) for j, c in enumerate(r) if j != t] for r in rows], dtype=torch.float64)
    mean = x.mean(0)
    std = x.std(0, unbiased=False)
    x = torch.where(std > 0, (x - mean) / torch.where(std > 0, std, torch.ones_like(std)), torch.zeros_like(x)).float()
    raw = [r[t] for r in rows]
    if kind == "regression":
        y = torch.tensor([float(v) for v in raw], dtype=torch.float64)
        s = y.std(unbiased=False)
        y = ((y - y.mean()) / s if s > 0 else torch.zeros_like(y)).float().unsqueeze(1)
    else:
        labels = sorted({float(v) for v in raw})
        ids = {v: i for i, v in enumerate(labels)}
        y = torch.tensor([ids[float(v)] for v in raw], dtype=torch.long)
    return x, y


def make_model(features: int, hidden: List[int], outputs: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    layers: List[torch.nn.Module] = []
    width = features
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    layers.append(torch.nn.Linear(width, outputs))
    return torch.nn.Sequential(*layers)


def make_optimizer(spec: Dict[str, Any], params: Any, lr: float) -> torch.optim.Optimizer:
    name = spec["name"]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=spec.get("momentum", 0.0))
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=spec.get("weight_decay", 0.01))
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(f"unknown optimizer {name}")


def loss_fn(kind: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    return torch.nn.functional.mse_loss if kind == "regression" else torch.nn.functional.cross_entropy


class Split:
    """One seed's data: the training and held-out rows of the server's split."""

    def __init__(self, task: Dict[str, Any], seed: int) -> None:
        spec = task["seeds"][str(seed)]
        x, y = read_csv(spec["csv"], task["kind"])
        train = torch.tensor(spec["train"], dtype=torch.long)
        val = torch.tensor(spec["val"], dtype=torch.long)
        self.seed = seed
        self.x_train, self.y_train = x[train], y[train]
        self.x_val, self.y_val = x[val], y[val]
        self.features = x.shape[1]
        self.outputs = 1 if task["kind"] == "regression" else int(y.max().item()) + 1

    def loader(self, batch: int) -> torch.utils.data.DataLoader:
        g = torch.Generator().manual_seed(self.seed)
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(self.x_train, self.y_train), batch_size=batch, shuffle=True, generator=g)


def train(task: Dict[str, Any], data: Split, lr: float, epochs: int, on_epoch: Optional[Callable[[int, float], bool]] = None) -> Tuple[Optional[float], int]:
    """Train the task's MLP (initialised with the split's seed) at `lr` for `epochs`; the final
    validation loss (None when it diverged) and the epochs run. `on_epoch(epoch, val_loss)`, when
    given, is called after each epoch (from 1); True stops the run there."""
    model = make_model(data.features, task["hidden"], data.outputs, data.seed)
    opt = make_optimizer(task["optimizer"], model.parameters(), lr)
    lf = loss_fn(task["kind"])
    g = torch.Generator().manual_seed(1000 + data.seed)
    n, b = data.x_train.shape[0], task["batch"]
    val = math.nan
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(n, generator=g)
        for i in range(0, n, b):
            idx = order[i : i + b]
            loss = lf(model(data.x_train[idx]), data.y_train[idx])
            if not torch.isfinite(loss):
                return None, epoch
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val = float(lf(model(data.x_val), data.y_val))
        if not math.isfinite(val):
            return None, epoch
        if on_epoch is not None and on_epoch(epoch, val):
            return val, epoch
    return val, epochs


# --- fastai's valley rule, in PyTorch ---------------------------------------------------------


def fastai_valley(lrs: List[float], smoothed: List[Optional[float]], num_it: int) -> float:
    """fastai's `valley` suggestion (fastai/callback/schedule.py: `valley`, as `Learner.lr_find`
    calls it) on a measured curve. Like fastai: the smoothed loss (fastai's recorder keeps the
    bias-corrected EMA with beta 0.98, as lr_find's smoothed loss is), from point num_it // 10 to
    the fifth from the end, cut at the first NaN; the longest strictly decreasing subsequence (the
    "valley", by dynamic programming, with fastai's bookkeeping of its start); the index
    start + int(span / 3) + int(span / 6) in it (span = end - start), i.e. about halfway into its
    middle third."""
    lr_t = torch.tensor(lrs[num_it // 10 : -5], dtype=torch.float64)
    loss_t = torch.tensor([math.nan if v is None else v for v in smoothed[num_it // 10 : -5]], dtype=torch.float64)
    nan = torch.nonzero(torch.isnan(loss_t)).flatten()
    if len(nan) > 0:
        lr_t, loss_t = lr_t[: int(nan.min())], loss_t[: int(nan.min())]
    n = len(loss_t)
    if n == 0:
        raise ValueError("fastai_valley: no points left after the trim")
    # runs[i]: length of the longest strictly decreasing subsequence ending at i.
    runs = [1] * n
    start = end = 0
    for i in range(1, n):
        for j in range(i):
            if bool(loss_t[i] < loss_t[j]) and runs[i] < runs[j] + 1:
                runs[i] = runs[j] + 1
            # fastai moves the end inside this loop, with the run's length at that moment.
            if runs[end] < runs[i]:
                end = i
                start = end - runs[end]
    third = (end - start) / 3
    idx = start + int(third) + int(third / 2)
    return float(lr_t[idx])


# --- part 1: what a report costs --------------------------------------------------------------


STUB_SERVER = """
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        body = b'{"should_prune": false, "study_id": "std_stub", "number": 0, "state": "complete"}'
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
s = ThreadingHTTPServer(('127.0.0.1', 0), H)
print(f'http://127.0.0.1:{s.server_address[1]}', flush=True)
s.serve_forever()
"""


def percentile(values: List[float], q: float) -> float:
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def report_overhead(client: stride.Client) -> Dict[str, Any]:
    out: Dict[str, Any] = {"interval_s": reports.DEFAULT_INTERVAL, "batch": reports.DEFAULT_BATCH}
    space = {"x": {"type": "float", "low": 0, "high": 1}}
    study = client.create_study("bench report overhead: tight loop", space)
    # 100,000 calls: 5 trials of 20,000 steps (a trial keeps at most 20,000 values).
    per_call: List[float] = []
    total = 0.0
    drain: List[float] = []
    clock = time.perf_counter_ns
    for _ in range(5):
        t = study.ask()
        report = t.report
        t0 = time.perf_counter()
        for step in range(20_000):
            report(step, 0.5)
        total += time.perf_counter() - t0
        t1 = time.perf_counter()
        t.flush()
        drain.append(time.perf_counter() - t1)
        t.tell(0.5)
        t = study.ask()
        report = t.report
        for step in range(20_000):
            a = clock()
            report(step, 0.5)
            per_call.append((clock() - a) / 1000)
        t.flush()
        t.tell(0.5)
    timer = []
    for _ in range(20_000):
        a = clock()
        timer.append((clock() - a) / 1000)
    out["calls"] = 100_000
    out["mean_us"] = total / 100_000 * 1e6
    out["p50_us"] = percentile(per_call, 0.5)
    out["p99_us"] = percentile(per_call, 0.99)
    out["max_us"] = max(per_call)
    out["timer_us"] = statistics.median(timer)
    out["drain_s"] = statistics.median(drain)
    # The synchronous report and the training loop in studies with a pruner, each fresh: the
    # service's work per report grows with the values its trials hold.
    t = client.create_study("bench report overhead: wait=True", space, pruner={"name": "median"}).ask()
    lat = []
    for step in range(200):
        a = time.perf_counter()
        t.report(step, 0.5, wait=True)
        lat.append((time.perf_counter() - a) * 1000)
    t.tell(0.5)
    out["sync_ms_median"] = statistics.median(lat)
    out["sync_ms_p99"] = percentile(lat, 0.99)
    log(f"report: mean {out['mean_us']:.2f} us, p99 {out['p99_us']:.2f} us (buffered); wait=True median {out['sync_ms_median']:.1f} ms")

    # A tiny training loop: MLP 32-64-64-1, batch 64, SGD, loss.item() every step.
    torch.manual_seed(0)
    X, Y = torch.randn(8192, 32), torch.randn(8192, 1)
    # The client's own cost, without the local Worker's work on the same cores: a stub server in
    # another process that answers every report at once.
    stub = subprocess.Popen([sys.executable, "-c", STUB_SERVER], stdout=subprocess.PIPE, text=True)
    assert stub.stdout is not None
    stub_client = stride.Client(stub.stdout.readline().strip(), "stub")
    stub_study = stride.Study(stub_client, {"id": "std_stub", "name": "stub", "space": space})
    stub_trials = [0]

    def new_trial(mode: str) -> Optional[stride.Trial]:
        if mode == "none":
            return None
        if mode == "stub":
            stub_trials[0] += 1
            return stride.Trial(stub_study, {"study_id": "std_stub", "number": stub_trials[0], "params": {}, "state": "running"})
        return client.create_study(f"bench report overhead: loop {mode}", space, pruner={"name": "median"}).ask()

    def loop(steps: int, mode: str) -> Tuple[float, float]:
        torch.manual_seed(1)
        m = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
        opt = torch.optim.SGD(m.parameters(), lr=0.01)
        trial = new_trial(mode)
        if mode == "coarse":
            reports.configure(client, interval=1.0, batch=1000)
        w0, c0 = time.perf_counter(), time.process_time()
        for s in range(steps):
            i = (s * 64) % 8192
            loss = torch.nn.functional.mse_loss(m(X[i : i + 64]), Y[i : i + 64])
            opt.zero_grad()
            loss.backward()
            opt.step()
            v = loss.item()
            if trial is not None:
                trial.report(s, v, wait=mode == "sync")
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        if trial is not None:
            trial.tell(v)
        reports.configure(client, interval=reports.DEFAULT_INTERVAL, batch=reports.DEFAULT_BATCH)
        return wall / steps * 1e6, cpu / steps * 1e6

    runs: Dict[str, List[Tuple[float, float]]] = {"none": [], "buffered": [], "coarse": [], "stub": []}
    loop(500, "none")
    try:
        for _ in range(7):
            for mode in runs:
                runs[mode].append(loop(4000, mode))
    finally:
        stub.kill()
    sync = loop(100, "sync")
    loop_out = {mode: {"wall_us": statistics.median(r[0] for r in v), "cpu_us": statistics.median(r[1] for r in v)} for mode, v in runs.items()}
    loop_out["sync"] = {"wall_us": sync[0], "cpu_us": sync[1]}
    out["loop"] = {"steps": 4000, "repeats": 7, "sync_steps": 100, **loop_out}
    log(f"tiny loop: {loop_out['none']['wall_us']:.0f} us/step without reports, {loop_out['buffered']['wall_us']:.0f} with, {loop_out['sync']['wall_us']:.0f} with wait=True")
    return out


# --- part 2: learning rates from lr_find, judged by a trained grid ----------------------------


def lr_suggest_available() -> Optional[str]:
    """None when this client has stride.lr_suggest with the train_fn signature the bench calls; else why not."""
    fn = getattr(stride, "lr_suggest", None)
    if fn is None:
        return "this client has no stride.lr_suggest (branch lr-suggest-client not merged yet)"
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return None
    missing = [p for p in ("range_test", "training") if p not in params]
    return f"stride.lr_suggest lacks {', '.join(missing)}" if missing else None


_VALIDATION_SPLITS: Dict[Tuple[str, int], Split] = {}


def splits_for_validation(task: Dict[str, Any], seed: int) -> Split:
    key = (task["id"], seed)
    if key not in _VALIDATION_SPLITS:
        _VALIDATION_SPLITS[key] = Split(task, seed)
    return _VALIDATION_SPLITS[key]


def run_task(task: Dict[str, Any], client: stride.Client, truth_seeds: List[int]) -> Dict[str, Any]:
    t_start = time.perf_counter()
    seen = Split(task, 0)
    H = task["epochs"]
    steps_per_epoch = math.ceil(seen.x_train.shape[0] / task["batch"])
    model = make_model(seen.features, task["hidden"], seen.outputs, 0)
    opt = make_optimizer(task["optimizer"], model.parameters(), 1e-3)
    t0 = time.perf_counter()
    found = stride.lr_find(model, opt, seen.loader(task["batch"]), loss_fn(task["kind"]), client=client)
    find_s = time.perf_counter() - t0
    sweep = len(found.measured)
    cands = found.suggestion.candidates
    lrs: Dict[str, Optional[float]] = {
        "suggestion": found.suggestion.lr,
        "valley": cands.get("valley"),
        "fastai_valley": fastai_valley(found.measured.lr, found.measured.smoothed_loss, 100),
        "steepest": cands.get("steepest"),
        "minimum": cands.get("minimum"),
        "min_over_10": cands.get("min_over_10"),
        "default": task["default_lr"],
    }
    compute = {k: sweep / steps_per_epoch for k in ("suggestion", "valley", "fastai_valley", "steepest", "minimum", "min_over_10")}
    compute["default"] = 0.0
    validated: Dict[str, Any] = {"skipped": lr_suggest_available()}
    if validated["skipped"] is None:
        epochs_run = [0]

        seeds_seen: List[int] = []

        def train_fn(lr: float, trial: Any) -> Optional[float]:
            # As a user writes it: seeded by trial.seed (split, initialisation and batch order:
            # seed 0 is the sweep's split, k > 0 the split of seed 1000k), a report per epoch (from
            # 1), stop when it answers True.
            seed = getattr(trial, "seed", 0)
            seeds_seen.append(seed)
            data = seen if seed == 0 else splits_for_validation(task, 1000 * seed)

            def on_epoch(epoch: int, val: float) -> bool:
                epochs_run[0] += 1
                return bool(trial.report(epoch, val))

            loss, _ = train(task, data, lr, H, on_epoch)
            return math.nan if loss is None else loss

        t0 = time.perf_counter()
        try:
            r = stride.lr_suggest(train_fn, range_test=found, training={"epochs": H}, client=client)
            lrs["validated"] = getattr(r, "lr", None)
            compute["validated"] = sweep / steps_per_epoch + epochs_run[0]
            cands = getattr(r, "candidates", [])
            validated = {
                "skipped": None,
                "lr": lrs["validated"],
                "epochs": epochs_run[0],
                "s": time.perf_counter() - t0,
                "confidence": getattr(r, "confidence", None),
                "method": getattr(r, "method", None),
                "candidates": len(cands),
                "pruned": sum(1 for c in cands if c.get("state") == "pruned"),
                "seeds": sorted(set(seeds_seen)),
                "per_candidate": [{"lr": c.get("lr"), "score": c.get("score"), "value": c.get("value"), "seeds": c.get("seeds"), "unstable": c.get("unstable"), "state": c.get("state")} for c in cands],
            }
        except Exception as e:  # a client whose lr_suggest differs from the one the bench was written for
            validated = {"skipped": f"stride.lr_suggest failed: {type(e).__name__}: {e}"}
    grid = task["grid"]
    pool = sorted({*grid, *(v for v in lrs.values() if v is not None and v > 0)})
    t0 = time.perf_counter()
    splits = {s: Split(task, s) for s in truth_seeds}
    per_lr: Dict[float, Dict[str, Any]] = {}
    for lr in pool:
        losses = [train(task, splits[s], lr, H)[0] for s in truth_seeds]
        ok = all(v is not None for v in losses)
        per_lr[lr] = {"loss": sum(losses) / len(losses) if ok else None, "per_seed": losses}  # type: ignore[arg-type]
    truth_s = time.perf_counter() - t0
    grid_rows = [{"lr": lr, **per_lr[lr]} for lr in grid]
    ok_grid = [g for g in grid_rows if g["loss"] is not None]
    best = min(ok_grid, key=lambda g: g["loss"]) if ok_grid else None
    methods: Dict[str, Any] = {}
    for k, lr in lrs.items():
        m = per_lr.get(lr) if lr is not None and lr > 0 else None
        methods[k] = {
            "lr": lr,
            "loss": m["loss"] if m else None,
            "diverged": m is not None and m["loss"] is None,
            "ratio": m["loss"] / best["loss"] if m and m["loss"] is not None and best else None,
            "decades_off": math.log10(lr / best["lr"]) if lr and best else None,
            "compute_epochs": compute.get(k),
        }
    row = {
        "id": task["id"],
        "task": task["name"],
        "epochs": H,
        "batch": task["batch"],
        "n_train": seen.x_train.shape[0],
        "steps_per_epoch": steps_per_epoch,
        "sweep_steps": sweep,
        "sweep_epochs": sweep / steps_per_epoch,
        "find_s": find_s,
        "range_test_id": found.id,
        "confidence": found.suggestion.confidence,
        "grid": grid_rows,
        "best_grid": {"lr": best["lr"], "loss": best["loss"]} if best else None,
        "lrs_trained": len(pool),
        "methods": methods,
        "validated": validated,
        "truth_s": truth_s,
        "seconds": time.perf_counter() - t_start,
    }
    def show(k: str) -> str:
        m = methods[k]
        return f"{k} {m['lr']:.2g} ({'div' if m['diverged'] else m['ratio'] and round(m['ratio'], 3)})" if m["lr"] else f"{k} -"

    log(f"{task['id']}: grid best {best and round(best['lr'], 6)}; " + ", ".join(show(k) for k in methods) + f"; {len(pool)} lrs x {len(truth_seeds)} seeds in {truth_s:.0f} s")
    return row


def main() -> None:
    spec = json.load(open(sys.argv[1]))
    client = stride.Client()
    started = time.perf_counter()
    overhead = report_overhead(client) if spec.get("overhead", True) else None
    only = os.environ.get("BENCH_LR_CLIENT_TASKS")
    rows = []
    for task in spec["tasks"]:
        if only and task["id"] not in only.split(","):
            continue
        rows.append(run_task(task, client, spec["truth_seeds"]))
    print(
        json.dumps(
            {
                "python": platform.python_version(),
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "client": stride.__version__,
                "lr_suggest": lr_suggest_available(),
                "overhead": overhead,
                "truth_seeds": spec["truth_seeds"],
                "rows": rows,
                "seconds": time.perf_counter() - started,
            }
        )
    )


if __name__ == "__main__":
    main()
