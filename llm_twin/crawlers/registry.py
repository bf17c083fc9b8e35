"""Which crawler handles a link: the configurable domain → crawler map, generic crawler as fallback."""

from __future__ import annotations

from urllib.parse import urlsplit

from llm_twin.config.crawl import CrawlConfig
from llm_twin.crawlers.base import Crawler
from llm_twin.crawlers.errors import CollectError
from llm_twin.crawlers.generic import GenericArticleCrawler
from llm_twin.crawlers.github import GitRepositoryCrawler
from llm_twin.crawlers.http import HttpClient
from llm_twin.crawlers.linkedin import LinkedInCrawler
from llm_twin.crawlers.medium import MediumCrawler
from llm_twin.crawlers.substack import SubstackCrawler

CRAWLER_CLASSES: dict[str, type[Crawler]] = {
    "medium": MediumCrawler,
    "substack": SubstackCrawler,
    "linkedin": LinkedInCrawler,
    "github": GitRepositoryCrawler,
    "git": GitRepositoryCrawler,
    "generic": GenericArticleCrawler,
}


class CrawlerRegistry:
    """Builds each crawler once, sharing one HTTP client (so rate limits and robots.txt are shared)."""

    def __init__(self, config: CrawlConfig, client: HttpClient | None = None) -> None:
        unknown = {v for v in [*config.crawlers.values(), config.default_crawler] if v not in CRAWLER_CLASSES}
        if unknown:
            raise ValueError(f"unknown crawler(s) {sorted(unknown)} in crawl config; known: {sorted(CRAWLER_CLASSES)}")
        self.config = config
        self.client = client or HttpClient(config)
        self._instances: dict[str, Crawler] = {}

    def name_for(self, link: str) -> str:
        """Crawler name for a link: the longest matching key of `crawl.crawlers`, else the default.

        A key is a domain (matching itself and its subdomains, e.g. `medium.com` matches
        `towardsdatascience.medium.com`), optionally with a port and a path prefix
        (`example.com/blog`, `127.0.0.1:8080/medium`) for sites that host several kinds of pages.
        """
        return self.rule_for(link)[0]

    def rule_for(self, link: str) -> tuple[str, str | None]:
        """(crawler name, the matching `crawl.crawlers` key or None when the default applies)."""
        parts = urlsplit(link)
        if parts.scheme == "file" or link.endswith(".git"):
            return "git", None
        host = (parts.hostname or "").lower()
        if not host:
            raise CollectError("bad_url", f"{link!r} is not an absolute URL")
        netloc = parts.netloc.lower().rsplit("@", 1)[-1]
        path = parts.path or "/"
        matches = []
        for key in self.config.crawlers:
            domain, _, prefix = key.lower().partition("/")
            host_ok = netloc == domain if ":" in domain else (host == domain or host.endswith("." + domain))
            if host_ok and (not prefix or path.startswith("/" + prefix)):
                matches.append(key)
        if not matches:
            return self.config.default_crawler, None
        key = max(matches, key=len)
        return self.config.crawlers[key], key

    def get(self, link: str) -> Crawler:
        name = self.name_for(link)
        if name not in self._instances:
            self._instances[name] = CRAWLER_CLASSES[name](self.config, self.client)
        return self._instances[name]

    def close(self) -> None:
        self.client.close()
