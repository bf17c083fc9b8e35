"""Steps of the `dataset` pipeline: instruct dataset and preference pairs from the feature store."""

from __future__ import annotations

from typing import Annotated

from zenml import get_step_context, log_metadata, step
from zenml.metadata.metadata_types import MetadataType

from llm_twin.config import DatasetConfig, EmbeddingConfig, InfraConfig, ModelConfig
from llm_twin.connections import Connections
from llm_twin.domain.datasets import InstructDataset, PreferenceDataset


@step
def build_instruct_dataset(
    dataset: DatasetConfig, model: ModelConfig, infra: InfraConfig, embedding: EmbeddingConfig
) -> Annotated[InstructDataset, "instruct_dataset"]:
    from llm_twin.training.dataset_builder import build_instruct_dataset as build

    built = build(Connections.of(infra), dataset, model, embedding)
    meta = built.metadata
    metadata: dict[str, MetadataType] = {
        "dataset_hash": meta.dataset_hash,
        "generator": meta.generator,
        "documents": meta.documents,
        "windows": meta.windows,
        "train": len(built.train),
        "test": len(built.test),
        "counts": meta.counts,
        "dropped": {"duplicates": meta.dropped_duplicates, "too_short": meta.dropped_too_short,
                    "too_long": meta.dropped_too_long},
        "token_stats": meta.token_stats.model_dump(),
        "tokenizer": meta.tokenizer,
    }
    log_metadata(metadata=metadata)
    log_metadata(metadata=metadata, infer_artifact=True, artifact_name="instruct_dataset")
    if get_step_context().model_version is not None:  # a training run: the version records what it learnt from
        snapshot = {"documents": meta.source_documents, "count": len(meta.source_documents),
                    "taken_at": meta.built_at, "dataset_hash": meta.dataset_hash}
        log_metadata(metadata={"dataset_snapshot": snapshot}, infer_model=True)
    return built


@step
def build_preference_dataset(
    instruct: InstructDataset, dataset: DatasetConfig, model: ModelConfig
) -> Annotated[PreferenceDataset, "preference_dataset"]:
    from llm_twin.models.base import base_model_dir
    from llm_twin.training.preference import build_preference_dataset as build

    if not dataset.preference.enabled:
        preference = PreferenceDataset(base_model=model.base_model_id)
    else:
        preference = build(instruct, base_model_dir(model), model, dataset.preference)
    log_metadata(metadata={"pairs": len(preference.samples), "base_model": preference.base_model})
    return preference
