"""Orchestration of one author's collection run (crawl / import → warehouse) with per-source results."""

from llm_twin.collection.models import (
    AuthorConfig,
    CollectionReport,
    ItemResult,
    ItemStatus,
    LocalRepository,
    NothingCollectedError,
    SkippedEntry,
)
from llm_twin.collection.runner import (
    collect_author,
    collect_exports,
    collect_links,
    collect_part,
    collect_repositories,
    ensure_collected,
)

__all__ = [
    "AuthorConfig",
    "CollectionReport",
    "ItemResult",
    "ItemStatus",
    "LocalRepository",
    "NothingCollectedError",
    "SkippedEntry",
    "collect_author",
    "collect_exports",
    "collect_links",
    "collect_part",
    "collect_repositories",
    "ensure_collected",
]
