"""Steps of the `dataset` pipeline: instruct dataset and preference pairs from the feature store."""

from __future__ import annotations

from typing import Annotated, Any

from zenml import log_metadata, step

from llm_twin.settings import Connections
from llm_twin.training.config import DatasetConfig, ModelConfig
from llm_twin.training.schemas import InstructDataset, PreferenceDataset


@step
def build_instruct_dataset(
    dataset_config: dict[str, Any], base_model: dict[str, Any], infra: dict[str, Any]
) -> Annotated[InstructDataset, "instruct_dataset"]:
    from llm_twin.training.dataset_builder import build_instruct_dataset as build

    dataset = build(Connections.from_config(infra), DatasetConfig.model_validate(dataset_config), ModelConfig.model_validate(base_model))
    meta = dataset.metadata
    metadata = {
        "dataset_hash": meta.dataset_hash,
        "generator": meta.generator,
        "documents": meta.documents,
        "windows": meta.windows,
        "train": len(dataset.train),
        "test": len(dataset.test),
        "counts": meta.counts,
        "dropped": {"duplicates": meta.dropped_duplicates, "too_short": meta.dropped_too_short, "too_long": meta.dropped_too_long},
        "token_stats": meta.token_stats.model_dump(),
        "tokenizer": meta.tokenizer,
    }
    log_metadata(metadata=metadata)
    log_metadata(metadata=metadata, infer_artifact=True, artifact_name="instruct_dataset")
    return dataset


@step
def build_preference_dataset(
    dataset: InstructDataset, dataset_config: dict[str, Any], base_model: dict[str, Any]
) -> Annotated[PreferenceDataset, "preference_dataset"]:
    from llm_twin.training.preference import build_preference_dataset as build
    from llm_twin.training.tokenizer import base_model_dir

    cfg = DatasetConfig.model_validate(dataset_config)
    model_cfg = ModelConfig.model_validate(base_model)
    if not cfg.preference.enabled:
        preference = PreferenceDataset(base_model=model_cfg.base_model_id)
    else:
        preference = build(dataset, base_model_dir(model_cfg), model_cfg, cfg.preference)
    log_metadata(metadata={"pairs": len(preference.samples), "base_model": preference.base_model})
    return preference
