"""The Python examples the README and docs/ show (examples/python/) are the files, and they run."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import stride
from conftest import ROOT, Server, known

EXAMPLES = ROOT / "examples" / "python"


def _env(server: Server, key: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIDE_")}
    env["PYTHONPATH"] = str(ROOT / "python") + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    env.update(STRIDE_URL=server.url, STRIDE_API_KEY=key)
    return env


def _run(cmd: list, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_the_guides_show_the_example_files_as_they_are() -> None:
    """The README and the guides in docs/ show each example as the file is (and name the file)."""
    text = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    for name in ("optimize.py", "multiobjective.py", "lr_find.py", "lr_suggest.py", "train.py"):
        example = (EXAMPLES / name).read_text()
        assert example in blocks, f"the guides' block for examples/python/{name} differs from the file"
        assert f"examples/python/{name}" in text
    assert "python3 examples/python/runner_study.py" in text


def test_the_optimize_example(server: Server) -> None:
    run = _run([sys.executable, str(EXAMPLES / "optimize.py")], _env(server, server.key))
    assert run.returncode == 0, run.stderr
    study_id, rest = run.stdout.strip().split(" ", 1)
    study = stride.Client(server.url, server.key).study(study_id)
    assert study.name == "mlp-sgd" and study.n_trials == 20 and study.state == "completed"
    trials = study.trials
    assert all(t.state in ("complete", "pruned", "failed") for t in trials)
    assert rest == f"{study.best_params} {study.best_value}"
    # Every trial failed for a reason: a diverged one (NaN loss), nothing else.
    assert all("diverged" in (t.error or "") for t in trials if t.state == "failed")


def test_the_multiobjective_example(server: Server) -> None:
    run = _run([sys.executable, str(EXAMPLES / "multiobjective.py")], _env(server, server.key))
    assert run.returncode == 0, run.stderr
    study_id, *lines = run.stdout.strip().splitlines()
    study = stride.Client(server.url, server.key).study(study_id)
    assert (
        study.directions == ["minimize", "minimize"] and study.n_trials == 24 and study.state == "completed"
    )
    trials = study.trials
    assert all(
        t.state == "complete" and len(known(t.values)) == 2 and len(known(t.constraints)) == 1 for t in trials
    )
    # The constraint is the example's budget: parameters - 8,000 (a 20-w-2 MLP has 23w + 2).
    assert all(
        known(t.constraints)[0] == known(t.values)[1] - 8000 == 23 * t.params["width"] + 2 - 8000
        for t in trials
    )
    # What it printed is the study's front: feasible trials that no other feasible trial dominates.
    feasible = [t for t in trials if known(t.constraints)[0] <= 0]

    def dominated(t: stride.Trial) -> bool:
        tv = known(t.values)
        return any(
            known(u.values)[0] <= tv[0] and known(u.values)[1] <= tv[1] and u.values != t.values
            for u in feasible
        )

    front = [t for t in feasible if not dominated(t)]
    assert (
        [int(line.split(" ", 1)[0]) for line in lines]
        == [t.number for t in front]
        == [t.number for t in study.best_trials]
    )
    assert len(front) >= 2
    assert {t.sampler for t in trials} <= {"tpe", "nsga2"}


def test_the_lr_find_example(server: Server) -> None:
    run = _run([sys.executable, str(EXAMPLES / "lr_find.py")], _env(server, server.key))
    assert run.returncode == 0, run.stderr
    test_id, lr, max_stable, confidence = run.stdout.split()
    stored = stride.Client(server.url, server.key).get_lr_range_test(test_id)
    assert (repr(stored.suggestion.lr), repr(stored.max_stable_lr), stored.suggestion.confidence) == (
        lr,
        max_stable,
        confidence,
    )
    assert float(lr) <= float(max_stable)


def test_the_lr_suggest_example(server: Server) -> None:
    run = _run([sys.executable, str(EXAMPLES / "lr_suggest.py")], _env(server, server.key))
    assert run.returncode == 0, run.stderr
    suggestion_id, lr, confidence, runs = run.stdout.split()
    client = stride.Client(server.url, server.key)
    answer = client.request("GET", f"/v1/lr/suggest/{suggestion_id}")
    assert answer["status"] == "complete" and answer["method"] == "validated"
    assert (repr(answer["lr"]), answer["confidence"], float(runs)) == (
        lr,
        confidence,
        answer["compute"]["runs"],
    )
    candidates = answer["validation"]["candidates"]
    # Each run trained the length it was given (trial.horizon), every epoch reported; within budget 3.
    assert all(c["state"] == "complete" and c["epochs_run"] == c["length"] <= 10 for c in candidates)
    assert len({c["length"] for c in candidates}) > 1 and answer["budget"] == {"runs": 3}
    assert answer["compute"]["runs"] <= 3 and answer["horizon"]["epochs"] == 10
    study = client.study(suggestion_id)
    assert study.metadata["range_test_id"] == answer["range_test"]["id"]
    assert known(client.get_lr_range_test(answer["range_test"]["id"]).context)["optimizer"]["name"] == "sgd"


def test_the_agent_example_on_two_gpu_slots(server: Server) -> None:
    train = EXAMPLES / "train.py"
    alone = _run([sys.executable, str(train)], _env(server, server.key))
    assert alone.returncode == 0, alone.stderr
    assert re.fullmatch(r"trial None: lr=0\.05 momentum=0\.9 loss=\d+\.\d{4}\n", alone.stdout), alone.stdout

    created = _run([sys.executable, str(EXAMPLES / "runner_study.py")], _env(server, server.key))
    assert created.returncode == 0, created.stderr
    study_id = created.stdout.strip()
    npx = shutil.which("npx")
    assert npx
    agent = _run(
        [
            npx,
            "--no-install",
            "stride",
            "agent",
            "--study",
            study_id,
            "--gpus",
            "0,1",
            "--",
            sys.executable,
            str(train),
        ],
        _env(server, server.runner_key),
    )
    assert agent.returncode == 0, agent.stdout + agent.stderr
    done = re.search(r"done: 8 trials \((\d+) complete, (\d+) pruned, 0 failed\)", agent.stderr)
    assert done, agent.stderr
    assert "[gpu 0]" in agent.stderr and "[gpu 1]" in agent.stderr
    trials = stride.Client(server.url, server.key).study(study_id).trials
    assert len(trials) == 8
    assert sum(t.state == "complete" for t in trials) == int(done.group(1))
    for t in trials:
        if t.state == "complete":
            # The told value is the last loss the script reported, at epoch 19.
            assert t.intermediate[-1]["step"] == 19 and t.value == t.intermediate[-1]["value"]
            assert (
                f"trial {t.number}: lr={t.params['lr']:.3g} momentum={t.params['momentum']:.3g} loss={t.value:.4f}"
                in agent.stdout
            )
