"""`smoke`: touch every local service for real (warehouse change stream, queue, stream broker, feature store)."""

from __future__ import annotations

from typing import Any

from zenml import pipeline

from steps.smoke import check_feature_store, check_queue, check_stream_broker, check_warehouse, summarize_checks


@pipeline
def smoke_pipeline(infra: dict[str, Any], embedding: dict[str, Any]) -> None:
    summarize_checks(
        warehouse=check_warehouse(infra),
        queue=check_queue(infra),
        broker=check_stream_broker(infra),
        feature_store=check_feature_store(infra, embedding),
    )
