"""Steps of the `stream` pipeline: drain the change streams into RabbitMQ, then run the Quix app bounded."""

from __future__ import annotations

from typing import Annotated, Any

from zenml import log_metadata, step

from llm_twin.cdc.watcher import drain_changes
from llm_twin.streaming.app import run_stream
from llm_twin.streaming.settings import StreamSettings


@step
def capture_changes(
    infra: dict[str, Any], embedding: dict[str, Any], features: dict[str, Any]
) -> Annotated[dict[str, Any], "cdc_report"]:
    """Publish every change since the last confirmed resume token (a snapshot on the first run)."""
    settings = StreamSettings.from_params(infra, embedding, features)
    stats = drain_changes(settings.connections, settings.features.cdc)
    report = {"published": stats.published, "snapshot": stats.snapshot, "reconnects": stats.reconnects}
    log_metadata(metadata=report)
    return report


@step
def stream_features(
    infra: dict[str, Any],
    embedding: dict[str, Any],
    features: dict[str, Any],
    cdc_report: dict[str, Any],
    reconcile: bool = True,
) -> Annotated[dict[str, Any], "stream_report"]:
    """Run the Quix app until the queue and topic are drained (idle), reconciling with Qdrant first."""
    settings = StreamSettings.from_params(infra, embedding, features)
    report = run_stream(settings, bounded=True, reconcile_first=reconcile).as_metadata()
    log_metadata(metadata=report)
    return report
