"""The queue message contract (schema version 2): a reference to one changed warehouse document, as JSON.

A message says *which* document changed (collection, id), *when* (`version`, microseconds since the
epoch of the change, or of publishing for snapshot / reconciliation messages) and how (`operation`);
it never carries the document. The stream app reads the document's current state from the warehouse
when it processes the message, so:

- any document the warehouse accepts flows through RabbitMQ and Kafka (a message is ~300 bytes, a
  crawled repository may be 8 MB: the Kafka producer's ~1 MB limit no longer applies to documents);
- every write is "latest wins": a late or redelivered message applies the warehouse's current state,
  and a delete of a document that exists again applies the document instead.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from llm_twin.domain.documents import DataType

MESSAGE_SCHEMA_VERSION: Final = 2


def now_version() -> int:
    """A version stamp: microseconds since the epoch (comparable with `version_of`)."""
    return time.time_ns() // 1000


def version_of(moment: datetime | None) -> int:
    """A change time as a version stamp; now when unknown."""
    if moment is None:
        return now_version()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000)


class Operation(StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"

    @property
    def is_delete(self) -> bool:
        return self is Operation.DELETE


class ChangeMessage(BaseModel):
    """One change of one warehouse document, by reference (the document is read when processed)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[2] = MESSAGE_SCHEMA_VERSION
    event_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    operation: Operation
    collection: DataType
    document_id: str = Field(min_length=1)
    version: int = Field(default_factory=now_version, ge=0)  # µs since the epoch of the change
    origin: Literal["change_stream", "snapshot", "reconcile"] = "change_stream"

    @property
    def data_type(self) -> DataType:
        return self.collection

    @property
    def timestamp(self) -> datetime:
        return datetime.fromtimestamp(self.version / 1_000_000, UTC)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode("utf-8")

    @classmethod
    def from_bytes(cls, body: bytes) -> ChangeMessage:
        return cls.model_validate_json(body)

    @classmethod
    def reference(
        cls,
        operation: Operation,
        collection: str,
        document_id: object,
        origin: str = "change_stream",
        timestamp: datetime | None = None,
    ) -> ChangeMessage:
        return cls(
            operation=operation,
            collection=DataType(collection),
            document_id=str(document_id),
            version=version_of(timestamp),
            origin=origin,  # type: ignore[arg-type]
        )
