"""Tabulated training surfaces for the sampler-quality bench (bench/samplers.ts, bench/optuna_ref.py).

Trains small PyTorch MLPs on two of scikit-learn's bundled datasets (bench/data/) over a grid of two
hyperparameters and writes the final validation loss at every grid node to bench/surfaces.json. The
bench's problems interpolate these tables bilinearly in the parameters' internal scale (log10 for
log parameters), so each surface is a deterministic function with a known minimum (a grid node),
shaped by real training. One thread, fixed seeds: rerunning gives the same table on the same
PyTorch build.

- digits-sgd: digits (1797 x 64), MLP 64-64-10, SGD(lr, momentum), 15 epochs, batch 64;
  lr log-uniform [1e-4, 1] (17 nodes), momentum [0, 0.99] (10 nodes).
- breast-cancer-adam: breast_cancer (569 x 30), MLP 30-32-2, Adam(lr, weight_decay), 30 epochs,
  batch 32; lr log-uniform [1e-5, 1] (16 nodes), weight_decay log-uniform [1e-6, 0.1] (11 nodes).
- digits-noisy-sgd: digits with 30% of the training labels replaced by random classes (seed 1;
  the validation labels stay clean), MLP 64-64-10, SGD(lr, momentum), 15 epochs, batch 64;
  lr log-uniform [1e-4, 1] (17 nodes), momentum [0, 0.99] (10 nodes): fitting the noise costs.
- digits-adamw: digits, MLP 64-64-10, AdamW(lr, weight_decay) (decoupled decay), 10 epochs,
  batch 64; lr log-uniform [1e-5, 1] (16 nodes), weight_decay log-uniform [1e-4, 1] (9 nodes).

Validation: a fixed 30% of the rows (permutation seed 0), features standardised on the training
rows. A run that diverges (non-finite loss) or ends above LOSS_CAP scores LOSS_CAP.

Usage: /usr/bin/python3 bench/make_surfaces.py
"""

import csv
import json
import math
import os
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
LOSS_CAP = 5.0


def load(name, noise=0.0):
    with open(os.path.join(HERE, "data", f"{name}.csv")) as fh:
        rows = list(csv.reader(fh))[1:]
    a = np.array(rows, dtype=np.float64)
    x, y = a[:, :-1], a[:, -1].astype(np.int64)
    perm = np.random.RandomState(0).permutation(len(y))
    n_val = int(round(0.3 * len(y)))
    val, tr = perm[:n_val], perm[n_val:]
    mu, sd = x[tr].mean(0), x[tr].std(0)
    sd[sd == 0] = 1
    x = (x - mu) / sd
    ytr = y[tr].copy()
    if noise > 0:
        rs = np.random.RandomState(1)
        flip = rs.rand(len(ytr)) < noise
        ytr[flip] = rs.randint(0, int(y.max()) + 1, size=int(flip.sum()))
    t = lambda v: torch.tensor(v)
    return t(x[tr]).float(), t(ytr), t(x[val]).float(), t(y[val])


def train(data, hidden, make_opt, epochs, batch):
    xtr, ytr, xva, yva = data
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(xtr.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, int(ytr.max()) + 1))
    opt = make_opt(model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(1)
    for _ in range(epochs):
        order = torch.randperm(len(ytr), generator=g)
        for i in range(0, len(ytr), batch):
            idx = order[i : i + batch]
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            if not torch.isfinite(loss):
                return LOSS_CAP
            loss.backward()
            opt.step()
    with torch.no_grad():
        v = float(loss_fn(model(xva), yva))
    return v if math.isfinite(v) and v < LOSS_CAP else LOSS_CAP


def grid(lo, hi, n, log):
    return [(10 ** (math.log10(lo) + k * (math.log10(hi) - math.log10(lo)) / (n - 1))) if log else lo + k * (hi - lo) / (n - 1) for k in range(n)]


def main():
    torch.set_num_threads(1)
    started = time.perf_counter()
    surfaces = []
    digits = load("digits")
    p0 = {"name": "lr", "low": 1e-4, "high": 1.0, "log": True, "n": 17}
    p1 = {"name": "momentum", "low": 0.0, "high": 0.99, "log": False, "n": 10}
    table = [[train(digits, 64, lambda ps, a=a, b=b: torch.optim.SGD(ps, lr=a, momentum=b), 15, 64) for b in grid(p1["low"], p1["high"], p1["n"], False)] for a in grid(p0["low"], p0["high"], p0["n"], True)]
    surfaces.append({"name": "digits-sgd", "params": [p0, p1], "values": table})
    bc = load("breast_cancer")
    p0 = {"name": "lr", "low": 1e-5, "high": 1.0, "log": True, "n": 16}
    p1 = {"name": "weight_decay", "low": 1e-6, "high": 0.1, "log": True, "n": 11}
    table = [[train(bc, 32, lambda ps, a=a, b=b: torch.optim.Adam(ps, lr=a, weight_decay=b), 30, 32) for b in grid(p1["low"], p1["high"], p1["n"], True)] for a in grid(p0["low"], p0["high"], p0["n"], True)]
    surfaces.append({"name": "breast-cancer-adam", "params": [p0, p1], "values": table})
    noisy = load("digits", noise=0.3)
    p0 = {"name": "lr", "low": 1e-4, "high": 1.0, "log": True, "n": 17}
    p1 = {"name": "momentum", "low": 0.0, "high": 0.99, "log": False, "n": 10}
    table = [[train(noisy, 64, lambda ps, a=a, b=b: torch.optim.SGD(ps, lr=a, momentum=b), 15, 64) for b in grid(p1["low"], p1["high"], p1["n"], False)] for a in grid(p0["low"], p0["high"], p0["n"], True)]
    surfaces.append({"name": "digits-noisy-sgd", "params": [p0, p1], "values": table})
    p0 = {"name": "lr", "low": 1e-5, "high": 1.0, "log": True, "n": 16}
    p1 = {"name": "weight_decay", "low": 1e-4, "high": 1.0, "log": True, "n": 9}
    table = [[train(digits, 64, lambda ps, a=a, b=b: torch.optim.AdamW(ps, lr=a, weight_decay=b), 10, 64) for b in grid(p1["low"], p1["high"], p1["n"], True)] for a in grid(p0["low"], p0["high"], p0["n"], True)]
    surfaces.append({"name": "digits-adamw", "params": [p0, p1], "values": table})
    out = {"torch": torch.__version__, "seconds": time.perf_counter() - started, "surfaces": surfaces}
    with open(os.path.join(HERE, "surfaces.json"), "w") as fh:
        json.dump(out, fh, indent=1)
    print(f"wrote bench/surfaces.json in {out['seconds']:.0f} s")


if __name__ == "__main__":
    main()
