"""PyTorch task suite of the learning-rate benchmark (MLPs, CNNs and sequence models on local data).

Every task trains in a few seconds on one CPU thread, from data present on this machine: the
scikit-learn CSVs in bench/data/ and Debian's /usr/share/common-licenses/GPL-3 (read at run time).

Contract:

- ``TASKS: List[Task]``; ``task(id) -> Task``. A :class:`Task` has ``id``, ``name``, ``family``
  ("mlp" | "cnn" | "sequence"), ``split`` ("design" | "heldout" | "fresh" .. "fresh5", the fixed ``SPLIT`` below),
  ``optimizer`` (stride's naming: ``{"name": "sgd"|"nesterov"|"adam"|"adamw"|"rmsprop",
  "momentum"?, "weight_decay"?}``), ``schedule`` ("constant" | "cosine" | "one_cycle" |
  "warmup_cosine"), ``horizon`` (``{"epochs": n}`` or ``{"steps": n}``), ``batch``,
  ``default_lr`` (the optimizer's conventional default), and what builds it (``data``, ``kind``,
  ``model``, ``subsample``, ``noise``, ``clip``). ``Task.as_dict()`` gives it as a plain dict.
- ``train(task, lr, seed, length=None, on_eval=None, cache=True) -> dict``: trains a fresh model
  at peak learning rate ``lr`` (rounded to 6 significant digits first) with the task's whole
  schedule compressed into ``length`` (the horizon's unit, epochs or steps, a fractional number of
  epochs allowed; default the full horizon). The seed fixes the data split, the label noise, the
  initialisation and the data order. Validation loss on the held-out rows after every epoch
  (epoch horizons; also at the end of a fractional last epoch) or at 12 evenly spaced steps (step
  horizons; the last step included). ``on_eval(at, val)`` is called after each evaluation, ``at``
  in the horizon's unit (epochs completed, or steps); True stops the run there (pruning). Returns
  ``{"final": float | None, "curve": [val, ...], "evals": int, "at": [...], "steps": int,
  "diverged": bool, "pruned": bool, "seconds": float}``: ``final`` is the last validation loss,
  None when the training or validation loss became NaN/inf (the run stops there). Complete runs
  are cached in bench/.out/lr-cache/ (JSON, keyed by task id and definition, lr, seed and
  length); a cached run is replayed through ``on_eval``, so pruning decisions are the same.
- ``lr_find_setup(task, seed) -> (model, optimizer, train_loader, loss_fn)``: what
  ``stride.lr_find`` takes, for the seed's training split: a fresh model initialised as
  ``train`` initialises it, its optimizer at ``default_lr``, a DataLoader of ``(inputs,
  targets)`` batches of the task's batch size, and ``loss_fn(model(inputs), targets)``.
- ``steps_per_epoch(task, seed) -> int``: optimizer steps per epoch (for step horizons: the
  length of ``lr_find_setup``'s loader, one pass over the training text).
- ``multiplier(schedule, step, total) -> float``: the schedule's factor on the peak lr at
  0-based ``step`` of ``total`` steps.

``/usr/bin/python3 bench/lr_tasks.py --smoke`` trains each task once at its default lr for 1/8 of
its horizon and prints a line per task (seconds, final loss); ``--time`` does the full horizon.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import math
import os
import random
import sys
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F

torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
CACHE_DIR = os.path.join(HERE, ".out", "lr-cache")
TEXT = "/usr/share/common-licenses/GPL-3"
# Bumped whenever the training code changes what a run computes: it invalidates the cache.
CODE_VERSION = 2

VALIDATION_SHARE = 0.2
TEXT_HELDOUT_SHARE = 0.1
STEP_EVALS = 12
NOISE = 0.3
SUBSAMPLE_SEED = 1234

DEFAULT_LR = {"sgd": 0.01, "nesterov": 0.01, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-2, "adagrad": 1e-2}


@dataclasses.dataclass(frozen=True)
class Task:
    id: str
    name: str
    family: str
    optimizer: Dict[str, Any]
    schedule: str
    horizon: Dict[str, int]
    batch: int
    data: str  # a CSV name in bench/data, or "gpl3" (the text)
    kind: str  # "classification" | "regression" | "lm"
    model: Dict[str, Any]
    subsample: Optional[int] = None
    noise: float = 0.0
    clip: Optional[float] = None  # gradient norm clipping

    @property
    def split(self) -> str:
        return SPLIT[self.id]

    @property
    def default_lr(self) -> float:
        return DEFAULT_LR[self.optimizer["name"]]

    @property
    def unit(self) -> str:
        return "epochs" if "epochs" in self.horizon else "steps"

    @property
    def length(self) -> int:
        return self.horizon[self.unit]

    def as_dict(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        d.update(split=self.split, default_lr=self.default_lr)
        return d

    def fingerprint(self) -> str:
        d = dataclasses.asdict(self)
        d.pop("name")
        d["code"] = CODE_VERSION
        return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:10]


SGDM = {"name": "sgd", "momentum": 0.9}
NESTEROV = {"name": "nesterov", "momentum": 0.9}
CNN_BN = {"kind": "cnn", "channels": [16, 32], "bn": True}
CNN_PLAIN = {"kind": "cnn", "channels": [16, 32], "bn": False}
CHAR = {"context": 32, "embed": 16}

TASKS: List[Task] = [
    # The 8 MLP tasks of bench/lr-real.mjs (shapes, optimizers, batches, horizons, subsample, noise).
    Task("iris-sgdm", "iris, MLP 32, SGD+momentum", "mlp", SGDM, "constant", {"epochs": 40}, 16,
         "iris", "classification", {"kind": "mlp", "hidden": [32]}),
    Task("wine-wide-adam", "wine, wide MLP 512-512, Adam", "mlp", {"name": "adam"}, "constant",
         {"epochs": 20}, 32, "wine", "classification", {"kind": "mlp", "hidden": [512, 512]}),
    Task("bc120-adamw", "breast cancer, 120-row subsample, MLP 256-256, AdamW (wd 0.01)", "mlp",
         {"name": "adamw", "weight_decay": 0.01}, "constant", {"epochs": 40}, 16, "breast_cancer",
         "classification", {"kind": "mlp", "hidden": [256, 256]}, subsample=120),
    Task("bc-rmsprop", "breast cancer, MLP 64-64, RMSprop", "mlp", {"name": "rmsprop"}, "constant",
         {"epochs": 20}, 32, "breast_cancer", "classification", {"kind": "mlp", "hidden": [64, 64]}),
    Task("digits-adam", "digits, MLP 128, Adam", "mlp", {"name": "adam"}, "constant", {"epochs": 20}, 32,
         "digits", "classification", {"kind": "mlp", "hidden": [128]}),
    Task("digits-noisy-sgdm", "digits, 30% of training labels flipped, MLP 256, SGD+momentum", "mlp", SGDM,
         "constant", {"epochs": 30}, 32, "digits", "classification", {"kind": "mlp", "hidden": [256]},
         noise=NOISE),
    Task("diabetes-adam", "diabetes (regression), MLP 64-64, Adam", "mlp", {"name": "adam"}, "constant",
         {"epochs": 40}, 32, "diabetes", "regression", {"kind": "mlp", "hidden": [64, 64]}),
    Task("diabetes-sgdm", "diabetes (regression), MLP 128, SGD+momentum", "mlp", SGDM, "constant",
         {"epochs": 30}, 16, "diabetes", "regression", {"kind": "mlp", "hidden": [128]}),
    # CNNs on digits as 1x8x8 images.
    Task("cnn-bn-nesterov", "digits 8x8, CNN 16-32 with BatchNorm, SGD+Nesterov (wd 5e-4), cosine", "cnn",
         {"name": "nesterov", "momentum": 0.9, "weight_decay": 5e-4}, "cosine", {"epochs": 12}, 32,
         "digits", "classification", CNN_BN),
    Task("cnn-bn-adamw", "digits 8x8, CNN 16-32 with BatchNorm, AdamW (wd 0.01), constant", "cnn",
         {"name": "adamw", "weight_decay": 0.01}, "constant", {"epochs": 12}, 32, "digits",
         "classification", CNN_BN),
    Task("cnn-sgdm-onecycle", "digits 8x8, CNN 16-32 without BatchNorm, SGD+momentum, one-cycle", "cnn",
         SGDM, "one_cycle", {"epochs": 12}, 32, "digits", "classification", CNN_PLAIN),
    Task("cnn-noisy-adamw",
         "digits 8x8, 30% of training labels flipped, CNN without BatchNorm, AdamW, cosine",
         "cnn", {"name": "adamw", "weight_decay": 0.01}, "cosine", {"epochs": 12}, 32, "digits",
         "classification", CNN_PLAIN, noise=NOISE),
    Task("cnn300-bn-adam", "digits 8x8, 300-row subsample, CNN with BatchNorm, Adam, warmup+cosine", "cnn",
         {"name": "adam"}, "warmup_cosine", {"epochs": 30}, 16, "digits", "classification", CNN_BN,
         subsample=300),
    # Sequence models: character-level language models on the GPL-3 text (held out: its last
    # 10%), and a GRU reading a digit's 8 rows as an 8-step sequence.
    Task("charformer-adamw", "GPL-3 text, causal char transformer (2 layers, d 32, 4 heads, context 32), "
         "AdamW, warmup+cosine", "sequence", {"name": "adamw", "weight_decay": 0.01}, "warmup_cosine",
         {"steps": 200}, 16, "gpl3", "lm",
         {"kind": "transformer", "layers": 2, "d_model": 32, "heads": 4, "ff": 64, "context": 32}, clip=1.0),
    Task("charlstm-adam", "GPL-3 text, char LSTM (embed 16, hidden 64, context 32), Adam, constant",
         "sequence", {"name": "adam"}, "constant", {"steps": 200}, 16, "gpl3", "lm",
         {"kind": "lstm", "hidden": 64, **CHAR}, clip=1.0),
    Task("chargru-rmsprop", "GPL-3 text, char GRU (embed 16, hidden 64, context 32), RMSprop, one-cycle",
         "sequence", {"name": "rmsprop"}, "one_cycle", {"steps": 200}, 16, "gpl3", "lm",
         {"kind": "gru", "hidden": 64, **CHAR}, clip=1.0),
    Task("rowgru-nesterov", "digits read row by row (8 steps of 8 pixels), GRU 32, SGD+Nesterov, cosine",
         "sequence", NESTEROV, "cosine", {"epochs": 10}, 32, "digits", "classification",
         {"kind": "rowgru", "hidden": 32}),
    # A second held-out set, added (2026-12-07) after the first held-out half had been scored three
    # times and so had stopped being unseen: these tasks were defined, and their truth computed,
    # before any further change to the method, and no method's result on them is looked at until
    # a change is final. Same data and model kinds, other optimizers, schedules, widths and batches.
    Task("wine-nesterov-cosine", "wine, MLP 64, SGD+Nesterov, cosine", "mlp", NESTEROV, "cosine",
         {"epochs": 30}, 16, "wine", "classification", {"kind": "mlp", "hidden": [64]}),
    Task("digits-adamw-onecycle", "digits, MLP 256-128, AdamW (wd 0.05), one-cycle, batch 64", "mlp",
         {"name": "adamw", "weight_decay": 0.05}, "one_cycle", {"epochs": 15}, 64, "digits",
         "classification", {"kind": "mlp", "hidden": [256, 128]}),
    Task("bc-adagrad", "breast cancer, MLP 32, Adagrad, constant", "mlp", {"name": "adagrad"}, "constant",
         {"epochs": 30}, 32, "breast_cancer", "classification", {"kind": "mlp", "hidden": [32]}),
    Task("diabetes-rmsprop-cosine", "diabetes (regression), MLP 256, RMSprop, cosine", "mlp",
         {"name": "rmsprop"}, "cosine", {"epochs": 30}, 32, "diabetes", "regression",
         {"kind": "mlp", "hidden": [256]}),
    Task("cnn-bn-sgdm-const", "digits 8x8, CNN 8-16 with BatchNorm, SGD+momentum, constant, batch 64",
         "cnn", SGDM, "constant", {"epochs": 10}, 64, "digits", "classification",
         {"kind": "cnn", "channels": [8, 16], "bn": True}),
    Task("cnn600-wide-adam", "digits 8x8, 600-row subsample, CNN 32-64 without BatchNorm, Adam, cosine",
         "cnn", {"name": "adam"}, "cosine", {"epochs": 15}, 32, "digits", "classification",
         {"kind": "cnn", "channels": [32, 64], "bn": False}, subsample=600),
    Task("charformer1-adam", "GPL-3 text, causal char transformer (1 layer, d 48, 4 heads, context 32), "
         "Adam, constant", "sequence", {"name": "adam"}, "constant", {"steps": 250}, 16, "gpl3", "lm",
         {"kind": "transformer", "layers": 1, "d_model": 48, "heads": 4, "ff": 96, "context": 32}, clip=1.0),
    Task("chargru-adamw-wc", "GPL-3 text, char GRU (embed 16, hidden 96, context 32), AdamW, warmup+cosine",
         "sequence", {"name": "adamw", "weight_decay": 0.01}, "warmup_cosine", {"steps": 250}, 16, "gpl3",
         "lm", {"kind": "gru", "hidden": 96, **CHAR}, clip=1.0),
    Task("rowgru-noisy-adam", "digits row by row, 30% of training labels flipped, GRU 48, Adam, constant",
         "sequence", {"name": "adam"}, "constant", {"epochs": 10}, 32, "digits", "classification",
         {"kind": "rowgru", "hidden": 48}, noise=NOISE),
    # A third held-out set (fresh2), added (2026-12-07) after "fresh" had been scored and looked at:
    # defined, with its truth, before the changes that followed that look.
    Task("iris-adam-cosine", "iris, MLP 64, Adam, cosine", "mlp", {"name": "adam"}, "cosine", {"epochs": 30},
         16, "iris", "classification", {"kind": "mlp", "hidden": [64]}),
    Task("wine-rmsprop", "wine, MLP 128, RMSprop, constant", "mlp", {"name": "rmsprop"}, "constant",
         {"epochs": 20}, 16, "wine", "classification", {"kind": "mlp", "hidden": [128]}),
    Task("digits-sgdm-wc", "digits, MLP 128-64, SGD+momentum, warmup+cosine", "mlp", SGDM, "warmup_cosine",
         {"epochs": 15}, 32, "digits", "classification", {"kind": "mlp", "hidden": [128, 64]}),
    Task("cnn-bn-adam-onecycle", "digits 8x8, CNN 16-32 with BatchNorm, Adam, one-cycle, batch 64", "cnn",
         {"name": "adam"}, "one_cycle", {"epochs": 8}, 64, "digits", "classification", CNN_BN),
    Task("charformer2-adamw", "GPL-3 text, causal char transformer (2 layers, d 32, 4 heads, context 32), "
         "AdamW, constant, batch 32", "sequence", {"name": "adamw", "weight_decay": 0.01}, "constant",
         {"steps": 150}, 32, "gpl3", "lm",
         {"kind": "transformer", "layers": 2, "d_model": 32, "heads": 4, "ff": 64, "context": 32}, clip=1.0),
    Task("rowgru-adamw-cosine", "digits row by row, GRU 64, AdamW, cosine", "sequence",
         {"name": "adamw", "weight_decay": 0.01}, "cosine", {"epochs": 8}, 32, "digits", "classification",
         {"kind": "rowgru", "hidden": 64}),
    # A fourth held-out set (fresh3), added (2026-12-07) after "fresh2" had been scored: defined,
    # with its truth, before the changes that followed.
    Task("wine-adamw-wc", "wine, MLP 256, AdamW, warmup+cosine", "mlp", {"name": "adamw", "weight_decay": 0.01},
         "warmup_cosine", {"epochs": 25}, 32, "wine", "classification", {"kind": "mlp", "hidden": [256]}),
    Task("bc-nesterov-onecycle", "breast cancer, MLP 128-64, SGD+Nesterov, one-cycle, batch 64", "mlp", NESTEROV,
         "one_cycle", {"epochs": 20}, 64, "breast_cancer", "classification", {"kind": "mlp", "hidden": [128, 64]}),
    Task("diabetes-adagrad", "diabetes (regression), MLP 64, Adagrad, constant", "mlp", {"name": "adagrad"},
         "constant", {"epochs": 30}, 32, "diabetes", "regression", {"kind": "mlp", "hidden": [64]}),
    Task("cnn-plain-rmsprop", "digits 8x8, CNN 16-32 without BatchNorm, RMSprop, cosine", "cnn",
         {"name": "rmsprop"}, "cosine", {"epochs": 10}, 32, "digits", "classification", CNN_PLAIN),
    Task("charlstm-adamw-cos", "GPL-3 text, char LSTM (embed 16, hidden 96, context 32), AdamW, cosine",
         "sequence", {"name": "adamw", "weight_decay": 0.01}, "cosine", {"steps": 200}, 16, "gpl3", "lm",
         {"kind": "lstm", "hidden": 96, **CHAR}, clip=1.0),
    Task("rowgru-sgdm-const", "digits row by row, GRU 32, SGD+momentum, constant, batch 64", "sequence", SGDM,
         "constant", {"epochs": 10}, 64, "digits", "classification", {"kind": "rowgru", "hidden": 32}),
    # A fifth held-out set (fresh4), added (2026-12-07, third session) after "fresh3" had been scored:
    # defined, with its truth, before the changes that followed.
    Task("wine-sgdm-cosine", "wine, MLP 64-64, SGD+momentum, cosine", "mlp", SGDM, "cosine", {"epochs": 25}, 16,
         "wine", "classification", {"kind": "mlp", "hidden": [64, 64]}),
    Task("digits-rmsprop-wc", "digits, MLP 256, RMSprop, warmup+cosine, batch 64", "mlp", {"name": "rmsprop"},
         "warmup_cosine", {"epochs": 12}, 64, "digits", "classification", {"kind": "mlp", "hidden": [256]}),
    Task("cnn-bn-adamw-cosine", "digits 8x8, CNN 16-32 with BatchNorm, AdamW, cosine", "cnn",
         {"name": "adamw", "weight_decay": 0.01}, "cosine", {"epochs": 10}, 32, "digits", "classification", CNN_BN),
    Task("cnn-plain-nesterov-onecycle", "digits 8x8, CNN 16-32 without BatchNorm, SGD+Nesterov, one-cycle", "cnn",
         NESTEROV, "one_cycle", {"epochs": 10}, 32, "digits", "classification", CNN_PLAIN),
    Task("chargru-adam-const", "GPL-3 text, char GRU (embed 16, hidden 64, context 32), Adam, constant",
         "sequence", {"name": "adam"}, "constant", {"steps": 200}, 16, "gpl3", "lm",
         {"kind": "gru", "hidden": 64, **CHAR}, clip=1.0),
    Task("rowgru-rmsprop-cosine", "digits row by row, GRU 48, RMSprop, cosine", "sequence", {"name": "rmsprop"},
         "cosine", {"epochs": 8}, 32, "digits", "classification", {"kind": "rowgru", "hidden": 48}),
    # A sixth held-out set (fresh5, 10 tasks: six could not tell a 2% change from the draw), added
    # (2026-12-07, fourth session) after "fresh4" had been scored: defined, with its truth, before
    # the changes that followed.
    Task("iris-nesterov-wc", "iris, MLP 32-32, SGD+Nesterov, warmup+cosine", "mlp", NESTEROV, "warmup_cosine",
         {"epochs": 40}, 16, "iris", "classification", {"kind": "mlp", "hidden": [32, 32]}),
    Task("wine-adagrad-cosine", "wine, MLP 128, Adagrad, cosine", "mlp", {"name": "adagrad"}, "cosine",
         {"epochs": 20}, 16, "wine", "classification", {"kind": "mlp", "hidden": [128]}),
    Task("bc-adam-onecycle", "breast cancer, MLP 64, Adam, one-cycle", "mlp", {"name": "adam"}, "one_cycle",
         {"epochs": 20}, 32, "breast_cancer", "classification", {"kind": "mlp", "hidden": [64]}),
    Task("diabetes-nesterov-cosine", "diabetes (regression), MLP 64-64, SGD+Nesterov, cosine", "mlp", NESTEROV,
         "cosine", {"epochs": 30}, 32, "diabetes", "regression", {"kind": "mlp", "hidden": [64, 64]}),
    Task("digits-noisy-adamw-cosine", "digits, 30% of training labels flipped, MLP 128, AdamW, cosine", "mlp",
         {"name": "adamw", "weight_decay": 0.01}, "cosine", {"epochs": 15}, 32, "digits", "classification",
         {"kind": "mlp", "hidden": [128]}, noise=NOISE),
    Task("cnn-bn-rmsprop-cosine", "digits 8x8, CNN 16-32 with BatchNorm, RMSprop, cosine", "cnn",
         {"name": "rmsprop"}, "cosine", {"epochs": 10}, 32, "digits", "classification", CNN_BN),
    Task("cnn300-plain-sgdm-wc", "digits 8x8, 300-row subsample, CNN without BatchNorm, SGD+momentum, "
         "warmup+cosine", "cnn", SGDM, "warmup_cosine", {"epochs": 30}, 16, "digits", "classification",
         CNN_PLAIN, subsample=300),
    Task("charformer-adam-onecycle", "GPL-3 text, causal char transformer (2 layers, d 32, 4 heads, context 32), "
         "Adam, one-cycle", "sequence", {"name": "adam"}, "one_cycle", {"steps": 200}, 16, "gpl3", "lm",
         {"kind": "transformer", "layers": 2, "d_model": 32, "heads": 4, "ff": 64, "context": 32}, clip=1.0),
    Task("charlstm-rmsprop-cosine", "GPL-3 text, char LSTM (embed 16, hidden 64, context 32), RMSprop, cosine",
         "sequence", {"name": "rmsprop"}, "cosine", {"steps": 200}, 16, "gpl3", "lm",
         {"kind": "lstm", "hidden": 64, **CHAR}, clip=1.0),
    Task("rowgru-adamw-onecycle", "digits row by row, GRU 32, AdamW, one-cycle", "sequence",
         {"name": "adamw", "weight_decay": 0.01}, "one_cycle", {"epochs": 10}, 32, "digits", "classification",
         {"kind": "rowgru", "hidden": 32}),
]

# The design/held-out split, fixed before any tuning and never to be changed after: per family
# (tasks in the order above), random.Random(7).shuffle of the ids, the first ceil(n / 2) "design".
SPLIT: Dict[str, str] = {
    "iris-sgdm": "heldout",
    "wine-wide-adam": "heldout",
    "bc120-adamw": "design",
    "bc-rmsprop": "heldout",
    "digits-adam": "design",
    "digits-noisy-sgdm": "heldout",
    "diabetes-adam": "design",
    "diabetes-sgdm": "design",
    "cnn-bn-nesterov": "design",
    "cnn-bn-adamw": "heldout",
    "cnn-sgdm-onecycle": "heldout",
    "cnn-noisy-adamw": "design",
    "cnn300-bn-adam": "design",
    "charformer-adamw": "heldout",
    "charlstm-adam": "design",
    "chargru-rmsprop": "heldout",
    "rowgru-nesterov": "design",
    "wine-nesterov-cosine": "fresh",
    "digits-adamw-onecycle": "fresh",
    "bc-adagrad": "fresh",
    "diabetes-rmsprop-cosine": "fresh",
    "cnn-bn-sgdm-const": "fresh",
    "cnn600-wide-adam": "fresh",
    "charformer1-adam": "fresh",
    "chargru-adamw-wc": "fresh",
    "rowgru-noisy-adam": "fresh",
    "iris-adam-cosine": "fresh2",
    "wine-rmsprop": "fresh2",
    "digits-sgdm-wc": "fresh2",
    "cnn-bn-adam-onecycle": "fresh2",
    "charformer2-adamw": "fresh2",
    "rowgru-adamw-cosine": "fresh2",
    "wine-adamw-wc": "fresh3",
    "bc-nesterov-onecycle": "fresh3",
    "diabetes-adagrad": "fresh3",
    "cnn-plain-rmsprop": "fresh3",
    "charlstm-adamw-cos": "fresh3",
    "rowgru-sgdm-const": "fresh3",
    "wine-sgdm-cosine": "fresh4",
    "digits-rmsprop-wc": "fresh4",
    "cnn-bn-adamw-cosine": "fresh4",
    "cnn-plain-nesterov-onecycle": "fresh4",
    "chargru-adam-const": "fresh4",
    "rowgru-rmsprop-cosine": "fresh4",
    "iris-nesterov-wc": "fresh5",
    "wine-adagrad-cosine": "fresh5",
    "bc-adam-onecycle": "fresh5",
    "diabetes-nesterov-cosine": "fresh5",
    "digits-noisy-adamw-cosine": "fresh5",
    "cnn-bn-rmsprop-cosine": "fresh5",
    "cnn300-plain-sgdm-wc": "fresh5",
    "charformer-adam-onecycle": "fresh5",
    "charlstm-rmsprop-cosine": "fresh5",
    "rowgru-adamw-onecycle": "fresh5",
}

_BY_ID = {t.id: t for t in TASKS}


def task(tid: Union[str, Task]) -> Task:
    return tid if isinstance(tid, Task) else _BY_ID[tid]


# --- data ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _csv(name: str) -> Tuple[Tuple[str, ...], Tuple[Tuple[float, ...], ...]]:
    with open(os.path.join(DATA, f"{name}.csv")) as f:
        lines = [line for line in f.read().strip().split("\n") if line.strip()]
    header = tuple(lines[0].split(","))
    return header, tuple(tuple(float(c) for c in line.split(",")) for line in lines[1:])


def _standardise(x: torch.Tensor) -> torch.Tensor:
    """Per column over all rows (zero mean, unit population variance; a constant column becomes 0),
    as the probe (src/probe/data.ts) and bench/lr_client.py do."""
    x = x.double()
    mean, std = x.mean(0), x.std(0, unbiased=False)
    safe = torch.where(std > 0, std, torch.ones_like(std))
    return torch.where(std > 0, (x - mean) / safe, torch.zeros_like(x)).float()


@dataclasses.dataclass
class Rows:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    outputs: int


@functools.lru_cache(maxsize=64)
def _rows(tid: str, seed: int) -> Rows:
    """A CSV task's data for one seed. Features standardised over all rows (MLPs), or pixels / 16
    as 1x8x8 images (CNN) or as 8 rows of 8 (row GRU); regression targets standardised. A seeded
    80/20 shuffle split of the rows; with ``subsample``, of a fixed subsample of that many rows
    (the same for every seed), and the validation rows are then every row outside the training
    rows (a few dozen held-out rows make too noisy a loss, and an easy one reaches 0). Label noise
    is flipped in the training rows only (each flipped label to another class)."""
    t = task(tid)
    header, table = _csv(t.data)
    ti = header.index("target")
    feats = torch.tensor([[v for j, v in enumerate(r) if j != ti] for r in table], dtype=torch.float64)
    raw = [r[ti] for r in table]
    mk = t.model["kind"]
    if mk == "mlp":
        x = _standardise(feats)
    elif mk == "cnn":
        x = (feats / 16.0).float().reshape(-1, 1, 8, 8)
    else:  # rowgru
        x = (feats / 16.0).float().reshape(-1, 8, 8)
    if t.kind == "regression":
        y = _standardise(torch.tensor(raw, dtype=torch.float64).unsqueeze(1))
        outputs = 1
    else:
        labels = sorted(set(raw))
        y = torch.tensor([labels.index(v) for v in raw], dtype=torch.long)
        outputs = len(labels)
    rows = list(range(len(table)))
    if t.subsample:
        rows = sorted(random.Random(SUBSAMPLE_SEED).sample(rows, t.subsample))
    n = len(rows)
    n_val = max(1, min(n - 1, round(n * VALIDATION_SHARE)))
    order = torch.tensor(rows)[torch.randperm(n, generator=torch.Generator().manual_seed(seed))]
    train = order[n_val:]
    if t.subsample:
        outside = torch.ones(len(table), dtype=torch.bool)
        outside[train] = False
        val = torch.nonzero(outside).flatten()
    else:
        val = order[:n_val]
    y_train = y[train].clone()
    if t.noise:
        g = torch.Generator().manual_seed(5000 + seed)
        flip = torch.randperm(len(train), generator=g)[: round(t.noise * len(train))]
        shift = torch.randint(1, outputs, (len(flip),), generator=g)
        y_train[flip] = (y_train[flip] + shift) % outputs
    return Rows(x[train], y_train, x[val], y[val], outputs)


@functools.lru_cache(maxsize=1)
def _text() -> Tuple[torch.Tensor, torch.Tensor, int]:
    """GPL-3 as character ids (the vocabulary: every character of the text, sorted): the first
    90% for training, the last 10% held out."""
    with open(TEXT, encoding="utf-8") as f:
        text = f.read()
    vocab = sorted(set(text))
    ids = torch.tensor([vocab.index(c) for c in text], dtype=torch.long)
    cut = round(len(ids) * (1 - TEXT_HELDOUT_SHARE))
    return ids[:cut], ids[cut:], len(vocab)


def _windows(ids: torch.Tensor, starts: torch.Tensor, context: int) -> Tuple[torch.Tensor, torch.Tensor]:
    idx = starts.unsqueeze(1) + torch.arange(context + 1).unsqueeze(0)
    w = ids[idx]
    return w[:, :-1], w[:, 1:]


def _val_windows(context: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The fixed held-out windows: every non-overlapping window of the held-out text."""
    _, val, _ = _text()
    starts = torch.arange(0, len(val) - context - 1, context)
    return _windows(val, starts, context)


# --- models -------------------------------------------------------------------------------------


class CNN(torch.nn.Module):
    def __init__(self, channels: List[int], bn: bool, outputs: int) -> None:
        super().__init__()
        c1, c2 = channels
        layers: List[torch.nn.Module] = []
        for cin, cout, pool in ((1, c1, False), (c1, c2, True), (c2, c2, False)):
            layers.append(torch.nn.Conv2d(cin, cout, 3, padding=1, bias=not bn))
            if bn:
                layers.append(torch.nn.BatchNorm2d(cout))
            layers.append(torch.nn.ReLU())
            if pool:
                layers.append(torch.nn.MaxPool2d(2))
        self.features = torch.nn.Sequential(*layers)
        self.head = torch.nn.Linear(c2 * 16, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))


class CharTransformer(torch.nn.Module):
    """Causal pre-norm transformer over characters; output (batch, time, vocab) logits."""

    def __init__(self, vocab: int, layers: int, d_model: int, heads: int, ff: int, context: int) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d_model)
        self.pos = torch.nn.Parameter(torch.zeros(context, d_model))
        torch.nn.init.normal_(self.pos, std=0.02)
        layer = torch.nn.TransformerEncoderLayer(d_model, heads, ff, dropout=0.0, batch_first=True,
                                                 norm_first=True)
        self.blocks = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = torch.nn.LayerNorm(d_model)
        self.out = torch.nn.Linear(d_model, vocab)
        mask = torch.triu(torch.full((context, context), float("-inf")), diagonal=1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[1]
        h = self.embed(x) + self.pos[:t]
        h = self.blocks(h, mask=self.mask[:t, :t])
        return self.out(self.norm(h))


class CharRNN(torch.nn.Module):
    def __init__(self, cell: str, vocab: int, embed: int, hidden: int) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, embed)
        rnn = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
        self.rnn = rnn(embed, hidden, batch_first=True)
        self.out = torch.nn.Linear(hidden, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.rnn(self.embed(x))
        return self.out(h)


class RowGRU(torch.nn.Module):
    def __init__(self, inputs: int, hidden: int, outputs: int) -> None:
        super().__init__()
        self.rnn = torch.nn.GRU(inputs, hidden, batch_first=True)
        self.out = torch.nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h = self.rnn(x)
        return self.out(h[-1])


def _model(t: Task, seed: int, features: int, outputs: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    m = t.model
    if m["kind"] == "mlp":
        layers: List[torch.nn.Module] = []
        width = features
        for h in m["hidden"]:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            width = h
        layers.append(torch.nn.Linear(width, outputs))
        return torch.nn.Sequential(*layers)
    if m["kind"] == "cnn":
        return CNN(m["channels"], m["bn"], outputs)
    if m["kind"] == "rowgru":
        return RowGRU(features, m["hidden"], outputs)
    if m["kind"] == "transformer":
        return CharTransformer(outputs, m["layers"], m["d_model"], m["heads"], m["ff"], m["context"])
    return CharRNN(m["kind"], outputs, m["embed"], m["hidden"])


def make_optimizer(spec: Dict[str, Any], params: Any, lr: float) -> torch.optim.Optimizer:
    name, wd = spec["name"], spec.get("weight_decay", 0.0)
    if name in ("sgd", "nesterov"):
        return torch.optim.SGD(params, lr=lr, momentum=spec.get("momentum", 0.0), nesterov=name == "nesterov",
                               weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=spec.get("weight_decay", 0.01))
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=spec.get("momentum", 0.0), weight_decay=wd)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=wd)
    raise ValueError(f"unknown optimizer {name}")


def _flat_ce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def loss_fn(t: Task) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``loss_fn(model(inputs), targets)``: MSE (regression), cross-entropy (classification), mean
    per-character cross-entropy (language models; logits (batch, time, vocab), targets (batch, time))."""
    if t.kind == "regression":
        return F.mse_loss
    return _flat_ce if t.kind == "lm" else F.cross_entropy


# --- schedules ----------------------------------------------------------------------------------


def multiplier(schedule: str, step: int, total: int) -> float:
    """The factor on the peak lr at 0-based ``step`` of ``total``. cosine: 1 -> 0; one_cycle (as
    torch's OneCycleLR with its defaults, without the momentum cycling): cosine from 1/25 up to 1
    over the first 30% of the steps, then cosine down to 1/(25 * 1e4); warmup_cosine: linear
    warmup over the first 10% (from 1/w), then cosine to 0."""
    if schedule == "constant" or total <= 1:
        return 1.0
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * step / total))
    if schedule == "one_cycle":
        up = max(1, round(0.3 * total))
        lo, end = 1 / 25, 1 / (25 * 1e4)
        if step < up:
            return lo + (1 - lo) * 0.5 * (1 - math.cos(math.pi * step / up))
        frac = (step - up) / max(1, total - up - 1)
        return end + (1 - end) * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))
    if schedule == "warmup_cosine":
        w = max(1, round(0.1 * total))
        if step < w:
            return (step + 1) / w
        return 0.5 * (1 + math.cos(math.pi * (step - w) / max(1, total - w)))
    raise ValueError(f"unknown schedule {schedule}")


# --- setup --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Setup:
    model: torch.nn.Module
    batches: Iterator["Batch"]
    evaluate: Callable[[torch.nn.Module], float]
    steps_per_epoch: int
    train_set: Tuple[torch.Tensor, torch.Tensor]


Batch = Tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _epoch_batches(x: torch.Tensor, y: torch.Tensor, batch: int, seed: int) -> Iterator[Batch]:
    g = torch.Generator().manual_seed(1000 + seed)
    n = x.shape[0]
    while True:
        order = torch.randperm(n, generator=g)
        for i in range(0, n, batch):
            idx = order[i : i + batch]
            yield x[idx], y[idx]


def _text_batches(ids: torch.Tensor, batch: int, context: int, seed: int) -> Iterator[Batch]:
    g = torch.Generator().manual_seed(1000 + seed)
    while True:
        starts = torch.randint(0, len(ids) - context - 1, (batch,), generator=g)
        yield _windows(ids, starts, context)


def _setup(t: Task, seed: int) -> Setup:
    lf = loss_fn(t)
    if t.kind == "lm":
        train_ids, _, vocab = _text()
        ctx = t.model["context"]
        model = _model(t, seed, 0, vocab)
        xv, yv = _val_windows(ctx)
        spe = len(train_ids) // (t.batch * ctx)
        # lr_find's loader: one pass's worth of windows at seeded random offsets.
        g = torch.Generator().manual_seed(2000 + seed)
        starts = torch.randint(0, len(train_ids) - ctx - 1, (spe * t.batch,), generator=g)
        train_set = _windows(train_ids, starts, ctx)
        batches = _text_batches(train_ids, t.batch, ctx, seed)
    else:
        r = _rows(t.id, seed)
        features = r.x_train.shape[-1] if t.model["kind"] != "cnn" else 1
        model = _model(t, seed, features, r.outputs)
        xv, yv = r.x_val, r.y_val
        spe = math.ceil(r.x_train.shape[0] / t.batch)
        train_set = (r.x_train, r.y_train)
        batches = _epoch_batches(r.x_train, r.y_train, t.batch, seed)

    def evaluate(m: torch.nn.Module) -> float:
        m.eval()
        with torch.no_grad():
            v = float(lf(m(xv), yv))
        m.train()
        return v

    return Setup(model, batches, evaluate, spe, train_set)


def steps_per_epoch(tid: Union[str, Task], seed: int) -> int:
    t = task(tid)
    if t.kind == "lm":
        train_ids, _, _ = _text()
        return len(train_ids) // (t.batch * t.model["context"])
    return math.ceil(_rows(t.id, seed).x_train.shape[0] / t.batch)


def lr_find_setup(
    tid: Union[str, Task], seed: int
) -> Tuple[torch.nn.Module, torch.optim.Optimizer, torch.utils.data.DataLoader, LossFn]:
    """(model, optimizer, train_loader, loss_fn) for ``stride.lr_find`` on the seed's training split."""
    t = task(tid)
    s = _setup(t, seed)
    opt = make_optimizer(t.optimizer, s.model.parameters(), t.default_lr)
    ds = torch.utils.data.TensorDataset(*s.train_set)
    loader = torch.utils.data.DataLoader(ds, batch_size=t.batch, shuffle=True,
                                         generator=torch.Generator().manual_seed(3000 + seed))
    return s.model, opt, loader, loss_fn(t)


# --- cache --------------------------------------------------------------------------------------


def _cache_path(t: Task) -> str:
    return os.path.join(CACHE_DIR, f"{t.id}-{t.fingerprint()}.json")


def _cache_key(lr: float, seed: int, length: float) -> str:
    return f"{lr:.6g}|{seed}|{float(length):g}"


def _cache_load(t: Task) -> Dict[str, Any]:
    try:
        with open(_cache_path(t)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _cache_store(t: Task, key: str, value: Dict[str, Any]) -> None:
    os.makedirs(CACHE_DIR, exist_ok=True)
    entries = _cache_load(t)  # re-read: another process may have added runs
    entries[key] = value
    tmp = f"{_cache_path(t)}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(entries, f)
    os.replace(tmp, _cache_path(t))


def _replay(hit: Dict[str, Any], on_eval: Optional[Callable[[float, float], Any]]) -> Dict[str, Any]:
    out = dict(hit, cached=True)
    if on_eval is None:
        return out
    for i, (at, v) in enumerate(zip(hit["at"], hit["curve"])):
        last = i == len(hit["curve"]) - 1
        if math.isfinite(v) and on_eval(at, v) and not last:
            spe = hit["steps"] / hit["at"][-1] if hit["at"][-1] else 1
            return dict(out, final=v, curve=hit["curve"][: i + 1], at=hit["at"][: i + 1], evals=i + 1,
                        pruned=True, diverged=False, steps=round(at * spe),
                        seconds=hit["seconds"] * (i + 1) / len(hit["curve"]))
    return out


# --- training -----------------------------------------------------------------------------------


def train(tid: Union[str, Task], lr: float, seed: int, length: Optional[float] = None,
          on_eval: Optional[Callable[[float, float], Any]] = None, cache: bool = True) -> Dict[str, Any]:
    """Train the task at peak lr ``lr`` with its schedule compressed into ``length``; see the module
    docstring for the result."""
    t = task(tid)
    lr = float(f"{lr:.6g}")
    length = t.length if length is None else length
    if not length > 0:
        raise ValueError(f"length must be positive, got {length}")
    key = _cache_key(lr, seed, length)
    if cache:
        hit = _cache_load(t).get(key)
        if hit is not None:
            return _replay(hit, on_eval)
    t0 = time.perf_counter()
    s = _setup(t, seed)
    model = s.model
    opt = make_optimizer(t.optimizer, model.parameters(), lr)
    lf = loss_fn(t)
    if t.unit == "epochs":
        total = max(1, round(length * s.steps_per_epoch))
        marks = {min(total, e * s.steps_per_epoch): float(e) for e in range(1, math.ceil(length) + 1)}
        marks[total] = round(total / s.steps_per_epoch, 6)
    else:
        total = max(1, round(length))
        marks = {max(1, round(total * k / STEP_EVALS)): 0.0 for k in range(1, STEP_EVALS + 1)}
        marks = {k: float(k) for k in marks}
    curve: List[float] = []
    at: List[float] = []
    diverged = pruned = False
    step = 0
    model.train()
    for step in range(1, total + 1):
        m = multiplier(t.schedule, step - 1, total)
        for group in opt.param_groups:
            group["lr"] = lr * m
        x, y = next(s.batches)
        loss = lf(model(x), y)
        if not torch.isfinite(loss):
            diverged = True
            break
        opt.zero_grad()
        loss.backward()
        if t.clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), t.clip)
        opt.step()
        if step in marks:
            v = s.evaluate(model)
            curve.append(v if math.isfinite(v) else math.inf)
            at.append(marks[step])
            if not math.isfinite(v):
                diverged = True
                break
            if on_eval is not None and on_eval(marks[step], v) and step < total:
                pruned = True
                break
    out = {
        "final": None if diverged or not curve else curve[-1],
        "curve": curve,
        "at": at,
        "evals": len(curve),
        "steps": step,
        "diverged": diverged,
        "pruned": pruned,
        "seconds": time.perf_counter() - t0,
    }
    if cache and not pruned:
        _cache_store(t, key, out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="each task at its default lr for 1/8 of its horizon")
    ap.add_argument("--time", action="store_true", help="each task at its default lr, full horizon")
    ap.add_argument("--only", default="", help="comma-separated task ids")
    ap.add_argument("--lr", type=float, default=None, help="peak lr instead of the default")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not (args.smoke or args.time):
        ap.print_help()
        return
    ids = [i for i in args.only.split(",") if i]
    for t in TASKS:
        if ids and t.id not in ids:
            continue
        length = t.length / 8 if args.smoke else None
        lr = args.lr or t.default_lr
        r = train(t, lr, args.seed, length=length, cache=False)
        final = "diverged" if r["final"] is None else f"{r['final']:.4f}"
        print(f"{t.id:20s} {t.family:8s} {t.split:7s} lr {lr:<8.3g} {r['steps']:5d} steps "
              f"{r['seconds']:6.2f} s  first {r['curve'][0] if r['curve'] else math.nan:.4f}  final {final}",
              flush=True)


if __name__ == "__main__":
    main()
