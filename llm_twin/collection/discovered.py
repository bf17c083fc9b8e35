"""Collecting what a discovered source lists (a feed, a sitemap, a Substack publication, a Medium profile).

Each post is crawled once per run, like a link: same crawler map, robots.txt, rate limits, retries and
size limits (the registry's one HTTP client). When its page cannot be used — an HTTP error such as
Medium's bot check (403), a timeout, robots.txt disallowing it, a page without article text — and the
feed carries the post's full content (RSS `content:encoded`, Atom `<content>`), the post is stored from
the feed instead (`crawl.discovery.feed_content: fallback`; `prefer` skips the page, `never` turns the
fallback off). A post whose link the address policy refuses is never stored, not even from the feed.
At most `crawl.discovery.max_entries` posts of one source are taken; the rest are reported as over the
limit. Re-running changes nothing: documents are upserted by link and content hash.
"""

from __future__ import annotations

import logging
import time

from tqdm.auto import tqdm

from llm_twin.collection.models import ItemResult, ItemStatus, SourceResult
from llm_twin.collection.results import failed, stored
from llm_twin.crawlers.base import DiscoverableLink, HtmlCrawler
from llm_twin.crawlers.discovery import DiscoveredEntry, Discoverer, Expansion, NotDiscoverable, Plan
from llm_twin.crawlers.errors import CollectError
from llm_twin.crawlers.http import Page
from llm_twin.domain.documents import Document, User
from llm_twin.warehouse import Warehouse
from llm_twin.web import mask_secrets, mask_url
from llm_twin.web.errors import REFUSED_REASONS

log = logging.getLogger(__name__)


def expand_source(discoverer: Discoverer, link: str, plan: Plan | None, page: Page | None, author: User,
                  warehouse: Warehouse, seen: set[str], progress: bool = True
                  ) -> tuple[list[ItemResult], SourceResult | None]:
    """Expand one source and collect its posts; `seen` holds what this run already collected (updated).

    A source that cannot be read at all is one failed item (and a source row naming the error); a link
    that only looked like a feed is crawled as the page it is (no source row)."""
    started = time.monotonic()
    shown = mask_url(link)
    try:
        if plan is not None:
            expansion = discoverer.expand(link, plan)
        elif page is not None:
            expansion = discoverer.expand_page(link, page)
        else:
            raise ValueError("expand_source needs a plan or a fetched page")
    except NotDiscoverable:
        return [_crawl_as_page(discoverer, link, author, warehouse)], None
    except CollectError as exc:
        kind = plan.kind if plan is not None else "feed"
        item = failed(shown, "link", exc, "discovery", started)
        return [item], SourceResult(source=shown, kind=kind, failed=0, errors=[str(exc)])
    return collect_entries(discoverer, expansion, author, warehouse, seen, progress)


def _crawl_as_page(discoverer: Discoverer, link: str, author: User, warehouse: Warehouse) -> ItemResult:
    started = time.monotonic()
    crawler = discoverer.registry.get(link)
    try:
        document = crawler.crawl(link, author)
    except DiscoverableLink:
        return failed(mask_url(link), "link", CollectError("not_a_feed", f"{mask_url(link)} could not be read as "
                                                                         "a page, a feed or a sitemap"),
                      crawler.name, started)
    except CollectError as exc:
        return failed(mask_url(link), "link", exc, crawler.name, started)
    return stored(warehouse, document, mask_url(link), "link", crawler.name, started)


def collect_entries(discoverer: Discoverer, expansion: Expansion, author: User, warehouse: Warehouse,
                    seen: set[str], progress: bool = True) -> tuple[list[ItemResult], SourceResult]:
    settings = discoverer.settings
    source = SourceResult(source=mask_url(expansion.source), kind=expansion.kind,
                          read=[mask_url(u) for u in expansion.read], found=len(expansion.entries),
                          excluded=expansion.excluded, errors=list(expansion.errors))
    fresh = [e for e in expansion.entries if e.url not in seen]
    source.duplicates = len(expansion.entries) - len(fresh)
    taken = fresh[: settings.max_entries]
    source.over_limit = len(fresh) - len(taken)
    if source.over_limit:
        log.info("%s lists %d posts; %d over crawl.discovery.max_entries=%d are not crawled", source.source,
                 len(fresh), source.over_limit, settings.max_entries)
    items: list[ItemResult] = []
    for entry in tqdm(taken, desc=f"{expansion.kind} {source.source}"[:60], unit="post",
                      disable=not progress or not taken):
        item = collect_entry(discoverer, entry, expansion, author, warehouse)
        items.append(item)
        seen.add(entry.url)
        if item.link:
            seen.add(item.link)
        if item.status is ItemStatus.FAILED:
            source.failed += 1
        elif item.from_feed:
            source.from_feed += 1
        else:
            source.crawled += 1
    return items, source


def collect_entry(discoverer: Discoverer, entry: DiscoveredEntry, expansion: Expansion, author: User,
                  warehouse: Warehouse) -> ItemResult:
    """One post: its page, or the feed's content when the page cannot be used; never raises."""
    started = time.monotonic()
    origin = f"discovered:{expansion.kind}"
    shown = mask_url(entry.url)
    crawler_name = None
    try:
        crawler = discoverer.registry.get(entry.url)
        crawler_name = crawler.name
        if not isinstance(crawler, HtmlCrawler):
            raise CollectError("unsupported_entry", f"{shown} maps to the {crawler.name} crawler; only pages are "
                                                    "collected from a feed or a sitemap")
        document, note = _page_or_feed(discoverer, crawler, entry, author)
    except CollectError as exc:
        item = failed(shown, origin, exc, crawler_name, started)
    except Exception as exc:  # a crawler bug must not stop the other posts
        log.exception("unexpected error collecting %s", shown)
        item = failed(shown, origin, CollectError("internal", mask_secrets(f"{type(exc).__name__}: {exc}")),
                      crawler_name, started)
    else:
        item = stored(warehouse, document, shown, origin, crawler_name, started)
        if item.status is not ItemStatus.FAILED and note is not None:
            item.from_feed, item.note = True, note
    item.discovered_from = mask_url(expansion.source)
    return item


def _page_or_feed(discoverer: Discoverer, crawler: HtmlCrawler, entry: DiscoveredEntry,
                  author: User) -> tuple[Document, str | None]:
    """(document, None) from the page, or (document, why the page was not used) from the feed."""
    mode = discoverer.settings.feed_content
    has_content = entry.feed is not None and bool(entry.feed.content_html)
    if mode == "prefer" and has_content:
        assert entry.feed is not None
        discoverer.client.check_allowed(entry.url)  # stored without a fetch: the address policy still holds
        try:
            return crawler.from_feed(entry.feed, author), "crawl.discovery.feed_content is prefer"
        except CollectError as exc:  # e.g. a feed that carries only an excerpt: the page then
            log.info("%s: the feed's content is not usable (%s), crawling the page", mask_url(entry.url), exc)
    try:
        return crawler.crawl(entry.url, author), None
    except DiscoverableLink as exc:
        raise CollectError("nested_source", f"{mask_url(entry.url)} is itself a feed or a sitemap; posts of a "
                                            "discovered source are not expanded further (list it in links:)") from exc
    except CollectError as exc:
        if mode == "never" or not has_content or exc.reason in REFUSED_REASONS:
            raise
        assert entry.feed is not None
        try:
            document = crawler.from_feed(entry.feed, author)
        except CollectError as feed_exc:
            raise CollectError(exc.reason, f"{exc.message}; the feed's content could not be used either: "
                                           f"{feed_exc}") from exc
        log.info("%s: page not used (%s), stored from the feed's content", mask_url(entry.url), exc.reason)
        return document, f"page not used: {exc}"
