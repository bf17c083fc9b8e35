"""`train`: dataset → QLoRA SFT (+ optional DPO) → evaluate (base vs candidate vs production) → promote.

Run with a Model Control Plane model (`pipeline.model: {name: llm_twin}`): every run creates a new
version of `llm_twin` holding the adapter, the merged model, metrics and its stage.
"""

from __future__ import annotations

from typing import Any

from zenml import pipeline

from steps.dataset import build_instruct_dataset, build_preference_dataset
from steps.evaluation import evaluate_model, promote_model
from steps.training import train_model


@pipeline
def train_pipeline(
    dataset_config: dict[str, Any],
    base_model: dict[str, Any],
    training_config: dict[str, Any],
    evaluation_config: dict[str, Any],
    infra: dict[str, Any],
) -> None:
    dataset = build_instruct_dataset(dataset_config, base_model, infra)
    # Preference pairs cost base-model generations: only build them when the DPO stage will use them.
    preference = None
    if (training_config.get("dpo") or {}).get("enabled"):
        preference = build_preference_dataset(dataset, dataset_config, base_model)
    _adapter, merged, _plot = train_model(dataset, base_model, training_config, preference=preference)
    report, _html = evaluate_model(dataset, base_model, evaluation_config, merged_model=merged)
    promote_model(report, evaluation_config)
