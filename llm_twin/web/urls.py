"""URL checks shared by every fetch: what may be requested, where a redirect goes, what may be logged.

A URL is accepted only as an absolute http(s) URL with a syntactically valid host and port and without
credentials; anything else is a `bad_url` (or `bad_redirect` when it came from a `Location` header), never
an exception from deep inside an HTTP library. `mask_url` / `mask_secrets` remove the userinfo of URLs
(`https://user:token@host/...` → `https://***@host/...`) before they reach a log line or an error.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from llm_twin.web.errors import FetchError

DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_HOST_LABELS = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_USERINFO = re.compile(r"(?<=://)[^/\s@'\"]+@")
# Characters a Location header may carry unencoded (RFC 3986 reserved + unreserved + '%').
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~-._"


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (host, port), what to send (Host header, request target)."""

    url: str
    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal without brackets
    port: int
    path: str  # request target: path + query

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host_header}"


def mask_url(url: str) -> str:
    """The URL without its credentials (`https://***@host/...`), safe for logs and error messages."""
    return _USERINFO.sub("***@", url)


def mask_secrets(text: str) -> str:
    """`text` with the userinfo of every URL in it masked (git and curl echo clone URLs in their errors)."""
    return _USERINFO.sub("***@", text)


def _ascii_host(host: str, url: str, reason: str) -> str:
    host = host.rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise FetchError(reason, f"{mask_url(url)!r} has an invalid host name {host!r}: {exc}") from exc
    if not ascii_host or len(ascii_host) > 253 or not all(_HOST_LABELS.match(p) for p in ascii_host.split(".")):
        raise FetchError(reason, f"{mask_url(url)!r} has an invalid host name {host!r}")
    return ascii_host


def parse_target(url: str, reason: str = "bad_url") -> Target:
    """Check `url` and split it into what a connection needs; `reason` is the error code on failure."""
    if not isinstance(url, str) or not url.strip():
        raise FetchError(reason, "empty URL")
    url = url.strip()
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):
        raise FetchError(reason, f"{mask_url(url)!r} contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", non-numeric port
        raise FetchError(reason, f"{mask_url(url)!r} is not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise FetchError(reason, f"only http(s) URLs are fetched, got {scheme + ':' if scheme else 'no scheme'} "
                                 f"in {mask_url(url)!r}")
    if not parts.hostname:
        raise FetchError(reason, f"{mask_url(url)!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise FetchError(reason, f"{mask_url(url)!r} carries credentials; they are never sent")
    host = _ascii_host(parts.hostname, url, reason)
    if port == 0:
        raise FetchError(reason, f"{mask_url(url)!r} has port 0")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    clean = urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, ""))
    return Target(url=clean, scheme=scheme, host=host, port=port or DEFAULT_PORTS[scheme], path=path)


def redirect_target(current: str, status: int, location: str | None) -> Target:
    """Where a 3xx response points, checked like any URL; a malformed Location is a `bad_redirect`."""
    if location is None or not location.strip():
        raise FetchError("bad_redirect", f"HTTP {status} without a Location header at {mask_url(current)}")
    raw = location.strip()
    try:  # http.client decodes header bytes as latin-1; servers send UTF-8
        raw = raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    if any(ord(c) < 0x20 or c == "\x7f" for c in raw):
        raise FetchError("bad_redirect", f"{mask_url(current)} redirected to a Location with control characters")
    try:
        absolute = urljoin(current, quote(raw, safe=_URL_SAFE))
    except ValueError as exc:
        raise FetchError("bad_redirect", f"{mask_url(current)} redirected to a malformed Location "
                                         f"{mask_url(location)!r}: {exc}") from exc
    try:
        return parse_target(absolute, reason="bad_redirect")
    except FetchError as exc:
        raise FetchError("bad_redirect", f"{mask_url(current)} redirected to {mask_url(location)!r}, which is "
                                         f"not followed: {exc.message}") from exc
