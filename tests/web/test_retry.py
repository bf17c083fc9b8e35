"""Retries with tenacity: which failures are retried, the backoff sequence, Retry-After and its cap."""

from __future__ import annotations

import pytest

from llm_twin.web import FetchError, call_with_retries, parse_retry_after
from tests.configs import configured

SETTINGS = configured("crawl", retries={"max_attempts": 4, "backoff_base_s": 0.5, "backoff_max_s": 1.5,
                                         "retry_after_max_s": 10}).retries


def failing(*errors: FetchError, result: str = "ok"):
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return fn, calls


def test_backoff_is_exponential_and_capped():
    slept: list[float] = []
    fn, calls = failing(*(FetchError("timeout", "slow") for _ in range(3)))
    assert call_with_retries(fn, SETTINGS, sleep=slept.append) == "ok"
    assert len(calls) == 4 and slept == [0.5, 1.0, 1.5]


def test_retry_after_wins_over_backoff_and_statuses_outside_the_list_fail_at_once():
    slept: list[float] = []
    fn, calls = failing(FetchError("rate_limited", "HTTP 429", status=429, retry_after=3.0))
    assert call_with_retries(fn, SETTINGS, sleep=slept.append) == "ok" and slept == [3.0]
    fn, calls = failing(FetchError("http_404", "HTTP 404", status=404))
    with pytest.raises(FetchError) as err:
        call_with_retries(fn, SETTINGS, sleep=slept.append)
    assert err.value.reason == "http_404" and len(calls) == 1


def test_retry_after_over_the_cap_fails_fast():
    fn, calls = failing(FetchError("http_503", "HTTP 503", status=503, retry_after=3600))
    with pytest.raises(FetchError) as err:
        call_with_retries(fn, SETTINGS, sleep=lambda s: pytest.fail("must not sleep"))
    assert len(calls) == 1 and "Retry-After 3600 s, longer than the 10 s cap" in err.value.message
    assert "crawl.retries.retry_after_max_s" in err.value.message


def test_giving_up_names_the_attempts_and_refusals_are_never_retried():
    fn, calls = failing(*(FetchError("connection", "reset") for _ in range(9)))
    with pytest.raises(FetchError, match="gave up after 4 attempts") as err:
        call_with_retries(fn, SETTINGS, sleep=lambda s: None)
    assert err.value.reason == "connection" and len(calls) == 4
    fn, calls = failing(FetchError("private_address", "no"))
    with pytest.raises(FetchError):
        call_with_retries(fn, SETTINGS, sleep=lambda s: None)
    assert len(calls) == 1


def test_parse_retry_after():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 60) == pytest.approx(60.0)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
