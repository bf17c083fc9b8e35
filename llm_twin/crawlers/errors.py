"""One error type for everything that can go wrong while collecting one source.

A collection run reports failures per link / per export entry, so each error carries a short, stable
`reason` code (for counts and metadata) and a human message that names the cause.
"""

from __future__ import annotations


class CollectError(Exception):
    """A source could not be collected; `reason` is a stable code such as `http_404` or `timeout`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"
