"""Steps of the `etl` pipeline: author → links / exports / repositories → summary.

Thin wrappers over `llm_twin.collection`: each converts its plain-dict params into validated models,
runs one part of the collection, and logs counts, per-platform numbers and failure reasons as metadata.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from zenml import log_metadata, step

from llm_twin.collection import AuthorConfig, CollectionReport, collect_part, ensure_collected
from llm_twin.crawlers import CrawlConfig
from llm_twin.domain.documents import User
from llm_twin.settings import Connections
from llm_twin.warehouse import Warehouse

log = logging.getLogger(__name__)


def _warehouse(infra: dict[str, Any]) -> Warehouse:
    return Warehouse.from_connections(Connections.from_config(infra))


def _run_part(part: str, author: dict[str, Any], crawl: dict[str, Any] | None, infra: dict[str, Any],
              user: dict[str, Any]) -> dict[str, Any]:
    with _warehouse(infra) as warehouse:
        report = collect_part(part, AuthorConfig.from_config(author), User(**user), CrawlConfig.from_config(crawl),
                              warehouse)
    log_metadata(metadata={"part": part, "sources": len(report.items), **report.metadata()})
    return report.model_dump(mode="json")


@step
def get_or_create_author(author: dict[str, Any], infra: dict[str, Any]) -> Annotated[dict[str, Any], "author_user"]:
    """Find the author in the warehouse by full name, or create them."""
    config = AuthorConfig.from_config(author)
    with _warehouse(infra) as warehouse:
        warehouse.ensure_indexes()
        user = warehouse.get_or_create_user(config.full_name)
    log_metadata(metadata={"author": user.full_name, "author_id": user.id, "links": len(config.links),
                           "exports": len(config.exports), "repositories": len(config.repositories)})
    return user.model_dump()


@step
def crawl_links(author: dict[str, Any], crawl: dict[str, Any], infra: dict[str, Any],
                user: dict[str, Any]) -> Annotated[dict[str, Any], "link_results"]:
    """Crawl every configured link (domain → crawler map, generic fallback) into the warehouse."""
    return _run_part("links", author, crawl, infra, user)


@step
def import_exports(author: dict[str, Any], infra: dict[str, Any],
                   user: dict[str, Any]) -> Annotated[dict[str, Any], "export_results"]:
    """Import the platforms' data exports (Medium, Substack, LinkedIn, Markdown) into the warehouse."""
    return _run_part("exports", author, None, infra, user)


@step
def crawl_repositories(author: dict[str, Any], crawl: dict[str, Any], infra: dict[str, Any],
                       user: dict[str, Any]) -> Annotated[dict[str, Any], "repository_results"]:
    """Publish local code folders as git repositories and crawl them with a shallow clone."""
    return _run_part("repositories", author, crawl, infra, user)


@step
def summarize_collection(links: dict[str, Any], exports: dict[str, Any],
                         repositories: dict[str, Any]) -> Annotated[str, "etl_summary"]:
    """Merge the parts, log the run's metadata, print the summary table; fail only if nothing was collected."""
    report = CollectionReport.model_validate(links)
    for part in (exports, repositories):
        report = report.merge(CollectionReport.model_validate(part))
    table = report.summary_table()
    log_metadata(metadata=report.metadata())
    print(table, flush=True)
    ensure_collected(report)
    return table
