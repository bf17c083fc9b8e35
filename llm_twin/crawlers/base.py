"""What a crawler is: one link in, one validated warehouse document out (or a `CollectError`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag
from pydantic import ValidationError

from llm_twin.config.crawl import CrawlConfig
from llm_twin.crawlers.errors import CollectError
from llm_twin.crawlers.feeds import FeedEntry
from llm_twin.crawlers.html import (
    canonical_url,
    clean_text,
    html_to_markdown,
    normalize_url,
    parse_html,
    strip_noise,
)
from llm_twin.crawlers.http import HttpClient, Page
from llm_twin.crawlers.xmlsafe import is_feed_or_sitemap, sniff_root
from llm_twin.domain.documents import Article, Document, User

HEADINGS = ("h1", "h2", "h3", "h4")


class DiscoverableLink(CollectError):
    """The link answered with a feed or a sitemap, not a page: the collector expands it instead of failing.

    Carries the fetched page, so expanding it costs no second request."""

    def __init__(self, page: Page) -> None:
        super().__init__("discoverable", f"{page.url} is a feed or a sitemap, not a page")
        self.page = page


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

    #: Medium's feed content starts with the title and the subtitle as headings (`<h3>`, `<h4>`).
    subtitle_heading_in_feed: bool = False

    def accepted_types(self) -> list[str]:
        """Page types, plus feed and sitemap types when discovery is on (a feed at any URL is found)."""
        types = list(self.config.allowed_content_types)
        if self.config.discovery.enabled:
            types += [t for t in self.config.discovery.content_types if t not in types]
        return types

    def crawl(self, link: str, author: User) -> Document:
        page = self.client.get(link, self.accepted_types())
        if self.config.discovery.enabled:
            if is_feed_or_sitemap(page.body):
                raise DiscoverableLink(page)
            if page.content_type not in self.config.allowed_content_types:
                raise CollectError("content_type", f"{page.url} returned {page.content_type!r} with a "
                                                   f"<{sniff_root(page.body) or '?'}> root: neither a page, "
                                                   "a feed nor a sitemap")
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

    def clean_feed_content(self, body: Tag) -> Tag:
        """Remove the platform's own call-to-action blocks from a feed's content (as from its pages)."""
        return body

    def from_feed(self, entry: FeedEntry, author: User) -> Article:
        """The article as the feed carries it (content:encoded / Atom content), for a page that cannot be
        fetched; stored under the entry's link, tracking parameters dropped."""
        link = normalize_url(entry.link)
        if not entry.content_html:
            raise CollectError("no_feed_content", f"the feed has no full content for {link} (only a summary)")
        soup = parse_html(entry.content_html)
        body = self.clean_feed_content(strip_noise(soup.body or soup))
        title, subtitle = entry.title, entry.summary
        first = body.find(True)
        if first is not None and first.name in HEADINGS and clean_text(first.get_text(" ")) == title:
            following = first.find_next_sibling(True)
            first.decompose()  # the title is stored separately
            if (self.subtitle_heading_in_feed and not subtitle and following is not None
                    and following.name in HEADINGS):
                subtitle = clean_text(following.get_text(" "))
                following.decompose()
        text = self.require_text(html_to_markdown(body), link, "article text in the feed's content")
        try:
            return self.article(link, author, title, subtitle, text, entry.published)
        except ValidationError as exc:
            first_error = exc.errors()[0]
            raise CollectError("invalid_document",
                               f"{link}: {first_error.get('loc')} {first_error.get('msg')}") from exc
