"""`evaluate`: score a version of `llm_twin` (pipeline.model.version: latest / a number / staging) against
the base and the current production on the latest instruct dataset, then apply the promotion gate."""

from __future__ import annotations

from typing import Any

from zenml import pipeline

from steps.evaluation import evaluate_model, load_instruct_dataset, promote_model


@pipeline
def evaluate_pipeline(
    base_model: dict[str, Any], evaluation_config: dict[str, Any], dataset_version: str | None = None
) -> None:
    dataset = load_instruct_dataset(dataset_version)
    report, _html = evaluate_model(dataset, base_model, evaluation_config)
    promote_model(report, evaluation_config)
