"""Document → feature-store records (cleaned payload + chunk payloads), shared by stream and backfill.

`FeatureBuilder` does the cheap, per-document part (parse, clean, chunk); vectors are added later for a
whole batch of documents at once (`embed_features`), because batched encoding is what keeps ingestion
close to the model's own throughput.
"""

from __future__ import annotations

from typing import Any

from llm_twin.config.embedding import EmbeddingConfig
from llm_twin.config.features import FeaturesConfig
from llm_twin.domain.documents import DataType, Document
from llm_twin.domain.features import ChunkPayload, CleanedPayload, DocumentFeatures
from llm_twin.embedding import Embedder, load_tokenizer
from llm_twin.features.chunking import Chunker, Tokenizer
from llm_twin.features.cleaning import CleanedDocument, clean_document


class FeatureBuilder:
    """Cleans and chunks documents with per-type rules and the embedding model's tokenizer."""

    def __init__(self, features: FeaturesConfig, embedding: EmbeddingConfig, tokenizer: Tokenizer | None = None):
        features.check_against(embedding)
        self.features = features
        self.embedding = embedding
        self.tokenizer = tokenizer or load_tokenizer(embedding)
        self.chunkers = {
            t: Chunker(self.tokenizer, features.chunking_for(t), code=t == DataType.REPOSITORY) for t in DataType
        }

    def clean(self, doc: Document) -> CleanedDocument:
        return clean_document(doc, self.features.code)

    def build(self, doc: Document, cleaned: CleanedDocument | None = None) -> DocumentFeatures:
        """Clean (unless already cleaned) and chunk one document into its payloads."""
        cleaned = cleaned or self.clean(doc)
        texts = self.chunkers[doc.data_type].chunk(cleaned)
        common: dict[str, Any] = {
            "document_id": doc.id,
            "data_type": doc.data_type,
            "author_id": doc.author_id,
            "author_full_name": doc.author_full_name,
            "platform": doc.platform,
            "link": doc.link,
            "title": cleaned.title,
            "content_hash": doc.content_hash,
        }
        return DocumentFeatures(
            data_type=doc.data_type,
            cleaned=CleanedPayload(text=cleaned.text, **common),
            chunks=[
                ChunkPayload(
                    chunk_index=i,
                    chunk_count=len(texts),
                    text=text,
                    embedding_model_id=self.embedding.model_id,
                    **common,
                )
                for i, text in enumerate(texts)
            ],
        )


def embed_features(items: list[DocumentFeatures], embedder: Embedder) -> int:
    """Embed the chunks of many documents in one batched call; returns the number of chunks."""
    texts = [chunk.text for item in items for chunk in item.chunks]
    vectors = embedder.encode(texts)
    offset = 0
    for item in items:
        item.vectors = vectors[offset : offset + len(item.chunks)]
        offset += len(item.chunks)
    return len(texts)
