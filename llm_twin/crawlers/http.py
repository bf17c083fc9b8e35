"""A polite, bounded HTTP client for crawling.

Every request: an identifying user agent, connect/read timeouts plus a total download deadline, bounded
retries with exponential backoff on timeouts / connection errors / 429 / 5xx (a `Retry-After` header is
honoured, and one longer than the configured cap fails fast instead of stalling the run), a per-host
rate limit, robots.txt (RFC 9309: unreachable robots.txt means "disallow"), redirects followed by hand
so every hop is checked, a content-type check and a maximum body size enforced while streaming.
Private and loopback addresses are refused unless the config allows them (SSRF guard).
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import requests

from llm_twin.config.crawl import CrawlConfig
from llm_twin.crawlers.errors import CollectError

log = logging.getLogger(__name__)


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
        for enc in (self.encoding, "utf-8"):
            if enc:
                try:
                    return self.body.decode(enc)
                except (LookupError, UnicodeDecodeError):
                    continue
        return self.body.decode("latin-1")


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


def is_private_host(host: str) -> bool:
    """True if any address the host resolves to is loopback, private, link-local or otherwise internal."""
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise CollectError("dns", f"cannot resolve host {host!r}: {exc}") from exc
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%")[0])
        if (
            addr.is_private
            or addr.is_loopback
            or addr.is_link_local
            or addr.is_reserved
            or addr.is_multicast
            or addr.is_unspecified
        ):
            return True
    return False


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


class HttpClient:
    """Fetch pages under the limits of a `CrawlConfig`; raises `CollectError` naming the cause."""

    def __init__(
        self,
        config: CrawlConfig,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.session = session or requests.Session()
        self.session.headers.update(
            {
                "User-Agent": config.user_agent,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                "Accept-Language": "en",
            }
        )
        self._sleep = sleep
        self._clock = clock
        self.rate_limiter = RateLimiter(config.rate_limit.interval_for, clock=clock, sleep=sleep)
        self._robots: dict[str, RobotFileParser | None] = {}
        self._robots_errors: dict[str, str] = {}
        self._robots_lock = threading.Lock()

    def close(self) -> None:
        self.session.close()

    # ---- public API -----------------------------------------------------------------------------------
    def get(self, url: str, allowed_types: list[str] | None = None) -> Page:
        """GET an HTML page (or one of `allowed_types`), following and checking redirects."""
        allowed = allowed_types if allowed_types is not None else self.config.allowed_content_types
        redirects: list[str] = []
        current = url
        attempts_total = 0
        while True:
            self._check_url(current)
            if self.config.respect_robots:
                self._check_robots(current)
            response, attempts = self._request_with_retries(current)
            attempts_total += attempts
            if response.is_redirect or response.status_code in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                response.close()
                if not location:
                    raise CollectError("bad_redirect", f"HTTP {response.status_code} without Location at {current}")
                nxt = urljoin(current, location)
                redirects.append(nxt)
                if len(redirects) > self.config.max_redirects:
                    raise CollectError(
                        "too_many_redirects",
                        f"redirect chain longer than {self.config.max_redirects} hops starting at {url}",
                    )
                if nxt in redirects[:-1] or nxt == url:
                    raise CollectError("redirect_loop", f"redirect loop at {nxt}")
                current = nxt
                continue
            return self._read_page(response, url, current, redirects, attempts_total, allowed)

    def fetch_text(self, url: str, max_bytes: int) -> tuple[int, str]:
        """Small non-HTML fetch used for robots.txt: no robots check, no content-type check."""
        response, _ = self._request_with_retries(url, follow=True)
        with response:
            if response.status_code >= 400:
                return response.status_code, ""
            body = self._read_body(response, url, max_bytes)
        return response.status_code, body.decode(response.encoding or "utf-8", errors="replace")

    # ---- internals -----------------------------------------------------------------------------------
    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise CollectError("bad_url", f"only http(s) URLs can be crawled, got {url!r}")
        if not parts.hostname:
            raise CollectError("bad_url", f"URL has no host: {url!r}")
        if not self.config.allow_private_addresses and is_private_host(parts.hostname):
            raise CollectError(
                "private_address",
                f"{parts.hostname} resolves to a private or loopback address; set crawl.allow_private_addresses "
                "to allow it",
            )

    def _request_with_retries(self, url: str, follow: bool = False) -> tuple[requests.Response, int]:
        retry = self.config.retries
        host = urlsplit(url).hostname or ""
        last_error = ""
        for attempt in range(1, retry.max_attempts + 1):
            self.rate_limiter.wait(host)
            try:
                response = self.session.get(
                    url,
                    timeout=(self.config.connect_timeout_s, self.config.read_timeout_s),
                    allow_redirects=follow,
                    stream=True,
                )
            except requests.Timeout as exc:
                last_error = f"timeout: no response from {host} within {self.config.read_timeout_s:g} s ({exc.__class__.__name__})"
                reason = "timeout"
                wait = self._backoff(attempt)
            except requests.ConnectionError as exc:
                last_error = f"connection failed to {host}: {exc.__class__.__name__}"
                reason = "connection"
                wait = self._backoff(attempt)
            except requests.RequestException as exc:
                raise CollectError("request", f"{exc.__class__.__name__}: {exc}") from exc
            else:
                if response.status_code not in retry.retry_statuses:
                    return response, attempt
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                response.close()
                reason = "rate_limited" if response.status_code == 429 else f"http_{response.status_code}"
                last_error = f"HTTP {response.status_code} {response.reason or ''}".strip()
                if retry_after is not None and retry_after > retry.retry_after_max_s:
                    raise CollectError(
                        reason,
                        f"{last_error} from {url} with Retry-After {retry_after:g} s, longer than the "
                        f"{retry.retry_after_max_s:g} s cap (crawl.retries.retry_after_max_s)",
                    )
                wait = retry_after if retry_after is not None else self._backoff(attempt)
            if attempt < retry.max_attempts:
                log.info("retrying %s in %.2f s after %s (attempt %d)", url, wait, last_error, attempt)
                self._sleep(wait)
        raise CollectError(reason, f"{last_error} for {url}, gave up after {retry.max_attempts} attempts")

    def _backoff(self, attempt: int) -> float:
        retry = self.config.retries
        return min(retry.backoff_max_s, retry.backoff_base_s * (2 ** (attempt - 1)))

    def _read_page(
        self,
        response: requests.Response,
        requested: str,
        final: str,
        redirects: list[str],
        attempts: int,
        allowed: list[str],
    ) -> Page:
        with response:
            status = response.status_code
            if status >= 400:
                raise CollectError(f"http_{status}", f"HTTP {status} {response.reason or ''} for {final}".strip())
            content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if allowed and content_type not in allowed:
                raise CollectError(
                    "content_type",
                    f"{final} returned content type {content_type or 'none'!r}, expected one of {allowed}",
                )
            body = self._read_body(response, final, self.config.max_body_bytes)
            return Page(
                url=final,
                requested_url=requested,
                status=status,
                content_type=content_type,
                body=body,
                encoding=response.encoding if "charset" in (response.headers.get("Content-Type") or "") else None,
                redirects=redirects,
                attempts=attempts,
            )

    def _read_body(self, response: requests.Response, url: str, max_bytes: int) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise CollectError("too_large", f"{url} declares {int(declared)} bytes, over the {max_bytes} byte limit")
        deadline = self._clock() + self.config.total_timeout_s
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > max_bytes:
                    raise CollectError("too_large", f"{url} body exceeds the {max_bytes} byte limit")
                if self._clock() > deadline:
                    raise CollectError(
                        "timeout", f"{url} took longer than {self.config.total_timeout_s:g} s to download"
                    )
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise CollectError("timeout" if "timed out" in str(exc).lower() else "connection",
                               f"reading {url} failed: {exc.__class__.__name__}") from exc
        return b"".join(chunks)

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
        parser = RobotFileParser()
        try:
            status, text = self.fetch_text(origin + "/robots.txt", self.config.robots_max_bytes)
        except CollectError as exc:
            self._robots_errors[origin] = str(exc)
            return None
        if status >= 500:
            self._robots_errors[origin] = f"HTTP {status}"
            return None
        parser.parse(text.splitlines() if status < 400 else [])  # 4xx: no robots.txt, all allowed
        delay = parser.crawl_delay(self.config.user_agent)
        if delay:
            self.rate_limiter.set_min_interval(urlsplit(origin).hostname or "", float(delay))
        return parser
