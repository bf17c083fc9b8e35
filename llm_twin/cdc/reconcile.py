"""Reconciliation: prove the feature store matches the warehouse, and re-publish only what differs.

Needed on the local stack because its Kafka-compatible broker keeps topics in memory (a broker restart
loses in-flight changes); on a real cluster it is how the system proves it is in sync. Compares each
warehouse document's `content_hash` with the hash in its `cleaned_<type>` point: missing or different
documents are re-published as updates, points of documents gone from the warehouse as deletes. Messages
are references: the stream re-reads the warehouse when it applies them, so an "orphan" created during the
reconcile is applied as the document, not deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pymongo.database import Database

from llm_twin.cdc.broker import ConfirmedPublisher
from llm_twin.connections import Connections
from llm_twin.domain.documents import DataType
from llm_twin.domain.messages import ChangeMessage, Operation
from llm_twin.feature_store.qdrant import FeatureStore


@dataclass
class Drift:
    missing: list[str] = field(default_factory=list)  # in the warehouse, not in the store
    stale: list[str] = field(default_factory=list)  # in both, different content hash
    orphans: list[str] = field(default_factory=list)  # in the store only

    @property
    def in_sync(self) -> bool:
        return not (self.missing or self.stale or self.orphans)

    def counts(self) -> dict[str, int]:
        return {"missing": len(self.missing), "stale": len(self.stale), "orphans": len(self.orphans)}


def find_drift(db: Database, store: FeatureStore, collections: Sequence[str]) -> dict[DataType, Drift]:
    result: dict[DataType, Drift] = {}
    for name in collections:
        data_type = DataType(name)
        warehouse = {str(d["_id"]): d.get("content_hash", "") for d in db[name].find({}, {"content_hash": 1})}
        stored = store.cleaned_hashes(data_type)
        chunked = store.embedded_document_ids(data_type)
        result[data_type] = Drift(
            missing=sorted(set(warehouse) - set(stored)),
            stale=sorted(d for d, h in stored.items() if d in warehouse and h != warehouse[d]),
            orphans=sorted((set(stored) | chunked) - set(warehouse)),
        )
    return result


def reconcile(
    db: Database, store: FeatureStore, publisher: ConfirmedPublisher, collections: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Re-publish the drifted documents through the normal stream; returns drift counts per type."""
    drift = find_drift(db, store, collections)
    for data_type, found in drift.items():
        for document_id in found.missing + found.stale:
            message = ChangeMessage.reference(Operation.UPDATE, data_type.value, document_id, origin="reconcile")
            publisher.publish(message.to_bytes(), message.event_id)
        for document_id in found.orphans:  # the stream re-reads the warehouse: a document created meanwhile stays
            message = ChangeMessage.reference(Operation.DELETE, data_type.value, document_id, origin="reconcile")
            publisher.publish(message.to_bytes(), message.event_id)
    return {t.feature_name: d.counts() for t, d in drift.items()}


def check_sync(connections: Connections, dimension: int, collections: list[str]) -> dict[str, dict[str, int]]:
    """Drift counts per feature type (all zero = the feature store matches the warehouse)."""
    with connections.mongo_client() as client, FeatureStore(connections, dimension) as store:
        drift = find_drift(client[connections.mongo_database], store, collections)
    return {t.feature_name: d.counts() for t, d in drift.items()}
