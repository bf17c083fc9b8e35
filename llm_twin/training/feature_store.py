"""Read the feature store for training: cleaned documents and a context retriever.

Training reads Qdrant only (never the warehouse): `cleaned_<type>` for the author's texts and
`embedded_<type>` for augmented-prompt context. Local mode holds an exclusive lock on its folder, so a
single client is opened per build and closed afterwards.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from llm_twin.domain.documents import DataType
from llm_twin.domain.features import CleanedPayload, ChunkPayload
from llm_twin.settings import Connections

log = logging.getLogger(__name__)

FEATURE_TO_TYPE = {dt.feature_name: dt for dt in DataType}


@contextlib.contextmanager
def open_qdrant(conn: Connections) -> Iterator[Any]:
    client = conn.qdrant_client()
    try:
        yield client
    finally:
        client.close()


def _collection_exists(client: Any, name: str) -> bool:
    try:
        return bool(client.collection_exists(name))
    except Exception:  # noqa: BLE001 - older servers: fall back to listing
        return name in {c.name for c in client.get_collections().collections}


def read_cleaned(client: Any, feature_type: str, author_full_name: str | None = None, page: int = 256) -> list[CleanedPayload]:
    """All cleaned documents of one type (sorted by document id, so builds are reproducible)."""
    data_type = FEATURE_TO_TYPE[feature_type]
    name = f"cleaned_{data_type.feature_name}"
    if not _collection_exists(client, name):
        log.warning("feature store has no collection %s: no %s in the dataset", name, feature_type)
        return []
    out: list[CleanedPayload] = []
    offset = None
    while True:
        points, offset = client.scroll(
            collection_name=name, limit=page, offset=offset, with_payload=True, with_vectors=False
        )
        for point in points:
            try:
                payload = CleanedPayload.model_validate(point.payload)
            except ValidationError as exc:
                log.warning("skipping invalid point %s in %s: %s", point.id, name, exc.errors()[:1])
                continue
            if author_full_name and payload.author_full_name != author_full_name:
                continue
            out.append(payload)
        if offset is None:
            break
    return sorted(out, key=lambda p: p.document_id)


class ContextRetriever:
    """Top-k chunks of `embedded_<type>` for a query, never from the excluded (target) document."""

    def __init__(self, client: Any, package: str | None, model_id: str) -> None:
        self.client = client
        self.package = package
        self.model_id = model_id
        self._available: dict[str, bool] = {}

    def available(self, feature_type: str) -> bool:
        if feature_type not in self._available:
            name = f"embedded_{feature_type}"
            ok = _collection_exists(self.client, name) and self.client.count(name).count > 0
            self._available[feature_type] = ok
        return self._available[feature_type]

    def retrieve(self, query: str, feature_type: str, exclude_document_id: str, top_k: int) -> list[ChunkPayload]:
        from qdrant_client import models

        from llm_twin.training.embedding import embed

        if not self.available(feature_type):
            return []
        vector = embed([query], self.package, self.model_id)[0].tolist()
        result = self.client.query_points(
            collection_name=f"embedded_{feature_type}",
            query=vector,
            query_filter=models.Filter(
                must_not=[models.FieldCondition(key="document_id", match=models.MatchValue(value=exclude_document_id))]
            ),
            limit=top_k,
            with_payload=True,
        )
        chunks = []
        for point in result.points:
            try:
                chunks.append(ChunkPayload.model_validate(point.payload))
            except ValidationError:
                continue
        return [c for c in chunks if c.document_id != exclude_document_id]  # belt and braces
