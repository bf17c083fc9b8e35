"""`train`: dataset → QLoRA SFT (+ optional DPO) → evaluate (base vs candidate vs production) → promote.

Run with a Model Control Plane model (`pipeline.model: {name: llm_twin}`): every run creates a new
version of `llm_twin` holding the adapter, the merged model, metrics and its stage.
"""

from __future__ import annotations

from zenml import pipeline

from llm_twin.config import (
    CrawlConfig,
    DatasetConfig,
    EmbeddingConfig,
    EvaluationConfig,
    FeaturesConfig,
    InfraConfig,
    ModelConfig,
    TrainingConfig,
)
from steps.dataset import build_instruct_dataset, build_preference_dataset
from steps.evaluation import collect_reference_texts, evaluate_model, promote_model
from steps.training import train_model


@pipeline
def train_pipeline(
    dataset: DatasetConfig,
    model: ModelConfig,
    training: TrainingConfig,
    evaluation: EvaluationConfig,
    infra: InfraConfig,
    embedding: EmbeddingConfig,
    crawl: CrawlConfig,
    features: FeaturesConfig,
) -> None:
    instruct = build_instruct_dataset(dataset, model, infra, embedding)
    # Preference pairs cost base-model generations: only build them when the DPO stage will use them.
    preference = build_preference_dataset(instruct, dataset, model) if training.dpo.enabled else None
    _adapter, merged, _plot = train_model(instruct, model, training, preference=preference)
    # Attribution is fitted on every author in the warehouse: the bundled reference authors join when absent.
    references = collect_reference_texts(evaluation, crawl, features, infra, dataset.author_full_name)
    report, _html = evaluate_model(instruct, model, evaluation, embedding, training.comet, merged_model=merged,
                                   reference_texts=references, target=dataset.author_full_name)
    promote_model(report, evaluation)
