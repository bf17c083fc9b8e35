"""The feature store's batched writes in Qdrant local mode: a shortened document loses exactly its stale
chunks (found by id from the chunk count its first chunk records, not by a filter scanning the whole
collection once per document), a redelivered batch changes nothing, and a write interrupted after the
stale-chunk delete is repaired by the redelivery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from llm_twin.config import EmbeddingConfig, FeaturesConfig, InfraConfig, compose
from llm_twin.connections import Connections
from llm_twin.domain.documents import Article, DataType
from llm_twin.domain.features import embedded_collection, point_id
from llm_twin.feature_store import FeatureStore
from llm_twin.features.processing import FeatureBuilder

AUTHOR = {"author_id": "u1", "author_full_name": "Jane Doe"}


@pytest.fixture()
def store(tmp_path: Path):
    cfg = compose([f"infra.qdrant_path={tmp_path / 'qdrant'}"])
    with FeatureStore(Connections.of(InfraConfig.of(cfg.infra)), 384) as feature_store:
        feature_store.ensure_collections()
        yield feature_store, FeatureBuilder(FeaturesConfig.of(cfg.features), EmbeddingConfig.of(cfg.embedding))


def article(doc_id: str, sentences: int) -> Article:
    text = " ".join(f"Sentence {i} explains how change data capture keeps the vector store in sync." for i in range(sentences))
    return Article(id=doc_id, platform="medium", link=f"https://ex.com/{doc_id}", content={"title": doc_id, "text": text},
                   **AUTHOR)


def features(builder: FeatureBuilder, doc: Article):
    built = builder.build(doc)
    built.vectors = np.random.default_rng(0).random((len(built.chunks), 384), dtype=np.float32)
    return built


def chunk_ids(feature_store: FeatureStore) -> set[str]:
    return set(feature_store.payloads(embedded_collection(DataType.ARTICLE)))


def test_a_shortened_document_loses_exactly_its_stale_chunks(store) -> None:
    feature_store, builder = store
    long_a, other = features(builder, article("a", 120)), features(builder, article("b", 60))
    assert len(long_a.chunks) >= 4 and len(other.chunks) >= 2
    feature_store.write([long_a, other])
    short_a = features(builder, article("a", 3))
    assert len(short_a.chunks) == 1
    feature_store.write([short_a])
    expected = {point_id("a", 0)} | {point_id("b", i) for i in range(len(other.chunks))}
    assert chunk_ids(feature_store) == expected
    feature_store.write([short_a])  # redelivered: nothing changes
    assert chunk_ids(feature_store) == expected


def test_a_write_interrupted_after_the_stale_delete_is_repaired_by_the_redelivery(store) -> None:
    feature_store, builder = store
    feature_store.write([features(builder, article("a", 120))])
    shorter = features(builder, article("a", 40))
    embedded = embedded_collection(DataType.ARTICLE)
    stale = feature_store._stale_chunk_ids(embedded, [shorter])
    assert stale and len(stale) == len(chunk_ids(feature_store)) - len(shorter.chunks)
    from qdrant_client import models

    # the first step of the write ran, then the process died before the upserts
    feature_store.client.delete(embedded, points_selector=models.PointIdsList(points=list(stale)), wait=True)
    feature_store.write([shorter])  # Kafka redelivers the uncommitted batch
    assert chunk_ids(feature_store) == {point_id("a", i) for i in range(len(shorter.chunks))}
