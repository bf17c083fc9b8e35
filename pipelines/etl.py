"""`etl`: collect one author's content (links, exports, code) into the MongoDB warehouse."""

from __future__ import annotations

from zenml import pipeline

from llm_twin.config import AuthorConfig, CrawlConfig, InfraConfig
from steps.etl import (
    crawl_links,
    crawl_repositories,
    get_or_create_author,
    import_exports,
    summarize_collection,
)


@pipeline
def etl_pipeline(author: AuthorConfig, crawl: CrawlConfig, infra: InfraConfig) -> None:
    user = get_or_create_author(author, infra)
    summarize_collection(
        links=crawl_links(author, crawl, infra, user),
        exports=import_exports(author, crawl, infra, user),
        repositories=crawl_repositories(author, crawl, infra, user),
    )
