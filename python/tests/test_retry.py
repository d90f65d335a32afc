"""Retries, timeouts and error answers, against a scripted local HTTP server."""
from __future__ import annotations

import email.utils
import time

import pytest
import stride
from conftest import FakeServer, Reply, problem
from stride.client import parse_retry_after


def test_429_is_retried_after_its_retry_after(fake_server: FakeServer) -> None:
    fake_server.replies = [Reply(429, problem(429, "slow down"), {"Retry-After": "1"}), Reply(200, {"ok": 1})]
    c = stride.Client(fake_server.url, "k")
    t0 = time.monotonic()
    assert c.request("POST", "/v1/studies", {"name": "x"}) == {"ok": 1}
    assert len(fake_server.seen) == 2
    gap = fake_server.seen[1].at - fake_server.seen[0].at
    assert 0.95 <= gap < 5, f"the retry came {gap:.2f}s after the 429, not after its Retry-After of 1 s"
    assert time.monotonic() - t0 >= 0.95
    # Both attempts carried the same request.
    assert [s.body for s in fake_server.seen] == [{"name": "x"}, {"name": "x"}]
    assert fake_server.seen[1].headers["authorization"] == "Bearer k"


def test_503_without_retry_after_backs_off_then_succeeds(fake_server: FakeServer) -> None:
    fake_server.replies = [
        Reply(503, problem(503, "busy")),
        Reply(503, problem(503, "busy")),
        Reply(200, {"ok": 2}),
    ]
    c = stride.Client(fake_server.url, "k")
    waits: list = []

    def sleep(s: float) -> None:
        waits.append(s)
        time.sleep(s)

    c._sleep = sleep
    assert c.request("POST", "/v1/studies/x/ask", {}) == {"ok": 2}
    assert len(fake_server.seen) == 3
    # Exponential backoff with jitter: ~0.25 s, then ~0.5 s.
    assert len(waits) == 2 and 0.18 <= waits[0] <= 0.32 and 0.37 <= waits[1] <= 0.63


def test_retries_are_bounded_and_the_last_problem_is_raised(fake_server: FakeServer) -> None:
    fake_server.replies = [Reply(503, problem(503, "still busy", request_id="r-1"), {"Retry-After": "0"})]
    c = stride.Client(fake_server.url, "k", max_retries=2)
    with pytest.raises(stride.StrideError) as info:
        c.request("GET", "/v1/studies")
    assert len(fake_server.seen) == 3  # the first try and two retries
    e = info.value
    assert (e.status, e.detail, e.request_id, e.retry_after) == (503, "still busy", "r-1", 0.0)


def test_a_retry_after_longer_than_the_bound_raises_at_once(fake_server: FakeServer) -> None:
    fake_server.replies = [Reply(429, problem(429, "rate limited"), {"Retry-After": "120"})]
    c = stride.Client(fake_server.url, "k", max_retry_wait=5)
    t0 = time.monotonic()
    with pytest.raises(stride.StrideError) as info:
        c.request("POST", "/v1/lr-range-tests", {})
    assert time.monotonic() - t0 < 2
    assert len(fake_server.seen) == 1
    assert (info.value.status, info.value.retry_after) == (429, 120.0)


def test_other_errors_are_not_retried(fake_server: FakeServer) -> None:
    fake_server.replies = [
        Reply(
            422,
            problem(
                422, "x: bad", errors=[{"path": "x", "message": "bad"}, {"path": "y.z", "message": "worse"}]
            ),
        )
    ]
    c = stride.Client(fake_server.url, "k")
    with pytest.raises(stride.StrideError) as info:
        c.request("POST", "/v1/studies", {})
    assert len(fake_server.seen) == 1
    assert info.value.paths == ["x", "y.z"]
    assert [(i.path, i.message) for i in info.value.errors] == [("x", "bad"), ("y.z", "worse")]


def test_an_error_that_is_not_problem_json_keeps_its_text(fake_server: FakeServer) -> None:
    fake_server.replies = [Reply(500, "upstream exploded")]
    c = stride.Client(fake_server.url, "k")
    with pytest.raises(stride.StrideError) as info:
        c.request("GET", "/v1/studies")
    assert info.value.status == 500 and "upstream exploded" in info.value.detail


def test_a_lost_connection_is_retried_for_idempotent_calls_only(fake_server: FakeServer) -> None:
    fake_server.replies = [Reply(drop=True), Reply(200, {"ok": 3})]
    c = stride.Client(fake_server.url, "k")
    assert c.request("GET", "/v1/studies") == {"ok": 3}
    assert len(fake_server.seen) == 2

    fake_server.seen.clear()
    fake_server.replies = [Reply(drop=True), Reply(200, {"number": 0})]
    # An ask that may have been taken is not repeated: it would start a second trial.
    with pytest.raises(stride.StrideConnectionError) as info:
        c.request("POST", "/v1/studies/s/ask", {})
    assert len(fake_server.seen) == 1
    assert info.value.status is None


def test_a_slow_answer_times_out(fake_server: FakeServer) -> None:
    fake_server.replies = [Reply(200, {"late": True}, delay=2.0)]
    c = stride.Client(fake_server.url, "k", timeout=0.3)
    t0 = time.monotonic()
    with pytest.raises(stride.StrideTimeoutError) as info:
        c.request("POST", "/v1/studies/s/ask", {})
    assert time.monotonic() - t0 < 1.5
    assert "0.3s" in str(info.value) and isinstance(info.value, stride.StrideError)


def test_nobody_listening_is_a_connection_error(fake_server: FakeServer) -> None:
    url = fake_server.url
    fake_server.close()
    c = stride.Client(url, "k", max_retries=1)
    c._sleep = lambda s: None
    with pytest.raises(stride.StrideConnectionError, match="cannot reach stride"):
        c.request("GET", "/v1/studies")


def test_retry_after_as_seconds_or_an_http_date() -> None:
    now = time.time()
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= (parse_retry_after(date, now=now) or 0) <= 31
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
