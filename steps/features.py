"""Steps of the `features` pipeline: warehouse → Qdrant backfill/resync, then a sync check."""

from __future__ import annotations

from typing import Annotated, Any

from zenml import log_metadata, step

from llm_twin.cdc.reconcile import check_sync
from llm_twin.config import EmbeddingConfig, FeaturesConfig, InfraConfig
from llm_twin.connections import Connections
from llm_twin.domain.documents import DataType
from llm_twin.features.backfill import backfill


@step
def backfill_feature_store(
    infra: InfraConfig, embedding: EmbeddingConfig, features: FeaturesConfig, force: bool
) -> Annotated[dict[str, Any], "backfill_report"]:
    """Clean, chunk and embed every warehouse document (unchanged ones skipped unless `force`)."""
    report = backfill(Connections.of(infra), embedding, features, force=force).as_metadata()
    log_metadata(metadata=report)
    return report


@step
def check_feature_sync(
    infra: InfraConfig, embedding: EmbeddingConfig, features: FeaturesConfig, previous_report: dict[str, Any]
) -> Annotated[dict[str, Any], "sync_report"]:
    """Warehouse vs Qdrant content hashes per type; every drift count zero means in sync (documents with
    nothing to index are listed apart, with the reason)."""
    sync = check_sync(Connections.of(infra), embedding.dimension, [t.value for t in DataType], features.code)
    unindexable = {name: len(ids) for name, ids in sync.unindexable.items()}
    log_metadata(metadata={"drift": sync.drift, "in_sync": sync.in_sync, "unindexable": unindexable})
    return {"drift": sync.drift, "in_sync": sync.in_sync, "unindexable": sync.unindexable}
