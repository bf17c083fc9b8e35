"""Sitemaps (sitemaps.org 0.9): a `<urlset>` lists pages, a `<sitemapindex>` lists further sitemaps.

Parsed from the element tree that `xmlsafe.parse_xml` (defusedxml) built, so a sitemap that declares
entities or is not well-formed is refused before any URL is read from it. Only absolute http(s) `<loc>`
values are kept (a relative one is resolved against the sitemap's URL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from llm_twin.crawlers.errors import CollectError
from llm_twin.crawlers.html import parse_date
from llm_twin.crawlers.xmlsafe import SITEMAP_ROOTS, local_name, parse_xml
from llm_twin.web import mask_url


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: datetime | None


@dataclass(frozen=True)
class Sitemap:
    kind: str  # "urlset" (pages) or "sitemapindex" (sitemaps)
    entries: list[SitemapEntry]
    skipped: int  # <url>/<sitemap> elements without a usable http(s) <loc>


def parse_sitemap(body: bytes, url: str) -> Sitemap:
    """The `<loc>` entries of a sitemap or sitemap index, in document order."""
    root = parse_xml(body, url)
    kind = local_name(root.tag)
    if kind not in SITEMAP_ROOTS:
        raise CollectError("not_a_sitemap", f"{mask_url(url)} is XML with a <{kind}> root, not a sitemap")
    item_name = "url" if kind == "urlset" else "sitemap"
    entries: list[SitemapEntry] = []
    skipped = 0
    for item in root:
        if local_name(str(item.tag)) != item_name:
            continue
        values = {local_name(str(child.tag)): (child.text or "").strip() for child in item}
        loc = urljoin(url, values.get("loc", "")) if values.get("loc") else ""
        parts = urlsplit(loc)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            skipped += 1
            continue
        entries.append(SitemapEntry(loc=loc, lastmod=parse_date(values.get("lastmod"))))
    return Sitemap(kind=kind, entries=entries, skipped=skipped)
