"""The per-message stages of the StreamingDataFrame: decode → load → clean → chunk (embedding is batched in
the sink).

Messages are references (schema 2): `load` reads the document's current state from the warehouse, so
a message of any document size flows and every write is "latest wins" (a document gone from the
warehouse is applied as a delete, whatever the message's operation; a deleted-then-recreated document
is applied as the document). A document with no text left after cleaning is applied as a delete of its
points instead of being dead-lettered again on every reconcile. Any other exception here marks the
message as poison: the app's processing-error handler dead-letters it with the reason and the stream
goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from llm_twin.domain.documents import Document, document_from_mongo
from llm_twin.domain.features import FeatureChange
from llm_twin.domain.messages import ChangeMessage
from llm_twin.features.cleaning import CleanedDocument, EmptyDocumentError
from llm_twin.features.processing import FeatureBuilder


@dataclass
class InFlight:
    """A change on its way through the dataframe."""

    message: ChangeMessage
    document: Document | None = None
    cleaned: CleanedDocument | None = None
    emptied_hash: str | None = None  # the document exists but has no text: the hash its delete is based on


class Stages:
    def __init__(self, builder: FeatureBuilder, warehouse: Database | None = None) -> None:
        self.builder = builder
        self.warehouse = warehouse

    @staticmethod
    def decode(value: Any) -> InFlight:
        """Kafka value (JSON) → validated reference message."""
        return InFlight(ChangeMessage.model_validate(value))

    def load(self, item: InFlight) -> InFlight:
        """The document's current state from the warehouse (None = gone: applied as a delete)."""
        if self.warehouse is None:
            raise RuntimeError("the stream stages need the warehouse to resolve reference messages")
        message = item.message
        raw = self.warehouse[message.collection.value].find_one({"_id": message.document_id})
        if raw is not None:
            item.document = document_from_mongo(message.collection.value, raw)
            if item.document.id != message.document_id:
                raise ValueError(f"message for {message.document_id} resolved document {item.document.id}")
        return item

    def clean(self, item: InFlight) -> InFlight:
        if item.document is not None:
            try:
                item.cleaned = self.builder.clean(item.document)
            except EmptyDocumentError:
                item.emptied_hash = item.document.content_hash  # nothing left to index: its old points go
                item.document = None
        return item

    def chunk(self, item: InFlight) -> FeatureChange:
        message = item.message
        if item.document is None:
            return FeatureChange(message.data_type, message.document_id, deleted_hash=item.emptied_hash)
        return FeatureChange(message.data_type, message.document_id, self.builder.build(item.document, item.cleaned))
