"""stride.lr_suggest against the real service: the range test's candidates trained here for the
whole horizon (on several seeds when asked, or by default on small data), the validated lr
answered by GET /v1/lr/suggest/{id}."""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

import stride
from conftest import ROOT, Server, known

VALLEY = Path(__file__).parent / "fixtures" / "lr_valley.py"

#: A sweep from 1e-6 to 10 that descends around 1e-3 and diverges past 3 (None: the loss was NaN).
LRS = [10 ** (-6 + 7 * i / 59) for i in range(60)]
LOSSES = [None if v > 3 else 1 + 1 / (1 + v * 1e3) + 4 * v * v for v in LRS]


def _valley(best: float, lr: float, epoch: int) -> float:
    """Validation loss after ``epoch`` epochs at ``lr``: towards a floor lowest at ``best`` (quadratic in
    log10 lr), converged by the last epochs, without noise."""
    floor = 0.2 + 0.3 * (math.log10(lr) - math.log10(best)) ** 2
    return floor + (2.3 - floor) * math.exp(-0.8 * epoch)


def _range_test(client: stride.Client, optimizer: Optional[Dict[str, Any]] = None) -> stride.LrRangeTest:
    body: Dict[str, Any] = {"curve": {"lr": LRS, "loss": LOSSES}}
    if optimizer is not None:
        body["optimizer"] = optimizer
    return stride.LrRangeTest(client.request("POST", "/v1/lr-range-tests", body))


def _nearest(lrs: List[float], target: float) -> float:
    return min(lrs, key=lambda v: abs(math.log10(v / target)))


def test_lr_suggest_returns_the_known_best_candidate(client: stride.Client) -> None:
    rt = _range_test(client, {"name": "sgd", "momentum": 0.9})
    seen: List[float] = []
    best: List[float] = []

    def train_fn(lr: float, trial: stride.Trial) -> float:
        if not best:
            # The best lies a little off the middle candidate, so exactly one candidate is nearest.
            choices = sorted(trial.study.space["lr"]["choices"])
            best.append(choices[len(choices) // 2] * 10**0.03)
        seen.append(lr)
        loss = math.nan
        for epoch in range(1, 13):
            loss = _valley(best[0], lr, epoch)
            trial.report(epoch, loss)
        return loss

    result = stride.lr_suggest(train_fn, range_test=rt, training={"epochs": 12}, seeds=1, client=client)
    assert isinstance(result, stride.LrSuggestResult)
    assert result.status == "complete" and result.method == "validated"
    lrs = sorted(c["lr"] for c in result.candidates)
    assert (
        sorted(seen) == lrs
    )  # every candidate ran here, once (a posted range test: one seed); none past an edge
    assert 6 <= len(lrs) <= 8
    assert result.lr == _nearest(lrs, best[0])
    assert result.confidence == "high"
    assert (
        result.horizon["unit"] == "epochs"
        and result.horizon["epochs"] == 12
        and result.horizon["method"] == "full"
    )
    # Every candidate trained the whole horizon: no pruning.
    assert all(c["state"] == "complete" and c["epochs_run"] == 12 for c in result.candidates)
    assert any("without pruning" in r for r in result.reasoning)
    assert result.raw["range_test"]["id"] == rt.id
    study = client.study(known(result.id))
    assert study.metadata["kind"] == "lr-suggest" and study.metadata["range_test_id"] == rt.id
    assert study.state == "completed" and study.executor["kind"] == "client"
    # The answer stays where it is: GET again is the same.
    assert client.request("GET", f"/v1/lr/suggest/{result.id}")["lr"] == result.lr


def test_lr_suggest_follows_the_best_past_an_edge_with_threads_and_a_posted_curve(
    client: stride.Client,
) -> None:
    lock = threading.Lock()
    ran: List[float] = []
    first: List[float] = []

    def train_fn(lr: float, trial: stride.Trial) -> float:
        with lock:
            if not first:
                first.extend(sorted(trial.study.space["lr"]["choices"]))
            ran.append(lr)
        best = first[0] / 10**0.45  # below the lowest candidate: the answer lies past that edge
        loss = math.nan
        for epoch in range(1, 9):
            loss = _valley(best, lr, epoch)
            trial.report(epoch, loss)
        return loss

    result = stride.lr_suggest(
        train_fn,
        range_test={"lr": LRS, "loss": LOSSES},
        optimizer={"name": "adam"},
        training={"epochs": 8},
        seeds=1,
        n_jobs=2,
        client=client,
    )
    past = [float(f"{first[0] / 10 ** 0.5:.3g}"), float(f"{first[0] / 10:.3g}")]
    assert sorted(ran) == sorted(first + past)  # the two trials past the edge ran here too
    assert result.lr == past[0]
    assert any("is the lowest candidate: validating" in r for r in result.reasoning)
    extension = sorted(c["lr"] for c in result.candidates if "extension" in c["sources"])
    assert extension == sorted(past)
    assert any("default" in c["sources"] and c["lr"] == 1e-3 for c in result.candidates)  # adam's default


def test_lr_suggest_on_several_seeds_ranks_by_the_mean_not_by_one_split(client: stride.Client) -> None:
    """seeds=3: each candidate runs with trial.seed 0, 1 and 2; seed 0's split favours a higher lr
    (what one small validation set does), the mean over the seeds does not."""
    rt = _range_test(client, {"name": "adam"})
    ran: List[Tuple[float, int]] = []
    order: List[float] = []

    def train_fn(lr: float, trial: stride.Trial) -> float:
        if not order:
            order.extend(sorted(trial.study.space["lr"]["choices"]))
        ran.append((lr, trial.seed))
        k, i = order.index(lr), 2
        floor = 0.1 if (trial.seed == 0 and k == i + 1) else 0.2 + 0.05 * abs(k - i) + 0.01 * trial.seed
        loss = math.nan
        for epoch in range(1, 5):
            loss = floor + (2.3 - floor) * math.exp(-0.8 * epoch)
            trial.report(epoch, loss)
        return loss

    result = stride.lr_suggest(
        train_fn, range_test=rt, training={"epochs": 4}, seeds=3, max_candidates=6, client=client
    )
    assert sorted(ran) == sorted((lr, s) for lr in order for s in (0, 1, 2))
    assert result.lr == order[2]
    assert result.raw["validation"]["seeds"] == [0, 1, 2]
    assert any("each candidate trained on 3 seeds" in r for r in result.reasoning)


def test_lr_suggest_warns_when_train_fn_ignores_the_seed(client: stride.Client) -> None:
    rt = _range_test(client, {"name": "sgd"})

    def train_fn(lr: float, trial: stride.Trial) -> float:  # never reads trial.seed
        loss = math.nan
        for epoch in range(1, 3):
            loss = _valley(1e-3, lr, epoch)
            trial.report(epoch, loss)
        return loss

    with pytest.warns(RuntimeWarning, match="seems not to use params.seed"):
        stride.lr_suggest(
            train_fn, range_test=rt, training={"epochs": 2}, seeds=2, max_candidates=3, client=client
        )


def test_lr_suggest_needs_a_range_test_and_says_what_is_wrong(client: stride.Client) -> None:
    with pytest.raises(ValueError, match="needs range_test"):
        stride.lr_suggest(lambda lr, trial: 0.0, client=client)
    with pytest.raises(stride.StrideError) as e:
        stride.lr_suggest(lambda lr, trial: 0.0, range_test="lrt_00000000000000000000000000", client=client)
    assert e.value.status == 404 and e.value.paths == ["range_test_id"]
    bare = _range_test(client)  # stored without an optimizer
    with pytest.raises(stride.StrideError) as e:
        stride.lr_suggest(lambda lr, trial: 0.0, range_test=bare, client=client)
    assert e.value.status == 422 and e.value.paths == ["optimizer"]


def test_lr_suggest_on_a_torch_model_lands_in_the_grid_measured_good_range(client: stride.Client) -> None:
    import torch

    nn = torch.nn
    torch.manual_seed(0)
    X = torch.randn(2048, 20)
    y = (X @ torch.randn(20, 3) + 0.5 * torch.randn(2048, 3)).argmax(1)
    x_train, y_train, x_val, y_val = X[:1536], y[:1536], X[1536:], y[1536:]
    epochs = 8

    def model_at(seed: int = 1) -> Any:
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))

    lengths: List[int] = []

    def train(lr: float, trial: Optional[stride.Trial] = None) -> float:
        seed = trial.seed if trial is not None else 0
        length = trial.horizon["epochs"] if trial is not None and trial.horizon else epochs
        lengths.append(length)
        model = model_at(1 + seed)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        # Cosine over the run's length: a shorter run trains the whole schedule, compressed.
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=length * 24)
        order = torch.Generator().manual_seed(2 + seed)
        val = math.inf
        for epoch in range(1, length + 1):
            for idx in torch.randperm(len(x_train), generator=order).split(64):
                loss = nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
            with torch.no_grad():
                val = nn.functional.cross_entropy(model(x_val), y_val).item()
            if not math.isfinite(val):
                return val  # diverged: told failed
            if trial is not None and trial.report(epoch, val):
                raise stride.TrialPruned()
        return val

    model = model_at()
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x_train, y_train), batch_size=64, shuffle=True
    )
    found = stride.lr_find(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
        loader,
        nn.functional.cross_entropy,
        client=client,
    )
    assert found.examples == 1536
    assert found.steps_per_epoch == 24
    result = stride.lr_suggest(
        train, range_test=found, training={"epochs": epochs}, schedule="cosine", budget=8, client=client
    )
    assert result.method == "validated" and result.lr is not None
    # The budgeted search: shorter runs first (trial.horizon), every run counted, the sweep too.
    assert min(lengths) < epochs and max(lengths) <= epochs
    spent = sum(lengths) / epochs + found.raw["steps_run"] / (epochs * 24)
    assert result.compute is not None and result.compute["runs"] == pytest.approx(spent, abs=1e-3)
    # Runs of at least 50 steps (3 of these 24-step epochs) and the sweep's half run: 8 runs buy
    # three levels, the last at the full horizon.
    assert result.compute["runs"] <= 8 and min(lengths) >= 3 and max(lengths) == epochs
    del lengths[:]

    # The same training over a log grid from 1e-4 to 3: the good range is the grid points within
    # 10% of the best grid loss (a diverged run counts as infinite), widened by half a grid step.
    grid = [10 ** (-4 + 0.5 * k) for k in range(10)]
    losses = [train(lr) for lr in grid]
    losses = [v if math.isfinite(v) else math.inf for v in losses]
    best = min(losses)
    good = [lr for lr, v in zip(grid, losses) if v <= 1.1 * best]
    low, high = min(good) / 10**0.25, max(good) * 10**0.25
    assert low <= result.lr <= high, (result.lr, list(zip(grid, losses)), result.reasoning)
    # And trained at the answer, the model ends within 10% of the grid's best.
    assert train(result.lr) <= 1.1 * best


def test_the_runner_path_with_a_real_stride_agent(client: stride.Client, server: Server) -> None:
    """executor runner: `stride agent --study <id> -- python train.py` trains the candidates, and the
    two past an edge, which the service adds to the same study as the first round ends."""
    rt = _range_test(client, {"name": "sgd", "momentum": 0.9})
    started = client.request(
        "POST",
        "/v1/lr/suggest",
        {
            "range_test_id": rt.id,
            "executor": {"kind": "runner"},
            "training": {"epochs": 6},
            "validation": {"seeds": 1},
        },
    )
    assert started["status"] == "running" and started["executor"]["kind"] == "runner"
    lrs = [c["lr"] for c in started["candidates"]]
    best = max(lrs) * 10**0.55  # above the highest candidate
    npx = shutil.which("npx")
    assert npx, "npx is not on PATH"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIDE_")}
    env["PYTHONPATH"] = str(ROOT / "python") + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    env.update(STRIDE_URL=server.url, STRIDE_API_KEY=server.runner_key, LR_BEST=repr(best))
    run = subprocess.run(
        [
            npx,
            "--no-install",
            "stride",
            "agent",
            "--study",
            started["study_id"],
            "--",
            sys.executable,
            str(VALLEY),
            "6",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(
        rf"done: {len(lrs) + 2} trials \(\d+ complete, \d+ pruned, 0 failed\)", run.stderr
    ), run.stderr
    answer = client.request("GET", started["poll"])
    assert answer["status"] == "complete" and answer["method"] == "validated"
    assert answer["lr"] == float(f"{max(lrs) * 10 ** 0.5:.3g}")
    assert answer["horizon"]["executor"] == "runner" and answer["horizon"]["method"] == "full"
    assert sorted(
        c["lr"] for c in answer["validation"]["candidates"] if "extension" in c["sources"]
    ) == sorted([float(f"{max(lrs) * 10 ** 0.5:.3g}"), float(f"{max(lrs) * 10:.3g}")])


def test_lr_suggest_budget_zero_answers_the_consensus_and_trains_nothing(client: stride.Client) -> None:
    """budget=0: the service answers at once (200, no study) with the zero-compute answer (the
    consensus of the range test's valley and min_over_10 with SGD's default 0.01); train_fn never
    runs (it used to fail reading the study of a 202 that never came)."""
    rt = _range_test(client, {"name": "sgd", "momentum": 0.9})
    ran: List[float] = []

    def train_fn(lr: float, trial: stride.Trial) -> float:
        ran.append(lr)
        return 0.0

    result = stride.lr_suggest(
        train_fn,
        range_test=rt,
        training={"steps": 600},
        budget=0,
        client=client,
    )
    assert ran == []
    assert result.status == "complete" and result.id is None
    c = rt.suggestion.candidates
    assert c["valley"] is not None and c["min_over_10"] is not None and rt.suggestion.max_stable_lr
    consensus = min((c["valley"] * c["min_over_10"] * 0.01) ** (1 / 3), rt.suggestion.max_stable_lr)
    assert result.method == "consensus" and result.lr == pytest.approx(consensus, rel=5e-3)
    assert result.budget == {"runs": 0} and result.compute is not None
    assert result.compute["runs"] == pytest.approx(
        len(LRS) / 600, abs=1e-3
    )  # the sweep's points over the run's steps


def test_trial_horizon_names_the_run_length_each_trial_trains(client: stride.Client) -> None:
    """Under a budget each trial carries its length: shorter runs first, the horizon at the top."""
    rt = _range_test(client, {"name": "sgd", "momentum": 0.9})
    horizons: List[Dict[str, int]] = []

    def train_fn(lr: float, trial: stride.Trial) -> float:
        assert trial.horizon is not None and set(trial.horizon) == {"epochs"}
        horizons.append(trial.horizon)
        n = trial.horizon["epochs"]
        loss = math.nan
        for epoch in range(1, n + 1):
            loss = _valley(3e-3, lr, epoch) + 1.0 / n
            trial.report(epoch, loss)
        return loss

    result = stride.lr_suggest(train_fn, range_test=rt, training={"epochs": 32}, budget=3, client=client)
    lengths = [h["epochs"] for h in horizons]
    assert lengths == sorted(lengths) and lengths[0] < 32 and max(lengths) <= 32
    assert result.compute is not None and result.compute["runs"] <= 3
    assert result.compute["runs"] == pytest.approx(
        sum(lengths) / 32, abs=1e-3
    )  # a posted curve's sweep: steps unknown
