"""`deploy`: take the `production` (or a named) version of `llm_twin`, export it to GGUF, choose the
quantization by measurement, and build the BentoML bento that serves it with RAG."""

from __future__ import annotations

from typing import Any

from zenml import pipeline

from steps.deploy import build_twin_bento, export_served_model


@pipeline
def deploy_pipeline(
    base_model: dict[str, Any],
    retrieval_config: dict[str, Any],
    embedding_config: dict[str, Any],
    serving_config: dict[str, Any],
    monitoring_config: dict[str, Any],
    infra: dict[str, Any],
    author: dict[str, Any],
    version: str | None = "production",
    allow_base_fallback: bool = True,
) -> None:
    report = export_served_model(base_model, serving_config, infra, author, version, allow_base_fallback)
    build_twin_bento(report, retrieval_config, embedding_config, serving_config, monitoring_config, infra, author)
