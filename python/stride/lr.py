"""Learning rates: range-test results, :func:`lr_find` for your own PyTorch model, and
:func:`lr_suggest`, which validates the range test's candidates by training them your way.

:func:`lr_find` sweeps the learning rate exponentially over your model, optimizer
and data on your own device (as torch-lr-finder does), restores the model and
the optimizer afterwards, and sends the loss-vs-LR curve to the service
(``POST /v1/lr-range-tests`` with ``"curve"``), which answers with the same
suggestion rules as its own range tests. PyTorch is imported only there, when
:func:`lr_find` runs (and by :func:`lr_suggest` when given a torch optimizer to describe).

:func:`lr_suggest` asks the service for a search over that range test's span, within a
``budget`` of full training runs (``POST /v1/lr/suggest`` with ``"executor": {"kind": "client"}``),
trains each run the service asks for with your ``train_fn`` for the length it gives (no pruner:
every run trains its whole length), and answers with the validated learning rate
(``GET /v1/lr/suggest/{id}``).
"""
from __future__ import annotations

import copy
import logging
import math
import time
import urllib.parse
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Union

from .client import Connection, _quote
from .errors import TrialPruned
from .study import Study, Trial

logger = logging.getLogger("stride")

__all__ = [
    "Curve",
    "Suggestion",
    "LrRangeTest",
    "LrFindResult",
    "LrSuggestResult",
    "lr_find",
    "lr_suggest",
    "describe_optimizer",
]


#: The fewest points of a curve the service analyses.
MIN_POINTS = 10


def _num(v: Any) -> Optional[float]:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


@dataclass(frozen=True)
class Suggestion:
    """The service's suggestion from a range test (docs/API.md, "LR range test").

    ``lr`` is None when the curve gives no clear answer (``confidence`` is then ``"low"`` and
    ``reasons`` says why); ``candidates`` holds every rule's learning rate.
    """

    lr: Optional[float]
    method: Optional[str]
    max_stable_lr: Optional[float]
    confidence: Optional[str]
    candidates: Dict[str, Optional[float]] = field(default_factory=dict)
    reasons: List[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Suggestion":
        return cls(
            lr=_num(data.get("lr")),
            method=data.get("method"),
            max_stable_lr=_num(data.get("max_stable_lr")),
            confidence=data.get("confidence"),
            candidates={str(k): _num(v) for k, v in (data.get("candidates") or {}).items()},
            reasons=[str(r) for r in data.get("reasons") or []],
        )


@dataclass(frozen=True)
class Curve:
    """A loss-vs-learning-rate curve: parallel lists, one entry per step. A loss that was NaN or
    infinite is None. ``val_loss``: the validation loss at each step when the sweep measured one
    (else empty)."""

    lr: List[float]
    loss: List[Optional[float]]
    smoothed_loss: List[Optional[float]] = field(default_factory=list)
    val_loss: List[Optional[float]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lr)

    @classmethod
    def from_points(cls, points: Iterable[Mapping[str, Any]]) -> "Curve":
        pts = list(points)
        return cls(
            lr=[float(p["lr"]) for p in pts],
            loss=[_num(p.get("loss")) for p in pts],
            smoothed_loss=[_num(p.get("smoothed_loss")) for p in pts],
            val_loss=[_num(p.get("val_loss")) for p in pts] if any("val_loss" in p for p in pts) else [],
        )


class LrRangeTest:
    """A range test's answer (``POST /v1/lr-range-tests``).

    Attributes:
        id: the stored result's id (``GET /v1/lr-range-tests/{id}``).
        suggestion: the :class:`Suggestion` (``suggestion.lr``, ``.method``, ``.confidence``, ...).
        max_stable_lr: the largest learning rate before the loss turns upward for good.
        curve: the :class:`Curve` the suggestion read.
        cached: whether the service answered from its cache.
        raw: the JSON answer, as sent.
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.raw: Dict[str, Any] = dict(data)
        self.id: Optional[str] = data.get("id")
        self.cached: bool = bool(data.get("cached", False))
        self.suggestion = Suggestion.from_json(data.get("suggestion") or {})
        self.max_stable_lr: Optional[float] = self.suggestion.max_stable_lr
        self.curve = Curve.from_points(data.get("curve") or [])
        self.steps_run: Optional[int] = data.get("steps_run")
        self.stopped_early: Optional[bool] = data.get("stopped_early")
        #: A schedule around the suggested lr (``{"kind", "peak_lr", "warmup_fraction", ...}``), when the service gives one.
        self.schedule: Optional[Dict[str, Any]] = data.get("schedule")
        #: What a posted curve was measured on (``model``, ``optimizer``, ``batch_size``), as sent.
        self.context: Optional[Dict[str, Any]] = data.get("context")

    def __repr__(self) -> str:
        s = self.suggestion
        return f"{type(self).__name__}(id={self.id!r}, lr={s.lr!r}, max_stable_lr={self.max_stable_lr!r}, confidence={s.confidence!r})"

    def plot(self, ax: Any = None, *, show: bool = False) -> Any:
        """Plot loss against learning rate (log axis) with the suggestion and ``max_stable_lr``
        marked; returns the matplotlib ``Axes``. Needs matplotlib (``pip install matplotlib``)."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError(
                "LrRangeTest.plot() needs matplotlib, which is not installed: pip install matplotlib "
                "(the numbers are in .curve.lr and .curve.loss, the suggestion in .suggestion)"
            ) from e
        if ax is None:
            _, ax = plt.subplots()
        curve = self.curve
        ax.plot(curve.lr, [float("nan") if v is None else v for v in curve.loss], alpha=0.35, label="loss")
        if any(v is not None for v in curve.smoothed_loss):
            ax.plot(
                curve.lr,
                [float("nan") if v is None else v for v in curve.smoothed_loss],
                label="smoothed loss",
            )
        if any(v is not None for v in curve.val_loss):
            ax.plot(
                curve.lr, [float("nan") if v is None else v for v in curve.val_loss], label="validation loss"
            )
        if self.suggestion.lr is not None:
            ax.axvline(
                self.suggestion.lr,
                color="tab:green",
                linestyle="--",
                label=f"suggestion {self.suggestion.lr:.3g}",
            )
        if self.max_stable_lr is not None:
            ax.axvline(
                self.max_stable_lr,
                color="tab:red",
                linestyle=":",
                label=f"max stable {self.max_stable_lr:.3g}",
            )
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.legend()
        if show:
            plt.show()
        return ax


class LrFindResult(LrRangeTest):
    """What :func:`lr_find` answers: the service's :class:`LrRangeTest` for the curve measured
    here, ``measured``, that curve as this process saw it (with its smoothed loss), and
    ``examples``, the size of the training set it swept over (``len(train_loader.dataset)``; None
    when the loader has no sized dataset)."""

    def __init__(
        self,
        data: Mapping[str, Any],
        measured: Curve,
        examples: Optional[int] = None,
        steps_per_epoch: Optional[int] = None,
    ) -> None:
        super().__init__(data)
        self.measured = measured
        self.examples = examples
        #: ``len(train_loader)`` when the loader has a length: lets lr_suggest count the sweep's steps in its budget.
        self.steps_per_epoch = steps_per_epoch
        if len(self.curve) == 0:
            self.curve = measured


def describe_optimizer(optimizer: Any) -> Optional[Dict[str, Any]]:
    """A torch optimizer as stride names it (docs/API.md's ``optimizer``), from its first
    parameter group: SGD (``"sgd"`` with ``momentum`` when above 0; ``"nesterov"`` with
    Nesterov momentum), Adam, AdamW (``beta1``, ``beta2``), RMSprop (``alpha``, ``momentum``
    when above 0), Adagrad; ``weight_decay`` when above 0. None for other optimizers."""
    import torch

    if not getattr(optimizer, "param_groups", None):
        return None
    g = optimizer.param_groups[0]
    out: Dict[str, Any]
    if isinstance(optimizer, torch.optim.SGD):
        m = float(g.get("momentum", 0) or 0)
        if g.get("nesterov") and m > 0:
            out = {"name": "nesterov", "momentum": m}
        elif m > 0:
            out = {"name": "sgd", "momentum": m}
        else:
            out = {"name": "sgd"}
    elif isinstance(optimizer, torch.optim.AdamW) or isinstance(optimizer, torch.optim.Adam):
        b1, b2 = g.get("betas", (0.9, 0.999))
        out = {
            "name": "adamw" if isinstance(optimizer, torch.optim.AdamW) else "adam",
            "beta1": float(b1),
            "beta2": float(b2),
        }
    elif isinstance(optimizer, torch.optim.RMSprop):
        out = {"name": "rmsprop", "alpha": float(g.get("alpha", 0.99))}
        m = float(g.get("momentum", 0) or 0)
        if m > 0:
            out["momentum"] = m
    elif isinstance(optimizer, torch.optim.Adagrad):
        out = {"name": "adagrad"}
    else:
        return None
    wd = float(g.get("weight_decay", 0) or 0)
    if wd > 0:
        out["weight_decay"] = wd
    return out


def _to(obj: Any, device: Any) -> Any:
    if hasattr(obj, "to") and callable(obj.to):
        return obj.to(device)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: _to(v, device) for k, v in obj.items()}
    return obj


def _batches(loader: Iterable[Any]) -> Iterator[Any]:
    """The loader's batches, starting over when it is exhausted (a sweep may be longer than an epoch)."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("lr_find: train_loader yielded no batches")


def _split(batch: Any) -> Any:
    if isinstance(batch, (list, tuple)) and len(batch) >= 2:
        return batch[0], batch[1]
    raise TypeError(
        f"lr_find: each batch must be (inputs, targets), as a DataLoader over a TensorDataset gives; got {type(batch).__name__}"
    )


def _batch_size(loader: Any, inputs: Any) -> Optional[int]:
    bs = getattr(loader, "batch_size", None)
    if isinstance(bs, int) and bs > 0:
        return bs
    shape = getattr(inputs, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    try:
        return len(inputs)
    except TypeError:
        return None


#: lr_find with a val_loader evaluates it about this many times over a sweep (every
#: max(1, steps // VAL_EVALUATIONS) steps), carrying the last value forward between.
VAL_EVALUATIONS = 25


def _val_loss(model: Any, val_loader: Iterable[Any], loss_fn: Any, device: Any) -> Optional[float]:
    """The mean of ``loss_fn`` over every batch of ``val_loader`` (weighted by batch size), in eval
    mode without gradients; None when it is not finite. Leaves the model in train mode."""
    import torch

    total, count = 0.0, 0
    model.eval()
    try:
        with torch.no_grad():
            for batch in val_loader:
                inputs, targets = _split(batch)
                inputs, targets = _to(inputs, device), _to(targets, device)
                n = _batch_size(None, inputs) or 1
                total += float(loss_fn(model(inputs), targets).item()) * n
                count += n
    finally:
        model.train()
    if count == 0:
        raise ValueError("lr_find: val_loader yielded no batches")
    value = total / count
    return value if math.isfinite(value) else None


def lr_find(
    model: Any,
    optimizer: Any,
    train_loader: Iterable[Any],
    loss_fn: Any,
    *,
    min_lr: float = 1e-7,
    max_lr: float = 10.0,
    steps: int = 100,
    device: Any = None,
    client: Optional[Connection] = None,
    smooth: float = 0.98,
    diverge: float = 4.0,
    val_loader: Optional[Iterable[Any]] = None,
) -> LrFindResult:
    """An LR range test of your PyTorch model, on your device, judged by the service.

    For ``steps`` optimizer steps the learning rate of every parameter group grows
    exponentially from ``min_lr`` to ``max_lr``; each step trains on the next batch of
    ``train_loader`` (``(inputs, targets)`` batches, started over when exhausted) with
    ``loss_fn(model(inputs), targets)``. The sweep stops early when the loss is NaN or
    infinite, or when its smoothed value (an exponential moving average with factor ``smooth``,
    bias-corrected) exceeds ``diverge`` times the best smoothed value so far.

    Afterwards the model's and the optimizer's state dicts (deep copies taken before), the
    model's train/eval mode, its device, the parameters' gradients and PyTorch's random number
    generator state are restored: the run that follows is the run you would have had.

    The measured curve (``{"lr": [...], "loss": [...]}``, raw losses, NaN/inf as null) goes to
    ``POST /v1/lr-range-tests`` with the sweep (``range``: ``min_lr``, ``max_lr``, ``steps``,
    ``smoothing``, ``diverge_factor``, which the service reads the curve with), the model's class
    name and parameter count, the optimizer (:func:`describe_optimizer`) and the batch size; the
    answer is an :class:`LrFindResult`: ``.suggestion.lr``, ``.max_stable_lr``, ``.curve``,
    ``.schedule``, ``.id``, ``.raw``, ``.plot()``. A sweep that diverges within its first 10 steps
    is a ValueError saying what to change (the service reads curves of 10 points or more).

    Args:
        device: where to run the sweep (``"cuda:0"``); default the device of the model's
            parameters. Batches are moved there.
        client: the :class:`stride.Client` to send the curve with (default a connection from
            ``STRIDE_URL`` and ``STRIDE_API_KEY``).
        val_loader: held-out ``(inputs, targets)`` batches. When given, the mean ``loss_fn`` over
            all of them is measured before the step every ``max(1, steps // 25)`` steps (in eval
            mode, without gradients; the value carried forward between) and sent as the curve's
            ``val_loss``: the service then reads ``max_stable_lr`` and the minimum from it, since a
            training loss that keeps falling while the validation loss rises is no stable rate.
            About 25 passes over it: keep it small (a few batches).
    """
    import torch

    if not (0 < min_lr < max_lr):
        raise ValueError(f"lr_find needs 0 < min_lr < max_lr, got min_lr={min_lr}, max_lr={max_lr}")
    if steps < MIN_POINTS:
        raise ValueError(
            f"lr_find needs steps >= {MIN_POINTS} (the service reads curves of {MIN_POINTS} points or more), got {steps}"
        )
    if not (0 <= smooth < 1):
        raise ValueError(f"smooth must be in [0, 1), got {smooth}")
    if not diverge > 1:
        raise ValueError(f"diverge must be above 1, got {diverge}")

    params = list(model.parameters())
    original_device = params[0].device if params else torch.device("cpu")
    target = torch.device(device) if device is not None else original_device
    model_state = copy.deepcopy(model.state_dict())
    optimizer_state = copy.deepcopy(optimizer.state_dict())
    grads = [None if p.grad is None else p.grad.detach().clone() for p in params]
    was_training = model.training
    rng_cpu = torch.get_rng_state()
    # CUDA's generators only when CUDA is already in use: asking would start it.
    rng_cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None  # type: ignore[no-untyped-call]

    lrs: List[float] = []
    losses: List[Optional[float]] = []
    smoothed: List[Optional[float]] = []
    val_losses: List[Optional[float]] = []
    val_every = max(1, steps // VAL_EVALUATIONS)
    batch_size: Optional[int] = None
    try:
        if target != original_device:
            model.to(target)
            # The optimizer's state (momentum buffers) follows the parameters to their device.
            optimizer.load_state_dict(copy.deepcopy(optimizer_state))
        model.train()
        ratio = max_lr / min_lr
        avg = 0.0
        best = math.inf
        batches = _batches(train_loader)
        for i in range(steps):
            lr = min_lr * ratio ** (i / (steps - 1))
            for group in optimizer.param_groups:
                group["lr"] = lr
            inputs, targets = _split(next(batches))
            if batch_size is None:
                batch_size = _batch_size(train_loader, inputs)
            inputs, targets = _to(inputs, target), _to(targets, target)
            if val_loader is not None:
                # The model the step's training loss is measured on, before its update.
                carried = val_losses[-1] if val_losses else None
                val_losses.append(
                    _val_loss(model, val_loader, loss_fn, target) if i % val_every == 0 else carried
                )
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            value = float(loss.detach().item())
            lrs.append(lr)
            if not math.isfinite(value):
                losses.append(None)
                smoothed.append(None)
                break
            losses.append(value)
            avg = smooth * avg + (1 - smooth) * value
            s = avg / (1 - smooth ** (i + 1))
            smoothed.append(s)
            best = min(best, s)
            if s > diverge * best:
                break
    finally:
        if target != original_device:
            model.to(original_device)
        model.load_state_dict(model_state)
        optimizer.load_state_dict(optimizer_state)
        for p, g in zip(params, grads):
            p.grad = g
        model.train(was_training)
        torch.set_rng_state(rng_cpu)
        if rng_cuda is not None:
            torch.cuda.set_rng_state_all(rng_cuda)

    measured = Curve(lr=lrs, loss=losses, smoothed_loss=smoothed, val_loss=val_losses)
    if len(lrs) < MIN_POINTS:
        raise ValueError(
            f"lr_find: the loss diverged after {len(lrs)} steps, at lr {lrs[-1]:.3g}, and the service reads curves of "
            f"{MIN_POINTS} points or more: start lower (min_lr={min_lr:g}), sweep more steps (steps={steps}), "
            f"or raise diverge ({diverge:g})"
        )
    curve: Dict[str, Any] = {"lr": lrs, "loss": losses}
    if val_loader is not None:
        curve["val_loss"] = val_losses
    body: Dict[str, Any] = {
        "curve": curve,
        # How the sweep ran: the service reads the curve with the same smoothing and divergence
        # rule, and checks the curve against the sweep (steps planned, exponential spacing).
        "range": {
            "min_lr": min_lr,
            "max_lr": max_lr,
            "steps": steps,
            "mode": "exponential",
            "smoothing": smooth,
            "diverge_factor": diverge,
        },
        "model": {"name": type(model).__name__, "parameters": int(sum(p.numel() for p in params))},
    }
    opt = describe_optimizer(optimizer)
    if opt is not None:
        body["optimizer"] = opt
    else:
        warnings.warn(
            f"lr_find: stride does not know the optimizer {type(optimizer).__name__}; the curve is sent without it",
            RuntimeWarning,
            stacklevel=2,
        )
    if batch_size is not None:
        body["batch_size"] = batch_size
    client = client or Connection()
    answer = client.request("POST", "/v1/lr-range-tests", body, timeout=120.0, idempotent=True)
    return LrFindResult(answer, measured, _examples(train_loader), _length(train_loader))


def _length(loader: Any) -> Optional[int]:
    """The loader's batches per epoch (``len(loader)``), or None."""
    try:
        n = int(len(loader))
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


def _examples(loader: Any) -> Optional[int]:
    """The number of examples a loader draws from (its dataset's length), or None."""
    try:
        return int(len(loader.dataset))
    except (AttributeError, TypeError):
        return None


class LrSuggestResult:
    """A learning rate validated on your hardware (``GET /v1/lr/suggest/{id}``, docs/API.md).

    Attributes:
        id: the suggestion's id (also its study's: ``client.study(result.id)``).
        status: ``"complete"`` (``"running"`` while candidates still train).
        lr: the validated learning rate (None while running).
        method: ``"validated"``; the range test's rule or ``"default"`` when no candidate was usable.
        confidence: ``"high"`` (a clear winner inside the candidates, at the full horizon),
            ``"medium"`` (tied within noise, at an edge, or the length assumed) or ``"low"``.
        candidates: each candidate as the service judged it: ``{"lr", "sources", "state",
            "value", "epochs_run", "spread", "tied", "unstable", ...}``.
        reasoning: why, line by line.
        horizon: ``{"unit", "epochs", "method", ...}``: how long the candidates were validated.
        schedule: a schedule around ``lr`` (``{"kind", "peak_lr", "warmup_fraction", ...}``).
        raw: the JSON answer, as sent.
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.raw: Dict[str, Any] = dict(data)
        self.id: Optional[str] = data.get("id")
        self.status: Optional[str] = data.get("status")
        self.lr: Optional[float] = _num(data.get("lr"))
        self.method: Optional[str] = data.get("method")
        self.confidence: Optional[str] = data.get("confidence")
        self.reasoning: List[str] = [str(r) for r in data.get("reasoning") or []]
        self.horizon: Dict[str, Any] = dict(data.get("horizon") or {})
        self.schedule: Optional[Dict[str, Any]] = data.get("schedule")
        #: What the answer spent: ``{"runs": ..., "epochs": ...}`` (full runs at your horizon, the
        #: range test's steps included when known), and the budget it was given (``{"runs": ...}``).
        self.compute: Optional[Dict[str, Any]] = data.get("compute")
        self.budget: Optional[Dict[str, Any]] = data.get("budget")
        validation = data.get("validation") or {}
        self.candidates: List[Dict[str, Any]] = [dict(c) for c in validation.get("candidates") or []]

    def __repr__(self) -> str:
        return f"LrSuggestResult(id={self.id!r}, lr={self.lr!r}, method={self.method!r}, confidence={self.confidence!r})"


def lr_suggest(
    train_fn: Callable[[float, "Trial"], Optional[float]],
    *,
    range_test: Union[LrRangeTest, str, Mapping[str, Any], None] = None,
    training: Optional[Mapping[str, int]] = None,
    schedule: str = "constant",
    budget: Optional[float] = None,
    max_candidates: int = 8,
    seeds: Optional[int] = None,
    client: Optional[Connection] = None,
    n_jobs: int = 1,
    optimizer: Any = None,
    timeout: Optional[float] = None,
    poll_interval: float = 2.0,
    resume: Optional[str] = None,
    lease_seconds: Optional[int] = None,
) -> LrSuggestResult:
    """A learning rate validated at your run's length, on your model, data and device, for the
    compute you choose.

    ``budget`` is that compute in full training runs at your horizon (``training``); default 3.
    The service searches the range test's span with a ladder of short runs (the whole schedule
    compressed into 1/16, 1/4 ... of the horizon, each level centred on the best of the level
    before) and, when the budget allows, a comparison at the full horizon; everything counts,
    the range test's steps included. ``budget=0`` answers with the range test's rule.

    Each run is ``train_fn(lr, trial)``: build a fresh model and optimizer at peak ``lr``, seeded
    with ``trial.seed``, train for ``trial.horizon`` (``{"epochs": n}`` or ``{"steps": n}``: your
    full horizon, or a shorter length the service asks for, into which you compress your whole
    schedule), call ``trial.report(step, val_loss)`` after each epoch (from 1; with steps, at
    optimizer steps) and return the final validation loss. The answer is an
    :class:`LrSuggestResult` whose ``compute`` says what it spent.

    With ``seeds`` (and no budget), the older search: every candidate trains the full horizon on
    that many seeds, and the best mean wins.

    Trials run through :meth:`stride.Study.optimize` (``n_jobs`` at once, in threads): an exception
    from ``train_fn`` fails that trial and propagates; a NaN loss is told failed ("diverged").

    Args:
        train_fn: ``train_fn(lr, trial) -> final validation loss``; read ``trial.horizon`` and
            ``trial.seed``.
        budget: full runs at the horizon to spend, 0-50 (default 3).
        seeds: instead of a budget, train every candidate the full horizon on this many seeds
            (1-5); ``train_fn`` must then use ``trial.seed``.
        range_test: the :class:`LrFindResult` of :func:`lr_find` (or any :class:`LrRangeTest`), a
            stored range test's id, or a curve ``{"lr": [...], "loss": [...]}`` you measured.
        training: ``{"epochs": N}`` or ``{"steps": N}``, the length ``train_fn`` trains; without
            it the service assumes 20 epochs and its confidence is at most ``"medium"``.
        schedule: the schedule ``train_fn`` uses with ``lr`` as its peak (``"constant"``,
            ``"cosine"``, ``"one_cycle"``): the answer's ``schedule`` keeps that shape.
        optimizer: the optimizer ``train_fn`` trains with, when the range test lacks it (a torch
            optimizer, or a dict as docs/API.md names it, ``{"name": "sgd", "momentum": 0.9}``):
            its conventional default lr is one of the candidates.
        timeout: seconds to wait in all (None: no bound), for trials that another process holds.
        client: the :class:`stride.Client` (default a connection from ``$STRIDE_URL``).
        resume: the id of a suggestion an earlier ``lr_suggest`` started (logged at its start,
            ``stride: lr_suggest std_...``; the :class:`LrSuggestResult`'s ``id``, which is its
            study's): go on with it instead of starting one. Trials already complete are not
            trained again; one that a crashed process held is trained here once its lease expires
            (``lease_seconds``). The suggestion keeps its own range test, training length, budget
            and schedule: those arguments are not needed, and not sent.
        lease_seconds: how long a trial stays with a process that stopped heartbeating before it
            is trained elsewhere (the study's ``executor.lease_seconds``; default the service's, 300).
            A new suggestion only.
    """
    client = client or Connection()
    if resume is not None:
        return _resume_suggestion(client, str(resume), train_fn, n_jobs, timeout, poll_interval)
    if range_test is None:
        raise ValueError(
            "lr_suggest needs range_test: the result of stride.lr_find (or a stored range test's id), "
            "or a curve {'lr': [...], 'loss': [...]} you measured"
        )
    if budget is not None and seeds is not None:
        raise ValueError(
            "lr_suggest: send budget or seeds, not both (the budget decides which runs train on which seed)"
        )
    executor: Dict[str, Any] = {"kind": "client"}
    if lease_seconds is not None:
        executor["lease_seconds"] = int(lease_seconds)
    body: Dict[str, Any] = {"executor": executor, "schedule": schedule}
    if seeds is None:
        # The budgeted search (the default): the service decides every run's lr, length and seed.
        if budget is not None:
            body["budget"] = {"runs": float(budget)}
    else:
        body["validation"] = {"max_candidates": max_candidates, "seeds": seeds}
    steps_per_epoch = getattr(range_test, "steps_per_epoch", None)
    if (
        training is not None
        and "epochs" in training
        and isinstance(steps_per_epoch, int)
        and steps_per_epoch > 0
    ):
        # The range test's steps then count in the budget.
        body["steps_per_epoch"] = steps_per_epoch
    if isinstance(range_test, LrRangeTest):
        if not range_test.id:
            raise ValueError("lr_suggest: this range test has no id (was it stored?); pass its curve instead")
        body["range_test_id"] = range_test.id
    elif isinstance(range_test, str):
        body["range_test_id"] = range_test
    elif isinstance(range_test, Mapping):
        body["curve"] = {
            "lr": [float(v) for v in range_test["lr"]],
            "loss": [
                None if v is None or not math.isfinite(float(v)) else float(v) for v in range_test["loss"]
            ],
        }
    else:
        raise TypeError(
            f"range_test must be an LrRangeTest, a range test id or a curve dict, got {type(range_test).__name__}"
        )
    if training is not None:
        body["training"] = dict(training)
    if optimizer is not None:
        described = dict(optimizer) if isinstance(optimizer, Mapping) else describe_optimizer(optimizer)
        if described is None:
            raise ValueError(
                f"lr_suggest: stride does not know the optimizer {type(optimizer).__name__}; pass a dict such as {{'name': 'sgd'}}"
            )
        body["optimizer"] = described
    started = client.request("POST", "/v1/lr/suggest", body)
    if started.get("status") == "complete" and not started.get("study_id"):
        # Nothing to train: a budget of 0 (or one the range test already spent) or a range test
        # with no stable lr is answered at once (200, no study), the range test's rule or the default.
        return LrSuggestResult(started)
    logger.info(
        "stride: lr_suggest %s started (after a crash, go on with stride.lr_suggest(train_fn, resume=%r))",
        started["id"],
        started["id"],
    )
    study = Study(client, client.request("GET", f"/v1/studies/{_quote(str(started['study_id']))}"))
    return _train_suggestion(client, study, str(started["id"]), train_fn, n_jobs, timeout, poll_interval)


def _resume_suggestion(
    client: Connection,
    suggestion_id: str,
    train_fn: Callable[[float, "Trial"], Optional[float]],
    n_jobs: int,
    timeout: Optional[float],
    poll_interval: float,
) -> LrSuggestResult:
    """``lr_suggest(resume=id)``: the suggestion's answer when it is complete, else its study's
    remaining trials trained here (a 404 :class:`StrideError` for an id that is no suggestion)."""
    path = f"/v1/lr/suggest/{urllib.parse.quote(suggestion_id, safe='')}"
    answer = client.request("GET", path)
    if answer.get("status") == "complete":
        return LrSuggestResult(answer)
    logger.info("stride: lr_suggest %s resumed", suggestion_id)
    study = Study(client, client.request("GET", f"/v1/studies/{_quote(suggestion_id)}"))
    return _train_suggestion(client, study, suggestion_id, train_fn, n_jobs, timeout, poll_interval)


def _train_suggestion(
    client: Connection,
    study: Study,
    suggestion_id: str,
    train_fn: Callable[[float, "Trial"], Optional[float]],
    n_jobs: int,
    timeout: Optional[float],
    poll_interval: float,
) -> LrSuggestResult:
    """Train the suggestion's trials with ``train_fn`` until its answer is complete (waiting for
    trials another process holds, or held when it died, until their lease expires)."""
    path = f"/v1/lr/suggest/{urllib.parse.quote(suggestion_id, safe='')}"

    def objective(trial: "Trial") -> Optional[float]:
        result = train_fn(float(trial.params["lr"]), trial)
        if trial.should_prune() and not trial.is_finished:
            # train_fn returned when report said stop: the trial is pruned, not complete.
            last = max((int(p["step"]) for p in trial.intermediate), default=None)
            raise TrialPruned(f"stopped by successive halving at step {last}")
        return result

    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        study.optimize(objective, timeout=remaining, n_jobs=n_jobs)
        answer = client.request("GET", path)
        if answer.get("status") == "complete":
            for line in answer.get("reasoning") or []:
                if "seems not to use params.seed" in str(line):
                    warnings.warn(f"lr_suggest: {line}", RuntimeWarning, stacklevel=3)
            return LrSuggestResult(answer)
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError(
                f"lr_suggest: suggestion {suggestion_id} is still running after {timeout:g}s: {(answer.get('reasoning') or [''])[-1]}"
            )
        # Trials added since a thread stopped asking (the extension past an edge) run next;
        # trials another process holds are waited for.
        if not any(t.state == "waiting" for t in study.trials):
            client._sleep(poll_interval)
