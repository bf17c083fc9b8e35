"""Batch backfill / resync: warehouse → Qdrant with the streaming app's own cleaning, chunking and writer.

Used by the `features` pipeline for a fresh feature store, after a config change (`force=True`
re-embeds everything), or to repair drift. Documents are read in batches and each batch is embedded in
one call; documents gone from the warehouse lose their points, and so do documents with no text left
after cleaning. Documents that cannot be parsed are counted and reported, not written. Writes are
version-checked against the warehouse, so a backfill running beside the stream never undoes its work.
It needs no streaming runtime: the same `FeatureBuilder` and `FeatureWriter` the stream's sink uses are
called directly.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

from llm_twin.config.embedding import EmbeddingConfig
from llm_twin.config.features import FeaturesConfig
from llm_twin.connections import Connections
from llm_twin.domain.documents import DataType, document_from_mongo
from llm_twin.domain.features import FeatureChange
from llm_twin.embedding import get_embedder
from llm_twin.feature_store.qdrant import FeatureStore
from llm_twin.features.cleaning import EmptyDocumentError
from llm_twin.features.processing import FeatureBuilder
from llm_twin.features.writer import FeatureWriter, WriteReport

log = logging.getLogger(__name__)


@dataclass
class BackfillReport:
    write: WriteReport = field(default_factory=WriteReport)
    warehouse_documents: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # document id → reason
    empty: int = 0  # documents with no text after cleaning (nothing to index)
    duration_s: float = 0.0

    def as_metadata(self) -> dict[str, Any]:
        chunks = sum(self.write.chunks.values())
        return {
            **self.write.as_metadata(),
            "warehouse_documents": dict(self.warehouse_documents),
            "failed": len(self.failed),
            "empty": self.empty,
            "failed_examples": dict(list(self.failed.items())[:5]),
            "duration_s": round(self.duration_s, 2),
            "chunks_per_s": round(chunks / self.write.embed_s, 2) if self.write.embed_s else 0.0,
        }


def backfill(
    connections: Connections,
    embedding: EmbeddingConfig,
    features: FeaturesConfig,
    force: bool = False,
    progress: bool = True,
) -> BackfillReport:
    started = time.perf_counter()
    report = BackfillReport()
    builder = FeatureBuilder(features, embedding)
    batch_size = features.backfill_batch_documents
    with connections.mongo_client() as client, FeatureStore(connections, embedding.dimension) as store:
        db = client[connections.mongo_database]
        writer = FeatureWriter(store, lambda: get_embedder(embedding), db)  # version-checked: the stream may run too
        for data_type in DataType:
            name = data_type.value
            seen: set[str] = set()
            total = db[name].count_documents({})
            report.warehouse_documents[data_type.feature_name] = total
            batch: list[FeatureChange] = []
            bar = tqdm(total=total, desc=f"features {data_type.feature_name}", disable=not progress)
            for raw in db[name].find({}).sort("_id", 1):
                seen.add(str(raw["_id"]))
                try:
                    document = document_from_mongo(name, raw)
                    batch.append(FeatureChange(data_type, document.id, builder.build(document)))
                except EmptyDocumentError:  # no text left: indexed as nothing (its old points go)
                    batch.append(FeatureChange(data_type, document.id, deleted_hash=document.content_hash))
                    report.empty += 1
                except Exception as exc:  # noqa: BLE001 - a bad document is reported, the rest goes on
                    report.failed[str(raw["_id"])] = f"{type(exc).__name__}: {exc}"
                if len(batch) >= batch_size:
                    report.write.merge(writer.apply(batch, skip_unchanged=not force))
                    bar.update(len(batch))
                    batch = []
            if batch:
                report.write.merge(writer.apply(batch, skip_unchanged=not force))
                bar.update(len(batch))
            bar.close()
            stored = set(store.cleaned_hashes(data_type)) | store.embedded_document_ids(data_type)
            gone = sorted(stored - seen)
            if gone:
                report.write.merge(writer.apply([FeatureChange(data_type, d) for d in gone]))
    report.duration_s = time.perf_counter() - started
    log.info("backfill: %s", report.as_metadata())
    return report
