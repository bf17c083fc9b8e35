"""Medium story pages.

Medium server-renders public stories: every authored block carries `data-selectable-paragraph`, the title
is `h1[data-testid=storyTitle]` (class `pw-post-title`), the subtitle `.pw-subtitle-paragraph`, body
paragraphs `.pw-post-body-paragraph`, and code blocks are `<pre>` of `<span>` lines with
`data-code-block-lang`. The date is in `article:published_time` / JSON-LD.
"""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag

from llm_twin.crawlers.base import HtmlCrawler
from llm_twin.crawlers.html import clean_text, meta, published_at
from llm_twin.crawlers.http import Page
from llm_twin.domain.documents import Article, User


def _code(pre: Tag) -> str:
    lang = ""
    holder = pre.select_one("[data-code-block-lang]")
    if isinstance(holder, Tag):
        lang = str(holder["data-code-block-lang"])
    for br in pre.find_all("br"):
        br.replace_with("\n")
    body = pre.get_text().strip("\n")
    return f"```{lang}\n{body}\n```" if body.strip() else ""


def medium_blocks(article: Tag, skip: set[int]) -> list[str]:
    """Markdown blocks of a Medium story body, in document order."""
    blocks: list[str] = []
    for node in article.find_all(["p", "h1", "h2", "h3", "h4", "pre", "li", "blockquote"]):
        if id(node) in skip or node.find_parent("pre") is not None:
            continue
        if node.name == "pre":
            block = _code(node)
        elif not node.has_attr("data-selectable-paragraph") and node.name != "li":
            continue
        else:
            text = clean_text(node.get_text(" "))
            if not text:
                continue
            if node.name in ("h1", "h2"):
                block = "## " + text
            elif node.name in ("h3", "h4"):
                block = "### " + text
            elif node.name == "li":
                if node.find_parent("ol") is not None:
                    block = f"{len(node.find_previous_siblings('li')) + 1}. {text}"
                else:
                    block = "- " + text
            elif node.name == "blockquote" or node.find_parent("blockquote") is not None:
                if node.name == "blockquote" and node.select_one("[data-selectable-paragraph]"):
                    continue  # its paragraphs are quoted one by one
                block = "> " + text
            else:
                block = text
        if block:
            blocks.append(block)
    return blocks


class MediumCrawler(HtmlCrawler):
    name = "medium"
    platform = "medium"
    subtitle_heading_in_feed = True

    def extract(self, soup: BeautifulSoup, page: Page, link: str, author: User) -> Article:
        article = soup.find("article") or soup.body
        if article is None:
            article = soup
        title_tag = article.select_one('[data-testid="storyTitle"]') or article.find(class_="pw-post-title")
        subtitle_tag = article.find(class_="pw-subtitle-paragraph")
        title = clean_text(title_tag.get_text(" ")) if title_tag else (meta(soup, "og:title") or "")
        subtitle = clean_text(subtitle_tag.get_text(" ")) if subtitle_tag else (meta(soup, "og:description") or "")
        skip = {id(t) for t in (title_tag, subtitle_tag) if t is not None}
        text = "\n\n".join(medium_blocks(article, skip))
        hint = "article body (Medium member-only stories are not public: use the Medium export)"
        text = self.require_text(text, page.url, hint)
        return self.article(link, author, title, subtitle, text, published_at(soup))
