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
)

__all__ = [
    "CollectionReport",
    "ItemResult",
    "ItemStatus",
    "NothingCollectedError",
    "SkippedEntry",
    "collect_author",
    "collect_exports",
    "collect_links",
    "collect_part",
    "collect_repositories",
    "ensure_collected",
]
