"""LinkedIn data export (Settings → Data privacy → Get a copy of your data).

- `Shares.csv`: Date, ShareLink, ShareCommentary, SharedUrl, MediaUrl, Visibility — one row per post.
  Rows without commentary are plain reshares (no authored text) and are skipped.
- `Articles/Articles/*.html`: one file per article: `<h1><a href=pulse URL>title</a></h1>`,
  `p.created`, `p.published`, then the body.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from llm_twin.crawlers.errors import CollectError
from llm_twin.crawlers.html import clean_text, html_to_markdown, normalize_url, parse_date, parse_html
from llm_twin.domain.documents import Article, Post, User
from llm_twin.importers.base import ExportArchive, Importer, ImportRecord
from llm_twin.importers.csv_rows import RowError, csv_rows

log = logging.getLogger(__name__)


def _post_text(raw: str) -> str:
    # LinkedIn exports keep line breaks inside the quoted cell; some exports double the quotes again.
    text = raw.replace('""', '"').strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    lines = [clean_text(line) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class LinkedInExportImporter(Importer):
    kind = "linkedin"

    def read(self, archive: ExportArchive, author: User) -> Iterator[ImportRecord]:
        names = archive.names()
        shares = [n for n in names if PurePosixPath(n).name.lower() == "shares.csv"]
        articles = [n for n in names if n.endswith(".html") and "Articles" in PurePosixPath(n).parts]
        if not shares and not articles:
            raise CollectError("bad_export", f"{self.path} has neither Shares.csv nor Articles/: is it a LinkedIn export?")
        for name in shares:
            yield from self._shares(archive, name, author)
        for name in articles:
            yield self.guarded(name, lambda name=name: self._article(archive, name, author))

    def _shares(self, archive: ExportArchive, name: str, author: User) -> Iterator[ImportRecord]:
        """One record per post row; a bad row is a skipped record, an unreadable file one error record."""
        try:
            rows = list(csv_rows(archive.read_text(name), name))
        except CollectError as exc:  # the articles are still imported
            yield ImportRecord(source=name, error=exc)
            return
        for row in rows:
            source = f"{name}:{row.number}"
            if isinstance(row, RowError):
                yield ImportRecord(source=source, error=row.error, skipped=True)
                continue
            commentary = row.values.get("ShareCommentary") or ""
            if not commentary.strip():
                log.debug("skipping reshare without text at %s", source)
                continue
            yield self.guarded(source, lambda values=row.values, number=row.number: self._post(values, author, number))

    def _post(self, row: dict, author: User, number: int) -> Post:
        link = (row.get("ShareLink") or "").strip()
        if not link:
            raise CollectError("parse", f"row {number} has no ShareLink")
        return Post(
            platform="linkedin",
            link=normalize_url(link),
            author_id=author.id,
            author_full_name=author.full_name,
            content={"text": _post_text(row["ShareCommentary"])},
            published_at=parse_date(row.get("Date")),
        )

    def _article(self, archive: ExportArchive, name: str, author: User) -> Article:
        soup = parse_html(archive.read(name))
        body = soup.body or soup
        h1 = body.find("h1")
        if h1 is None:
            raise CollectError("parse", f"{name}: no <h1> title")
        anchor = h1.find("a")
        title = clean_text(h1.get_text(" "))
        link = normalize_url(str(anchor["href"])) if anchor and anchor.get("href") else (
            "linkedin-export://" + PurePosixPath(name).stem)
        published = body.select_one("p.published") or body.select_one("p.created")
        date = None
        if published is not None:
            date = parse_date(re.sub(r"^(Published|Created) on\s*", "", clean_text(published.get_text())))
        for tag in [h1, *body.select("p.created, p.published"), *body.find_all("img")]:
            tag.decompose()
        text = html_to_markdown(body)
        if not text:
            raise CollectError("no_content", f"{name}: the article body is empty")
        return Article(
            platform="linkedin",
            link=link,
            author_id=author.id,
            author_full_name=author.full_name,
            content={"title": title, "subtitle": "", "text": text},
            published_at=date,
        )
