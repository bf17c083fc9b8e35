"""Substack export (Settings → Export): `posts.csv` (post_id, post_date, is_published, type, title,
subtitle, ...) plus `posts/<post_id>.html` with each post's body. `post_id` is `<number>.<slug>`, so a
post's public link is `<base_url>/p/<slug>` when the export spec gives the publication's `base_url`.
"""

from __future__ import annotations

from collections.abc import Iterator

from llm_twin.crawlers.errors import CollectError
from llm_twin.crawlers.html import html_to_markdown, parse_date
from llm_twin.domain.documents import Article, User
from llm_twin.importers.base import ExportArchive, Importer, ImportRecord
from llm_twin.importers.csv_rows import RowError, csv_rows


class SubstackExportImporter(Importer):
    kind = "substack"

    def read(self, archive: ExportArchive, author: User) -> Iterator[ImportRecord]:
        names = archive.names()
        csv_name = next((n for n in names if n.rsplit("/", 1)[-1] == "posts.csv"), None)
        if csv_name is None:
            raise CollectError("bad_export", f"{self.path} has no posts.csv: is it a Substack export?")
        prefix = csv_name[: -len("posts.csv")]
        rows = list(csv_rows(archive.read_text(csv_name), csv_name))
        good = [r for r in rows if not isinstance(r, RowError)]
        if good and "post_id" not in good[0].values:
            raise CollectError("bad_export", f"{csv_name} has no post_id column")
        html_names = set(names)
        for parsed in rows:
            if isinstance(parsed, RowError):
                yield ImportRecord(source=f"{csv_name}:{parsed.number}", error=parsed.error, skipped=True)
                continue
            row = parsed.values
            post_id = (row.get("post_id") or "").strip()
            if not post_id:
                continue
            published = (row.get("is_published") or "").strip().lower() == "true"
            if not published and not self.spec.include_drafts:
                continue
            html_name = f"{prefix}posts/{post_id}.html"
            yield self.guarded(html_name, lambda row=row, html_name=html_name, post_id=post_id: self._article(
                archive, html_name, html_names, post_id, row, author))

    def _article(self, archive: ExportArchive, html_name: str, names: set[str], post_id: str, row: dict,
                 author: User) -> Article:
        if html_name not in names:
            raise CollectError("missing_file", f"posts.csv lists {post_id} but {html_name} is not in the export")
        text = html_to_markdown(archive.read_text(html_name))
        slug = post_id.split(".", 1)[1] if "." in post_id else post_id
        base = (self.spec.base_url or "").rstrip("/")
        link = f"{base}/p/{slug}" if base else f"substack-export://{post_id}"
        return Article(
            platform="substack",
            link=link,
            author_id=author.id,
            author_full_name=author.full_name,
            content={"title": (row.get("title") or "").strip(), "subtitle": (row.get("subtitle") or "").strip(),
                     "text": text},
            published_at=parse_date(row.get("post_date")),
        )
