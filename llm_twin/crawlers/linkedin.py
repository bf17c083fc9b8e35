"""LinkedIn public post (`/posts/...`, `/feed/update/...`) and article (`/pulse/...`) pages.

Public pages embed JSON-LD (`SocialMediaPosting` with `articleBody`, `Article` with `headline`), which is
far more stable than LinkedIn's class names, so it is read first; the markup
(`p.attributed-text-segment-list__content`, `div.article-main__content`) is the fallback. A redirect to
the `authwall` means LinkedIn wants a login: the error says to use the LinkedIn data export instead.
"""

from __future__ import annotations

from bs4 import BeautifulSoup

from llm_twin.crawlers.base import HtmlCrawler
from llm_twin.crawlers.errors import CollectError
from llm_twin.crawlers.html import clean_text, html_to_markdown, json_ld, meta, published_at, strip_noise
from llm_twin.crawlers.http import Page
from llm_twin.domain.documents import Article, Document, Post, User

POST_TYPES = {"SocialMediaPosting", "DiscussionForumPosting"}
ARTICLE_TYPES = {"Article", "NewsArticle", "BlogPosting"}


def _types(item: dict) -> set[str]:
    value = item.get("@type")
    return set(value) if isinstance(value, list) else {str(value)}


class LinkedInCrawler(HtmlCrawler):
    name = "linkedin"
    platform = "linkedin"

    def extract(self, soup: BeautifulSoup, page: Page, link: str, author: User) -> Document:
        if "/authwall" in page.url or "/login" in page.url or "/uas/" in page.url:
            raise CollectError(
                "login_required",
                f"LinkedIn redirected {page.requested_url} to a sign-in page; use the LinkedIn data export "
                "(exports: [{kind: linkedin, path: ...}])",
            )
        ld = json_ld(soup)
        if "/pulse/" in page.url or any(_types(i) & ARTICLE_TYPES for i in ld):
            return self._article(soup, page, link, author, ld)
        return self._post(soup, page, link, author, ld)

    def _post(self, soup: BeautifulSoup, page: Page, link: str, author: User, ld: list[dict]) -> Post:
        posting = next((i for i in ld if _types(i) & POST_TYPES), {})
        text = clean_text(str(posting.get("articleBody") or posting.get("text") or ""))
        if not text:
            node = soup.select_one("p.attributed-text-segment-list__content") or soup.select_one(
                "[data-test-id='main-feed-activity-card__commentary']"
            )
            text = html_to_markdown(node) if node is not None else ""
        if len(text.strip()) < 20:
            raise CollectError("no_content", f"no post text found in {page.url}")
        return Post(
            platform=self.platform,
            link=link,
            author_id=author.id,
            author_full_name=author.full_name,
            content={"text": text},
            published_at=published_at(soup),
        )

    def _article(self, soup: BeautifulSoup, page: Page, link: str, author: User, ld: list[dict]) -> Article:
        item = next((i for i in ld if _types(i) & ARTICLE_TYPES), {})
        title_tag = soup.select_one("h1.pulse-title") or soup.find("h1")
        title = clean_text(str(item.get("headline") or "")) or (clean_text(title_tag.get_text(" ")) if title_tag else "")
        body = soup.select_one("div.article-main__content") or soup.select_one("div.reader-article-content")
        text = html_to_markdown(strip_noise(body)) if body is not None else ""
        text = self.require_text(text, page.url)
        return self.article(link, author, title or meta(soup, "og:title") or "", "", text, published_at(soup))
