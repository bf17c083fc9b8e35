"""Steps of the `deploy` stage: export + quantize the twin by measurement, then build the bento."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from zenml import log_metadata, step

from llm_twin.config import (
    AuthorConfig,
    EmbeddingConfig,
    InfraConfig,
    ModelConfig,
    MonitoringConfig,
    RetrievalConfig,
    ServingConfig,
)
from llm_twin.connections import Connections
from llm_twin.inference.bundle import BentoBuild
from llm_twin.inference.export import ServedModelReport


@step
def export_served_model(
    model: ModelConfig,
    serving: ServingConfig,
    infra: InfraConfig,
    author: AuthorConfig,
    version: str | int | None,  # a stage, a version name or number (`pipeline.params.version=3`)
    allow_base_fallback: bool,
) -> Annotated[ServedModelReport, "served_model_report"]:
    """Merged twin of `llm_twin@version` → F32 GGUF (checked by perplexity) → quantization by measurement."""
    from llm_twin.inference.deploy import prepare_served_model, resolve_model

    resolved = resolve_model(version, model, allow_base_fallback=allow_base_fallback)
    report = prepare_served_model(resolved, model, serving, Connections.of(infra), author.full_name)
    measured = report.model_dump(exclude={"candidates", "source_dir", "gguf_path"}, exclude_none=True)
    log_metadata(metadata={**measured, "model_source": resolved.source,
                           "candidates": {c.qtype: c.model_dump() for c in report.candidates}})
    return report


@step
def build_twin_bento(
    report: ServedModelReport,
    retrieval: RetrievalConfig,
    embedding: EmbeddingConfig,
    serving: ServingConfig,
    monitoring: MonitoringConfig,
    infra: InfraConfig,
    author: AuthorConfig,
) -> tuple[Annotated[BentoBuild, "bento"], Annotated[str, "deploy_summary"]]:
    """Bundle GGUF + runtime config (+ index snapshot on the local stack) and `bentoml build` it; the
    summary (how to serve it) is what `run.py` prints last."""
    from llm_twin.inference.deploy import package, runtime_config

    connections = Connections.of(infra)
    runtime = runtime_config(report.model_version, author.full_name, retrieval, embedding, serving, monitoring,
                             connections)
    build = package(Path(report.gguf_path).parent, runtime, connections, serving)
    log_metadata(metadata={"bento": build.bento_tag, "gguf_model": build.gguf_model_tag,
                           "index_model": build.index_model_tag, "serve": build.serve_command})
    summary = (f"Bento {build.bento_tag} built (model version {report.model_version}, {report.qtype}). "
               f"Serve it with:\n  {build.serve_command}\n"
               f"then open http://127.0.0.1:3000/ui/ (OpenAPI docs at http://127.0.0.1:3000/, OpenAI-compatible "
               f"API at http://127.0.0.1:3000/v1). To serve on the network, set an API key first "
               f"(export LLM_TWIN_API_KEY=...) and use --host 0.0.0.0.")
    modelfile = Path(report.gguf_path).parent / "Modelfile"
    if modelfile.is_file():
        summary += f"\nOllama: cd {modelfile.parent} && ollama create twin -f Modelfile && ollama run twin"
    return build, summary
