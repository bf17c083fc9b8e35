"""Warehouse document contract (schema version 1).

The warehouse is the system of record; every later stage (CDC, streaming, training) reads documents in
this shape, so the models are the single definition of what a stored document is. `link` is unique per
collection, `content_hash` decides whether a re-crawl changed anything.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 1


class DataType(StrEnum):
    """The kinds of content a twin learns from; each has its own collection, cleaning and chunking."""

    ARTICLE = "articles"
    POST = "posts"
    REPOSITORY = "repositories"

    @property
    def feature_name(self) -> str:
        """Short name used in feature-store collections (`cleaned_<name>`, `embedded_<name>`)."""
        return {"articles": "articles", "posts": "posts", "repositories": "code"}[self.value]


def utc_now() -> datetime:
    return datetime.now(UTC)


def content_hash(content: dict[str, Any]) -> str:
    """Stable hash of a document's content: key order and whitespace in JSON do not matter."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class User(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    first_name: str
    last_name: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @classmethod
    def from_full_name(cls, full_name: str) -> User:
        parts = full_name.strip().split()
        if not parts:
            raise ValueError("author full_name is empty: set `full_name` in conf/author/<name>.yaml")
        return cls(first_name=" ".join(parts[:-1]) or parts[0], last_name=parts[-1] if len(parts) > 1 else "")


class Document(BaseModel):
    """Fields every collected document has, whatever its platform."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    schema_version: int = SCHEMA_VERSION
    platform: str = Field(min_length=1)
    link: str = Field(min_length=1)
    author_id: str
    author_full_name: str
    content: dict[str, Any]
    content_hash: str = ""
    crawled_at: datetime = Field(default_factory=utc_now)

    data_type: DataType  # set by subclasses; stored so a reader never has to guess

    @field_validator("content")
    @classmethod
    def _content_not_empty(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not any(str(v).strip() for v in value.values()):
            raise ValueError("document content is empty")
        return value

    def model_post_init(self, context: Any, /) -> None:
        if not self.content_hash:
            self.content_hash = content_hash(self.content)

    def to_mongo(self) -> dict[str, Any]:
        data = self.model_dump(mode="python")
        data["_id"] = data.pop("id")
        return data

    @classmethod
    def from_mongo(cls, data: dict[str, Any]) -> Document:
        data = dict(data)
        data["id"] = str(data.pop("_id"))
        return cls.model_validate(data)


class Article(Document):
    """Long-form text: content keys `title`, `subtitle`, `text` (headings and code blocks kept as Markdown)."""

    data_type: DataType = DataType.ARTICLE
    published_at: datetime | None = None


class Post(Document):
    """Short social post (LinkedIn, ...): content key `text`, optionally `title`."""

    data_type: DataType = DataType.POST
    published_at: datetime | None = None


class Repository(Document):
    """A code repository: `name` plus content mapping of file path → file text; `languages` per path."""

    data_type: DataType = DataType.REPOSITORY
    name: str
    languages: dict[str, str] = Field(default_factory=dict)


DOCUMENT_CLASSES: dict[DataType, type[Document]] = {
    DataType.ARTICLE: Article,
    DataType.POST: Post,
    DataType.REPOSITORY: Repository,
}


def document_from_mongo(collection: str, data: dict[str, Any]) -> Document:
    """Parse a raw warehouse document of the given collection into its model."""
    return DOCUMENT_CLASSES[DataType(collection)].from_mongo(data)
