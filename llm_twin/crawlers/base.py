"""What a crawler is: one link in, one validated warehouse document out (or a `CollectError`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from pydantic import ValidationError

from llm_twin.config.crawl import CrawlConfig
from llm_twin.crawlers.errors import CollectError
from llm_twin.crawlers.html import canonical_url, normalize_url, parse_html
from llm_twin.crawlers.http import HttpClient, Page
from llm_twin.domain.documents import Article, Document, User


class Crawler(ABC):
    """Turns one link into one document; never writes anything itself."""

    name: str = "base"

    def __init__(self, config: CrawlConfig, client: HttpClient | None = None) -> None:
        self.config = config
        self.client = client or HttpClient(config)

    @abstractmethod
    def crawl(self, link: str, author: User) -> Document: ...


class HtmlCrawler(Crawler):
    """Fetch → parse → `extract`; the stored link is the page's canonical URL (or the final URL)."""

    platform: str = "web"

    def crawl(self, link: str, author: User) -> Document:
        page = self.client.get(link)
        soup = parse_html(page.body)
        if soup.find() is None:
            raise CollectError("parse", f"{page.url} returned no parseable HTML")
        stored_link = self.stored_link(soup, page)
        try:
            return self.extract(soup, page, stored_link, author)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise CollectError("invalid_document", f"{link}: {first.get('loc')} {first.get('msg')}") from exc

    def stored_link(self, soup: BeautifulSoup, page: Page) -> str:
        canonical = canonical_url(soup, page.url)
        # A canonical URL on another site (syndication) would merge unrelated links; keep ours then.
        if canonical and urlsplit(canonical).hostname == urlsplit(page.url).hostname:
            return normalize_url(canonical)
        return normalize_url(page.url)

    @abstractmethod
    def extract(self, soup: BeautifulSoup, page: Page, link: str, author: User) -> Document: ...

    def require_text(self, text: str, url: str, what: str = "article body") -> str:
        if len(text.strip()) < self.config.min_text_chars:
            raise CollectError(
                "no_content",
                f"no {what} found in {url} ({len(text.strip())} characters of text, "
                f"need {self.config.min_text_chars}); the page may be malformed, paywalled or need a login",
            )
        return text

    def article(self, link: str, author: User, title: str, subtitle: str, text: str,
                published: datetime | None) -> Article:
        """The article document every HTML article crawler ends with (platform and author filled in)."""
        return Article(
            platform=self.platform,
            link=link,
            author_id=author.id,
            author_full_name=author.full_name,
            content={"title": title, "subtitle": subtitle, "text": text},
            published_at=published,
        )
