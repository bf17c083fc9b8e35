"""HTML → Markdown text and page metadata, shared by the crawlers and the export importers.

The warehouse keeps article bodies as Markdown so later stages (cleaning, chunking per data type, the
training prompts) see headings and code blocks as structure, not as flattened text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup, Comment, Doctype, NavigableString, Tag

NOISE_TAGS = ["script", "style", "noscript", "iframe", "svg", "form", "button", "nav", "footer", "aside",
              "template", "canvas", "video", "audio", "select", "input"]
BLOCK_TAGS = {"p", "div", "section", "article", "main", "header", "figure", "figcaption", "blockquote",
              "ul", "ol", "li", "pre", "table", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "br", "dl", "dt", "dd"}
TRACKING_PARAMS = re.compile(r"^(utm_|fbclid$|gclid$|mc_cid$|mc_eid$|ref$|source$|trk$|trackingId$)")


def parse_html(html: str | bytes) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def normalize_url(url: str) -> str:
    """Drop the fragment and tracking parameters so the same page always has the same link."""
    parts = urlsplit(url.strip())
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)])
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def clean_text(text: str) -> str:
    text = text.replace("\xa0", " ").replace("\u200b", "")
    return re.sub(r"[ \t\r\f\v]+", " ", text).strip()


def _inline(node: Tag | NavigableString) -> str:
    """Inline text of a node, with inline code kept in backticks and links as their text."""
    if isinstance(node, NavigableString):
        return str(node)
    if node.name in NOISE_TAGS:
        return ""
    if node.name == "br":
        return "\n"
    if node.name == "code":
        code = node.get_text()
        return f"`{code}`" if code.strip() else ""
    return "".join(_inline(child) for child in node.children)


def _code_block(pre: Tag) -> str:
    code = pre.find("code")
    language = ""
    classes = (code.get("class") if isinstance(code, Tag) else None) or pre.get("class") or []
    for cls in classes:
        if cls.startswith(("language-", "lang-")):
            language = cls.split("-", 1)[1]
    # Medium renders each line of a code block as a <span> separated by <br>; get_text keeps newlines.
    for br in pre.find_all("br"):
        br.replace_with("\n")
    body = pre.get_text().strip("\n")
    if not body.strip():
        return ""
    return f"```{language}\n{body}\n```"


def _is_block(node: Tag) -> bool:
    return node.name in BLOCK_TAGS or node.find(list(BLOCK_TAGS)) is not None


def _blocks(node: Tag) -> Iterable[str]:
    """Markdown blocks of a container; runs of inline children are joined into one paragraph."""
    inline: list[str] = []

    def flush() -> Iterable[str]:
        text = "\n".join(clean_text(line) for line in "".join(inline).split("\n")).strip()
        inline.clear()
        if text:
            yield text

    for child in node.children:
        if isinstance(child, NavigableString):
            if not isinstance(child, (Comment, Doctype)):
                inline.append(str(child))
            continue
        if not isinstance(child, Tag) or child.name in NOISE_TAGS:
            continue
        if not _is_block(child) or child.name == "br":
            inline.append(_inline(child))
            continue
        yield from flush()
        name = child.name
        if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
            text = clean_text(_inline(child))
            if text:
                level = min(int(name[1]) + 1, 6) if name == "h1" else int(name[1])
                yield "#" * level + " " + text
        elif name == "pre":
            block = _code_block(child)
            if block:
                yield block
        elif name in ("ul", "ol"):
            lines = []
            for i, li in enumerate(child.find_all("li", recursive=False), 1):
                text = clean_text(_inline(li))
                if text:
                    lines.append(f"{i}. {text}" if name == "ol" else f"- {text}")
            if lines:
                yield "\n".join(lines)
        elif name == "blockquote":
            text = clean_text(_inline(child))
            if text:
                yield "> " + text
        elif name == "hr":
            continue
        elif name == "figure" and not child.find("pre"):
            continue  # images and their captions carry no authored body text worth learning from
        elif name == "p" or not child.find(list(BLOCK_TAGS)):
            text = "\n".join(clean_text(line) for line in _inline(child).split("\n")).strip()
            if text:
                yield text
        else:
            yield from _blocks(child)
    yield from flush()


def html_to_markdown(node: Tag | BeautifulSoup | str) -> str:
    """Body HTML → Markdown paragraphs, `##` headings, fenced code blocks, lists and quotes."""
    if isinstance(node, str):
        node = parse_html(node)
        node = node.body or node
    return "\n\n".join(block for block in _blocks(node) if block).strip()


def meta(soup: BeautifulSoup, *names: str) -> str | None:
    """First non-empty <meta name|property=...> content among `names`."""
    for name in names:
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        if isinstance(tag, Tag) and tag.get("content") and str(tag["content"]).strip():
            return clean_text(str(tag["content"]))
    return None


def json_ld(soup: BeautifulSoup) -> list[dict[str, Any]]:
    """All JSON-LD objects of the page (flattening @graph), ignoring malformed blocks."""
    found: list[dict[str, Any]] = []
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        try:
            data = json.loads(script.string or script.get_text() or "")
        except (json.JSONDecodeError, TypeError):
            continue
        stack = data if isinstance(data, list) else [data]
        for item in stack:
            if isinstance(item, dict):
                found.append(item)
                graph = item.get("@graph")
                if isinstance(graph, list):
                    found.extend(g for g in graph if isinstance(g, dict))
    return found


def canonical_url(soup: BeautifulSoup, base_url: str) -> str | None:
    link = soup.find("link", rel="canonical")
    href = link.get("href") if isinstance(link, Tag) else None
    href = href or meta(soup, "og:url")
    if not href:
        return None
    absolute = urljoin(base_url, str(href).strip())
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def parse_date(value: str | None) -> datetime | None:
    """ISO 8601 / common export formats → aware UTC datetime; None if unparseable."""
    if not value:
        return None
    value = value.strip()
    for candidate in (value, value.replace(" ", "T", 1)):
        try:
            parsed = datetime.fromisoformat(candidate)  # Python 3.11 reads "Z" and most ISO 8601 forms
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    for fmt in ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%a, %d %b %Y %H:%M:%S %Z", "%Y-%m-%d %H:%M", "%m/%d/%Y"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def published_at(soup: BeautifulSoup) -> datetime | None:
    """Publication date from meta tags, JSON-LD, or the first <time datetime>."""
    for item in json_ld(soup):
        date = parse_date(str(item.get("datePublished") or "")) if item.get("datePublished") else None
        if date:
            return date
    date = parse_date(meta(soup, "article:published_time", "og:article:published_time", "date",
                           "pubdate", "publish-date", "citation_publication_date"))
    if date:
        return date
    time_tag = soup.find("time", attrs={"datetime": True})
    return parse_date(str(time_tag["datetime"])) if isinstance(time_tag, Tag) else None


def strip_noise(node: Tag) -> Tag:
    for tag in node.find_all(NOISE_TAGS):
        tag.decompose()
    return node
