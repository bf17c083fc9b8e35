"""Reconciliation: prove the feature store matches the warehouse, and re-publish only what differs.

Needed on the local stack because its Kafka-compatible broker keeps topics in memory (a broker restart
loses in-flight changes); on a real cluster it is how the system proves it is in sync. Compares each
warehouse document's `content_hash` with the hash in its `cleaned_<type>` point: missing or different
documents are re-published as updates, points of documents gone from the warehouse as deletes. Messages
are references: the stream re-reads the warehouse when it applies them, so an "orphan" created during the
reconcile is applied as the document, not deleted.

A warehouse document that cannot be indexed (no text after cleaning, or not a valid document) has no
points by design: it is reported as `unindexable` with its reason, not as drift, and is not re-published
(it would only reach the dead-letter queue again on every reconcile).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError
from pymongo.database import Database

from llm_twin.cdc.broker import ConfirmedPublisher
from llm_twin.config.features import CodeCleaningConfig
from llm_twin.connections import Connections
from llm_twin.domain.documents import DataType, document_from_mongo
from llm_twin.domain.messages import ChangeMessage, Operation
from llm_twin.feature_store.qdrant import FeatureStore
from llm_twin.features.cleaning import EmptyDocumentError, clean_document
from llm_twin.warehouse.hashes import warehouse_hashes


@dataclass
class Drift:
    missing: list[str] = field(default_factory=list)  # in the warehouse, not in the store
    stale: list[str] = field(default_factory=list)  # in both, different content hash
    orphans: list[str] = field(default_factory=list)  # in the store only
    unindexable: dict[str, str] = field(default_factory=dict)  # in the warehouse, nothing to index: id → why

    @property
    def in_sync(self) -> bool:
        return not (self.missing or self.stale or self.orphans)

    def counts(self) -> dict[str, int]:
        return {"missing": len(self.missing), "stale": len(self.stale), "orphans": len(self.orphans)}


def find_drift(
    db: Database, store: FeatureStore, collections: Sequence[str], code: CodeCleaningConfig | None = None
) -> dict[DataType, Drift]:
    """Drift per type. With the cleaning rules (`code`), documents absent from the store are checked for
    text: those with none are `unindexable`, not `missing`."""
    result: dict[DataType, Drift] = {}
    for name in collections:
        data_type = DataType(name)
        warehouse = warehouse_hashes(db, data_type)
        stored = store.cleaned_hashes(data_type)
        chunked = store.embedded_document_ids(data_type)
        missing = sorted(set(warehouse) - set(stored))
        unindexable = _unindexable(db, data_type, missing, code) if code is not None and missing else {}
        result[data_type] = Drift(
            missing=[d for d in missing if d not in unindexable],
            stale=sorted(d for d, h in stored.items() if d in warehouse and h != warehouse[d]),
            orphans=sorted((set(stored) | chunked) - set(warehouse)),
            unindexable=unindexable,
        )
    return result


def _unindexable(db: Database, data_type: DataType, document_ids: list[str], code: CodeCleaningConfig) -> dict[str, str]:
    reasons: dict[str, str] = {}
    for raw in db[data_type.value].find({"_id": {"$in": document_ids}}):
        try:
            clean_document(document_from_mongo(data_type.value, raw), code)
        except EmptyDocumentError:
            reasons[str(raw["_id"])] = "no text after cleaning"
        except (ValidationError, ValueError, KeyError, TypeError) as exc:
            reasons[str(raw["_id"])] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return reasons


def reconcile(
    db: Database,
    store: FeatureStore,
    publisher: ConfirmedPublisher,
    collections: Sequence[str],
    code: CodeCleaningConfig | None = None,
) -> dict[str, dict[str, int]]:
    """Re-publish the drifted documents through the normal stream; returns drift counts per type."""
    drift = find_drift(db, store, collections, code)
    for data_type, found in drift.items():
        for document_id in found.missing + found.stale:
            message = ChangeMessage.reference(Operation.UPDATE, data_type.value, document_id, origin="reconcile")
            publisher.publish(message.to_bytes(), message.event_id)
        for document_id in found.orphans:  # the stream re-reads the warehouse: a document created meanwhile stays
            message = ChangeMessage.reference(Operation.DELETE, data_type.value, document_id, origin="reconcile")
            publisher.publish(message.to_bytes(), message.event_id)
    return {t.feature_name: d.counts() for t, d in drift.items()}


@dataclass
class SyncReport:
    """Drift counts per feature type (all zero = in sync) and the documents that have nothing to index."""

    drift: dict[str, dict[str, int]]
    unindexable: dict[str, dict[str, str]]

    @property
    def in_sync(self) -> bool:
        return all(not any(counts.values()) for counts in self.drift.values())


def check_sync(
    connections: Connections, dimension: int, collections: list[str], code: CodeCleaningConfig | None = None
) -> SyncReport:
    with connections.mongo_client() as client, FeatureStore(connections, dimension) as store:
        drift = find_drift(client[connections.mongo_database], store, collections, code)
    return SyncReport(
        drift={t.feature_name: d.counts() for t, d in drift.items()},
        unindexable={t.feature_name: d.unindexable for t, d in drift.items() if d.unindexable},
    )
