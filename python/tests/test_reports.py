"""Buffered reports (stride/reports.py): trial.report returns at once, a background thread sends
batches, tell/fail/prune/flush send what is pending first, and a failed send surfaces on the next call."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from typing import Any, Dict, List

import pytest
import stride
from conftest import ROOT, FakeServer, Reply, Seen, Server, problem, unique
from stride import reports

X = {"x": {"type": "float", "low": 0.0, "high": 1.0}}


def fake_trial(fake: FakeServer, number: int = 0) -> stride.Trial:
    client = stride.Client(fake.url, "k", max_retries=2)
    client._sleep = lambda s: None  # no real waits between retries
    study = stride.Study(client, {"id": "std_fake", "name": "fake", "space": X})
    return stride.Trial(
        study, {"study_id": "std_fake", "number": number, "params": {"x": 0.5}, "state": "running"}
    )


def answer(should_prune: bool = False, tell_state: str = "complete"):  # type: ignore[no-untyped-def]
    """Replies like the service: {"should_prune"} to reports, the trial to tells."""

    def reply(seen: Seen) -> Reply:
        if seen.path.endswith("/tell"):
            return Reply(
                200,
                {
                    "study_id": "std_fake",
                    "number": 0,
                    "params": {"x": 0.5},
                    "state": tell_state,
                    "value": (seen.body or {}).get("value"),
                },
            )
        return Reply(200, {"should_prune": should_prune})

    return reply


def reported(seen: List[Seen]) -> List[tuple]:
    """Every (step, value) the fake server was sent, in order, from batches and single reports."""
    out: List[tuple] = []
    for s in seen:
        if s.path.endswith("/report"):
            out += (
                [(p["step"], p["value"]) for p in s.body["points"]]
                if "points" in s.body
                else [(s.body["step"], s.body["value"])]
            )
    return out


def test_ten_thousand_per_step_reports_arrive_complete_and_in_order(client: stride.Client) -> None:
    study = client.create_study(
        unique("py-10k"), X, pruner={"name": "median", "n_startup_trials": 1}, max_trials=2
    )
    t = study.ask()
    points = [(s, 1.0 / (s + 1)) for s in range(10_000)]
    expected = [{"step": s, "value": v} for s, v in points]
    t0 = time.perf_counter()
    for s, v in points:
        assert t.report(s, v) is False
    elapsed = time.perf_counter() - t0
    # One blocking call per report would take minutes here; buffered, the loop does not wait for the service.
    assert elapsed < 3.0, f"10,000 reports took {elapsed:.1f}s"
    t.tell(1e-4)
    assert t.state == "complete"
    stored = [tr for tr in study.trials if tr.number == t.number][0]
    assert stored.intermediate == expected
    assert t.intermediate == expected


def test_reports_go_in_batches_in_order_and_wait_true_is_the_single_report(fake_server: FakeServer) -> None:
    fake_server.replies = [answer()]
    t = fake_trial(fake_server)
    reports.configure(t.study.client, interval=0.05, batch=100)
    for step in range(1000):
        t.report(step, step / 1000)
    t.flush()
    sent = [s for s in fake_server.seen if s.path.endswith("/report")]
    assert reported(sent) == [(s, s / 1000) for s in range(1000)]
    # Batches, not one call per report: at most 1,000 points a call, steps increasing within each.
    assert 1 <= len(sent) <= 25
    for s in sent:
        steps = [p["step"] for p in s.body["points"]]
        assert 1 <= len(steps) <= reports.MAX_POINTS and steps == sorted(set(steps))
        assert s.path == "/v1/studies/std_fake/trials/0/report" and s.method == "POST"
    # wait=True: what is buffered first, then this report alone, answered before it returns.
    fake_server.seen.clear()
    t.report(1000, 0.5)
    assert t.report(1001, 0.25, wait=True) is False
    assert [s.body for s in fake_server.seen] == [
        {"points": [{"step": 1000, "value": 0.5}]},
        {"step": 1001, "value": 0.25},
    ]


def test_a_batch_is_retried_by_the_client_rules(fake_server: FakeServer) -> None:
    ok = answer()
    fake_server.replies = [Reply(503, problem(503, "busy")), Reply(drop=True), ok]
    t = fake_trial(fake_server)
    for step in range(5):
        t.report(step, 1.0)
    t.flush()
    # A 503 and a dropped connection, then taken: the same batch each time, stored once.
    assert [s.body for s in fake_server.seen] == [
        {"points": [{"step": s, "value": 1.0} for s in range(5)]}
    ] * 3


def test_should_prune_turns_true_after_the_batch_that_says_so(fake_server: FakeServer) -> None:
    fake_server.replies = [answer(should_prune=True)]
    t = fake_trial(fake_server)
    reports.configure(t.study.client, interval=60)  # nothing leaves by itself
    # Before any answer, the report cannot know: False.
    assert t.report(0, 5.0) is False and t.should_prune() is False
    assert fake_server.seen == []
    t.flush()
    assert t.should_prune() is True
    assert t.report(1, 5.0) is True
    t.flush()
    assert reported(fake_server.seen) == [(0, 5.0), (1, 5.0)]


def test_a_report_at_an_asha_rung_waits_for_its_answer(fake_server: FakeServer) -> None:
    fake_server.replies = [answer(should_prune=True)]
    client = stride.Client(fake_server.url, "k")
    reports.configure(client, interval=60)  # nothing leaves by itself
    pruner = {"name": "asha", "min_resource": 3, "reduction_factor": 2, "max_resource": 12}
    study = stride.Study(client, {"id": "std_fake", "name": "fake", "space": X, "pruner": pruner})
    t = stride.Trial(study, {"study_id": "std_fake", "number": 0, "params": {"x": 0.5}, "state": "running"})
    # Rungs at steps 3 and 6 (12 is max_resource: not checked). Below the first, buffered.
    assert [t.report(s, 1.0) for s in range(3)] == [False, False, False]
    assert fake_server.seen == []
    # Step 3 is the rung: what is buffered goes with it, and its answer is this report's.
    assert t.report(3, 1.0) is True
    assert [s.body for s in fake_server.seen] == [{"points": [{"step": s, "value": 1.0} for s in range(4)]}]
    # A report past a rung it skipped (5, then the next rung 6 at 7): one call each.
    t2 = stride.Trial(study, {"study_id": "std_fake", "number": 1, "params": {"x": 0.5}, "state": "running"})
    fake_server.seen.clear()
    for step in (1, 5, 7, 9, 11, 12, 13):
        t2.report(step, 2.0)
    assert [[p["step"] for p in s.body["points"]] for s in fake_server.seen] == [[1, 5], [7]]
    t2.flush()
    assert reported(fake_server.seen) == [(s, 2.0) for s in (1, 5, 7, 9, 11, 12, 13)]


def test_should_prune_turns_true_a_batch_late_on_the_service(client: stride.Client) -> None:
    study = client.create_study(
        unique("py-prune-late"), X, pruner={"name": "median", "n_startup_trials": 1}, max_trials=3
    )
    good = study.ask()
    for step in range(50):
        good.report(step, 0.1)
    good.tell(0.1)
    bad = study.ask()
    answers = []
    deadline = time.monotonic() + 20
    step = 0
    while time.monotonic() < deadline:
        answers.append(bad.report(step, 0.9))
        if answers[-1]:
            break
        step += 1
        time.sleep(0.01)
    # The pruner says prune at step 0; the report that shows it comes a batch later (0.2 s and a round trip).
    assert answers[-1] is True, "the prune answer never came"
    assert answers[0] is False and len(answers) > 1
    assert bad.report(step + 1, 0.9) is True and bad.should_prune() is True
    bad.prune("pruned")
    stored = [t for t in study.trials if t.number == bad.number][0]
    assert stored.state == "pruned"
    assert [p["step"] for p in stored.intermediate] == list(range(step + 2))


def test_an_error_in_a_background_send_surfaces_on_the_next_report(fake_server: FakeServer) -> None:
    fake_server.replies = [Reply(409, problem(409, "trial 0 is complete; reports are taken while it runs"))]
    t = fake_trial(fake_server)
    reports.configure(t.study.client, interval=0)
    assert t.report(0, 1.0) is False
    deadline = time.monotonic() + 10
    with pytest.raises(stride.StrideError) as info:
        step = 1
        while time.monotonic() < deadline:
            t.report(step, 1.0)
            step += 1
            time.sleep(0.005)
    e = info.value
    # Answered from now on: what the loop buffered after the failure is sent (or failed) at once.
    fake_server.replies = [answer()]
    try:
        t.flush()
    except stride.StrideError:
        pass  # a later batch that failed before the service was answering: not this test's subject
    assert e.status == 409 and "reports are taken while it runs" in e.detail
    # It names what was lost: the first batch, which held step 0.
    assert re.search(r"\[the report of steps? 0\b.* of trial 0 was not stored\]$", str(e)), str(e)
    assert e.request_id is None or isinstance(e.request_id, str)


def test_an_error_in_a_background_send_surfaces_on_tell_after_the_trial_ended(
    fake_server: FakeServer,
) -> None:
    bad_report = Reply(
        422, problem(422, "points.0.value: bad", errors=[{"path": "points.0.value", "message": "bad"}])
    )
    fake_server.replies = [lambda seen: answer()(seen) if seen.path.endswith("/tell") else bad_report]
    t = fake_trial(fake_server)
    reports.configure(t.study.client, interval=0)
    for step in range(3):
        t.report(step, 1.0)
    with pytest.raises(stride.StrideError) as info:
        t.tell(0.5)
    assert (
        info.value.status == 422
        and info.value.paths == ["points.0.value"]
        and "not stored" in str(info.value)
    )
    # The trial was told all the same: the error of its reports does not leave it running.
    tells = [s for s in fake_server.seen if s.path.endswith("/tell")]
    assert len(tells) == 1 and tells[0].body == {"value": 0.5}
    assert t.state == "complete"
    # The error was raised once: nothing is pending, a flush is quiet.
    t.flush()


def test_study_tell_by_number_sends_that_trials_buffered_reports_first(client: stride.Client) -> None:
    study = client.create_study(unique("py-tell-number"), X, max_trials=2)
    t = study.ask()
    reports.configure(client, interval=60)
    for step in range(10):
        t.report(step, 0.5)
    study.tell(t.number, 0.5)
    stored = study.trials[0]
    assert stored.state == "complete" and [p["step"] for p in stored.intermediate] == list(range(10))


def test_fail_and_prune_send_the_buffered_reports_first(client: stride.Client) -> None:
    study = client.create_study(unique("py-fail-flush"), X, max_trials=2)
    reports.configure(client, interval=60)
    a, b = study.ask_many(2)
    for step in range(7):
        a.report(step, 1.0)
        b.report(step, 2.0)
    a.fail("out of memory")
    b.prune("too slow")
    stored = {t.number: t for t in study.trials}
    assert (stored[a.number].state, len(stored[a.number].intermediate)) == ("failed", 7)
    assert (stored[b.number].state, len(stored[b.number].intermediate)) == ("pruned", 7)


def test_reports_of_a_script_that_never_tells_are_sent_at_exit(client: stride.Client, server: Server) -> None:
    study = client.create_study(unique("py-exit"), X, max_trials=1)
    number = study.ask().number
    script = (
        "import stride\n"
        f"c = stride.Client({server.url!r}, {server.key!r})\n"
        "stride.reports.configure(c, interval=60)\n"
        f"t = c.study({study.id!r}).trials[{number}]\n"
        "for step in range(25):\n"
        "    t.report(step, 0.5)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert [p["step"] for p in study.trials[0].intermediate] == list(range(25))


def test_configure_checks_its_values(fake_server: FakeServer) -> None:
    client = stride.Client(fake_server.url, "k")
    s = reports.configure(client, interval=1.5, batch=10, max_points=500)
    assert (s.interval, s.batch, s.max_points) == (1.5, 10, 500)
    assert reports.sender(client) is s
    refused: List[Dict[str, Any]] = [{"interval": -1}, {"batch": 0}, {"batch": True}, {"max_points": 1001}]
    for bad in refused:
        with pytest.raises(ValueError):
            reports.configure(client, **bad)
    # A refused value leaves the others as they were.
    assert (s.interval, s.batch, s.max_points) == (1.5, 10, 500)
