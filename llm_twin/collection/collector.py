"""One author's collection run: crawl links (expanding feeds, sitemaps, Substack publications and Medium
profiles into their posts), import exports, crawl code repositories → warehouse.

Each source is isolated: its failure becomes an `ItemResult` with the reason, and the run goes on. A
document is written only after it was fully built and validated, so a failing source writes nothing.
The run as a whole fails (`NothingCollectedError`) only when not a single document was collected.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from tqdm.auto import tqdm

from llm_twin.collection.discovered import expand_source
from llm_twin.collection.local_repos import publish_local_repository
from llm_twin.collection.models import (
    CollectionReport,
    ItemResult,
    NothingCollectedError,
    SkippedEntry,
    SourceResult,
)
from llm_twin.collection.results import failed as _failed
from llm_twin.collection.results import stored as _store
from llm_twin.config.author import AuthorConfig
from llm_twin.config.crawl import CrawlConfig
from llm_twin.crawlers.base import DiscoverableLink
from llm_twin.crawlers.discovery import Discoverer, Plan
from llm_twin.crawlers.errors import CollectError
from llm_twin.crawlers.html import normalize_url
from llm_twin.crawlers.http import Page
from llm_twin.crawlers.registry import CrawlerRegistry
from llm_twin.domain.documents import User
from llm_twin.importers import importer_for
from llm_twin.paths import PROJECT_ROOT, state_dir
from llm_twin.warehouse import Warehouse
from llm_twin.web import mask_secrets, mask_url

log = logging.getLogger(__name__)


def _crawl(registry: CrawlerRegistry, link: str, author: User, warehouse: Warehouse,
           origin: str = "link") -> ItemResult:
    """Crawl one link with the crawler its domain maps to and store the document; a page that is a feed or
    a sitemap raises `DiscoverableLink` (the caller expands it)."""
    started = time.monotonic()
    shown = mask_url(link)  # a clone URL may carry a token: never in the report or the logs
    crawler_name = None
    try:
        crawler = registry.get(link)
        crawler_name = crawler.name
        document = crawler.crawl(link, author)
    except DiscoverableLink:
        raise
    except CollectError as exc:
        return _failed(shown, origin, exc, crawler_name, started)
    except Exception as exc:  # a crawler bug must not stop the other links
        log.exception("unexpected error crawling %s", shown)
        return _failed(shown, origin, CollectError("internal", mask_secrets(f"{type(exc).__name__}: {exc}")),
                       crawler_name, started)
    return _store(warehouse, document, shown, origin, crawler_name, started)


def collect_links(links: list[str], author: User, crawl: CrawlConfig, warehouse: Warehouse,
                  progress: bool = True, desc: str = "crawl links",
                  discover: bool = True) -> tuple[list[ItemResult], list[SourceResult]]:
    """Crawl each link with the crawler its domain maps to (generic fallback) and store the document.

    With `discover` (and `crawl.discovery.enabled`), a link that is a feed, a sitemap, a Substack
    publication or a Medium profile — by its URL, or by what it answered — is expanded into its posts
    after the plain links, each post crawled once per run (a post also listed as a link is not crawled
    twice); the second list reports each such source."""
    results: list[ItemResult] = []
    sources: list[SourceResult] = []
    registry = CrawlerRegistry(crawl)
    discoverer = Discoverer(crawl, registry) if discover and crawl.discovery.enabled else None
    seen: set[str] = set()
    pending: list[tuple[str, Plan | None, Page | None]] = []
    try:
        for link in tqdm(links, desc=desc, unit="link", disable=not progress or not links):
            plan = discoverer.plan(link) if discoverer is not None else None
            if plan is not None:
                pending.append((link, plan, None))
                continue
            try:
                item = _crawl(registry, link, author, warehouse)
            except DiscoverableLink as exc:
                pending.append((link, None, exc.page))
                continue
            results.append(item)
            seen.update(_keys(link, item))
        for link, plan, page in pending:
            assert discoverer is not None
            items, source = expand_source(discoverer, link, plan, page, author, warehouse, seen, progress)
            results.extend(items)
            if source is not None:
                sources.append(source)
    finally:
        registry.close()
    return results, sources


def _keys(link: str, item: ItemResult) -> set[str]:
    """What a crawled link counts as in this run: its normalized URL and the link it was stored under."""
    try:
        keys = {normalize_url(link)}
    except ValueError:
        keys = set()
    return keys | ({item.link} if item.link else set())


def collect_exports(author_cfg: AuthorConfig, author: User, crawl: CrawlConfig, warehouse: Warehouse,
                    root: Path = PROJECT_ROOT, progress: bool = True) -> tuple[list[ItemResult], list[SkippedEntry]]:
    """Import every configured export; each entry is stored or reported on its own, and input that could
    not be parsed at all (a malformed CSV row) is returned as skipped entries."""
    results: list[ItemResult] = []
    skipped: list[SkippedEntry] = []
    for spec in tqdm(author_cfg.exports, desc="import exports", unit="export",
                     disable=not progress or not author_cfg.exports):
        origin = f"export:{spec.kind}"
        started = time.monotonic()
        try:
            for record in importer_for(spec, root, crawl.exports).records(author):
                source = f"{origin}:{spec.path}/{record.source}"
                if record.skipped and record.error is not None:
                    log.warning("skipped %s: %s", source, record.error)
                    skipped.append(SkippedEntry(source=source, origin=origin, reason=record.error.reason,
                                                error=record.error.message))
                elif record.error is not None or record.document is None:
                    error = record.error or CollectError("parse", "no document")
                    results.append(_failed(source, origin, error, spec.kind, started))
                else:
                    results.append(_store(warehouse, record.document, source, origin, spec.kind, started))
                started = time.monotonic()
        except CollectError as exc:
            results.append(_failed(f"{origin}:{spec.path}", origin, exc, spec.kind, started))
        except Exception as exc:
            log.exception("unexpected error importing %s", spec.path)
            results.append(_failed(f"{origin}:{spec.path}", origin,
                                   CollectError("internal", f"{type(exc).__name__}: {exc}"), spec.kind, started))
    return results, skipped


def collect_repositories(author_cfg: AuthorConfig, author: User, crawl: CrawlConfig, warehouse: Warehouse,
                         root: Path = PROJECT_ROOT, progress: bool = True) -> list[ItemResult]:
    """Publish each local code folder as a git repository under .twin/, then crawl it with `git clone`."""
    results: list[ItemResult] = []
    if not author_cfg.repositories:
        return results
    publish_root = state_dir("repos")
    rewrites: dict[str, str] = {}
    links: list[str] = []
    for repo in author_cfg.repositories:
        folder = Path(repo.path) if Path(repo.path).is_absolute() else root / repo.path
        started = time.monotonic()
        try:
            url = publish_local_repository(folder, publish_root)
        except CollectError as exc:
            results.append(_failed(str(repo.path), "repository", exc, "git", started))
            continue
        link = (repo.link or folder.resolve().as_uri()).rstrip("/")
        rewrites[link] = url
        links.append(link)
    if links:
        git_cfg = crawl.git.model_copy(update={"url_rewrites": {**crawl.git.url_rewrites, **rewrites}})
        crawled, _ = collect_links(links, author, crawl.model_copy(update={"git": git_cfg}), warehouse, progress,
                                   desc="crawl repositories", discover=False)
        results.extend(crawled)
    for item in results:
        item.origin = "repository"
    return results


def collect_author(author_cfg: AuthorConfig, crawl: CrawlConfig, warehouse: Warehouse, root: Path = PROJECT_ROOT,
                   progress: bool = True, require_any: bool = True) -> CollectionReport:
    """The whole run for one author; raises `NothingCollectedError` if nothing at all was collected."""
    started = time.monotonic()
    author = warehouse.get_or_create_user(author_cfg.full_name)
    report = CollectionReport(author=author.full_name, author_id=author.id)
    linked, report.sources = collect_links(author_cfg.links, author, crawl, warehouse, progress)
    report.items.extend(linked)
    exported, report.skipped = collect_exports(author_cfg, author, crawl, warehouse, root, progress)
    report.items.extend(exported)
    report.items.extend(collect_repositories(author_cfg, author, crawl, warehouse, root, progress))
    report.duration_s = time.monotonic() - started
    if require_any:
        ensure_collected(report)
    return report


def ensure_collected(report: CollectionReport) -> None:
    if report.collected == 0:
        reasons = ", ".join(f"{k}×{v}" for k, v in report.failure_reasons().items()) or "no sources configured"
        raise NothingCollectedError(
            f"nothing could be collected for {report.author} ({len(report.items)} sources; {reasons})\n"
            + report.summary_table()
        )


PARTS = ("links", "exports", "repositories")


def collect_part(part: str, author_cfg: AuthorConfig, author: User, crawl: CrawlConfig, warehouse: Warehouse,
                 root: Path = PROJECT_ROOT, progress: bool = True) -> CollectionReport:
    """One part of a run (what one pipeline step does): `links`, `exports` or `repositories`."""
    started = time.monotonic()
    report = CollectionReport(author=author.full_name, author_id=author.id)
    if part == "links":
        report.items, report.sources = collect_links(author_cfg.links, author, crawl, warehouse, progress)
    elif part == "exports":
        report.items, report.skipped = collect_exports(author_cfg, author, crawl, warehouse, root, progress)
    elif part == "repositories":
        report.items = collect_repositories(author_cfg, author, crawl, warehouse, root, progress)
    else:
        raise ValueError(f"unknown part {part!r}; expected one of {PARTS}")
    report.duration_s = time.monotonic() - started
    return report
