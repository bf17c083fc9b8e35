"""What one author's collection run hands back.

`CollectionReport`: one `ItemResult` per link / export entry / repository / discovered post (with the
failure reason when it failed), one `SourceResult` per discovered source (a feed, sitemap, Substack
publication or Medium profile and what became of its entries), the input that was skipped because it
could not be parsed at all (malformed or oversized CSV rows of an export), counts per status and per
platform, and a plain-text summary table.
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
    discovered_from: str | None = None  # the feed / sitemap / profile link this post was found in
    from_feed: bool = False  # stored from the feed's own content (the page was not used)
    note: str | None = None  # why the page was not used, for a post stored from the feed


class SourceResult(BaseModel):
    """One discovered source (a feed, a sitemap, a Substack publication, a Medium profile) and its entries."""

    source: str  # the author's link
    kind: str  # medium, substack, rss, atom, rdf, sitemap
    read: list[str] = Field(default_factory=list)  # the feed / sitemap URLs read
    found: int = 0  # unique entries listed
    crawled: int = 0  # stored from their page
    from_feed: int = 0  # stored from the feed's content (page not fetchable, or feed_content: prefer)
    failed: int = 0
    over_limit: int = 0  # not crawled: past crawl.discovery.max_entries
    duplicates: int = 0  # already collected in this run (listed as a link, or in an earlier source)
    excluded: int = 0  # sitemap URLs that are not posts, entries without an http(s) link
    errors: list[str] = Field(default_factory=list)  # parts that could not be read (the source itself, or a child)


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
    sources: list[SourceResult] = Field(default_factory=list)

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
            "discovered": [{**s.model_dump(), "read": s.read[:10], "errors": s.errors[:10]} for s in self.sources],
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
            sources=[*self.sources, *other.sources],
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
        lines.extend(self.sources_table())
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


    def sources_table(self) -> list[str]:
        """One row per discovered source: entries found, crawled, from the feed, failed, over the limit."""
        if not self.sources:
            return []
        head = (f"  {'discovered source':<48}{'kind':>9}{'found':>7}{'crawled':>9}{'from_feed':>11}"
                f"{'failed':>8}{'over_limit':>12}{'duplicates':>12}")
        lines = [f"discovered sources: {len(self.sources)}", head]
        for s in self.sources:
            name = s.source if len(s.source) <= 46 else "…" + s.source[-45:]
            lines.append(f"  {name:<48}{s.kind:>9}{s.found:>7}{s.crawled:>9}{s.from_feed:>11}{s.failed:>8}"
                         f"{s.over_limit:>12}{s.duplicates:>12}")
            for error in s.errors[: self.SKIPPED_EXAMPLES]:
                lines.append(f"    ! {error}")
        return lines


class NothingCollectedError(RuntimeError):
    """Raised when a run stored (or confirmed) no document at all: every source failed or none was given."""
