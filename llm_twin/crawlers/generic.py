"""Fallback crawler for any article URL: finds the main content the way a reader would.

Order of evidence: `<article>`, `<main>` / `[role=main]`, then the container holding the most paragraph
text (a small readability heuristic). Title and subtitle come from Open Graph / `<h1>` / description,
the date from meta tags, JSON-LD or `<time>`.
"""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag

from llm_twin.crawlers.base import HtmlCrawler
from llm_twin.crawlers.html import clean_text, html_to_markdown, meta, published_at, strip_noise
from llm_twin.crawlers.http import Page
from llm_twin.domain.documents import Article, User


def _text_len(node: Tag) -> int:
    return sum(len(p.get_text(" ", strip=True)) for p in node.find_all(["p", "pre", "li"]))


def main_content(soup: Tag) -> Tag | None:
    """The element most likely to hold the article body."""
    candidates = soup.find_all("article") + soup.find_all("main") + soup.select('[role="main"]')
    candidates = [c for c in candidates if _text_len(c) > 0]
    if candidates:
        return max(candidates, key=_text_len)
    containers = [tag for tag in soup.find_all(["div", "section", "body"]) if tag.find("p", recursive=False)]
    if not containers:
        return soup.body
    # The container with the most direct paragraph text; nested wrappers lose to their content.
    return max(containers, key=lambda t: sum(len(p.get_text(" ", strip=True)) for p in t.find_all("p", recursive=False)))


def title_of(soup: BeautifulSoup) -> str:
    h1 = soup.find("h1")
    candidates = [meta(soup, "og:title", "twitter:title"), clean_text(h1.get_text(" ")) if h1 else None,
                  clean_text(soup.title.get_text()) if soup.title else None]
    return next((c for c in candidates if c), "")


class GenericArticleCrawler(HtmlCrawler):
    name = "generic"
    platform = "web"

    def extract(self, soup: BeautifulSoup, page: Page, link: str, author: User) -> Article:
        title = title_of(soup)
        subtitle = meta(soup, "og:description", "description", "twitter:description") or ""
        date = published_at(soup)
        body = main_content(strip_noise(soup))
        if body is not None:
            first_h1 = body.find("h1")
            if first_h1 is not None and clean_text(first_h1.get_text(" ")) == title:
                first_h1.decompose()  # the title is stored separately
        text = self.require_text(html_to_markdown(body) if body is not None else "", page.url)
        return self.article(link, author, title, subtitle, text, date)
