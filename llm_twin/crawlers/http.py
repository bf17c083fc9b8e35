"""A polite, bounded HTTP client for crawling, on top of the project's one fetcher (`llm_twin.web`).

What the fetcher guarantees on every hop (address policy checked on the resolved address and the
connection pinned to it, redirects checked by hand, connect/read/total deadlines, content-type and size
limits) holds here for pages *and* robots.txt. This layer adds what only a crawler needs: an identifying
user agent, robots.txt (RFC 9309: an unreachable robots.txt — a 5xx, a network error or a redirect to a
refused address — means "disallow"; a 4xx means "no rules"), a per-host rate limit (robots.txt
`Crawl-delay` may raise it), and tenacity retries with exponential backoff on timeouts, connection
errors, 429 and 5xx (a `Retry-After` header is honoured; one longer than the configured cap fails fast).
Every failure is a `CollectError` whose reason is the fetcher's reason code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from llm_twin.config.crawl import CrawlConfig
from llm_twin.crawlers.errors import CollectError
from llm_twin.web import (
    AddressPolicy,
    Fetcher,
    FetchError,
    FetchLimits,
    Resolver,
    call_with_retries,
    decode_body,
    parse_retry_after,
    parse_target,
    resolve_checked,
)

__all__ = ["HttpClient", "Page", "RateLimiter", "parse_retry_after"]


@dataclass
class Page:
    """A fetched response body with what the crawlers need to know about it."""

    url: str  # final URL after redirects
    requested_url: str
    status: int
    content_type: str
    body: bytes
    encoding: str | None
    redirects: list[str] = field(default_factory=list)
    attempts: int = 1

    @property
    def text(self) -> str:
        return decode_body(self.body, self.encoding)


class RateLimiter:
    """Minimum interval between requests to the same host; safe to share between threads."""

    def __init__(self, interval_for: Callable[[str], float], clock=time.monotonic, sleep=time.sleep) -> None:
        self._interval_for = interval_for
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._extra: dict[str, float] = {}
        self._lock = threading.Lock()

    def set_min_interval(self, host: str, seconds: float) -> None:
        """Raise a host's interval (robots.txt `Crawl-delay`)."""
        with self._lock:
            self._extra[host] = max(self._extra.get(host, 0.0), seconds)

    def wait(self, host: str) -> None:
        with self._lock:
            now = self._clock()
            interval = max(self._interval_for(host), self._extra.get(host, 0.0))
            start = max(now, self._next.get(host, now))
            self._next[host] = start + interval
        if start > now:
            self._sleep(start - now)


def address_policy(config: CrawlConfig) -> AddressPolicy:
    """The crawl config's address policy (shared by pages, robots.txt and `git clone`)."""
    return AddressPolicy.of(config.allow_private_addresses, config.allowed_networks,
                            setting="crawl.allow_private_addresses")


class HttpClient:
    """Fetch pages under the limits of a `CrawlConfig`; raises `CollectError` naming the cause."""

    def __init__(
        self,
        config: CrawlConfig,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        resolver: Resolver | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        self.config = config
        self.policy = address_policy(config)
        self.fetcher = fetcher or Fetcher(
            self.policy,
            headers={
                "User-Agent": config.user_agent,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                "Accept-Language": "en",
            },
            resolver=resolver,
            clock=clock,
        )
        self._sleep = sleep
        self.rate_limiter = RateLimiter(config.rate_limit.interval_for, clock=clock, sleep=sleep)
        self._robots: dict[str, RobotFileParser | None] = {}
        self._robots_errors: dict[str, str] = {}
        self._robots_lock = threading.Lock()

    def close(self) -> None:
        """Nothing pooled: each request has its own pinned connection."""

    def limits(self, content_types: list[str], max_bytes: int) -> FetchLimits:
        cfg = self.config
        return FetchLimits(connect_timeout_s=cfg.connect_timeout_s, read_timeout_s=cfg.read_timeout_s,
                           total_timeout_s=cfg.total_timeout_s, max_bytes=max_bytes,
                           max_redirects=cfg.max_redirects, content_types=tuple(content_types))

    # ---- public API -----------------------------------------------------------------------------------
    def get(self, url: str, allowed_types: list[str] | None = None) -> Page:
        """GET an HTML page (or one of `allowed_types`), following and checking redirects, with retries."""
        allowed = allowed_types if allowed_types is not None else self.config.allowed_content_types
        limits = self.limits(allowed, self.config.max_body_bytes)
        attempts = 0

        def attempt():
            nonlocal attempts
            attempts += 1
            return self.fetcher.get(url, limits, before_hop=self._before_hop)

        try:
            response = call_with_retries(attempt, self.config.retries, sleep=self._sleep)
        except FetchError as exc:
            raise CollectError(exc.reason, exc.message) from exc
        return Page(url=response.url, requested_url=url, status=response.status,
                    content_type=response.content_type, body=response.body, encoding=response.encoding,
                    redirects=response.redirects, attempts=attempts)

    def check_allowed(self, url: str) -> None:
        """Refuse (`CollectError`) a URL the address policy would refuse, without requesting it: a link that
        is stored without being fetched (a post read from its feed) obeys the same policy as a fetch."""
        try:
            target = parse_target(url)
            resolve_checked(target.host, target.port, self.policy, self.config.connect_timeout_s,
                            self.fetcher.resolver)
        except FetchError as exc:
            raise CollectError(exc.reason, exc.message) from exc

    # ---- internals -----------------------------------------------------------------------------------
    def _rate_limit(self, url: str) -> None:
        self.rate_limiter.wait(urlsplit(url).hostname or "")

    def _before_hop(self, url: str) -> None:
        """Each hop's address is already checked; robots.txt and the rate limit come next."""
        if self.config.respect_robots:
            self._check_robots(url)
        self._rate_limit(url)

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._robots_lock:
            if origin not in self._robots:
                self._robots[origin] = self._load_robots(origin)
            parser = self._robots[origin]
        if parser is None:
            raise CollectError(
                "robots_unreachable",
                f"{origin}/robots.txt could not be read ({self._robots_errors.get(origin)}); per RFC 9309 the "
                "site is treated as disallowed",
            )
        if not parser.can_fetch(self.config.user_agent, url):
            raise CollectError("robots_disallowed", f"robots.txt of {origin} disallows {parts.path or '/'}")

    def _load_robots(self, origin: str) -> RobotFileParser | None:
        """robots.txt through the same fetcher (every redirect hop checked), without robots checks itself."""
        parser = RobotFileParser()
        limits = self.limits([], self.config.robots_max_bytes)
        try:
            response = call_with_retries(
                lambda: self.fetcher.get(origin + "/robots.txt", limits, before_hop=self._rate_limit),
                self.config.retries, sleep=self._sleep)
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                parser.parse([])  # no robots.txt (or not for us): everything is allowed
                return parser
            self._robots_errors[origin] = str(exc)
            return None
        parser.parse(response.text.splitlines())
        delay = parser.crawl_delay(self.config.user_agent)
        if delay:
            self.rate_limiter.set_min_interval(urlsplit(origin).hostname or "", float(delay))
        return parser
