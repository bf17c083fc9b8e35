"""The feature store on Qdrant: collections, idempotent writes, deletes, and hashes for reconciliation.

Writes are idempotent because point ids come from `point_id(document_id, chunk_index)`: a redelivered
change overwrites the same points. A batch's chunk points are written first and its `cleaned_<type>`
points last, so a cleaned point whose `content_hash` matches the warehouse proves that the document's
chunks are complete (a crash in between is repaired by the redelivery or by reconciliation).

Local mode (`qdrant_path`) takes an exclusive lock on the folder: one process at a time; with
`qdrant_url` every process shares the live server.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator
from typing import Any, Self

from pydantic import ValidationError
from qdrant_client import QdrantClient, models

from llm_twin.connections import Connections
from llm_twin.domain.documents import DataType
from llm_twin.domain.features import (
    ChunkPayload,
    CleanedPayload,
    DocumentFeatures,
    cleaned_collection,
    embedded_collection,
    point_id,
)

log = logging.getLogger(__name__)

INDEXED_FIELDS = ("document_id", "author_id", "platform")
_SCROLL_PAGE = 512


class FeatureStore:
    def __init__(self, connections: Connections, dimension: int) -> None:
        self.connections = connections
        self.dimension = dimension
        self._client: QdrantClient | None = None

    # -- lifecycle -------------------------------------------------------------------------------------
    @property
    def client(self) -> QdrantClient:
        if self._client is None:
            self._client = self.connections.qdrant_client()
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Self:
        self.ensure_collections()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ensure_collections(self) -> None:
        """Create missing collections and their payload indexes (no-op when they exist)."""
        for data_type in DataType:
            for name, vectors in (
                (cleaned_collection(data_type), {}),
                (
                    embedded_collection(data_type),
                    models.VectorParams(size=self.dimension, distance=models.Distance.COSINE),
                ),
            ):
                if self.client.collection_exists(name):
                    continue
                self.client.create_collection(name, vectors_config=vectors)
                with warnings.catch_warnings():  # local mode: indexes have no effect, and say so
                    warnings.simplefilter("ignore")
                    for field in INDEXED_FIELDS:
                        self.client.create_payload_index(name, field, models.PayloadSchemaType.KEYWORD)

    # -- writes ----------------------------------------------------------------------------------------
    def write(self, items: Iterable[DocumentFeatures]) -> int:
        """Upsert documents (vectors required); removes chunks beyond a shortened document's new end.

        One call per kind of write for the whole batch (stale-chunk delete, chunk points, cleaned points),
        in that order, so the cleaned points still come last; per-document calls cost a round trip (and in
        local mode a storage commit) each."""
        items = list(items)
        for item in items:
            if item.vectors is None or len(item.vectors) != len(item.chunks):
                raise ValueError(f"document {item.document_id}: embed before writing")
        for data_type in sorted({item.data_type for item in items}, key=lambda t: t.value):
            mine = [item for item in items if item.data_type == data_type]
            embedded = embedded_collection(data_type)
            chunk_points = [
                models.PointStruct(
                    id=point_id(item.document_id, chunk.chunk_index),
                    vector=vector.tolist(),
                    payload=chunk.model_dump(mode="json"),
                )
                for item in mine
                for chunk, vector in zip(item.chunks, item.vectors if item.vectors is not None else [])
            ]
            stale = self._stale_chunk_ids(embedded, mine)
            if stale:  # before the upsert, which overwrites the first chunk that records the old count
                self.client.delete(embedded, points_selector=models.PointIdsList(points=list[models.ExtendedPointId](stale)),
                                   wait=True)
            if chunk_points:
                self.client.upsert(embedded, points=chunk_points, wait=True)
            self.client.upsert(
                cleaned_collection(data_type),
                points=[
                    models.PointStruct(
                        id=point_id(item.document_id, -1), vector={}, payload=item.cleaned.model_dump(mode="json")
                    )
                    for item in mine
                ],
                wait=True,
            )
        return sum(len(item.chunks) for item in items)

    def _stale_chunk_ids(self, embedded: str, items: list[DocumentFeatures]) -> list[str]:
        """Point ids of the chunks past each document's new end, from the `chunk_count` its stored first chunk
        records: lookups by id, where a filter over `document_id` scanned every point of the collection once
        per document in the batch (1.6 s for 250 documents over 800 points in local mode, growing with both).
        Deleting them before the upsert keeps a crash in between harmless: the redelivered batch reads the
        same old count again."""
        records = self.client.retrieve(embedded, ids=[point_id(item.document_id, 0) for item in items],
                                       with_payload=["document_id", "chunk_count"], with_vectors=False)
        previous = {str(r.payload["document_id"]): int(r.payload["chunk_count"]) for r in records if r.payload}
        return [point_id(item.document_id, index) for item in items
                for index in range(len(item.chunks), previous.get(item.document_id, 0))]

    def delete_documents(self, data_type: DataType, document_ids: list[str]) -> None:
        """Remove every point of these documents (chunks first, the cleaned marker last)."""
        if not document_ids:
            return
        self.client.delete(
            embedded_collection(data_type),
            points_selector=models.FilterSelector(
                filter=models.Filter(
                    must=[models.FieldCondition(key="document_id", match=models.MatchAny(any=document_ids))]
                )
            ),
            wait=True,
        )
        self.client.delete(
            cleaned_collection(data_type),
            points_selector=models.PointIdsList(points=[point_id(d, -1) for d in document_ids]),
            wait=True,
        )

    # -- reads -----------------------------------------------------------------------------------------
    def cleaned_hashes(self, data_type: DataType, document_ids: list[str] | None = None) -> dict[str, str]:
        """document_id → content_hash of the `cleaned_<type>` points (all, or only these documents)."""
        name = cleaned_collection(data_type)
        if document_ids is not None:
            if not document_ids:
                return {}
            records: Iterable[models.Record] = self.client.retrieve(
                name, ids=[point_id(d, -1) for d in document_ids], with_payload=["document_id", "content_hash"]
            )
        else:
            records = self._scroll(name, ["document_id", "content_hash"])
        return {r.payload["document_id"]: r.payload["content_hash"] for r in records if r.payload}

    def embedded_document_ids(self, data_type: DataType) -> set[str]:
        return {r.payload["document_id"] for r in self._scroll(embedded_collection(data_type), ["document_id"]) if r.payload}

    def payloads(self, collection: str) -> dict[str, dict[str, Any]]:
        """point id → payload of a whole collection (tests and resync checks)."""
        return {str(r.id): dict(r.payload or {}) for r in self._scroll(collection, True)}

    def count(self, collection: str) -> int:
        return self.client.count(collection, exact=True).count

    def search(self, data_type: DataType, vector: list[float], limit: int = 5, document_id: str | None = None):
        flt = models.Filter(must=[_match("document_id", document_id)]) if document_id else None
        return self.client.query_points(
            embedded_collection(data_type), query=vector, limit=limit, query_filter=flt, with_payload=True
        ).points

    def cleaned_documents(self, data_type: DataType, author_full_name: str | None = None) -> list[CleanedPayload]:
        """Every cleaned document of a type (of one author), sorted by id so dataset builds reproduce."""
        name = cleaned_collection(data_type)
        if not self.client.collection_exists(name):
            log.warning("feature store has no collection %s", name)
            return []
        out = []
        for record in self._scroll(name, True):
            try:
                payload = CleanedPayload.model_validate(record.payload)
            except ValidationError as exc:
                log.warning("skipping invalid point %s in %s: %s", record.id, name, exc.errors()[:1])
                continue
            if author_full_name is None or payload.author_full_name == author_full_name:
                out.append(payload)
        return sorted(out, key=lambda p: p.document_id)

    def similar_chunks(
        self, data_type: DataType, vector: list[float], limit: int, exclude_document_id: str | None = None
    ) -> list[ChunkPayload]:
        """The nearest chunks of a type, never from `exclude_document_id` (filtered in Qdrant)."""
        name = embedded_collection(data_type)
        if not self.client.collection_exists(name):
            return []
        flt = models.Filter(must_not=[_match("document_id", exclude_document_id)]) if exclude_document_id else None
        points = self.client.query_points(name, query=vector, limit=limit, query_filter=flt, with_payload=True).points
        chunks = []
        for point in points:
            try:
                chunks.append(ChunkPayload.model_validate(point.payload))
            except ValidationError:
                log.warning("skipping invalid point %s in %s", point.id, name)
        return chunks

    def _scroll(self, collection: str, with_payload: Any) -> Iterator[models.Record]:
        offset = None
        while True:
            records, offset = self.client.scroll(
                collection, limit=_SCROLL_PAGE, offset=offset, with_payload=with_payload, with_vectors=False
            )
            yield from records
            if offset is None:
                return


def _match(key: str, value: str) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))
