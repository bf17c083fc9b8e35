"""Retries of transient fetch failures with tenacity: exponential backoff, `Retry-After` honoured.

Transient: timeouts, connection errors and the configured retryable statuses (429 and 5xx by default).
A `Retry-After` longer than `retry_after_max_s` fails at once instead of stalling the run, and the last
error after `max_attempts` says how many attempts were made. Everything else (a refused address, a 404,
a bad redirect, an exception from a hook) is raised on the first occurrence.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from llm_twin.web.errors import FetchError

log = logging.getLogger(__name__)
T = TypeVar("T")
TRANSIENT_REASONS = frozenset({"timeout", "connection"})


class RetrySettings(Protocol):
    """The retry knobs (the crawl config's `retries` block has exactly these)."""

    max_attempts: int
    backoff_base_s: float
    backoff_max_s: float
    retry_after_max_s: float
    retry_statuses: list[int]


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def _classified(exc: FetchError, settings: RetrySettings, setting: str) -> FetchError:
    """`exc` marked transient if another attempt may succeed; an over-long Retry-After becomes final."""
    if exc.status is not None and exc.status in settings.retry_statuses:
        if exc.retry_after is not None and exc.retry_after > settings.retry_after_max_s:
            return FetchError(exc.reason, f"{exc.message} with Retry-After {exc.retry_after:g} s, longer than the "
                                          f"{settings.retry_after_max_s:g} s cap ({setting}.retry_after_max_s)",
                              status=exc.status, retry_after=exc.retry_after)
        exc.transient = True
    elif exc.reason in TRANSIENT_REASONS:
        exc.transient = True
    return exc


def call_with_retries(fn: Callable[[], T], settings: RetrySettings, *, sleep: Callable[[float], None] = time.sleep,
                      setting: str = "crawl.retries") -> T:
    """Run `fn` (one attempt) until it succeeds, fails for good, or `max_attempts` are used."""
    backoff = wait_exponential(multiplier=settings.backoff_base_s, max=settings.backoff_max_s)

    def attempt() -> T:
        try:
            return fn()
        except FetchError as exc:
            raise _classified(exc, settings, setting) from exc.__cause__

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        return float(retry_after) if retry_after is not None else backoff(state)

    def log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait_s = state.next_action.sleep if state.next_action else 0.0
        log.info("retrying in %.2f s after %s (attempt %d)", wait_s, exc, state.attempt_number)

    def give_up(state: RetryCallState) -> T:
        exc = state.outcome.exception() if state.outcome else None
        if not isinstance(exc, FetchError):  # pragma: no cover - only FetchErrors are retried
            raise TypeError(f"retry ended on {exc!r}, not a FetchError") from exc
        n = state.attempt_number
        raise FetchError(exc.reason, f"{exc.message}; gave up after {n} attempt{'s' if n != 1 else ''}",
                         status=exc.status, retry_after=exc.retry_after) from exc

    retrying = Retrying(
        stop=stop_after_attempt(settings.max_attempts),
        wait=wait,
        retry=retry_if_exception(lambda e: isinstance(e, FetchError) and e.transient),
        sleep=sleep,
        before_sleep=log_retry,
        retry_error_callback=give_up,
    )
    return retrying(attempt)
