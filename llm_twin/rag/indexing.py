"""Write `ChunkPayload` points with real embeddings into `embedded_<type>` collections.

The streaming feature pipeline is the production writer; this small helper exists so tests, the
benchmark and a demo can build a retrieval index from a handful of texts with the same contract.
"""

from __future__ import annotations

from qdrant_client import QdrantClient, models

from llm_twin.domain.features import ChunkPayload, embedded_collection, point_id
from llm_twin.embedding import Embedder


def ensure_collection(client: QdrantClient, name: str, dimension: int) -> None:
    if not client.collection_exists(name):
        client.create_collection(
            name, vectors_config=models.VectorParams(size=dimension, distance=models.Distance.COSINE)
        )


def index_chunks(client: QdrantClient, chunks: list[ChunkPayload], embedder: Embedder) -> int:
    by_collection: dict[str, list[ChunkPayload]] = {}
    for chunk in chunks:
        by_collection.setdefault(embedded_collection(chunk.data_type), []).append(chunk)
    for name, items in by_collection.items():
        ensure_collection(client, name, embedder.config.dimension)
        vectors = embedder.encode([c.text for c in items])
        client.upsert(
            name,
            points=[
                models.PointStruct(id=point_id(c.document_id, c.chunk_index), vector=v.tolist(), payload=c.model_dump(mode="json"))
                for c, v in zip(items, vectors)
            ],
        )
    return len(chunks)
