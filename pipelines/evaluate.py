"""`evaluate`: score a version of `llm_twin` (pipeline.model.version: latest / a number / staging) against
the base and the current production on the latest instruct dataset, then apply the promotion gate."""

from __future__ import annotations

from zenml import pipeline

from llm_twin.config import EmbeddingConfig, EvaluationConfig, ModelConfig, TrainingConfig
from steps.evaluation import evaluate_model, load_instruct_dataset, promote_model


@pipeline
def evaluate_pipeline(
    model: ModelConfig,
    evaluation: EvaluationConfig,
    embedding: EmbeddingConfig,
    training: TrainingConfig,
    dataset_version: str | None,
) -> None:
    dataset = load_instruct_dataset(dataset_version)
    report, _html = evaluate_model(dataset, model, evaluation, embedding, training.comet)
    promote_model(report, evaluation)
