"""The resilience layer on its own: the one Retry-After parser and the one retry policy (tenacity)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from paperradar.sources.resilience import (
    Attempt,
    Deadline,
    GaveUp,
    Outcome,
    RetryPolicy,
    parse_retry_after,
    retry_after,
)

NOW = datetime(2026, 9, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("5", 5.0),
        (" 2.5 ", 2.5),
        ("Thu, 24 Sep 2026 12:00:30 GMT", 30.0),
        ("Thu, 24 Sep 2026 11:00:00 GMT", 0.0),  # in the past: go now
        ("86400", 86400.0),  # not capped here: the policy decides what is too long
        ("nan", None),
        ("NaN", None),
        ("inf", None),
        ("-Infinity", None),
        ("-5", None),
        ("1e400", None),  # overflows to inf
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_a_far_date_is_a_long_wait_not_an_error() -> None:
    seconds = parse_retry_after("Fri, 31 Dec 9999 23:59:59 -1400", NOW)
    assert seconds is not None and seconds > 1e11  # the policy refuses to wait that long


def test_retry_after_sources_in_order() -> None:
    assert retry_after({"retry-after-ms": "150", "retry-after": "9"}) == 0.15  # OpenAI/Azure: ms first
    assert retry_after({"retry-after-ms": "nan", "retry-after": "9"}) == 9.0
    assert retry_after({"x-ogw-ratelimit-reset": "4"}) == 4.0  # Feishu
    assert (
        retry_after({}, b'{"message": "You are being rate limited.", "retry_after": 1.25}') == 1.25
    )  # Discord
    assert retry_after({}, b'{"retry_after": -3}') is None
    assert retry_after({}, b'{"retry_after": true}') is None
    assert retry_after({}, b"<html>busy</html>") is None
    assert retry_after({"retry-after": "NaN"}, b'{"retry_after": 2}') == 2.0


def script(*outcomes: Attempt[str]) -> tuple[list[float], object]:
    queue = list(outcomes)
    sleeps: list[float] = []

    def attempt() -> Attempt[str]:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return sleeps, attempt


def test_retries_then_ok_with_backoff_and_retry_after() -> None:
    sleeps, attempt = script(
        Attempt(Outcome.RETRY, detail="503"),
        Attempt(Outcome.RETRY, detail="429", retry_after=7.0),
        Attempt(Outcome.OK, "answer"),
    )
    policy = RetryPolicy(retries=3, initial=2.0, max_retry_after=60)
    result = policy.run(attempt, sleep=sleeps.append)  # type: ignore[arg-type]
    assert result.last.value == "answer" and result.attempts == 3 and result.retries == 2
    assert sleeps == [2.0, 7.0]  # backoff, then what the server asked for


def test_again_is_free_and_immediate() -> None:
    sleeps, attempt = script(
        Attempt(Outcome.AGAIN),
        Attempt(Outcome.AGAIN),
        Attempt(Outcome.RETRY),
        Attempt(Outcome.FATAL, detail="no"),
    )
    result = RetryPolicy(retries=1, initial=1.0).run(attempt, sleep=sleeps.append)  # type: ignore[arg-type]
    assert result.last.outcome is Outcome.FATAL and result.attempts == 4 and result.retries == 1
    assert sleeps == [1.0] and result.gave_up is None


def test_gives_up_after_the_retries() -> None:
    sleeps, attempt = script(Attempt(Outcome.RETRY, detail="500"))
    result = RetryPolicy(retries=2, initial=1.0).run(attempt, sleep=sleeps.append)  # type: ignore[arg-type]
    assert result.gave_up is GaveUp.ATTEMPTS and result.attempts == 3 and sleeps == [1.0, 2.0]


def test_a_retry_after_past_the_cap_is_not_waited_for() -> None:
    sleeps, attempt = script(Attempt(Outcome.RETRY, detail="429", retry_after=864_000.0))
    result = RetryPolicy(retries=4, max_retry_after=300).run(attempt, sleep=sleeps.append)  # type: ignore[arg-type]
    assert result.gave_up is GaveUp.RETRY_AFTER and result.wait == 864_000.0 and sleeps == []


def test_the_deadline_stops_before_a_wait_that_would_pass_it() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    _, attempt = script(Attempt(Outcome.RETRY))
    policy = RetryPolicy(retries=10, initial=4.0, multiplier=2.0, max_backoff=100, deadline=30.0)
    result = policy.run(attempt, sleep=sleep, clock=lambda: now[0])  # type: ignore[arg-type]
    assert result.gave_up is GaveUp.DEADLINE and now[0] == 4 + 8 + 16  # the next 32 s wait would pass 30 s


def test_exceptions_propagate() -> None:
    def attempt() -> Attempt[str]:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        RetryPolicy().run(attempt)


def test_async_runner_with_jitter() -> None:
    calls: list[int] = []

    async def attempt() -> Attempt[int]:
        calls.append(1)
        return Attempt(Outcome.OK, 1) if len(calls) == 3 else Attempt(Outcome.RETRY, retry_after=0.01)

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    result = asyncio.run(RetryPolicy(retries=5, jitter=True).arun(attempt, sleep=sleep))
    assert result.last.value == 1 and len(slept) == 2 and all(0.01 <= s <= 0.0211 for s in slept)


def test_deadline_clock() -> None:
    now = [100.0]
    d = Deadline(10, "stage", clock=lambda: now[0])
    assert d.remaining() == 10 and d.cap(30) == 10 and d.cap(None) == 10 and not d.expired
    now[0] = 111
    assert d.expired and d.remaining() == 0
    assert Deadline(None, "x").cap(5) == 5 and Deadline(None, "x").remaining() is None
