"""RSS 2.0 / RSS 1.0 / Atom feeds → entries (link, title, summary, full content, date), with feedparser.

feedparser knows the dialects (RSS `content:encoded`, Atom `<content>`, relative links against the
feed's URL, dates in RFC 822 or ISO 8601) and sanitizes the HTML it hands back (scripts, event handlers
removed). It is only given bytes in a `BytesIO` — never a URL or a string, which would make it open a
URL or a file itself — after the body passed the defusedxml check of `xmlsafe.parse_xml`.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from llm_twin.crawlers.errors import CollectError
from llm_twin.crawlers.html import clean_text, parse_html
from llm_twin.crawlers.xmlsafe import FEED_ROOTS, local_name, parse_xml
from llm_twin.web import mask_url


@dataclass(frozen=True)
class FeedEntry:
    """One post as its feed describes it."""

    link: str  # absolute http(s) URL of the post
    title: str
    summary: str  # plain text of the description / Atom summary ("" when it only repeats the content)
    content_html: str | None  # the full content (RSS content:encoded, Atom content); None if the feed has none
    published: datetime | None


@dataclass(frozen=True)
class Feed:
    kind: str  # "rss", "atom" or "rdf"
    title: str
    entries: list[FeedEntry]
    skipped: int  # entries without a usable http(s) link


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            return datetime(*value[:6], tzinfo=UTC)
    return None


def _content(entry: Any) -> str | None:
    """The longest HTML/text content block of an entry (feeds sometimes carry a plain and an HTML one)."""
    blocks = [c.get("value") or "" for c in entry.get("content") or [] if isinstance(c, dict)]
    blocks = [b for b in blocks if b.strip()]
    return max(blocks, key=len) if blocks else None


def _link(entry: Any, base: str) -> str | None:
    candidates = [entry.get("link")]
    candidates += [link.get("href") for link in entry.get("links") or []
                   if isinstance(link, dict) and link.get("rel", "alternate") == "alternate"]
    candidates.append(entry.get("id"))  # an RSS guid is often the permalink
    for candidate in candidates:
        if not candidate or not isinstance(candidate, str):
            continue
        absolute = urljoin(base, candidate.strip())
        if urlsplit(absolute).scheme in ("http", "https") and urlsplit(absolute).hostname:
            return absolute
    return None


def _text(html: str) -> str:
    soup = parse_html(html)
    return clean_text(soup.get_text(" "))


def parse_feed(body: bytes, url: str, content_type: str = "application/xml") -> Feed:
    """Entries of a feed body in feed order; `CollectError` for a body that is unsafe, broken or no feed."""
    root = parse_xml(body, url)
    name = local_name(root.tag)
    if name not in FEED_ROOTS:
        raise CollectError("not_a_feed", f"{mask_url(url)} is XML with a <{name}> root, not an RSS or Atom feed")
    parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-location": url,
                                                                  "content-type": content_type or "application/xml"})
    entries: list[FeedEntry] = []
    skipped = 0
    for entry in parsed.entries:
        link = _link(entry, url)
        if link is None:
            skipped += 1
            continue
        content = _content(entry)
        summary_html = entry.get("summary") or ""
        summary = "" if content is not None and summary_html.strip() == content.strip() else _text(summary_html)
        entries.append(FeedEntry(link=link, title=clean_text(entry.get("title") or ""), summary=summary,
                                 content_html=content, published=_when(entry)))
    kind = "atom" if name == "feed" else "rdf" if name == "RDF" else "rss"
    return Feed(kind=kind, title=clean_text(parsed.feed.get("title") or ""), entries=entries, skipped=skipped)
