"""The one HTTP fetcher of the project: crawler pages, robots.txt and URL grounding all go through it.

What a `Fetcher.get` guarantees, on every redirect hop:

- the URL is an absolute http(s) URL (`urls.parse_target`); a malformed `Location` is a `bad_redirect`;
- the host is resolved once and every address is checked against the `AddressPolicy`;
- the connection goes to the address that was checked: the HTTP layer is given the IP, never the name,
  so it cannot resolve the name a second time (DNS rebinding). The `Host` header, TLS SNI and
  certificate verification still use the host name;
- redirects are never followed automatically: each `Location` is checked like the first URL;
- connect and read (no progress) timeouts, and a total deadline for the whole call (DNS, connect,
  headers, body, every hop): a watchdog shuts the socket down at the deadline, so a server that drips one
  byte at a time — in the headers or the body — cannot hold the caller any longer;
- a content-type allowlist, checked before the body is read, and a size limit enforced on the
  decompressed bytes while streaming (the declared `Content-Length` is only an early refusal);
- no proxy from the environment (a proxy would resolve the name itself) and no credentials from URLs.

Why urllib3 connections directly (and not `requests` or httpx): urllib3 (already installed as the base of
`requests`) lets a connection be opened to an IP while `server_hostname` carries the name for SNI and
certificate checks, and exposes the socket it creates, which the total-deadline watchdog needs. With
`requests` the same pinning needs a custom adapter around these very classes, and httpx's transport
offers SNI overrides but no hook on the socket for a deadline that interrupts a blocked read.
Retries live one level up (`llm_twin.web.retry`, tenacity): a single `get` is one attempt.
"""

from __future__ import annotations

import functools
import http.client
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import certifi
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from llm_twin.web.addresses import AddressPolicy, IPAddress, Resolver, resolve_checked
from llm_twin.web.errors import FetchError
from llm_twin.web.retry import parse_retry_after
from llm_twin.web.urls import REDIRECT_STATUSES, Target, mask_url, parse_target, redirect_target

log = logging.getLogger(__name__)
CHUNK = 65536


def decode_body(body: bytes, encoding: str | None) -> str:
    """The declared charset, else UTF-8, else Latin-1 (which never fails): a wrong header must not lose a page."""
    for enc in (encoding, "utf-8"):
        if enc:
            try:
                return body.decode(enc)
            except (LookupError, UnicodeDecodeError):
                continue
    return body.decode("latin-1")


@dataclass(frozen=True)
class FetchLimits:
    """Deadlines and limits of one `get` (all hops)."""

    connect_timeout_s: float = 5.0
    read_timeout_s: float = 15.0  # longest wait for the next bytes
    total_timeout_s: float = 60.0  # whole call: DNS, connect, headers, body, every redirect hop
    max_bytes: int = 5_000_000  # decompressed body
    max_redirects: int = 5
    content_types: tuple[str, ...] = ()  # allowed media types of the final response; empty: any
    truncate: bool = False  # over max_bytes: keep the first max_bytes instead of failing


@dataclass
class Response:
    """A fetched body with what callers need to know about it."""

    url: str  # final URL after redirects
    requested_url: str
    status: int
    content_type: str
    encoding: str | None  # from the Content-Type charset, if any
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    redirects: list[str] = field(default_factory=list)
    truncated: bool = False

    @property
    def text(self) -> str:
        return decode_body(self.body, self.encoding)


class Deadline:
    """The end of the total time budget; `extend` gives back time spent outside the fetch (hooks)."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return self._end - self._clock()

    def extend(self, seconds: float) -> None:
        self._end += seconds

    def bound(self, timeout: float, url: str) -> float:
        """`timeout` cut to what is left of the budget; a spent budget is a timeout error."""
        left = self.remaining()
        if left <= 0:
            raise self.error(url)
        return min(timeout, left)

    def error(self, url: str) -> FetchError:
        return FetchError("timeout", f"fetching {mask_url(url)} took longer than the total deadline of "
                                     f"{self.seconds:g} s")


class Watchdog:
    """Shuts a connection down when the deadline passes, so a read blocked in any buffering layer returns.

    It keeps a duplicate of the socket's file descriptor: shutting that down ends the TCP connection even
    after TLS has wrapped (and detached) the original socket object.
    """

    def __init__(self) -> None:
        self.fired = False
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._timer: threading.Timer | None = None

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
            self._sock = sock.dup()
            if self.fired:
                self._shutdown()

    def arm(self, seconds: float) -> None:
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


class _Watched:
    """Hands every new socket to the watchdog, so the total deadline can close it (plain and TLS alike)."""

    def __init__(self, *args: object, watchdog: Watchdog, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._watchdog = watchdog

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        self._watchdog.watch(sock)
        return sock


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """Certificate and host name verification on, against certifi's CA bundle (what `requests` uses);
    built once (loading the bundle takes a while) and shared, which `ssl.SSLContext` allows."""
    return ssl.create_default_context(cafile=certifi.where())


def _media_type(value: str | None) -> tuple[str, str | None]:
    """(media type, charset) of a Content-Type header value."""
    if not value:
        return "", None
    media, *params = value.split(";")
    charset = None
    for param in params:
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'") or None
    return media.strip().lower(), charset


class Fetcher:
    """GET under an address policy and limits; raises `FetchError` for every failure."""

    def __init__(self, policy: AddressPolicy, headers: Mapping[str, str] | None = None,
                 resolver: Resolver | None = None, ssl_context: ssl.SSLContext | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.headers = {"Accept-Encoding": "gzip, deflate", **(headers or {})}
        self.resolver = resolver
        self.ssl_context = ssl_context or default_ssl_context()
        self._clock = clock

    def get(self, url: str, limits: FetchLimits, before_hop: Callable[[str], None] | None = None) -> Response:
        """Fetch `url`, checking and following at most `limits.max_redirects` redirects by hand.

        `before_hop(url)` runs before each request, after the hop's address was checked (robots.txt, rate
        limits); its time does not count against the total deadline, and its exceptions propagate.
        """
        deadline = Deadline(limits.total_timeout_s, self._clock)
        target = first = parse_target(url)
        redirects: list[str] = []
        while True:
            addresses = resolve_checked(target.host, target.port, self.policy,
                                        deadline.bound(limits.connect_timeout_s, target.url), self.resolver)
            if before_hop is not None:
                started = self._clock()
                before_hop(target.url)
                deadline.extend(self._clock() - started)
            response = self._request(target, addresses, limits, deadline)
            if response.status in REDIRECT_STATUSES:
                location = response.headers.get("location")
                nxt = redirect_target(target.url, response.status, location)
                redirects.append(nxt.url)
                if len(redirects) > limits.max_redirects:
                    raise FetchError("too_many_redirects", f"redirect chain longer than {limits.max_redirects} "
                                                           f"hops starting at {mask_url(url)}")
                if nxt.url in redirects[:-1] or nxt.url in (target.url, first.url):
                    raise FetchError("redirect_loop", f"redirect loop at {mask_url(nxt.url)}")
                target = nxt
                continue
            response.requested_url = url
            response.redirects = redirects
            return response

    # ---- one request ------------------------------------------------------------------------------------
    def _connect(self, target: Target, addresses: list[IPAddress], limits: FetchLimits, deadline: Deadline,
                 watchdog: Watchdog) -> HTTPConnection:
        last: FetchError | None = None
        for ip in addresses:
            timeout = deadline.bound(limits.connect_timeout_s, target.url)
            if target.scheme == "https":
                conn: HTTPConnection = _WatchedHTTPSConnection(
                    str(ip), target.port, timeout=timeout, watchdog=watchdog, server_hostname=target.host,
                    ssl_context=self.ssl_context, cert_reqs="CERT_REQUIRED")
            else:
                conn = _WatchedHTTPConnection(str(ip), target.port, timeout=timeout, watchdog=watchdog)
            try:
                conn.connect()
                return conn
            except (SSLError, ssl.SSLError) as exc:
                conn.close()
                if watchdog.fired:  # a handshake cut by the total deadline
                    raise deadline.error(target.url) from exc
                raise FetchError("tls", f"TLS with {target.host} ({ip}) failed: {_root(exc)}") from exc
            except (NewConnectionError, ConnectionError) as exc:  # NewConnectionError subclasses the timeout
                conn.close()
                last = FetchError("connection", f"connection to {target.host} ({ip}) port {target.port} failed: "
                                                f"{_root(exc)}")
                last.__cause__ = exc
            except (ConnectTimeoutError, TimeoutError) as exc:
                conn.close()
                last = FetchError("timeout", f"could not connect to {target.host} ({ip}) within {timeout:.3g} s")
                last.__cause__ = exc
            except (HTTPError, OSError) as exc:
                conn.close()
                last = FetchError("connection", f"connection to {target.host} ({ip}) port {target.port} failed: "
                                                f"{_root(exc)}")
                last.__cause__ = exc
            if watchdog.fired:
                raise deadline.error(target.url)
        assert last is not None
        raise last

    def _request(self, target: Target, addresses: list[IPAddress], limits: FetchLimits,
                 deadline: Deadline) -> Response:
        watchdog = Watchdog()
        watchdog.arm(deadline.remaining())
        conn: HTTPConnection | None = None
        resp: urllib3.HTTPResponse | None = None
        try:
            conn = self._connect(target, addresses, limits, deadline, watchdog)
            read_timeout = deadline.bound(limits.read_timeout_s, target.url)
            conn.timeout = read_timeout
            headers = {**self.headers, "Host": target.host_header}
            try:
                conn.request("GET", target.path, headers=headers, preload_content=False, decode_content=True)
                resp = conn.getresponse()
            except (TimeoutError, ReadTimeoutError) as exc:
                if watchdog.fired:
                    raise deadline.error(target.url) from exc
                raise FetchError("timeout", f"no response from {target.host} within {read_timeout:.3g} s "
                                            f"({mask_url(target.url)})") from exc
            except (http.client.HTTPException, HTTPError, OSError) as exc:
                if watchdog.fired:
                    raise deadline.error(target.url) from exc
                reason = "bad_response" if isinstance(exc, http.client.HTTPException) and not isinstance(
                    exc, http.client.RemoteDisconnected) else "connection"
                raise FetchError(reason, f"{mask_url(target.url)}: {_root(exc)}") from exc
            response_headers = {k.lower(): v for k, v in resp.headers.items()}
            status = resp.status
            if status in REDIRECT_STATUSES:
                return Response(url=target.url, requested_url=target.url, status=status, content_type="",
                                encoding=None, body=b"", headers=response_headers)
            if status >= 400:
                raise FetchError("rate_limited" if status == 429 else f"http_{status}",
                                 f"HTTP {status} {resp.reason or ''} for {mask_url(target.url)}".replace("  ", " "),
                                 status=status, retry_after=parse_retry_after(response_headers.get("retry-after")))
            content_type, charset = _media_type(response_headers.get("content-type"))
            if limits.content_types and content_type not in limits.content_types:
                raise FetchError("content_type", f"{mask_url(target.url)} returned content type "
                                                 f"{content_type or 'none'!r}, expected one of "
                                                 f"{list(limits.content_types)}")
            body, truncated = self._read_body(resp, target, limits, deadline, watchdog)
            return Response(url=target.url, requested_url=target.url, status=status, content_type=content_type,
                            encoding=charset, body=body, headers=response_headers, truncated=truncated)
        finally:
            watchdog.close()
            if resp is not None:
                resp.close()
            if conn is not None:
                conn.close()

    @staticmethod
    def _read_body(resp: urllib3.HTTPResponse, target: Target, limits: FetchLimits, deadline: Deadline,
                   watchdog: Watchdog) -> tuple[bytes, bool]:
        url = mask_url(target.url)
        declared = resp.headers.get("Content-Length")
        if declared and declared.strip().isdigit() and int(declared) > limits.max_bytes and not limits.truncate:
            raise FetchError("too_large", f"{url} declares {int(declared)} bytes, over the {limits.max_bytes} "
                                          "byte limit")
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                chunk = resp.read(CHUNK, decode_content=True)
                if watchdog.fired:
                    raise deadline.error(target.url)
                if not chunk:
                    break
                size += len(chunk)
                if size > limits.max_bytes:
                    if limits.truncate:
                        chunks.append(chunk[: len(chunk) - (size - limits.max_bytes)])
                        return b"".join(chunks), True
                    raise FetchError("too_large", f"{url} body exceeds the {limits.max_bytes} byte limit")
                chunks.append(chunk)
        except FetchError:
            raise
        except (TimeoutError, ReadTimeoutError) as exc:
            if watchdog.fired:
                raise deadline.error(target.url) from exc
            raise FetchError("timeout", f"reading {url} stalled for {limits.read_timeout_s:g} s") from exc
        except DecodeError as exc:
            raise FetchError("bad_response", f"{url} sent a body that cannot be decoded: {_root(exc)}") from exc
        except (ProtocolError, http.client.HTTPException, HTTPError, OSError) as exc:
            if watchdog.fired:
                raise deadline.error(target.url) from exc
            raise FetchError("connection", f"reading {url} failed: {_root(exc)}") from exc
        if watchdog.fired:  # the shutdown may look like a clean end of the body
            raise deadline.error(target.url)
        return b"".join(chunks), False


def _root(exc: BaseException) -> str:
    """The innermost cause's message: urllib3 wraps socket errors two or three levels deep."""
    seen = exc
    while seen.__cause__ is not None or (seen.__context__ is not None and not seen.__suppress_context__):
        seen = seen.__cause__ or seen.__context__  # type: ignore[assignment]
    text = str(seen) or seen.__class__.__name__
    return f"{seen.__class__.__name__}: {text}" if seen is not exc else text
