"""The deploy stage as plain functions (the ZenML steps in steps/deploy.py only call these).

1. `resolve_model`: the merged twin of a Model Control Plane version (production by default), or the
   base model when no version exists yet and the config allows that fallback.
2. `prepare_served_model`: GGUF export + quantization chosen by measurement on held-out author texts.
3. `package`: Ollama Modelfile beside the GGUF, bundle (GGUF, report, runtime.json, Modelfile, index
   snapshot on the local stack) → BentoML models → bento; returns the command that serves it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel

from llm_twin.config.embedding import EmbeddingConfig
from llm_twin.config.infra import InfraConfig
from llm_twin.config.model import ModelConfig
from llm_twin.config.monitoring import MonitoringConfig
from llm_twin.config.retrieval import RetrievalConfig
from llm_twin.config.serving import ServingConfig
from llm_twin.connections import SECRET_EXPORT_PREFIX, Connections
from llm_twin.inference.bundle import BentoBuild, build_bento, write_bundle
from llm_twin.inference.export import ServedModelReport, build_served_gguf
from llm_twin.inference.heldout import heldout_texts
from llm_twin.inference.runtime import RuntimeConfig
from llm_twin.models import registry
from llm_twin.models.base import base_model_dir
from llm_twin.paths import state_dir

log = logging.getLogger(__name__)


class ResolvedModel(BaseModel):
    path: str
    version: str
    source: str  # registry | base


def resolve_model(version: str | int | None, model_cfg: ModelConfig, name: str = "llm_twin",
                  allow_base_fallback: bool = True) -> ResolvedModel:
    """The merged model folder of `name` at `version` (a stage, number or name; default production)."""
    try:
        path, resolved = registry.load_model_version(version or "production", name=name)
        return ResolvedModel(path=str(path), version=str(resolved), source="registry")
    except registry.ModelVersionNotFound as exc:
        if not allow_base_fallback:
            raise
        log.warning("%s; serving the base model instead (allow_base_fallback)", exc)
        return ResolvedModel(path=str(base_model_dir(model_cfg)), version=f"base-{model_cfg.name}", source="base")


def dataset_heldout_texts() -> list[str]:
    """The author's texts of the latest instruct dataset's test split (what evaluation scores too)."""
    try:
        from zenml.client import Client

        dataset = Client().get_artifact_version("instruct_dataset").load()
    except Exception as exc:  # noqa: BLE001 - no dataset yet: the caller falls back to the feature store / bundled texts
        log.info("no instruct_dataset artifact for held-out texts: %s", exc)
        return []
    seen: set[str] = set()
    texts = []
    for sample in dataset.test:
        if sample.answer not in seen:
            seen.add(sample.answer)
            texts.append(sample.answer)
    return texts


def prepare_served_model(model: ResolvedModel, model_cfg: ModelConfig, serving: ServingConfig,
                         connections: Connections | None, author: str | None,
                         texts: list[str] | None = None) -> ServedModelReport:
    from llm_twin.models.base import base_gguf

    if serving.backend == "transformers_bnb":
        return prepare_hf_served_model(model, serving)
    # The GGUF the base model came from lends the export its tokenizer metadata; a base model that came as
    # a Hugging Face folder (or hub id) has none, and the export writes the metadata from the merged folder.
    base_file = base_gguf(model_cfg)
    source = "explicit"
    if not texts:
        texts, source = dataset_heldout_texts(), "instruct_dataset_test"
    if not texts:
        client = None
        if connections is not None and (connections.qdrant_url or connections.qdrant_path):
            client = connections.qdrant_client()
        try:
            texts, source = heldout_texts(None, client, author)
        finally:
            if client is not None:
                client.close()
    out = state_dir("served", model.version)
    return build_served_gguf(Path(model.path), base_file, out, texts, serving.quantization,
                             model_version=model.version, heldout_source=source)


def prepare_hf_served_model(model: ResolvedModel, serving: ServingConfig) -> ServedModelReport:
    """GPU stacks: serve the merged HF folder, quantized by bitsandbytes (4/8-bit) when the service loads it."""
    import shutil
    import time

    from llm_twin.inference.export import REPORT_FILE, SERVED_HF_DIR, ServedModelReport

    started = time.perf_counter()
    source = Path(model.path)
    if not (source / "config.json").is_file():
        raise FileNotFoundError(f"{source} is not a Hugging Face model folder (no config.json)")
    out = state_dir("served", model.version)
    target = out / SERVED_HF_DIR
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    size_mb = sum(f.stat().st_size for f in target.rglob("*") if f.is_file()) / 1e6
    report = ServedModelReport(
        model_version=model.version, source_dir=str(source), gguf_path=str(target),
        qtype=f"bnb-{serving.bnb_bits}bit", size_mb=round(size_mb, 1), tokens_per_s=None,
        pytorch_perplexity=None, f32_gguf_perplexity=None, served_perplexity=None, perplexity_ratio=None,
        heldout_tokens=0, heldout_source="not measured: bitsandbytes quantizes at load time on the GPU",
        candidates=[], seconds=round(time.perf_counter() - started, 2),
    )
    (out / REPORT_FILE).write_text(report.model_dump_json(indent=2))
    return report


def service_infra(connections: Connections) -> InfraConfig:
    """The infra config the service is given: references only. The service needs the warehouse (traces)
    and the feature store; a secret configured literally (an `env:` reference to this process) is not
    carried over: the service reads MONGODB_URI from its own environment instead."""
    configured = connections.configured
    mongo_uri = configured.mongo_uri
    if mongo_uri.startswith(f"env:{SECRET_EXPORT_PREFIX}"):
        log.warning("the warehouse URI holds credentials: the service reads it from MONGODB_URI where it runs")
        mongo_uri = "env:MONGODB_URI|"
    return configured.model_copy(update={
        "mongo_uri": mongo_uri,
        "rabbitmq_url": "env:RABBITMQ_URL|",  # not used by the service
        "kafka_bootstrap": "env:KAFKA_BOOTSTRAP_SERVERS|",
    })


def runtime_config(model_version: str, author: str | None, retrieval: RetrievalConfig, embedding: EmbeddingConfig,
                   serving: ServingConfig, monitoring: MonitoringConfig, connections: Connections) -> RuntimeConfig:
    return RuntimeConfig(
        model_version=model_version, author=author, retrieval=retrieval, embedding=embedding, serving=serving,
        monitoring=monitoring, infra=service_infra(connections),
    )


def package(served_dir: Path, runtime: RuntimeConfig, connections: Connections, serving: ServingConfig) -> BentoBuild:
    qdrant_path = connections.qdrant_path if connections.qdrant_path and serving.bento.snapshot_index else None
    live = bool(connections.qdrant_url)
    bundle = write_bundle(state_dir("bundles") / runtime.model_version, served_dir, runtime, qdrant_path, live)
    return build_bento(bundle, serving.bento, runtime.model_version)
