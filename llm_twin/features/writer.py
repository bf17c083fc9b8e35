"""Applies document changes to the feature store: the one write path of the stream sink and the backfill.

A batch of changes is collapsed to the last change per document (each change carries the whole new
state, so applying only the last one equals applying them in order), unchanged documents are skipped by
content hash, and every remaining chunk of the batch is embedded in one batched call.

Writes are version-checked when the writer is given the warehouse: right before applying a batch (after
the slow embedding), it re-reads the warehouse `content_hash` of every document in it and drops each change
whose basis is no longer current (counted as `superseded`). So an older version never replaces a newer one
that the stream stored meanwhile, and a document created during a backfill or reconcile is not deleted as
an orphan. The superseded document's own change message (or the next reconcile) applies its current state.
The remaining window is the re-check → write round trip (milliseconds, against seconds of embedding).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pymongo.database import Database

from llm_twin.domain.documents import DataType
from llm_twin.domain.features import FeatureChange
from llm_twin.embedding import Embedder
from llm_twin.feature_store.qdrant import FeatureStore
from llm_twin.features.processing import embed_features
from llm_twin.warehouse.hashes import warehouse_hashes

log = logging.getLogger(__name__)


@dataclass
class WriteReport:
    documents: dict[str, int] = field(default_factory=dict)  # upserted per feature type
    chunks: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    skipped_unchanged: int = 0
    superseded: int = 0  # dropped: the warehouse changed after the change was read
    collapsed: int = 0
    embed_s: float = 0.0
    write_s: float = 0.0
    applied_ids: list[str] = field(default_factory=list)  # documents now current in the store

    def merge(self, other: WriteReport) -> None:
        for mine, theirs in ((self.documents, other.documents), (self.chunks, other.chunks), (self.deleted, other.deleted)):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        self.skipped_unchanged += other.skipped_unchanged
        self.superseded += other.superseded
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
            "superseded": self.superseded,
            "embed_s": round(self.embed_s, 3),
            "write_s": round(self.write_s, 3),
        }


class FeatureWriter:
    def __init__(
        self,
        store: FeatureStore,
        embedder: Embedder | Callable[[], Embedder],
        warehouse: Database | None = None,
    ) -> None:
        self.store = store
        self._embedder = embedder
        self.warehouse = warehouse  # None: changes are applied without the version check

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
        pending: dict[DataType, list[FeatureChange]] = {}
        for data_type in DataType:
            mine = [c for (t, _), c in latest.items() if t == data_type]
            if skip_unchanged:
                updates = [c for c in mine if c.features is not None]
                current = self.store.cleaned_hashes(data_type, [c.document_id for c in updates])
                unchanged = {c.document_id for c in updates if current.get(c.document_id) == c.basis}
                report.skipped_unchanged += len(unchanged)
                report.applied_ids.extend(sorted(unchanged))
                mine = [c for c in mine if c.document_id not in unchanged]
            pending[data_type] = mine

        to_embed = [c.features for mine in pending.values() for c in mine if c.features is not None]
        if to_embed:
            embed_started = time.perf_counter()
            embed_features(to_embed, self.embedder)
            report.embed_s = time.perf_counter() - embed_started

        for data_type, mine in pending.items():
            mine = self._still_current(data_type, mine, report)
            deletes = [c.document_id for c in mine if c.is_delete]
            if deletes:
                self.store.delete_documents(data_type, deletes)
                report.deleted[data_type.feature_name] = len(deletes)
                report.applied_ids.extend(deletes)
            upserts = [c.features for c in mine if c.features is not None]
            if upserts:
                self.store.write(upserts)
                name = data_type.feature_name
                report.documents[name] = report.documents.get(name, 0) + len(upserts)
                report.chunks[name] = report.chunks.get(name, 0) + sum(len(f.chunks) for f in upserts)
                report.applied_ids.extend(f.document_id for f in upserts)
        report.write_s = time.perf_counter() - started - report.embed_s
        return report

    def _still_current(self, data_type: DataType, changes: list[FeatureChange], report: WriteReport) -> list[FeatureChange]:
        """The changes whose basis is still the warehouse's state; the others are superseded."""
        if self.warehouse is None or not changes:
            return changes
        current = warehouse_hashes(self.warehouse, data_type, [c.document_id for c in changes])
        kept = [c for c in changes if current.get(c.document_id) == c.basis]
        superseded = len(changes) - len(kept)
        if superseded:
            report.superseded += superseded
            log.info("%d %s change(s) superseded by newer warehouse state; not applied", superseded, data_type.value)
        return kept

