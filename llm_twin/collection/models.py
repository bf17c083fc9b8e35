"""What one author's collection run hands back.

`CollectionReport`: one `ItemResult` per link / export entry / repository (with the failure reason when
it failed), the input that was skipped because it could not be parsed at all (malformed or oversized CSV
rows of an export), counts per status and per platform, and a plain-text summary table.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from llm_twin.domain.documents import utc_now


class ItemStatus(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


class ItemResult(BaseModel):
    """What happened to one source item."""

    source: str  # the link, "export:<kind>:<entry>", or the repository folder
    origin: str  # "link", "export:<kind>", "repository"
    status: ItemStatus
    crawler: str | None = None
    data_type: str | None = None
    platform: str | None = None
    link: str | None = None
    document_id: str | None = None
    reason: str | None = None  # stable failure code (http_404, timeout, robots_disallowed, ...)
    error: str | None = None  # human message naming the cause
    seconds: float = 0.0


class SkippedEntry(BaseModel):
    """A piece of an export that could not be parsed into an entry (e.g. a CSV row); the rest was imported."""

    source: str  # "export:<kind>:<path>/<file>:<row>"
    origin: str
    reason: str
    error: str


class CollectionReport(BaseModel):
    author: str
    author_id: str
    started_at: datetime = Field(default_factory=utc_now)
    duration_s: float = 0.0
    items: list[ItemResult] = Field(default_factory=list)
    skipped: list[SkippedEntry] = Field(default_factory=list)

    SKIPPED_EXAMPLES: ClassVar[int] = 5

    @property
    def collected(self) -> int:
        return sum(1 for i in self.items if i.status is not ItemStatus.FAILED)

    def counts(self) -> dict[str, int]:
        counter = Counter(i.status.value for i in self.items)
        return {s.value: counter.get(s.value, 0) for s in ItemStatus}

    def per_platform(self) -> dict[str, dict[str, int]]:
        """{"<platform>/<data_type>": {"new": n, "updated": n, "unchanged": n}} for stored documents."""
        table: dict[str, dict[str, int]] = {}
        for item in self.items:
            if item.status is ItemStatus.FAILED:
                continue
            row = table.setdefault(f"{item.platform}/{item.data_type}", {s.value: 0 for s in ItemStatus if s != ItemStatus.FAILED})
            row[item.status.value] += 1
        return dict(sorted(table.items()))

    def failures(self) -> list[dict[str, str]]:
        return [
            {"source": i.source, "reason": i.reason or "error", "error": i.error or ""}
            for i in self.items
            if i.status is ItemStatus.FAILED
        ]

    def failure_reasons(self) -> dict[str, int]:
        return dict(Counter(i.reason or "error" for i in self.items if i.status is ItemStatus.FAILED))

    def skipped_summary(self) -> dict[str, Any]:
        """How much input was skipped, why, and the first few examples (each naming file and row)."""
        return {
            "count": len(self.skipped),
            "reasons": dict(Counter(s.reason for s in self.skipped)),
            "examples": [f"{s.source}: {s.error}" for s in self.skipped[: self.SKIPPED_EXAMPLES]],
        }

    def metadata(self) -> dict[str, Any]:
        """Flat, JSON-able numbers for ZenML step metadata."""
        return {
            "author": self.author,
            "counts": self.counts(),
            "documents_per_platform": {k: sum(v.values()) for k, v in self.per_platform().items()},
            "per_platform": self.per_platform(),
            "failure_reasons": self.failure_reasons(),
            "failures": self.failures()[:50],
            "skipped": self.skipped_summary(),
            "duration_s": round(self.duration_s, 2),
        }

    def merge(self, other: CollectionReport) -> CollectionReport:
        return CollectionReport(
            author=self.author,
            author_id=self.author_id,
            started_at=min(self.started_at, other.started_at),
            duration_s=self.duration_s + other.duration_s,
            items=[*self.items, *other.items],
            skipped=[*self.skipped, *other.skipped],
        )

    def summary_table(self) -> str:
        """A fixed-width table: one row per platform/type, a total row, then each failure with its cause."""
        header = f"{'platform/type':<28}{'new':>6}{'updated':>9}{'unchanged':>11}"
        lines = [f"Collection summary for {self.author} ({self.duration_s:.1f} s)", header, "-" * len(header)]
        totals = {"new": 0, "updated": 0, "unchanged": 0}
        for key, row in self.per_platform().items():
            lines.append(f"{key:<28}{row['new']:>6}{row['updated']:>9}{row['unchanged']:>11}")
            for k in totals:
                totals[k] += row[k]
        lines.append("-" * len(header))
        lines.append(f"{'total':<28}{totals['new']:>6}{totals['updated']:>9}{totals['unchanged']:>11}")
        failures = self.failures()
        lines.append(f"failed: {len(failures)}")
        for failure in failures:
            lines.append(f"  ✗ {failure['source']}  [{failure['reason']}] {failure['error']}")
        if self.skipped:
            lines.append(f"skipped (unparseable input, the rest of each export was imported): {len(self.skipped)}")
            for entry in self.skipped[: self.SKIPPED_EXAMPLES]:
                lines.append(f"  – {entry.source}  [{entry.reason}] {entry.error}")
            if len(self.skipped) > self.SKIPPED_EXAMPLES:
                lines.append(f"  … and {len(self.skipped) - self.SKIPPED_EXAMPLES} more")
        return "\n".join(lines)


class NothingCollectedError(RuntimeError):
    """Raised when a run stored (or confirmed) no document at all: every source failed or none was given."""
