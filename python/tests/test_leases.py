"""Leases of asked trials against the real service: the heartbeat keeps a long objective's trial,
a killed process's trial comes back after its lease and ``optimize(resume=True)`` (or
``lr_suggest(resume=...)``) in a new process finishes the study, each trial complete once."""
from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

import stride
from conftest import ROOT, Server, unique
from stride.heartbeat import heartbeats

X = {"x": {"type": "float", "low": -3.0, "high": 3.0}}
#: The shortest lease a study takes: a dead process's trial comes back within seconds.
LEASE = 5


def _study(client: stride.Client, name: str, max_trials: int) -> stride.Study:
    return client.create_study(
        unique(name),
        X,
        sampler={"name": "random", "seed": 3},
        max_trials=max_trials,
        executor={"kind": "client", "lease_seconds": LEASE},
    )


def _raw_ask(client: stride.Client, study: stride.Study) -> Dict[str, Any]:
    """An ask as a client without heartbeats sees it (nothing keeps its lease alive)."""
    answer: Dict[str, Any] = client.request("POST", f"/v1/studies/{study.id}/ask", {})
    return answer


def _child(server: Server, script: str, *args: str) -> "subprocess.Popen[str]":
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
    return subprocess.Popen(
        [sys.executable, "-c", script, server.url, server.key, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_line(path: Path, pattern: str, proc: "subprocess.Popen[str]", timeout: float = 90) -> str:
    """The first line of ``path`` matching ``pattern``, waiting for the child to write it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            for line in path.read_text().splitlines():
                if re.search(pattern, line):
                    return line
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"the child exited ({proc.returncode}) before writing {pattern!r}: {err[-2000:]}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"the child did not write {pattern!r} within {timeout:g}s")


def _kill(proc: "subprocess.Popen[str]") -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL


def test_an_asked_trial_holds_a_lease_whose_token_its_calls_send(client: stride.Client) -> None:
    study = client.create_study(unique("py-lease"), X, max_trials=3)
    assert study.executor == {"kind": "client", "lease_seconds": 300, "max_attempts": 3}
    trial = study.ask()
    assert trial.lease is not None and trial.lease["token"].startswith("lease_")
    assert (trial.attempts, trial.lease["attempt"], trial.lease["heartbeat_seconds"]) == (1, 1, 100)
    assert heartbeats(client).holds(trial)
    # Another token is refused, naming the field: only the asker's calls are taken.
    with pytest.raises(stride.StrideError) as e:
        client.request(
            "POST",
            f"/v1/studies/{study.id}/trials/{trial.number}/tell",
            {"value": 1, "lease_token": "lease_x"},
        )
    assert e.value.status == 409 and e.value.paths == ["lease_token"]
    trial.report(0, 2.0, wait=True)
    trial.report(1, 1.5)
    trial.tell(1.0)
    assert trial.state == "complete" and [p["step"] for p in trial.intermediate] == [0, 1]
    # Told: the heartbeats stop. A listed trial carries no lease.
    assert not heartbeats(client).holds(trial)
    assert study.trials[0].lease is None


def test_the_heartbeat_keeps_a_long_objective_lease_alive(client: stride.Client) -> None:
    study = _study(client, "py-heartbeat", max_trials=3)
    # Without heartbeats (an ask by hand, nothing sent for longer than the lease), the trial is lost:
    # the next ask hands it out again, on attempt 2.
    lost = _raw_ask(client, study)
    time.sleep(LEASE + 1.5)
    again = _raw_ask(client, study)
    assert (again["number"], again["attempts"]) == (lost["number"], 2)
    client.request(
        "POST",
        f"/v1/studies/{study.id}/trials/{again['number']}/tell",
        {"value": 9.0, "lease_token": again["lease"]["token"]},
    )

    # optimize heartbeats while the objective runs: twice the lease without a report, and no
    # other ask gets its trial meanwhile.
    others: List[Dict[str, Any]] = []

    def objective(trial: stride.Trial) -> float:
        time.sleep(LEASE * 2)
        others.append(_raw_ask(client, study))
        return 1.0

    study.optimize(objective, n_trials=1)
    trials = {t.number: t for t in study.trials}
    assert trials[1].state == "complete" and trials[1].attempts == 1
    assert others[0]["number"] == 2  # a new trial: trial 1 was still held


_KILLED = """
import sys, time, stride
url, key, study_id, log_path = sys.argv[1:5]
study = stride.Client(url, key).study(study_id)
log = open(log_path, "a", buffering=1)

def objective(trial):
    log.write(f"start {trial.number} attempt {trial.attempts}\\n")
    if trial.number == 2:
        time.sleep(600)  # killed here, mid-objective
    for step in range(3):
        trial.report(step, (trial.params["x"] - 1) ** 2 + 1 / (step + 1))
    log.write(f"done {trial.number}\\n")
    return (trial.params["x"] - 1) ** 2

study.optimize(objective)
"""


def test_a_killed_process_study_is_finished_by_optimize_resume(
    client: stride.Client, server: Server, tmp_path: Path
) -> None:
    study = _study(client, "py-resume", max_trials=4)
    log = tmp_path / "killed.log"
    proc = _child(server, _KILLED, study.id, str(log))
    _wait_for_line(log, r"^start 2 ", proc)
    # Heartbeats kept trial 2 alive while the child lived; SIGKILL stops them mid-objective.
    _kill(proc)
    states = {t.number: t.state for t in study.trials}
    assert states == {0: "complete", 1: "complete", 2: "running"}

    # A new process (here: this one) finishes the study: trial 3 now, then trial 2 once its lease
    # expires; trials 0 and 1 are not run again.
    resumed: List[int] = []

    def objective(trial: stride.Trial) -> float:
        for step in range(3):
            trial.report(step, (trial.params["x"] - 1) ** 2 + 1 / (step + 1))
        resumed.append(trial.number)
        return float((trial.params["x"] - 1) ** 2)

    started = time.monotonic()
    client.study(study.id).optimize(objective, resume=True)
    assert sorted(resumed) == [2, 3]  # 3 first, unless trial 2's lease was already gone
    assert time.monotonic() - started < 60
    done_before = re.findall(r"^done (\d+)$", log.read_text(), flags=re.M)
    assert done_before == ["0", "1"]
    # Every trial complete exactly once.
    assert sorted([int(n) for n in done_before] + resumed) == [0, 1, 2, 3]
    trials = study.trials
    assert [(t.number, t.state) for t in trials] == [(n, "complete") for n in range(4)]
    assert [t.attempts for t in trials] == [1, 1, 2, 1]
    assert [p["step"] for p in trials[2].intermediate] == [0, 1, 2]  # this attempt's reports only
    assert study.refresh().state == "completed"
    # Again: nothing left to run.
    client.study(study.id).optimize(objective, resume=True)
    assert sorted(resumed) == [2, 3]


def test_load_if_exists_finds_the_study_by_name(client: stride.Client) -> None:
    name = unique("py-by-name")
    first = client.create_study(name, X, max_trials=2)
    again = client.create_study(name, X, max_trials=2, load_if_exists=True)
    assert again.id == first.id
    other = client.create_study(unique("py-by-name"), X, load_if_exists=True)
    assert other.id != first.id


#: A sweep from 1e-6 to 10 that descends around 1e-3 and diverges past 3 (None: the loss was NaN).
LRS = [10 ** (-6 + 7 * i / 59) for i in range(60)]
LOSSES = [None if v > 3 else 1 + 1 / (1 + v * 1e3) + 4 * v * v for v in LRS]


def _valley(lr: float, epoch: int) -> float:
    floor = 0.2 + 0.3 * (math.log10(lr) + 3) ** 2
    return floor + (2.3 - floor) * math.exp(-0.8 * epoch)


_KILLED_LR = """
import logging, math, sys, time, stride
url, key, log_path, lrs, losses = sys.argv[1], sys.argv[2], sys.argv[3], eval(sys.argv[4]), eval(sys.argv[5])
logging.basicConfig(level=logging.INFO, filename=log_path, format="%(message)s")
log = open(log_path, "a", buffering=1)
client = stride.Client(url, key)

def train_fn(lr, trial):
    log.write(f"start {trial.number} attempt {trial.attempts}\\n")
    if trial.number == 2:
        time.sleep(600)  # killed here, mid-training
    floor = 0.2 + 0.3 * (math.log10(lr) + 3) ** 2
    loss = math.nan
    for epoch in range(1, 5):
        loss = floor + (2.3 - floor) * math.exp(-0.8 * epoch)
        trial.report(epoch, loss)
    log.write(f"done {trial.number}\\n")
    return loss

stride.lr_suggest(train_fn, range_test={"lr": lrs, "loss": losses}, optimizer={"name": "sgd"},
                  training={"epochs": 4}, seeds=1, lease_seconds=5, client=client)
"""


def test_lr_suggest_resumes_a_suggestion_whose_process_was_killed(
    client: stride.Client, server: Server, tmp_path: Path
) -> None:
    log = tmp_path / "lr.log"
    proc = _child(server, _KILLED_LR, str(log), repr(LRS), repr(LOSSES))
    line = _wait_for_line(log, r"lr_suggest std_\w+ started", proc)
    suggestion = re.search(r"lr_suggest (std_\w+) started", line)
    assert suggestion is not None
    suggestion_id = suggestion.group(1)
    _wait_for_line(log, r"^start 2 ", proc)
    _kill(proc)
    assert client.request("GET", f"/v1/lr/suggest/{suggestion_id}")["status"] == "running"

    resumed: List[int] = []

    def train_fn(lr: float, trial: stride.Trial) -> float:
        loss = math.nan
        for epoch in range(1, 5):
            loss = _valley(lr, epoch)
            trial.report(epoch, loss)
        resumed.append(trial.number)
        return loss

    result = stride.lr_suggest(train_fn, resume=suggestion_id, client=client)
    assert result.status == "complete" and result.id == suggestion_id and result.lr is not None
    done_before = [int(n) for n in re.findall(r"^done (\d+)$", log.read_text(), flags=re.M)]
    assert done_before == [0, 1]
    assert 2 in resumed and not set(resumed) & set(done_before)
    trials = client.study(suggestion_id).trials
    # Every trial complete exactly once; the killed one on its second attempt.
    assert sorted(done_before + resumed) == [t.number for t in trials]
    assert all(t.state == "complete" for t in trials)
    assert {t.number: t.attempts for t in trials}[2] == 2
    # Resumed again once complete: the answer, nothing trained.
    again: Optional[stride.LrSuggestResult] = stride.lr_suggest(train_fn, resume=suggestion_id, client=client)
    assert again is not None and again.lr == result.lr and sorted(resumed) == sorted(set(resumed))
