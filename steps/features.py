"""Steps of the `features` pipeline: warehouse → Qdrant backfill/resync, then a sync check."""

from __future__ import annotations

from typing import Annotated, Any

from zenml import log_metadata, step

from llm_twin.cdc.reconcile import check_sync
from llm_twin.features.backfill import backfill
from llm_twin.streaming.settings import StreamSettings


@step
def backfill_feature_store(
    infra: dict[str, Any], embedding: dict[str, Any], features: dict[str, Any], force: bool = False
) -> Annotated[dict[str, Any], "backfill_report"]:
    """Clean, chunk and embed every warehouse document (unchanged ones skipped unless `force`)."""
    report = backfill(StreamSettings.from_params(infra, embedding, features), force=force).as_metadata()
    log_metadata(metadata=report)
    return report


@step
def check_feature_sync(
    infra: dict[str, Any], embedding: dict[str, Any], features: dict[str, Any], previous_report: dict[str, Any]
) -> Annotated[dict[str, Any], "sync_report"]:
    """Warehouse vs Qdrant content hashes per type; every count zero means in sync."""
    settings = StreamSettings.from_params(infra, embedding, features)
    drift = check_sync(settings.connections, settings.embedding.dimension, settings.features.cdc.collections)
    in_sync = all(not any(counts.values()) for counts in drift.values())
    log_metadata(metadata={"drift": drift, "in_sync": in_sync})
    return {"drift": drift, "in_sync": in_sync}
