"""Medium data export (Settings → Download your information): a zip whose `posts/` folder holds one
HTML file per story, in Medium's h-entry markup: `h1.p-name`, `section[data-field=subtitle]`,
`section[data-field=body]` (with `.graf` blocks), `time.dt-published`, `a.p-canonical`.
Drafts (`draft_*.html`) are skipped unless `include_drafts`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from llm_twin.crawlers.errors import CollectError
from llm_twin.crawlers.html import clean_text, html_to_markdown, normalize_url, parse_date, parse_html
from llm_twin.domain.documents import Article, User
from llm_twin.importers.base import ExportArchive, Importer, ImportRecord


class MediumExportImporter(Importer):
    kind = "medium"

    def read(self, archive: ExportArchive, author: User) -> Iterator[ImportRecord]:
        names = [n for n in archive.names() if n.endswith(".html") and "posts" in PurePosixPath(n).parts]
        if not names:
            raise CollectError("bad_export", f"{self.path} has no posts/*.html: is it a Medium export?")
        for name in names:
            if PurePosixPath(name).name.startswith("draft_") and not self.spec.include_drafts:
                continue
            yield self.guarded(name, lambda name=name: self._article(archive, name, author))

    def _article(self, archive: ExportArchive, name: str, author: User) -> Article:
        soup = parse_html(archive.read(name))
        title_tag = soup.select_one("h1.p-name") or soup.find("title")
        title = clean_text(title_tag.get_text(" ")) if title_tag else ""
        subtitle_tag = soup.select_one("section[data-field=subtitle]")
        subtitle = clean_text(subtitle_tag.get_text(" ")) if subtitle_tag else ""
        body = soup.select_one("section[data-field=body]")
        if body is None:
            raise CollectError("parse", f"{name}: no section[data-field=body]")
        for repeated in body.select(".graf--title, .graf--subtitle, .graf--kicker"):
            repeated.decompose()  # Medium repeats title and subtitle as the first body blocks
        for tag in body.find_all(["h3", "h4"]):
            tag.name = "h2" if tag.name == "h3" else "h3"  # Medium's large / small headings
        text = html_to_markdown(body)
        if not text:
            raise CollectError("no_content", f"{name}: the story body is empty")
        canonical = soup.select_one("a.p-canonical")
        link = normalize_url(str(canonical["href"])) if canonical and canonical.get("href") else (
            "medium-export://" + PurePosixPath(name).stem
        )
        time_tag = soup.select_one("time.dt-published")
        return Article(
            platform="medium",
            link=link,
            author_id=author.id,
            author_full_name=author.full_name,
            content={"title": title, "subtitle": subtitle, "text": text},
            published_at=parse_date(str(time_tag.get("datetime"))) if time_tag else None,
        )
