"""`evaluate`: score a version of `llm_twin` (pipeline.model.version: latest / a number / staging) against
the base and the current production on the latest instruct dataset, then apply the promotion gate."""

from __future__ import annotations

from zenml import pipeline

from llm_twin.config import (
    CrawlConfig,
    EmbeddingConfig,
    EvaluationConfig,
    FeaturesConfig,
    InfraConfig,
    ModelConfig,
    TrainingConfig,
)
from steps.evaluation import collect_reference_texts, evaluate_model, load_instruct_dataset, promote_model


@pipeline
def evaluate_pipeline(
    model: ModelConfig,
    evaluation: EvaluationConfig,
    embedding: EmbeddingConfig,
    training: TrainingConfig,
    dataset_version: str | None,
    infra: InfraConfig,
    crawl: CrawlConfig,
    features: FeaturesConfig,
    author_full_name: str | None,
) -> None:
    dataset = load_instruct_dataset(dataset_version)
    references = collect_reference_texts(evaluation, crawl, features, infra, author_full_name)
    report, _html = evaluate_model(dataset, model, evaluation, embedding, training.comet,
                                   reference_texts=references, target=author_full_name)
    promote_model(report, evaluation)
