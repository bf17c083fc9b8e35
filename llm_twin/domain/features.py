"""Feature-store contract (schema version 1): what the `cleaned_<type>` and `embedded_<type>` Qdrant
collections hold.

The streaming app and the batch backfill both write these, training reads `cleaned_*` and inference
reads `embedded_*`: keeping the payload models here is what lets the three pipelines talk only through
the feature store. Point ids are derived from (document id, chunk index), so a redelivered message
overwrites the same points instead of adding duplicates.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from llm_twin.domain.documents import DataType

FEATURE_SCHEMA_VERSION = 1
_POINT_NAMESPACE = uuid.UUID("6f1c3b1e-2a8d-4c59-9d3a-1f0b7e8a4c21")


def cleaned_collection(data_type: DataType) -> str:
    return f"cleaned_{data_type.feature_name}"


def embedded_collection(data_type: DataType) -> str:
    return f"embedded_{data_type.feature_name}"


def point_id(document_id: str, chunk_index: int) -> str:
    """Deterministic Qdrant point id; chunk_index -1 is the whole cleaned document."""
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{document_id}:{chunk_index}"))


class CleanedPayload(BaseModel):
    """Payload of a point in `cleaned_<type>` (one point per document, no vector)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = FEATURE_SCHEMA_VERSION
    document_id: str
    data_type: DataType
    author_id: str
    author_full_name: str
    platform: str
    link: str
    title: str = ""
    text: str = Field(min_length=1)
    content_hash: str


class ChunkPayload(BaseModel):
    """Payload of a point in `embedded_<type>` (one point per chunk, with its vector)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = FEATURE_SCHEMA_VERSION
    document_id: str
    chunk_index: int = Field(ge=0)
    chunk_count: int = Field(ge=1)
    data_type: DataType
    author_id: str
    author_full_name: str
    platform: str
    link: str
    title: str = ""
    text: str = Field(min_length=1)
    content_hash: str
    embedding_model_id: str


@dataclass
class DocumentFeatures:
    """Everything the feature store holds for one document: the cleaned payload, the chunk payloads and,
    once a batch has been embedded, one vector per chunk."""

    data_type: DataType
    cleaned: CleanedPayload
    chunks: list[ChunkPayload]
    vectors: np.ndarray | None = field(default=None, repr=False)

    @property
    def document_id(self) -> str:
        return self.cleaned.document_id


@dataclass
class FeatureChange:
    """The new state of one document: its features, or gone (`features` None = delete).

    A change is derived from one state of the warehouse document, its `basis`: the `content_hash` that was
    read (None: the document was absent). A writer that can see the warehouse applies the change only while
    the warehouse still holds that state, so a slow reader (a backfill embedding a batch) never replaces the
    newer state a concurrent writer stored, nor deletes a document created meanwhile.
    """

    data_type: DataType
    document_id: str
    features: DocumentFeatures | None = None
    deleted_hash: str | None = None  # a delete of a document still in the warehouse (no text): its hash

    @property
    def is_delete(self) -> bool:
        return self.features is None

    @property
    def basis(self) -> str | None:
        return self.features.cleaned.content_hash if self.features is not None else self.deleted_hash
