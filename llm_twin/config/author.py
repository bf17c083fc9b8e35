"""`conf/author/<name>.yaml`: whose twin it is and where their content lives.

List entries (`exports`, `repositories`) may leave their optional fields out: they are per-entry options,
not settings with a project-wide default.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from llm_twin.config.base import Schema

ExportKind = Literal["medium", "substack", "linkedin", "markdown"]


class ExportSpec(Schema):
    """One platform data export: a folder or the zip the platform gave the author."""

    kind: ExportKind
    path: str = Field(min_length=1, description="relative to the project root, or absolute")
    base_url: str | None = Field(default=None, description="Substack: the publication URL (post links)")
    platform: str | None = Field(default=None, description="Markdown: platform stored on the documents")
    include_drafts: bool = False


class LocalRepository(Schema):
    """A code folder, published as a local git repository and crawled like GitHub; `link` is the
    identity stored in the warehouse (its `file://` URL when omitted)."""

    path: str = Field(min_length=1)
    link: str | None = None


class AuthorConfig(Schema):
    full_name: str = Field(min_length=1)
    links: list[str]
    exports: list[ExportSpec]
    repositories: list[LocalRepository]

    @field_validator("links")
    @classmethod
    def _strip(cls, links: list[str]) -> list[str]:
        return [link.strip() for link in links if link and link.strip()]
