"""Steps of the `stream` pipeline: drain the change streams into RabbitMQ, then run the Quix app bounded."""

from __future__ import annotations

from typing import Annotated, Any

from zenml import log_metadata, step
from zenml.metadata.metadata_types import MetadataType

from llm_twin.cdc.watcher import drain_changes
from llm_twin.config import CdcConfig, EmbeddingConfig, FeaturesConfig, InfraConfig, StreamConfig
from llm_twin.connections import Connections
from llm_twin.streaming.app import StreamSetup, run_stream


@step
def capture_changes(infra: InfraConfig, cdc: CdcConfig) -> Annotated[dict[str, Any], "cdc_report"]:
    """Publish every change since the last confirmed resume token (a snapshot on the first run)."""
    stats = drain_changes(Connections.of(infra), cdc)
    report: dict[str, MetadataType] = {"published": stats.published, "snapshot": stats.snapshot, "reconnects": stats.reconnects}
    log_metadata(metadata=report)
    return report


@step
def stream_features(
    infra: InfraConfig,
    embedding: EmbeddingConfig,
    features: FeaturesConfig,
    cdc: CdcConfig,
    stream: StreamConfig,
    cdc_report: dict[str, Any],
    reconcile: bool,
) -> Annotated[dict[str, Any], "stream_report"]:
    """Run the Quix app until the queue and topic are drained (idle), reconciling with Qdrant first."""
    bounded = stream.model_copy(update={"bounded": True, "reconcile": reconcile})
    setup = StreamSetup(Connections.of(infra), embedding, features, cdc, bounded)
    report = run_stream(setup).as_metadata()
    log_metadata(metadata=report)
    return report
