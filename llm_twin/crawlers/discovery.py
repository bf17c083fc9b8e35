"""Author discovery: one link in `links:` that stands for many posts, expanded into the posts' links.

What expands (`crawl.discovery`):

- an RSS / Atom feed or a sitemap (a sitemap index is followed to its sitemaps, at most `max_sitemaps`),
  recognised by its URL (`feed_url_patterns`, `sitemap_url_patterns`) or, at any URL, by its body: a
  page crawled as an ordinary link that turns out to be a feed or a sitemap (`DiscoverableLink`);
- a Substack publication (`https://name.substack.com`, or any domain mapped to the `substack` crawler,
  at its root): its `/feed` (recent posts, with their full content) and its `/sitemap.xml` (every post,
  only `/p/` URLs kept);
- a Medium profile (`https://medium.com/@name` → `https://medium.com/feed/@name`, `https://name.medium.com`
  → `/feed`): Medium often answers page crawls with a bot check, so these entries carry the feed's full
  content for the fallback.

Every feed and sitemap is fetched with the crawl's one `HttpClient` (address policy, robots.txt, rate
limit, retries, size limit) and parsed safely (`xmlsafe`). The expansion only lists entries; crawling
them (with the feed-content fallback) and the per-source report belong to `llm_twin.collection`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from llm_twin.config.crawl import CrawlConfig
from llm_twin.crawlers.errors import CollectError
from llm_twin.crawlers.feeds import Feed, FeedEntry, parse_feed
from llm_twin.crawlers.html import normalize_url
from llm_twin.crawlers.http import Page
from llm_twin.crawlers.registry import CrawlerRegistry
from llm_twin.crawlers.sitemaps import Sitemap, SitemapEntry, parse_sitemap
from llm_twin.crawlers.xmlsafe import FEED_ROOTS, SITEMAP_ROOTS, sniff_root
from llm_twin.web import mask_url

NO_EXPANSION = frozenset({"git", "github"})  # repositories are cloned, never expanded
SUBSTACK_ITSELF = frozenset({"substack.com", "www.substack.com"})  # the platform's own site, no publication
MAX_INDEX_DEPTH = 2  # a sitemap index may list sitemap indexes once


class NotDiscoverable(Exception):
    """A link whose URL looked like a feed or sitemap answered with an ordinary page: crawl it as one."""


@dataclass(frozen=True)
class Plan:
    """What a link's URL says it is, and which documents to read for it."""

    kind: str  # "feed", "sitemap", "medium", "substack"
    documents: tuple[str, ...]
    post_prefix: str | None = None  # only sitemap URLs under this path are posts (Substack: /p/)


@dataclass(frozen=True)
class DiscoveredEntry:
    url: str  # the post's link, tracking parameters and fragment dropped (also the dedup key)
    feed: FeedEntry | None  # what the feed says about it (None for a sitemap-only entry)
    lastmod: datetime | None = None


@dataclass
class Expansion:
    source: str  # the author's link
    kind: str  # "medium", "substack", "rss", "atom", "rdf", "sitemap"
    read: list[str] = field(default_factory=list)  # the feed / sitemap URLs that were read
    entries: list[DiscoveredEntry] = field(default_factory=list)  # unique, in crawl order
    errors: list[str] = field(default_factory=list)  # parts that could not be read (the rest was used)
    excluded: int = 0  # sitemap URLs that are not posts, entries without an http(s) link


def _origin_path(link: str) -> tuple[str, str, str]:
    parts = urlsplit(link)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}", parts.path or "/", parts.query


def _path_query(url: str) -> str:
    parts = urlsplit(url)
    return ((parts.path or "/") + ("?" + parts.query if parts.query else "")).lower()


class Discoverer:
    """Recognises expandable links and lists their entries, through the registry's shared HTTP client."""

    def __init__(self, config: CrawlConfig, registry: CrawlerRegistry) -> None:
        self.config = config
        self.settings = config.discovery
        self.registry = registry
        self.client = registry.client
        self._feed = [re.compile(p) for p in self.settings.feed_url_patterns]
        self._sitemap = [re.compile(p) for p in self.settings.sitemap_url_patterns]
        self._exclude = [re.compile(p) for p in self.settings.sitemap_exclude_patterns]

    # ---- by URL -----------------------------------------------------------------------------------------
    def plan(self, link: str) -> Plan | None:
        """How to expand `link`, judged by its URL alone; None for an ordinary link (or discovery off)."""
        if not self.settings.enabled or urlsplit(link).scheme not in ("http", "https"):
            return None
        try:
            crawler, key = self.registry.rule_for(link)
        except CollectError:
            return None
        if crawler in NO_EXPANSION:
            return None
        target = _path_query(link)
        if any(p.search(target) for p in self._sitemap):
            return Plan("sitemap", (link,))
        if any(p.search(target) for p in self._feed):
            return Plan("feed", (link,))
        origin, path, query = _origin_path(link)
        prefix = "/" + key.partition("/")[2].rstrip("/") if key and "/" in key else ""
        rest = path[len(prefix):] if path.lower().startswith(prefix.lower()) else path
        segments = [s for s in rest.split("/") if s]
        host = (urlsplit(link).hostname or "").lower()
        if crawler == "medium":
            if len(segments) == 1 and segments[0].startswith("@") and not query:
                return Plan("medium", (f"{origin}{prefix}/feed/{segments[0]}",))
            domain = (key or "").partition("/")[0].split(":")[0]
            if not segments and domain and host.endswith("." + domain) and not host.startswith("www."):
                return Plan("medium", (f"{origin}{prefix}/feed",))  # name.medium.com
        if (crawler == "substack" and (not segments or segments == ["archive"]) and not query
                and host not in SUBSTACK_ITSELF):
            return Plan("substack", (f"{origin}{prefix}/feed", f"{origin}{prefix}/sitemap.xml"),
                        post_prefix=f"{prefix}/p/")
        return None

    # ---- expansion -------------------------------------------------------------------------------------
    def expand(self, link: str, plan: Plan) -> Expansion:
        """Read the plan's documents; raises `CollectError` when none could be read, `NotDiscoverable`
        when a link that only looked like a feed is an ordinary page."""
        expansion = Expansion(source=link, kind=plan.kind)
        feeds: list[Feed] = []
        pages: list[SitemapEntry] = []
        failures: list[CollectError] = []
        for url in plan.documents:
            try:
                page = self._fetch(url, page_ok=plan.kind in ("feed", "sitemap"))
                self._read(page, expansion, feeds, pages)
            except CollectError as exc:
                failures.append(exc)
                expansion.errors.append(f"{mask_url(url)}: {exc}")
        if len(failures) == len(plan.documents):
            if len(failures) == 1:
                raise failures[0]
            raise CollectError(failures[0].reason, "; ".join(expansion.errors))
        if plan.kind in ("feed", "sitemap"):
            expansion.kind = feeds[0].kind if feeds else "sitemap"
        self._collect(expansion, feeds, pages, plan.post_prefix)
        return expansion

    def expand_page(self, link: str, page: Page) -> Expansion:
        """Expand a link that was crawled as a page and answered with a feed or sitemap (no second fetch)."""
        expansion = Expansion(source=link, kind="feed")
        feeds: list[Feed] = []
        pages: list[SitemapEntry] = []
        self._read(page, expansion, feeds, pages)
        expansion.kind = feeds[0].kind if feeds else "sitemap"
        self._collect(expansion, feeds, pages, None)
        return expansion

    # ---- internals ---------------------------------------------------------------------------------------
    def _fetch(self, url: str, page_ok: bool) -> Page:
        types = list(self.settings.content_types)
        if page_ok:  # so that a page at a feed-looking URL is recognised instead of refused
            types += [t for t in self.config.allowed_content_types if t not in types]
        page = self.client.get(url, types)
        root = sniff_root(page.body)
        if root not in FEED_ROOTS | SITEMAP_ROOTS and page.content_type in self.config.allowed_content_types:
            if page_ok:
                raise NotDiscoverable(url)
            raise CollectError("not_a_feed", f"{mask_url(page.url)} is an HTML page, not a feed or a sitemap")
        return page

    def _read(self, page: Page, expansion: Expansion, feeds: list[Feed], pages: list[SitemapEntry]) -> None:
        """Parse one fetched feed or sitemap; a sitemap index is followed to its sitemaps."""
        if sniff_root(page.body) in SITEMAP_ROOTS:
            sitemap = parse_sitemap(page.body, page.url)
            expansion.read.append(page.url)
            expansion.excluded += sitemap.skipped
            pages.extend(self._sitemap_pages(sitemap, expansion, depth=1, budget=[self.settings.max_sitemaps]))
        else:
            feed = parse_feed(page.body, page.url, page.content_type)
            expansion.read.append(page.url)
            expansion.excluded += feed.skipped
            feeds.append(feed)

    def _sitemap_pages(self, sitemap: Sitemap, expansion: Expansion, depth: int,
                       budget: list[int]) -> list[SitemapEntry]:
        if sitemap.kind == "urlset":
            return list(sitemap.entries)
        found: list[SitemapEntry] = []
        for n, child in enumerate(sitemap.entries):
            if budget[0] <= 0:
                left = len(sitemap.entries) - n
                expansion.errors.append(f"{left} more sitemap(s) not read: over crawl.discovery.max_sitemaps="
                                        f"{self.settings.max_sitemaps}")
                break
            budget[0] -= 1
            try:
                page = self._fetch(child.loc, page_ok=False)
                if sniff_root(page.body) not in SITEMAP_ROOTS:
                    raise CollectError("not_a_sitemap", f"{mask_url(page.url)} is listed in a sitemap index "
                                                        "but is not a sitemap")
                nested = parse_sitemap(page.body, page.url)
            except CollectError as exc:
                expansion.errors.append(f"{mask_url(child.loc)}: {exc}")
                continue
            expansion.read.append(page.url)
            expansion.excluded += nested.skipped
            if nested.kind == "sitemapindex" and depth >= MAX_INDEX_DEPTH:
                expansion.errors.append(f"{mask_url(page.url)}: sitemap indexes nested deeper than "
                                        f"{MAX_INDEX_DEPTH} levels are not followed")
                continue
            found.extend(self._sitemap_pages(nested, expansion, depth + 1, budget))
        return found

    def _is_post(self, url: str, post_prefix: str | None) -> bool:
        if post_prefix is not None:
            return urlsplit(url).path.lower().startswith(post_prefix.lower())
        target = _path_query(url)
        return not any(p.search(target) for p in self._exclude)

    def _collect(self, expansion: Expansion, feeds: list[Feed], pages: list[SitemapEntry],
                 post_prefix: str | None) -> None:
        """Feed entries first (feed order: newest first), then sitemap-only pages, newest `lastmod` first;
        each post once (by its normalized URL)."""
        entries: dict[str, DiscoveredEntry] = {}
        for feed in feeds:
            for item in feed.entries:
                url = normalize_url(item.link)
                if url not in entries:
                    entries[url] = DiscoveredEntry(url=url, feed=item, lastmod=item.published)
        dated = sorted(pages, key=lambda p: p.lastmod or datetime.min.replace(tzinfo=UTC), reverse=True)
        for listed in dated:
            url = normalize_url(listed.loc)
            if url in entries:
                continue
            if not self._is_post(url, post_prefix):
                expansion.excluded += 1
                continue
            entries[url] = DiscoveredEntry(url=url, feed=None, lastmod=listed.lastmod)
        expansion.entries = list(entries.values())

