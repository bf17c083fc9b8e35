"""A folder of Markdown files (a personal blog, notes, a static-site source).

Optional YAML front matter: `title`, `subtitle`/`description`, `date`, `canonical_url`/`link`/`url`,
`type: article|post` (default article), `platform`. Without a title the first `# heading` is used; without
a link the file's absolute `file://` URL identifies it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date as date_type
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from llm_twin.crawlers.errors import CollectError
from llm_twin.crawlers.html import normalize_url, parse_date
from llm_twin.domain.documents import Article, Document, Post, User
from llm_twin.importers.base import ExportArchive, Importer, ImportRecord

FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


def split_front_matter(text: str) -> tuple[dict, str]:
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise CollectError("parse", f"invalid front matter: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise CollectError("parse", "front matter is not a mapping")
    return data, text[match.end():]


class MarkdownFolderImporter(Importer):
    kind = "markdown"

    def read(self, archive: ExportArchive, author: User) -> Iterator[ImportRecord]:
        names = [n for n in archive.names() if n.lower().endswith((".md", ".markdown"))]
        if not names:
            raise CollectError("bad_export", f"{self.path} contains no .md files")
        for name in names:
            yield self.guarded(name, lambda name=name: self._document(archive, name, author))

    def _document(self, archive: ExportArchive, name: str, author: User) -> Document:
        meta, body = split_front_matter(archive.read_text(name))
        body = body.strip()
        title = str(meta.get("title") or "").strip()
        if not title:
            heading = re.match(r"\A#\s+(.+)\n", body)
            if heading:
                title, body = heading.group(1).strip(), body[heading.end():].strip()
        link = meta.get("canonical_url") or meta.get("link") or meta.get("url")
        link = normalize_url(str(link)) if link else (Path(self.path).resolve() / name).as_uri()
        date_value = meta.get("date")
        date = parse_date(date_value.isoformat() if isinstance(date_value, (datetime, date_type)) else str(date_value or ""))
        platform = str(meta.get("platform") or self.spec.platform or "markdown")
        kind = str(meta.get("type") or "article").lower()
        common: dict[str, Any] = {"platform": platform, "link": link, "author_id": author.id,
                                  "author_full_name": author.full_name, "published_at": date}
        if kind == "post":
            content = {"text": body} if not title else {"title": title, "text": body}
            return Post(content=content, **common)
        if kind != "article":
            raise CollectError("parse", f"{name}: front matter type must be 'article' or 'post', got {kind!r}")
        subtitle = str(meta.get("subtitle") or meta.get("description") or "").strip()
        return Article(content={"title": title, "subtitle": subtitle, "text": body}, **common)
