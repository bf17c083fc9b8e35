"""`dataset`: the feature store's cleaned documents → instruct dataset (+ preference pairs), versioned."""

from __future__ import annotations

from zenml import pipeline

from llm_twin.config import DatasetConfig, EmbeddingConfig, InfraConfig, ModelConfig
from steps.dataset import build_instruct_dataset, build_preference_dataset


@pipeline
def dataset_pipeline(dataset: DatasetConfig, model: ModelConfig, infra: InfraConfig, embedding: EmbeddingConfig) -> None:
    instruct = build_instruct_dataset(dataset, model, infra, embedding)
    build_preference_dataset(instruct, dataset, model)
