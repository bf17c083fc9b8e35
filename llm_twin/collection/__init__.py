"""Orchestration of one author's collection run (crawl / import → warehouse) with per-source results."""

from llm_twin.collection.collector import (
    collect_author,
    collect_exports,
    collect_links,
    collect_part,
    collect_repositories,
    ensure_collected,
)
from llm_twin.collection.models import (
    CollectionReport,
    ItemResult,
    ItemStatus,
    NothingCollectedError,
    SkippedEntry,
    SourceResult,
)

__all__ = [
    "CollectionReport",
    "ItemResult",
    "ItemStatus",
    "NothingCollectedError",
    "SkippedEntry",
    "SourceResult",
    "collect_author",
    "collect_exports",
    "collect_links",
    "collect_part",
    "collect_repositories",
    "ensure_collected",
]
