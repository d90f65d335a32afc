"""stride.lr_find on small PyTorch models: the sweep, the restored state, what is sent,
and the service's suggestion against a learning rate range known to train well."""
from __future__ import annotations

import copy
import math
import sys
from types import ModuleType
from typing import Any, Dict, List, Optional, Tuple, cast

import pytest
import stride
import torch
from conftest import FakeServer, Reply, known

N, D = 1024, 10


def data() -> torch.utils.data.TensorDataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, D, generator=g)
    w = torch.randn(D, 1, generator=g)
    y = x @ w + 0.1 * torch.randn(N, 1, generator=g)
    return torch.utils.data.TensorDataset(x, y)


def mlp(seed: int = 1) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(D, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))


def loader(ds: torch.utils.data.TensorDataset, seed: int = 2) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(
        ds, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(seed)
    )


def range_test_answer(seen: Any) -> Reply:
    """What a service answers, built from the request: enough for the client to parse."""
    curve = seen.body["curve"]
    points = [
        {"step": i, "lr": lr, "loss": loss, "smoothed_loss": loss}
        for i, (lr, loss) in enumerate(zip(curve["lr"], curve["loss"]))
    ]
    return Reply(
        200,
        {
            "id": "lrt_fake",
            "cached": False,
            "suggestion": {
                "lr": curve["lr"][len(points) // 2],
                "method": "min_over_10",
                "candidates": {},
                "max_stable_lr": curve["lr"][-2],
                "confidence": "high",
                "reasons": [],
            },
            "curve": points,
            "steps_run": len(points),
            "stopped_early": len(points) < 100,
        },
    )


def states_equal(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and bool(torch.equal(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(states_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return (
            isinstance(b, (list, tuple))
            and len(a) == len(b)
            and all(states_equal(x, y) for x, y in zip(a, b))
        )
    return bool(a == b)


# --- optimizer names -------------------------------------------------------------


def test_torch_optimizers_get_stride_names() -> None:
    p = [torch.nn.Parameter(torch.zeros(2))]
    optim = torch.optim
    assert stride.describe_optimizer(optim.SGD(p, lr=0.1)) == {"name": "sgd"}
    assert stride.describe_optimizer(optim.SGD(p, lr=0.1, momentum=0.9)) == {"name": "sgd", "momentum": 0.9}
    assert stride.describe_optimizer(
        optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True, weight_decay=5e-4)
    ) == {
        "name": "nesterov",
        "momentum": 0.8,
        "weight_decay": 5e-4,
    }
    assert stride.describe_optimizer(optim.Adam(p, betas=(0.85, 0.99))) == {
        "name": "adam",
        "beta1": 0.85,
        "beta2": 0.99,
    }
    assert stride.describe_optimizer(optim.AdamW(p)) == {
        "name": "adamw",
        "beta1": 0.9,
        "beta2": 0.999,
        "weight_decay": 0.01,
    }
    assert stride.describe_optimizer(optim.RMSprop(p, alpha=0.9, momentum=0.5)) == {
        "name": "rmsprop",
        "alpha": 0.9,
        "momentum": 0.5,
    }
    assert stride.describe_optimizer(optim.RMSprop(p)) == {"name": "rmsprop", "alpha": 0.99}
    assert stride.describe_optimizer(optim.Adagrad(p)) == {"name": "adagrad"}
    assert stride.describe_optimizer(optim.LBFGS(p)) is None


# --- the sweep, locally ------------------------------------------------------------


@pytest.mark.parametrize(
    "make_opt",
    [lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9), lambda ps: torch.optim.Adam(ps, lr=1e-3)],
    ids=["sgd-momentum", "adam"],
)
def test_the_sweep_restores_the_model_the_optimizer_and_the_rng(
    fake_server: FakeServer, make_opt: Any
) -> None:
    fake_server.replies = [range_test_answer]
    ds = data()
    model = mlp()
    opt = make_opt(model.parameters())
    # Some training first, so the optimizer has state (momentum buffers, Adam moments) to keep.
    for xb, yb in list(loader(ds))[:5]:
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(xb), yb).backward()
        opt.step()
    model.eval()
    params_before = copy.deepcopy(model.state_dict())
    opt_before = copy.deepcopy(opt.state_dict())
    grads_before = [known(p.grad).clone() for p in model.parameters()]
    rng = torch.get_rng_state()
    expected_draw = torch.rand(4)
    torch.set_rng_state(rng)

    client = stride.Client(fake_server.url, "k")
    result = stride.lr_find(model, opt, loader(ds), torch.nn.functional.mse_loss, client=client, steps=60)

    # The sweep trained: its losses moved by orders of magnitude...
    losses = [v for v in result.measured.loss if v is not None]
    assert len(losses) >= 10 and max(losses) / min(losses) > 10
    # ... and then everything is as it was.
    assert states_equal(model.state_dict(), params_before)
    assert states_equal(opt.state_dict(), opt_before)
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in opt_before["param_groups"]]
    assert all(torch.equal(known(p.grad), g) for p, g in zip(model.parameters(), grads_before))
    assert model.training is False
    assert torch.equal(torch.rand(4), expected_draw)


def test_what_is_sent_and_what_comes_back(fake_server: FakeServer) -> None:
    fake_server.replies = [range_test_answer]
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    result = stride.lr_find(
        model,
        opt,
        loader(data()),
        torch.nn.functional.mse_loss,
        client=stride.Client(fake_server.url, "k"),
        min_lr=1e-6,
        max_lr=1.0,
        steps=50,
    )
    assert len(fake_server.seen) == 1
    seen = fake_server.seen[0]
    assert (seen.method, seen.path) == ("POST", "/v1/lr-range-tests")
    body: Dict[str, Any] = seen.body
    assert set(body) == {"curve", "range", "model", "optimizer", "batch_size"}
    assert set(body["curve"]) == {"lr", "loss"}  # no val_loader, no val_loss
    assert body["range"] == {
        "min_lr": 1e-6,
        "max_lr": 1.0,
        "steps": 50,
        "mode": "exponential",
        "smoothing": 0.98,
        "diverge_factor": 4.0,
    }
    lrs: List[float] = body["curve"]["lr"]
    assert 2 <= len(lrs) <= 50 and len(body["curve"]["loss"]) == len(lrs)
    # Exponential from min_lr to max_lr over 50 steps.
    for i, lr in enumerate(lrs):
        assert lr == pytest.approx(1e-6 * 1e6 ** (i / 49), rel=1e-12)
    assert body["model"] == {"name": "Sequential", "parameters": sum(p.numel() for p in model.parameters())}
    assert body["optimizer"] == {"name": "nesterov", "momentum": 0.9}
    assert body["batch_size"] == 32
    assert result.measured.lr == lrs and result.measured.loss == body["curve"]["loss"]
    # The answer, parsed.
    assert result.id == "lrt_fake" and result.raw["id"] == "lrt_fake"
    assert result.suggestion.lr == lrs[len(lrs) // 2] and result.max_stable_lr == lrs[-2]
    assert result.curve.lr == lrs


class CountingLoader:
    """A loader that counts the passes made over it."""

    def __init__(self, inner: torch.utils.data.DataLoader) -> None:
        self.inner, self.passes = inner, 0

    def __iter__(self) -> Any:
        self.passes += 1
        return iter(self.inner)


def test_a_val_loader_is_evaluated_every_few_steps_and_sent_as_val_loss(fake_server: FakeServer) -> None:
    fake_server.replies = [range_test_answer]
    ds = data()
    x, y = ds.tensors
    val_ds = torch.utils.data.TensorDataset(x[:96], -y[:96])
    val = CountingLoader(torch.utils.data.DataLoader(val_ds, batch_size=32))
    model = mlp()
    with torch.no_grad():
        start = torch.nn.functional.mse_loss(model(val_ds.tensors[0]), val_ds.tensors[1]).item()
    before = copy.deepcopy(model.state_dict())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    result = stride.lr_find(
        model,
        opt,
        loader(ds),
        torch.nn.functional.mse_loss,
        client=stride.Client(fake_server.url, "k"),
        max_lr=1.0,
        steps=100,
        val_loader=val,
    )
    curve = fake_server.seen[0].body["curve"]
    vals: List[float] = curve["val_loss"]
    n = len(curve["lr"])
    assert len(vals) == n and all(v is not None for v in vals)
    # Measured before the first step (the untrained model's loss over the whole loader), then
    # every 100 // 25 = 4 steps, carried forward between: about 25 passes, not one per step.
    assert vals[0] == pytest.approx(start, rel=1e-5)
    assert val.passes == math.ceil(n / 4)
    assert all(vals[i] == vals[i - i % 4] for i in range(n))
    # The targets are the training data's negated: the better the model learns, the worse it does.
    assert vals[-1] > 1.5 * vals[0]
    assert result.measured.val_loss == vals
    assert states_equal(model.state_dict(), before) and model.training


def test_a_diverging_sweep_stops_and_sends_nan_as_null(fake_server: FakeServer) -> None:
    fake_server.replies = [range_test_answer]
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    # No early stop on the smoothed loss: the loss itself must blow up to inf/NaN at lr up to 1e6.
    stride.lr_find(
        model,
        opt,
        loader(data()),
        torch.nn.functional.mse_loss,
        client=stride.Client(fake_server.url, "k"),
        max_lr=1e6,
        steps=200,
        diverge=1e300,
    )
    losses = fake_server.seen[0].body["curve"]["loss"]
    assert len(losses) < 200
    assert losses[-1] is None and all(v is not None for v in losses[:-1])


def test_the_smoothed_loss_stops_the_sweep(fake_server: FakeServer) -> None:
    fake_server.replies = [range_test_answer]
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    r = stride.lr_find(
        model,
        opt,
        loader(data()),
        torch.nn.functional.mse_loss,
        client=stride.Client(fake_server.url, "k"),
        max_lr=1e6,
        steps=200,
        smooth=0.5,
        diverge=4,
    )
    s = r.measured.smoothed_loss
    assert len(s) < 200
    assert s[-1] is not None and s[-1] > 4 * min(v for v in s if v is not None)
    # Every step has a smoothed loss (the comparisons below need them all).
    smoothed = [v for v in s if v is not None]
    assert len(smoothed) == len(s)
    assert all(v <= 4 * min(smoothed[: i + 1]) for i, v in enumerate(smoothed[:-1]))


def test_a_sweep_too_short_for_the_service_says_what_to_change(fake_server: FakeServer) -> None:
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = copy.deepcopy(model.state_dict())

    def nan_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.mse_loss(out, y) * float("nan")

    with pytest.raises(ValueError, match=r"diverged after 1 steps, at lr 1e-07.*start lower"):
        stride.lr_find(model, opt, loader(data()), nan_loss, client=stride.Client(fake_server.url, "k"))
    assert fake_server.seen == []  # nothing sent
    assert states_equal(model.state_dict(), before)
    with pytest.raises(ValueError, match="steps >= 10"):
        stride.lr_find(
            model, opt, loader(data()), nan_loss, client=stride.Client(fake_server.url, "k"), steps=5
        )


def test_plot_without_matplotlib_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail (typeshed types sys.modules without it).
    modules = cast(Dict[str, Optional[ModuleType]], sys.modules)
    monkeypatch.setitem(modules, "matplotlib", None)
    monkeypatch.setitem(modules, "matplotlib.pyplot", None)
    r = stride.LrRangeTest(
        {"id": "lrt_x", "suggestion": {"lr": 0.1}, "curve": [{"step": 0, "lr": 0.1, "loss": 1.0}]}
    )
    with pytest.raises(ImportError, match="pip install matplotlib"):
        r.plot()


# --- against the service -------------------------------------------------------------


def good_lr_range(
    ds: torch.utils.data.TensorDataset, epochs: int = 3
) -> Tuple[float, float, Dict[float, float]]:
    """Train the same model from the same start at a half-decade grid of learning rates: the
    range of those whose final loss is within 10x of the best (the grid's own resolution added)."""
    x, y = ds.tensors
    finals: Dict[float, float] = {}
    for k in range(-10, 3):
        lr = 10 ** (k / 2)
        model = mlp()
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        for _ in range(epochs):
            for xb, yb in loader(ds):
                opt.zero_grad()
                torch.nn.functional.mse_loss(model(xb), yb).backward()
                opt.step()
        with torch.no_grad():
            final = torch.nn.functional.mse_loss(model(x), y).item()
        finals[lr] = final if math.isfinite(final) else math.inf
    best = min(finals.values())
    good = [lr for lr, v in finals.items() if v <= 10 * best]
    return min(good) / 10**0.25, max(good) * 10**0.25, finals


def test_lr_find_suggests_a_learning_rate_that_trains_well(client: stride.Client) -> None:
    ds = data()
    low, high, finals = good_lr_range(ds)
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = copy.deepcopy(model.state_dict())
    result = stride.lr_find(model, opt, loader(ds), torch.nn.functional.mse_loss, client=client)
    assert states_equal(model.state_dict(), before)
    assert result.id, result.raw
    lr = result.suggestion.lr
    assert lr is not None, result.raw["suggestion"]
    assert (
        low <= lr <= high
    ), f"suggested {lr:.3g}, outside the range that trains well [{low:.3g}, {high:.3g}] (grid: {finals})"
    assert result.max_stable_lr is not None and lr <= result.max_stable_lr
    assert len(result.curve) > 0
    stored = client.get_lr_range_test(result.id)
    assert stored.suggestion == result.suggestion


def test_lr_find_with_a_val_loader_reads_the_validation_loss(client: stride.Client) -> None:
    """A validation set the training data contradicts (targets negated): its loss only rises as
    the model learns, so the sweep saw no stable rate. The training loss alone says otherwise."""
    ds = data()
    x, y = ds.tensors
    val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x[:128], -y[:128]), batch_size=64)
    model = mlp()
    plain = stride.lr_find(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        loader(ds),
        torch.nn.functional.mse_loss,
        client=client,
    )
    held = stride.lr_find(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        loader(ds),
        torch.nn.functional.mse_loss,
        client=client,
        val_loader=val,
    )
    assert plain.max_stable_lr is not None and plain.suggestion.lr is not None
    assert held.max_stable_lr is None and held.suggestion.lr is None, held.raw["suggestion"]
    assert any("validation loss" in r for r in held.suggestion.reasons)
    # Stored with the curve.
    stored = client.get_lr_range_test(held.id or "")
    assert stored.curve.val_loss == held.measured.val_loss[: len(stored.curve)]
