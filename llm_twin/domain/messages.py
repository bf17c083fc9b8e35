"""The queue message contract (schema version 1): one warehouse change, as JSON.

The document travels as MongoDB Extended JSON (relaxed), so dates and ids survive the trip through
RabbitMQ and Kafka unchanged and the consumer parses it with `document_from_mongo` exactly as the
warehouse stores it.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, Literal

from bson import json_util
from pydantic import BaseModel, ConfigDict, Field

from llm_twin.domain.documents import DataType

MESSAGE_SCHEMA_VERSION: Final = 1
_JSON_OPTIONS = json_util.RELAXED_JSON_OPTIONS
_DECODE_OPTIONS = json_util.RELAXED_JSON_OPTIONS.with_options(tz_aware=True, tzinfo=UTC)


class Operation(StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"

    @property
    def is_delete(self) -> bool:
        return self is Operation.DELETE


class ChangeMessage(BaseModel):
    """One change of one warehouse document. Insert/update/replace carry the full document."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = MESSAGE_SCHEMA_VERSION
    event_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    operation: Operation
    collection: DataType
    document_id: str = Field(min_length=1)
    document: dict[str, Any] | None = None  # Extended JSON of the raw warehouse document
    resume_token: dict[str, Any] | None = None  # None for snapshot / reconciliation messages
    origin: Literal["change_stream", "snapshot", "reconcile"] = "change_stream"
    timestamp: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def data_type(self) -> DataType:
        return self.collection

    def raw_document(self) -> dict[str, Any]:
        """The document as pymongo would return it (datetimes restored)."""
        if self.document is None:
            raise ValueError(f"{self.operation.value} message {self.event_id} carries no document")
        return json_util.loads(json.dumps(self.document), json_options=_DECODE_OPTIONS)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode("utf-8")

    @classmethod
    def from_bytes(cls, body: bytes) -> ChangeMessage:
        return cls.model_validate_json(body)

    @classmethod
    def for_document(
        cls,
        operation: Operation,
        collection: str,
        raw: dict[str, Any] | None,
        document_id: Any,
        resume_token: dict[str, Any] | None = None,
        origin: str = "change_stream",
        timestamp: datetime | None = None,
    ) -> ChangeMessage:
        document = None
        if raw is not None and not operation.is_delete:
            document = _as_extended(raw)  # dates as {"$date": ...}: plain JSON, restored by raw_document
        return cls(
            operation=operation,
            collection=DataType(collection),
            document_id=str(document_id),
            document=document,
            resume_token=_as_extended(resume_token) if resume_token is not None else None,
            origin=origin,  # type: ignore[arg-type]
            timestamp=timestamp or datetime.now(UTC),
        )


def _as_extended(value: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json_util.dumps(value, json_options=_JSON_OPTIONS))


def token_from_message(token: dict[str, Any]) -> dict[str, Any]:
    """A resume token from a message back into its BSON form."""
    return json_util.loads(json.dumps(token))
