"""Steps of the `etl` pipeline: author → links / exports / repositories → summary.

Thin wrappers over `llm_twin.collection`: each runs one part of the collection and logs counts,
per-platform numbers and failure reasons as metadata.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from zenml import log_metadata, step

from llm_twin.collection import CollectionReport, collect_part, ensure_collected
from llm_twin.config import AuthorConfig, CrawlConfig, InfraConfig
from llm_twin.connections import Connections
from llm_twin.domain.documents import User
from llm_twin.warehouse import Warehouse


def _run_part(part: Literal["links", "exports", "repositories"], author: AuthorConfig, crawl: CrawlConfig,
              infra: InfraConfig, user: dict[str, Any]) -> dict[str, Any]:
    with Warehouse(Connections.of(infra)) as warehouse:
        report = collect_part(part, author, User(**user), crawl, warehouse)
    log_metadata(metadata={"part": part, "sources": len(report.items), **report.metadata()})
    return report.model_dump(mode="json")


@step
def get_or_create_author(author: AuthorConfig, infra: InfraConfig) -> Annotated[dict[str, Any], "author_user"]:
    """Find the author in the warehouse by full name, or create them."""
    with Warehouse(Connections.of(infra)) as warehouse:
        warehouse.ensure_indexes()
        user = warehouse.get_or_create_user(author.full_name)
    log_metadata(metadata={"author": user.full_name, "author_id": user.id, "links": len(author.links),
                           "exports": len(author.exports), "repositories": len(author.repositories)})
    return user.model_dump()


@step
def crawl_links(author: AuthorConfig, crawl: CrawlConfig, infra: InfraConfig,
                user: dict[str, Any]) -> Annotated[dict[str, Any], "link_results"]:
    """Crawl every configured link (domain → crawler map, generic fallback) into the warehouse."""
    return _run_part("links", author, crawl, infra, user)


@step
def import_exports(author: AuthorConfig, crawl: CrawlConfig, infra: InfraConfig,
                   user: dict[str, Any]) -> Annotated[dict[str, Any], "export_results"]:
    """Import the platforms' data exports (Medium, Substack, LinkedIn, Markdown) into the warehouse."""
    return _run_part("exports", author, crawl, infra, user)


@step
def crawl_repositories(author: AuthorConfig, crawl: CrawlConfig, infra: InfraConfig,
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
