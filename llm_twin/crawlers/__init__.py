"""Crawlers: one link → one validated warehouse document, under polite and bounded HTTP/git access."""

from llm_twin.crawlers.errors import CollectError
from llm_twin.crawlers.registry import CrawlerRegistry

__all__ = ["CollectError", "CrawlerRegistry"]
