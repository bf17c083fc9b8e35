"""`features`: batch backfill / resync of the feature store from the warehouse (same code as the stream)."""

from __future__ import annotations

from typing import Any

from zenml import pipeline

from steps.features import backfill_feature_store, check_feature_sync


@pipeline
def features_pipeline(infra: dict[str, Any], embedding: dict[str, Any], features: dict[str, Any], force: bool = False) -> None:
    report = backfill_feature_store(infra, embedding, features, force=force)
    check_feature_sync(infra, embedding, features, previous_report=report)
