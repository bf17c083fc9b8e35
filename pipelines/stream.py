"""`stream`: CDC watcher + Quix Streams app, bounded (drain until idle, then stop); then a sync check."""

from __future__ import annotations

from zenml import pipeline

from llm_twin.config import CdcConfig, EmbeddingConfig, FeaturesConfig, InfraConfig, StreamConfig
from steps.features import check_feature_sync
from steps.stream import capture_changes, stream_features


@pipeline
def stream_pipeline(
    infra: InfraConfig,
    embedding: EmbeddingConfig,
    features: FeaturesConfig,
    cdc: CdcConfig,
    stream: StreamConfig,
    reconcile: bool,
) -> None:
    cdc_report = capture_changes(infra, cdc)
    report = stream_features(infra, embedding, features, cdc, stream, cdc_report, reconcile=reconcile)
    check_feature_sync(infra, embedding, features, previous_report=report)
