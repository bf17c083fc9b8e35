"""`stream`: CDC watcher + Quix Streams app, bounded (drain until idle, then stop); then a sync check."""

from __future__ import annotations

from typing import Any

from zenml import pipeline

from steps.features import check_feature_sync
from steps.stream import capture_changes, stream_features


@pipeline
def stream_pipeline(infra: dict[str, Any], embedding: dict[str, Any], features: dict[str, Any], reconcile: bool = True) -> None:
    cdc_report = capture_changes(infra, embedding, features)
    report = stream_features(infra, embedding, features, cdc_report, reconcile=reconcile)
    check_feature_sync(infra, embedding, features, previous_report=report)
