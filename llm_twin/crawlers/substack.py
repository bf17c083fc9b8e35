"""Substack post pages.

A post page has `h1.post-title`, `h3.subtitle`, and the body in `div.available-content div.body.markup`
(paragraphs, `h2.header-anchor-post` headings, `<pre><code>` blocks). A paywalled post shows only the
free part followed by `div.paywall`; what is visible is kept. Date: JSON-LD `datePublished`.
"""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag

from llm_twin.crawlers.base import HtmlCrawler
from llm_twin.crawlers.html import clean_text, html_to_markdown, meta, published_at, strip_noise
from llm_twin.crawlers.http import Page
from llm_twin.domain.documents import Article, User

# Subscribe / share / comment call-to-action blocks Substack injects into post bodies.
WIDGETS = (".subscription-widget-wrap, .subscription-widget, .subscribe-widget, .button-wrapper, "
           ".captioned-button-wrap, .header-anchor-parent, .share-dialog, .post-ufi, .paywall")


class SubstackCrawler(HtmlCrawler):
    name = "substack"
    platform = "substack"

    def extract(self, soup: BeautifulSoup, page: Page, link: str, author: User) -> Article:
        title_tag = soup.select_one("h1.post-title") or soup.find("h1")
        subtitle_tag = soup.select_one("h3.subtitle") or soup.select_one(".subtitle")
        title = clean_text(title_tag.get_text(" ")) if title_tag else (meta(soup, "og:title") or "")
        subtitle = clean_text(subtitle_tag.get_text(" ")) if subtitle_tag else (meta(soup, "og:description") or "")
        body = soup.select_one("div.available-content div.body") or soup.select_one("div.body.markup")
        if body is not None:
            for widget in body.select(WIDGETS):
                widget.decompose()
        text = html_to_markdown(strip_noise(body)) if body is not None else ""
        text = self.require_text(text, page.url)
        return self.article(link, author, title, subtitle, text, published_at(soup))

    def clean_feed_content(self, body: Tag) -> Tag:
        for widget in body.select(WIDGETS):
            widget.decompose()
        return body
