"""`features`: batch backfill / resync of the feature store from the warehouse (same code as the stream)."""

from __future__ import annotations

from zenml import pipeline

from llm_twin.config import EmbeddingConfig, FeaturesConfig, InfraConfig
from steps.features import backfill_feature_store, check_feature_sync


@pipeline
def features_pipeline(infra: InfraConfig, embedding: EmbeddingConfig, features: FeaturesConfig, force: bool) -> None:
    report = backfill_feature_store(infra, embedding, features, force=force)
    check_feature_sync(infra, embedding, features, previous_report=report)
