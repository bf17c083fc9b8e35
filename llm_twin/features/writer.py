"""Applies document changes to the feature store: the one write path of the stream sink and the backfill.

A batch of changes is collapsed to the last change per document (each change carries the whole new
state, so applying only the last one equals applying them in order), unchanged documents are skipped by
content hash, and every remaining chunk of the batch is embedded in one batched call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from llm_twin.domain.documents import DataType
from llm_twin.domain.features import DocumentFeatures, FeatureChange
from llm_twin.embedding import Embedder
from llm_twin.feature_store.qdrant import FeatureStore
from llm_twin.features.processing import embed_features


@dataclass
class WriteReport:
    documents: dict[str, int] = field(default_factory=dict)  # upserted per feature type
    chunks: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    skipped_unchanged: int = 0
    collapsed: int = 0
    embed_s: float = 0.0
    write_s: float = 0.0
    applied_ids: list[str] = field(default_factory=list)  # documents now current in the store

    def merge(self, other: WriteReport) -> None:
        for mine, theirs in ((self.documents, other.documents), (self.chunks, other.chunks), (self.deleted, other.deleted)):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        self.skipped_unchanged += other.skipped_unchanged
        self.collapsed += other.collapsed
        self.embed_s += other.embed_s
        self.write_s += other.write_s
        self.applied_ids.extend(other.applied_ids)

    def as_metadata(self) -> dict[str, object]:
        return {
            "documents": dict(self.documents),
            "chunks": dict(self.chunks),
            "deleted": dict(self.deleted),
            "skipped_unchanged": self.skipped_unchanged,
            "embed_s": round(self.embed_s, 3),
            "write_s": round(self.write_s, 3),
        }


class FeatureWriter:
    def __init__(self, store: FeatureStore, embedder: Embedder | Callable[[], Embedder]) -> None:
        self.store = store
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if not isinstance(self._embedder, Embedder):
            self._embedder = self._embedder()
        return self._embedder

    def apply(self, changes: list[FeatureChange], skip_unchanged: bool = True) -> WriteReport:
        report = WriteReport()
        latest: dict[tuple[DataType, str], FeatureChange] = {}
        for change in changes:
            key = (change.data_type, change.document_id)
            latest.pop(key, None)  # re-insert so dict order follows the last occurrence
            latest[key] = change
        report.collapsed = len(changes) - len(latest)

        started = time.perf_counter()
        upserts: list[DocumentFeatures] = []
        for data_type in DataType:
            mine = [c for (t, _), c in latest.items() if t == data_type]
            deletes = [c.document_id for c in mine if c.is_delete]
            if deletes:
                self.store.delete_documents(data_type, deletes)
                report.deleted[data_type.feature_name] = len(deletes)
                report.applied_ids.extend(deletes)
            candidates = [c.features for c in mine if c.features is not None]
            if skip_unchanged and candidates:
                current = self.store.cleaned_hashes(data_type, [f.document_id for f in candidates])
                fresh = [f for f in candidates if current.get(f.document_id) != f.cleaned.content_hash]
                report.skipped_unchanged += len(candidates) - len(fresh)
                fresh_ids = {f.document_id for f in fresh}
                report.applied_ids.extend(f.document_id for f in candidates if f.document_id not in fresh_ids)
                candidates = fresh
            upserts.extend(candidates)

        if upserts:
            embed_started = time.perf_counter()
            embed_features(upserts, self.embedder)
            report.embed_s = time.perf_counter() - embed_started
            self.store.write(upserts)
            for item in upserts:
                name = item.data_type.feature_name
                report.documents[name] = report.documents.get(name, 0) + 1
                report.chunks[name] = report.chunks.get(name, 0) + len(item.chunks)
                report.applied_ids.append(item.document_id)
        report.write_s = time.perf_counter() - started - report.embed_s
        return report
