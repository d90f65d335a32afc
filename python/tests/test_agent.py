"""stride.current_trial(): one script for `stride agent` and for running alone."""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import stride
from conftest import ROOT, Server, known, unique

FIXTURE = Path(__file__).parent / "fixtures" / "agent_objective.py"
FIXTURE_MO = Path(__file__).parent / "fixtures" / "agent_objectives.py"
DEFAULTS = {"lr": 0.01, "momentum": 0.9, "beta1": 0.5}
#: The agent's own pattern for a metrics line on stdout (src/cli/agent.ts).
AGENT_LINE = re.compile(r"^\s*stride:\s*(.*)$")


def expected(params: dict, step: int) -> float:
    p = {**DEFAULTS, **params}
    return (math.log10(p["lr"]) + 2) ** 2 + (p["momentum"] - 0.9) ** 2 + p["beta1"] + 1 / step


def test_alone_the_params_are_the_defaults_and_nothing_is_printed(capsys: pytest.CaptureFixture) -> None:
    assert stride.in_agent() is False
    trial = stride.current_trial(defaults={"lr": 1e-3, "width": 64})
    assert trial.params == {"lr": 1e-3, "width": 64}
    assert (trial.number, trial.study_id, trial.under_agent) == (None, None, False)
    assert trial.report(0, 0.9) is False and trial.report(1, 0.7) is False
    assert trial.should_prune() is False
    trial.tell(0.6)
    assert trial.intermediate == [(0, 0.9), (1, 0.7)] and trial.value == 0.6
    assert capsys.readouterr() == ("", "")
    assert stride.current_trial().params == {}


def test_under_the_agent_it_writes_the_metrics_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    metrics = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("STRIDE_PARAMS", json.dumps({"lr": 0.05, "optimizer": "sgd"}))
    monkeypatch.setenv("STRIDE_TRIAL", "7")
    monkeypatch.setenv("STRIDE_STUDY", "std_x")
    monkeypatch.setenv("STRIDE_METRICS_FILE", str(metrics))
    assert stride.in_agent() is True
    trial = stride.current_trial(defaults={"lr": 1e-3, "beta1": 0.9})
    # The trial's params over the defaults: a conditional one the trial lacks keeps its default.
    assert trial.params == {"lr": 0.05, "optimizer": "sgd", "beta1": 0.9}
    assert (trial.number, trial.study_id, trial.under_agent) == (7, "std_x", True)
    assert trial.report(0, 1.5) is False
    trial.report(1, math.inf)  # not JSON: not sent
    trial.report(2, 0.25)
    trial.tell(0.2)
    trial.tell(0.2)  # the same again: nothing more
    with pytest.raises(RuntimeError, match="already told"):
        trial.tell(0.3)
    lines = metrics.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"step": 0, "value": 1.5},
        {"step": 2, "value": 0.25},
        {"value": 0.2},
    ]
    assert capsys.readouterr().out == ""


def test_without_a_metrics_file_it_prints_the_agents_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("STRIDE_PARAMS", "{}")
    trial = stride.current_trial(defaults={"lr": 0.1})
    trial.report(3, 0.5)
    trial.tell(math.nan)  # diverged: null, which the agent tells as failed
    out = capsys.readouterr().out.splitlines()
    parsed = [json.loads(AGENT_LINE.match(line).group(1)) for line in out]  # type: ignore[union-attr]
    assert parsed == [{"step": 3, "value": 0.5}, {"value": None}]


def test_several_values_and_constraints_under_the_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("STRIDE_PARAMS", "{}")
    monkeypatch.setenv("STRIDE_METRICS_FILE", str(metrics))
    trial = stride.current_trial()
    trial.set_constraints([0.5, -1])
    trial.tell((0.2, 3))  # an objective's tuple, as it is
    trial.tell(values=[0.2, 3.0])  # the same again: nothing more
    with pytest.raises(RuntimeError, match="already told"):
        trial.tell(values=[0.2, 4.0])
    with pytest.raises(RuntimeError, match="already told"):
        trial.set_constraints([1])
    assert (trial.value, trial.values, trial.constraints) == (None, [0.2, 3.0], [0.5, -1.0])

    other = stride.current_trial()
    other.tell(values=[1.0, math.inf], constraints=[-2])  # diverged: null, which the agent tells as failed
    one = stride.current_trial()
    one.tell(0.7, constraints=[0.1])
    assert (one.value, one.values) == (0.7, [0.7])
    with pytest.raises(ValueError, match="finite"):
        stride.current_trial().tell(values=[1.0, 2.0], constraints=[math.nan])
    with pytest.raises(ValueError, match="finite"):
        stride.current_trial().set_constraints([math.inf])
    with pytest.raises(ValueError, match="not both"):
        stride.current_trial().tell(0.1, values=[0.1])
    assert [json.loads(line) for line in metrics.read_text().splitlines()] == [
        {"values": [0.2, 3.0], "constraints": [0.5, -1.0]},
        {"values": [1.0, None], "constraints": [-2.0]},
        {"value": 0.7, "constraints": [0.1]},
    ]


def test_several_values_alone_only_record(capsys: pytest.CaptureFixture) -> None:
    trial = stride.current_trial()
    trial.tell(values=[0.1, 0.2], constraints=[-1])
    assert (trial.values, trial.constraints) == ([0.1, 0.2], [-1.0])
    assert capsys.readouterr() == ("", "")


def test_bad_stride_params_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIDE_PARAMS", "[1, 2]")
    with pytest.raises(RuntimeError, match="not a JSON object"):
        stride.current_trial()


def _run(cmd: list, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIDE_")}
    env["PYTHONPATH"] = str(ROOT / "python") + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    env.update(extra)
    return env


def test_the_same_script_under_a_real_stride_agent(
    client: stride.Client, server: Server, tmp_path: Path
) -> None:
    study = client.create_study(
        unique("py-agent"),
        {
            "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
            "momentum": {"type": "float", "low": 0.5, "high": 0.99},
            "optimizer": {"type": "categorical", "choices": ["sgd", "adam"]},
            "beta1": {"type": "float", "low": 0.8, "high": 0.99, "when": {"optimizer": "adam"}},
        },
        sampler={"name": "random", "seed": 9},
        max_trials=4,
        metric="loss",
        executor={"kind": "runner", "max_parallel": 2},
    )
    # Both branches of the conditional parameter, whatever the sampler draws.
    study.enqueue({"lr": 0.02, "momentum": 0.8, "optimizer": "sgd"})
    study.enqueue({"lr": 0.003, "momentum": 0.95, "optimizer": "adam", "beta1": 0.85})
    npx = shutil.which("npx")
    assert npx, "npx is not on PATH"
    run = _run(
        [
            npx,
            "--no-install",
            "stride",
            "agent",
            "--study",
            study.id,
            "--name",
            "py-test",
            "--",
            sys.executable,
            str(FIXTURE),
            "3",
        ],
        _env(STRIDE_URL=server.url, STRIDE_API_KEY=server.runner_key, MARKER_DIR=str(tmp_path)),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "done: 4 trials (4 complete, 0 pruned, 0 failed)" in run.stderr, run.stderr
    # The metrics went through the metrics file; the script's own lines passed through untouched.
    assert "epoch 3: loss" in run.stdout
    assert not any(AGENT_LINE.match(line) for line in run.stdout.splitlines())

    trials = client.study(study.id).trials
    assert len(trials) == 4
    for t in trials:
        assert t.state == "complete", t
        assert [p["step"] for p in t.intermediate] == [1, 2, 3]
        for p in t.intermediate:
            assert p["value"] == pytest.approx(expected(t.params, p["step"]), rel=1e-12)
        assert t.value == pytest.approx(expected(t.params, 3), rel=1e-12)
        seen = json.loads((tmp_path / f"{t.number}.json").read_text())
        assert (seen["number"], seen["study"], seen["under_agent"]) == (t.number, study.id, True)
        assert seen["params"] == {**DEFAULTS, **t.params}
    adam = [t for t in trials if t.params["optimizer"] == "adam"]
    sgd = [t for t in trials if t.params["optimizer"] == "sgd"]
    assert adam and sgd
    assert all("beta1" not in t.params for t in sgd)
    assert all(
        json.loads((tmp_path / f"{t.number}.json").read_text())["params"]["beta1"] == DEFAULTS["beta1"]
        for t in sgd
    )
    assert client.study(study.id).best_value == min(known(t.value) for t in trials)


def test_the_same_script_alone() -> None:
    run = _run([sys.executable, str(FIXTURE), "2"], _env(), timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[:2] == [f"epoch {s}: loss {expected({}, s):.6f}" for s in (1, 2)]
    seen = json.loads(lines[-1])
    assert seen == {
        "number": None,
        "study": None,
        "under_agent": False,
        "params": DEFAULTS,
        "final": expected({}, 2),
    }
    assert not any(AGENT_LINE.match(line) for line in lines)


def test_several_objectives_under_a_real_stride_agent(client: stride.Client, server: Server) -> None:
    study = client.create_study(
        unique("py-agent-mo"),
        {
            "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
            "momentum": {"type": "float", "low": 0.5, "high": 0.99},
        },
        directions=["minimize", "minimize"],
        metrics=["loss", "seconds"],
        sampler={"name": "random", "seed": 3},
        max_trials=4,
        executor={"kind": "runner"},
    )
    # Trial 2 is dominated by trial 1; trial 3 dominates every other but breaks the constraint.
    for params in (
        {"lr": 0.01, "momentum": 0.9},
        {"lr": 0.1, "momentum": 0.6},
        {"lr": 0.2, "momentum": 0.7},
        {"lr": 0.001, "momentum": 0.55},
    ):
        study.enqueue(params)
    npx = shutil.which("npx")
    assert npx, "npx is not on PATH"
    run = _run(
        [
            npx,
            "--no-install",
            "stride",
            "agent",
            "--study",
            study.id,
            "--name",
            "py-test",
            "--",
            sys.executable,
            str(FIXTURE_MO),
        ],
        _env(STRIDE_URL=server.url, STRIDE_API_KEY=server.runner_key),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "done: 4 trials (4 complete, 0 pruned, 0 failed)" in run.stderr, run.stderr
    trials = client.study(study.id).trials
    assert [t.state for t in trials] == ["complete"] * 4
    for t in trials:
        assert t.values == [t.params["lr"], t.params["momentum"]]
        assert t.constraints == pytest.approx([0.005 - t.params["lr"]], rel=1e-12)
    assert [t.number for t in client.study(study.id).best_trials] == [0, 1]
