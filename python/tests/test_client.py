"""The client against every endpoint it wraps, on a real local Worker, and its errors."""
from __future__ import annotations

import math
import re
import time

import pytest
import stride
from conftest import ROOT, Server, unique

SPACE = {
    "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
    "width": {"type": "int", "low": 8, "high": 64},
    "optimizer": {"type": "categorical", "choices": ["sgd", "adam"]},
}


def in_space(params: dict) -> bool:
    return (
        1e-4 <= params["lr"] <= 1.0
        and isinstance(params["width"], int)
        and 8 <= params["width"] <= 64
        and params["optimizer"] in ("sgd", "adam")
    )


def test_defaults_come_from_the_environment_then_the_local_dev_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIDE_URL", "http://example.test:9999/")
    monkeypatch.setenv("STRIDE_API_KEY", "k-from-env")
    c = stride.Client()
    assert (c.url, c.api_key) == ("http://example.test:9999", "k-from-env")
    assert stride.Client("http://a.test", "explicit").api_key == "explicit"
    monkeypatch.delenv("STRIDE_URL")
    monkeypatch.delenv("STRIDE_API_KEY")
    c = stride.Client()
    # The defaults are what a local `npm start` serves: wrangler.toml's [dev] port and .dev.vars.example's key.
    dev_key = re.search(r"^STRIDE_DEV_KEY=(\S+)$", (ROOT / ".dev.vars.example").read_text(), re.M)
    port = re.search(r"^\[dev\][^\[]*?^port\s*=\s*(\d+)", (ROOT / "wrangler.toml").read_text(), re.M | re.S)
    assert dev_key and port
    assert c.api_key == dev_key.group(1)
    assert c.url == f"http://127.0.0.1:{port.group(1)}"


def test_create_study_sends_every_field_and_reads_it_back(client: stride.Client) -> None:
    name = unique("py-create")
    study = client.create_study(
        name,
        SPACE,
        direction="maximize",
        sampler={"name": "random", "seed": 3},
        pruner="median",
        max_trials=7,
        metric="val_acc",
        metadata={"git_sha": "abc123", "nested": {"k": [1, 2]}},
    )
    assert study.id.startswith("std_")
    assert (study.name, study.direction, study.metric, study.max_trials) == (name, "maximize", "val_acc", 7)
    assert study.space == SPACE
    assert study.sampler == {"name": "random", "seed": 3}
    assert study.pruner["name"] == "median"
    assert study.executor == {"kind": "client", "lease_seconds": 300, "max_attempts": 3}
    assert study.metadata == {"git_sha": "abc123", "nested": {"k": [1, 2]}}
    assert (study.state, study.n_trials) == ("running", 0)

    again = client.study(study.id)
    assert again.id == study.id
    assert (again.name, again.direction, again.metric, again.space, again.metadata) == (
        name,
        "maximize",
        "val_acc",
        SPACE,
        study.metadata,
    )


def test_ask_report_tell_fail_prune_and_the_trials(client: stride.Client) -> None:
    study = client.create_study(unique("py-ask"), SPACE, sampler={"name": "random", "seed": 1}, max_trials=10)
    t0 = study.ask()
    assert (t0.number, t0.state, t0.study_id) == (0, "running", study.id)
    assert in_space(t0.params)
    assert t0.report(0, 0.9) is False
    assert t0.report(1, 0.5) is False
    assert t0.should_prune() is False
    t0.tell(0.42)
    assert (t0.state, t0.value) == ("complete", 0.42)
    assert t0.intermediate == [{"step": 0, "value": 0.9}, {"step": 1, "value": 0.5}]

    t1, t2 = study.ask_many(2)
    assert (t1.number, t2.number) == (1, 2)
    assert in_space(t1.params) and in_space(t2.params)
    t1.fail(ValueError("out of memory"))
    assert t1.state == "failed" and t1.error == "ValueError: out of memory"
    t2.prune("too slow")
    assert t2.state == "pruned"

    t3 = study.ask()
    study.tell(t3.number, 0.17)  # by number, as a loop holding only numbers would
    trials = study.trials
    assert [(t.number, t.state) for t in trials] == [
        (0, "complete"),
        (1, "failed"),
        (2, "pruned"),
        (3, "complete"),
    ]
    assert trials[0].intermediate == [{"step": 0, "value": 0.9}, {"step": 1, "value": 0.5}]
    assert trials[3].value == 0.17

    best = study.best_trial
    assert best.number == 3 and best.value == 0.17
    assert study.best_value == 0.17
    assert study.best_params == trials[3].params
    assert study.refresh().n_trials == 4


def test_a_nan_value_fails_the_trial_as_diverged(client: stride.Client) -> None:
    study = client.create_study(unique("py-nan"), SPACE, max_trials=2)
    t = study.ask()
    # NaN is not JSON: an intermediate NaN is not sent, a final one fails the trial.
    assert t.report(0, math.nan) is False
    t.tell(math.nan)
    assert t.state == "failed" and "diverged" in (t.error or "")
    assert study.trials[0].intermediate == []


def test_enqueue_then_ask_returns_the_enqueued_params(client: stride.Client) -> None:
    study = client.create_study(unique("py-enqueue"), SPACE, max_trials=5)
    params = {"lr": 0.01, "width": 32, "optimizer": "adam"}
    waiting = study.enqueue(params)
    assert (waiting.state, waiting.params) == ("waiting", params)
    asked = study.ask()
    assert (asked.number, asked.params, asked.state) == (waiting.number, params, "running")


def test_best_of_a_study_without_a_complete_trial_is_a_value_error(client: stride.Client) -> None:
    study = client.create_study(unique("py-empty"), SPACE, max_trials=2)
    with pytest.raises(ValueError, match="no trial"):
        study.best_trial
    study.ask().fail("crashed")
    with pytest.raises(ValueError, match="no trial"):
        study.best_value


def test_studies_lists_newest_first_across_pages(client: stride.Client) -> None:
    ids = [client.create_study(unique(f"py-list-{i}"), SPACE, max_trials=1).id for i in range(3)]
    paged = client.studies(page_size=2)
    listed = [s.id for s in paged]
    assert len(listed) == len(set(listed)), "a study appears twice across pages"
    mine = [i for i in listed if i in ids]
    assert mine == list(reversed(ids))
    first = client.studies(limit=2, page_size=1)
    assert len(first) == 2
    assert all(isinstance(s, stride.Study) for s in first)


def test_importance_of_a_study(client: stride.Client) -> None:
    study = client.create_study(
        unique("py-importance"), SPACE, sampler={"name": "random", "seed": 2}, max_trials=4
    )
    for _ in range(3):
        t = study.ask()
        t.tell(math.log10(t.params["lr"]) ** 2)
    imp = study.importance()
    assert imp["n_trials"] == 3
    assert imp["meaningful"] is False  # 3 trials are noise: the service says so
    assert {p["name"] for p in imp["params"]} == set(SPACE)


def test_lr_range_test_then_the_stored_result(client: stride.Client) -> None:
    seed = time.time_ns() % 2**31  # a request this service has not seen (it caches the same one)
    body = {
        "probe": {
            "data": {"kind": "synthetic", "name": "moons", "n": 256, "seed": 4},
            "model": {"hidden": [16]},
            "batch_size": 32,
            "seed": seed,
        },
        "range": {"steps": 40},
    }
    r = client.lr_range_test(body)
    assert r.id and r.id.startswith("lrt_")
    assert r.raw["id"] == r.id and r.cached is False
    assert len(r.curve) == r.steps_run == len(r.raw["curve"])
    assert r.curve.lr == [p["lr"] for p in r.raw["curve"]]
    assert r.suggestion.lr == r.raw["suggestion"]["lr"]
    assert r.max_stable_lr == r.raw["suggestion"]["max_stable_lr"]
    assert r.suggestion.candidates == r.raw["suggestion"]["candidates"]
    stored = client.get_lr_range_test(r.id)
    assert stored.id == r.id and stored.curve == r.curve and stored.suggestion == r.suggestion
    assert client.lr_range_test(body).cached is True


def test_suggest_lr_from_context(client: stride.Client) -> None:
    s = client.suggest_lr({"context": {"optimizer": "adam", "batch_size": 256}})
    assert s["method"] == "prior"
    assert s["prior"]["range"]["min"] <= s["lr"] <= s["prior"]["range"]["max"]


# --- errors ----------------------------------------------------------------------


def test_a_422_carries_the_problem_and_the_path_of_each_issue(client: stride.Client) -> None:
    with pytest.raises(stride.StrideError) as info:
        client.create_study("bad", {"lr": {"type": "float", "low": 1.0, "high": 0.1}})
    e = info.value
    assert e.status == 422
    assert e.title == "Unprocessable Content"
    assert e.type.endswith("/invalid-request")
    assert e.paths == ["space.lr.low"]
    assert e.errors[0].message and e.errors[0].message in e.detail
    assert e.problem["status"] == 422 and e.problem["errors"][0]["path"] == "space.lr.low"
    assert e.request_id
    assert (e.method, e.url) == ("POST", client.url + "/v1/studies")
    assert str(e).startswith("HTTP 422 Unprocessable Content: ") and "POST /v1/studies" in str(e)


def test_an_unknown_field_names_the_closest(client: stride.Client) -> None:
    with pytest.raises(stride.StrideError) as info:
        client.request("POST", "/v1/studies", {"name": "x", "space": SPACE, "max_trails": 3})
    assert info.value.status == 422
    assert "max_trials" in info.value.detail


def test_not_found_and_bad_key(client: stride.Client, server: Server) -> None:
    with pytest.raises(stride.StrideError) as info:
        client.study("std_does_not_exist")
    assert info.value.status == 404 and "std_does_not_exist" in info.value.detail
    with pytest.raises(stride.StrideError) as info:
        stride.Client(server.url, "not-a-key").studies()
    assert info.value.status == 401 and info.value.title == "Unauthorized"


def test_a_different_second_tell_or_report_is_a_conflict(client: stride.Client) -> None:
    study = client.create_study(unique("py-conflict"), SPACE, max_trials=3)
    t = study.ask()
    t.report(0, 1.0)
    t.report(0, 1.0)  # the same report again is taken
    with pytest.raises(stride.StrideError) as info:
        t.report(0, 2.0)
    assert info.value.status == 409
    t.tell(0.5)
    assert t.tell(0.5).value == 0.5  # the same tell again answers the same
    with pytest.raises(stride.StrideError) as info:
        t.tell(0.7)
    assert info.value.status == 409 and "already told" in info.value.detail


def test_asking_past_max_trials_and_running_a_client_study_are_conflicts(client: stride.Client) -> None:
    study = client.create_study(unique("py-max"), SPACE, max_trials=3)
    study.ask().tell(1.0)
    # A batch near max_trials starts the trials that fit; past it, a batch is a 409 as an ask is.
    assert [t.number for t in study.ask_many(5)] == [1, 2]
    with pytest.raises(stride.StrideError) as info:
        study.ask()
    assert info.value.status == 409 and "max_trials" in info.value.detail
    with pytest.raises(stride.StrideError) as info:
        study.ask_many(2)
    assert info.value.status == 409
    with pytest.raises(stride.StrideError) as info:
        study.run()
    assert info.value.status == 409 and "not an edge study" in info.value.detail
