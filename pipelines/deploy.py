"""`deploy`: take the `production` (or a named) version of `llm_twin`, export it to GGUF, choose the
quantization by measurement, and build the BentoML bento that serves it with RAG."""

from __future__ import annotations

from zenml import pipeline

from llm_twin.config import (
    AuthorConfig,
    EmbeddingConfig,
    InfraConfig,
    ModelConfig,
    MonitoringConfig,
    RetrievalConfig,
    ServingConfig,
)
from steps.deploy import build_twin_bento, export_served_model


@pipeline
def deploy_pipeline(
    model: ModelConfig,
    retrieval: RetrievalConfig,
    embedding: EmbeddingConfig,
    serving: ServingConfig,
    monitoring: MonitoringConfig,
    infra: InfraConfig,
    author: AuthorConfig,
    version: str | int | None,  # a stage, a version name or number (`pipeline.params.version=3`)
    allow_base_fallback: bool,
) -> None:
    report = export_served_model(model, serving, infra, author, version, allow_base_fallback)
    build_twin_bento(report, retrieval, embedding, serving, monitoring, infra, author)
