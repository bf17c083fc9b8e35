"""The one error type of the HTTP fetcher: a stable `reason` code plus a message that names the cause.

Every failure of a fetch (a bad URL, a refused address, a malformed redirect, a timeout, a body that is
too large, an HTTP error status...) is a `FetchError`, so callers map one type to their own errors: the
crawler to a per-link `CollectError`, URL grounding to a 400 or a 422. Reason codes:

- `bad_url`            the URL is not an absolute http(s) URL with a valid host and port (or has credentials)
- `private_address`    the host resolves to an address the policy refuses (loopback, private, metadata...)
- `dns`                the host name cannot be resolved
- `bad_redirect`       a redirect without a Location, or to a malformed / non-http(s) Location
- `too_many_redirects`, `redirect_loop`
- `timeout`            connect, read (no progress) or total deadline exceeded
- `connection`         connection refused / reset / closed early
- `tls`                TLS handshake or certificate verification failed
- `bad_response`       the server sent something that is not valid HTTP (or a broken compressed body)
- `content_type`       the response's content type is not an allowed one
- `too_large`          the body (declared or streamed) is over the size limit
- `http_<status>`      an HTTP error status (`rate_limited` for 429)
"""

from __future__ import annotations

# Reasons that say "the request is not allowed" rather than "the fetch failed".
REFUSED_REASONS = frozenset({"bad_url", "private_address"})


class FetchError(Exception):
    """A fetch failed; `reason` is a stable code, `message` a sentence naming the cause and the URL.

    `status` and `retry_after` are set for HTTP error statuses; `transient` is set by the retry layer for
    failures worth another attempt (timeouts, connection errors, retryable statuses).
    """

    def __init__(self, reason: str, message: str, *, status: int | None = None,
                 retry_after: float | None = None, transient: bool = False) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.transient = transient

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"

    @property
    def refused(self) -> bool:
        """True when the request itself is not allowed (a client error), not a failure of the remote side."""
        return self.reason in REFUSED_REASONS
