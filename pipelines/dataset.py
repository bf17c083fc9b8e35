"""`dataset`: the feature store's cleaned documents → instruct dataset (+ preference pairs), versioned."""

from __future__ import annotations

from typing import Any

from zenml import pipeline

from steps.dataset import build_instruct_dataset, build_preference_dataset


@pipeline
def dataset_pipeline(dataset_config: dict[str, Any], base_model: dict[str, Any], infra: dict[str, Any]) -> None:
    dataset = build_instruct_dataset(dataset_config, base_model, infra)
    build_preference_dataset(dataset, dataset_config, base_model)
