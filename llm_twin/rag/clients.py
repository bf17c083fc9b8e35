"""One retrieval client per data type over its `embedded_<type>` collection.

Each client owns its query preprocessing (code queries keep identifiers and also search them split into
words; prose queries are whitespace-normalised) and builds its Qdrant filter from the self-query meta.
Searches use qdrant-client's `query_points` with the vectors returned, so MMR can rerank without a
second round-trip.
"""

from __future__ import annotations

import logging
import re
from typing import ClassVar

import numpy as np
from qdrant_client import QdrantClient, models

from llm_twin.domain.documents import DataType
from llm_twin.domain.features import ChunkPayload, embedded_collection
from llm_twin.rag.expansion import split_identifiers
from llm_twin.rag.models import QueryMeta

log = logging.getLogger(__name__)


class Hit:
    """A search hit with its vector (for MMR) and validated payload."""

    __slots__ = ("id", "payload", "score", "vector")

    def __init__(self, id: str, score: float, vector: np.ndarray | None, payload: ChunkPayload) -> None:
        self.id, self.score, self.vector, self.payload = id, score, vector, payload


class RetrievalClient:
    data_type: ClassVar[DataType]

    def __init__(self, client: QdrantClient) -> None:
        self.client = client
        self.collection = embedded_collection(self.data_type)

    def preprocess(self, query: str) -> str:
        return " ".join(query.split())

    def available(self) -> bool:
        try:
            return self.client.collection_exists(self.collection)
        except Exception:  # a server that is down: the caller reports no hits for this type
            log.warning("collection %s unavailable", self.collection, exc_info=True)
            return False

    @staticmethod
    def build_filter(meta: QueryMeta, with_platform: bool = True) -> models.Filter | None:
        must: list[models.Condition] = []
        if meta.author:
            must.append(models.FieldCondition(key="author_full_name", match=models.MatchValue(value=meta.author)))
        if with_platform and meta.platform:
            must.append(models.FieldCondition(key="platform", match=models.MatchValue(value=meta.platform)))
        return models.Filter(must=must) if must else None

    def search(
        self,
        vector: np.ndarray,
        meta: QueryMeta,
        limit: int,
        score_threshold: float | None = None,
        with_platform: bool = True,
    ) -> list[Hit]:
        response = self.client.query_points(
            collection_name=self.collection,
            query=vector.tolist(),
            query_filter=self.build_filter(meta, with_platform),
            limit=limit,
            with_payload=True,
            with_vectors=True,
            score_threshold=score_threshold,
        )
        hits: list[Hit] = []
        for point in response.points:
            try:
                payload = ChunkPayload.model_validate(point.payload or {})
            except ValueError:
                log.warning("skipping point %s in %s: payload is not a ChunkPayload", point.id, self.collection)
                continue
            vec = np.asarray(point.vector, dtype=np.float32) if isinstance(point.vector, list) else None
            hits.append(Hit(str(point.id), float(point.score), vec, payload))
        return hits


class ArticleClient(RetrievalClient):
    data_type = DataType.ARTICLE


class PostClient(RetrievalClient):
    data_type = DataType.POST


class CodeClient(RetrievalClient):
    data_type = DataType.REPOSITORY

    def preprocess(self, query: str) -> str:
        """Strip Markdown fences and add the identifiers split into words (`getUser_id` → get user id)."""
        code = re.sub(r"```\w*", " ", query)
        words = split_identifiers(code)
        return " ".join(f"{code} {words}".split()) if words and words != code.lower() else " ".join(code.split())


CLIENTS: dict[str, type[RetrievalClient]] = {"articles": ArticleClient, "posts": PostClient, "code": CodeClient}
