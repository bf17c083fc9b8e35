"""`smoke`: touch every local service for real (warehouse change stream, queue, stream broker, feature store)."""

from __future__ import annotations

from zenml import pipeline

from llm_twin.config import EmbeddingConfig, InfraConfig
from steps.smoke import (
    check_feature_store,
    check_queue,
    check_stream_broker,
    check_warehouse,
    summarize_checks,
)


@pipeline
def smoke_pipeline(infra: InfraConfig, embedding: EmbeddingConfig) -> None:
    summarize_checks(
        warehouse=check_warehouse(infra),
        queue=check_queue(infra),
        broker=check_stream_broker(infra),
        feature_store=check_feature_store(infra, embedding),
    )
