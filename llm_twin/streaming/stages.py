"""The per-message stages of the StreamingDataFrame: decode → clean → chunk (embedding is batched in the sink).

Each stage is a plain function of the previous stage's value, so the same steps are testable without
Kafka. Any exception here marks the message as poison: the app's processing-error handler dead-letters
it with the reason and the stream goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llm_twin.domain.documents import Document, document_from_mongo
from llm_twin.domain.features import FeatureChange
from llm_twin.domain.messages import ChangeMessage
from llm_twin.features.cleaning import CleanedDocument
from llm_twin.features.processing import FeatureBuilder


@dataclass
class InFlight:
    """A change on its way through the dataframe."""

    message: ChangeMessage
    document: Document | None = None
    cleaned: CleanedDocument | None = None


class Stages:
    def __init__(self, builder: FeatureBuilder) -> None:
        self.builder = builder

    @staticmethod
    def decode(value: Any) -> InFlight:
        """Kafka value (JSON) → validated message; insert/update/replace also parse the document."""
        message = ChangeMessage.model_validate(value)
        if message.operation.is_delete:
            return InFlight(message)
        document = document_from_mongo(message.collection.value, message.raw_document())
        if document.id != message.document_id:
            raise ValueError(f"message for {message.document_id} carries document {document.id}")
        return InFlight(message, document)

    def clean(self, item: InFlight) -> InFlight:
        if item.document is not None:
            item.cleaned = self.builder.clean(item.document)
        return item

    def chunk(self, item: InFlight) -> FeatureChange:
        message = item.message
        if item.document is None:
            return FeatureChange(message.data_type, message.document_id)
        return FeatureChange(message.data_type, message.document_id, self.builder.build(item.document, item.cleaned))
