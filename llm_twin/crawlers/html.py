"""HTML → Markdown text and page metadata, shared by the crawlers and the export importers.

The warehouse keeps article bodies as Markdown so later stages (cleaning, chunking per data type, the
training prompts) see headings and code blocks as structure, not as flattened text. The conversion is
markdownify's, with a few overrides (`_Converter`); it replaced a hand-written converter after giving
byte-identical output on every sample-author export and test page, and better output on nested lists,
tables and multi-paragraph quotes.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup, Tag
from markdownify import MarkdownConverter

NOISE_TAGS = ["script", "style", "noscript", "iframe", "svg", "form", "button", "nav", "footer", "aside",
              "template", "canvas", "video", "audio", "select", "input"]
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


class _Converter(MarkdownConverter):
    """markdownify, tuned to what the warehouse wants from an article body.

    Structure is kept as Markdown (`##` headings — an `<h1>` becomes `##`, the title is stored apart —,
    fenced code blocks with their language, lists, quotes, tables); what carries no authored text is
    dropped (navigation, scripts, forms, figures without code, images, horizontal rules); links and
    emphasis keep only their text, and nothing is backslash-escaped, so the text the model learns from
    reads like the article.
    """

    def __init__(self) -> None:
        super().__init__(heading_style="atx", bullets="-", escape_asterisks=False, escape_underscores=False,
                         escape_misc=False, code_language_callback=_code_language, strip_document="strip")

    def convert_hN(self, n: int, el: Tag, text: str, parent_tags: set[str]) -> str:
        return super().convert_hN(min(n + 1, 6) if n == 1 else n, el, text, parent_tags)  # type: ignore[misc]  # not in markdownify's stub

    def convert_pre(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return super().convert_pre(el, text, parent_tags) if text.strip() else ""  # type: ignore[misc]

    def convert_br(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if "pre" in parent_tags:
            return "\n" + text
        return super().convert_br(el, text, parent_tags).replace("  \n", "\n")  # type: ignore[misc]

    def convert_figure(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return f"\n\n{text.strip()}\n\n" if el.find("pre") is not None else ""

    def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return text

    def convert_em(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return text

    convert_i = convert_b = convert_strong = convert_em

    def _drop(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return ""

    convert_img = convert_hr = _drop
    # NOISE_TAGS: navigation, scripts, forms and media carry no authored text
    convert_script = convert_style = convert_noscript = convert_iframe = convert_svg = convert_form = _drop
    convert_button = convert_nav = convert_footer = convert_aside = convert_template = convert_canvas = _drop
    convert_video = convert_audio = convert_select = convert_input = _drop


def _code_language(pre: Tag) -> str:
    code = pre.find("code")
    classes: Any = (code.get("class") if isinstance(code, Tag) else None) or pre.get("class") or []
    for cls in classes:
        if cls.startswith(("language-", "lang-")):
            return cls.split("-", 1)[1]
    return ""


_CONVERTER = _Converter()
_FENCED = re.compile(r"(```.*?\n```)", re.DOTALL)


def html_to_markdown(node: Tag | BeautifulSoup | str) -> str:
    """Body HTML → Markdown paragraphs, `##` headings, fenced code blocks, lists and quotes."""
    if isinstance(node, str):
        node = parse_html(node)
        node = node.body or node
    for string in node.find_all(string=lambda s: "\xa0" in s or "\u200b" in s):
        if string.find_parent("pre") is None:
            string.replace_with(string.replace("\xa0", " ").replace("\u200b", ""))
    # Dropped elements can leave extra blank lines between blocks; code blocks keep theirs.
    parts = _FENCED.split(_CONVERTER.convert_soup(node))
    return "".join(p if p.startswith("```") else re.sub(r"\n{3,}", "\n\n", p) for p in parts).strip()


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
