"""The sentence-transformers embedder, loaded once per process and used in batches.

Loading the model costs seconds and batch size 1 runs at a fraction of batched throughput on CPU (measured
here: ~5 vs ~35 chunks/s), so every caller goes through this module: `load_sentence_transformer` is the
one per-process model cache (keyed by model folder and device), `get_embedder` the per-config wrapper
used by the feature pipelines, and the query embedder (`llm_twin.rag.embedder`), the evaluation helper
(`llm_twin.training.embedding`) and the smoke check (`llm_twin.infra.smoke`) all delegate here, so the
packaged all-MiniLM-L6-v2 is loaded once per process whoever asks first.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from llm_twin.features.config import EmbeddingConfig

_CACHE: dict[str, "Embedder"] = {}
_LOCK = threading.Lock()
# (resolved model folder or id, device[, max_seq_length when it differs from the model's default]) -> model
_MODELS: dict[tuple, Any] = {}
_MODEL_LOCKS: dict[int, threading.Lock] = {}


def model_path(package: str | None, model_id: str) -> str:
    """Folder of a packaged model (`<package dir>/model`), else the model id itself (a hub id or folder)."""
    if not package:
        return model_id
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"embedding package {package!r} is not installed: run `make setup` "
            f"(or pip install {package.replace('_', '-')})"
        )
    path = Path(spec.submodule_search_locations[0]).resolve() / "model"
    if not path.is_dir():
        raise RuntimeError(f"{path} is missing: the embedding package {package!r} has no model folder")
    return str(path)


def _key_path(path: str) -> str:
    p = Path(path)
    return str(p.resolve()) if p.exists() else path


def load_sentence_transformer(path: str, device: str = "cpu", max_seq_length: int | None = None) -> Any:
    """The process-wide SentenceTransformer for this folder/id and device (loaded on first use only).

    `max_seq_length=None` keeps the model's own window. A caller asking for a different window than the
    cached model has gets its own instance, so no caller silently changes another caller's truncation.
    """
    base = (_key_path(path), device)
    with _LOCK:
        model = _MODELS.get(base)
        if model is None:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(path, device=device)
            if max_seq_length is not None:
                model.max_seq_length = max_seq_length
            _MODELS[base] = model
            _MODEL_LOCKS[id(model)] = threading.Lock()
            return model
        if max_seq_length is None or model.max_seq_length == max_seq_length:
            return model
        key = (*base, max_seq_length)
        if key not in _MODELS:
            from sentence_transformers import SentenceTransformer

            other = SentenceTransformer(path, device=device)
            other.max_seq_length = max_seq_length
            _MODELS[key] = other
            _MODEL_LOCKS[id(other)] = threading.Lock()
        return _MODELS[key]


def model_lock(model: Any) -> threading.Lock:
    """The lock serialising `encode` on a shared model (its tokenizer is not safe across threads)."""
    with _LOCK:
        return _MODEL_LOCKS.setdefault(id(model), threading.Lock())


def encode(model: Any, texts: list[str], batch_size: int = 32, normalize: bool = True) -> np.ndarray:
    """Embed texts in batches on a shared model; rows are L2-normalized when asked. float32 (n, dim)."""
    with model_lock(model):
        vectors = model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    return np.asarray(vectors, dtype=np.float32)


class Embedder:
    def __init__(self, config: EmbeddingConfig) -> None:
        self.config = config
        started = time.perf_counter()
        self.model = load_sentence_transformer(model_path(config.package, config.model_id), config.device, config.max_seq_length)
        self.load_s = time.perf_counter() - started
        dimension_of = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        dim = dimension_of()
        if dim != config.dimension:
            raise ValueError(f"embedding.dimension={config.dimension} but {config.model_id} outputs {dim}")

    @property
    def model_id(self) -> str:
        return self.config.model_id

    @property
    def tokenizer(self):  # noqa: ANN201 - a transformers tokenizer
        return self.model.tokenizer

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts in batches of `batch_size`; rows are L2-normalized when configured."""
        if not texts:
            return np.zeros((0, self.config.dimension), dtype=np.float32)
        return encode(self.model, texts, self.config.batch_size, self.config.normalize)


def get_embedder(config: EmbeddingConfig) -> Embedder:
    """The process-wide embedder for this config (loaded on first use only)."""
    key = config.model_dump_json()
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is None:
        embedder = Embedder(config)  # outside _LOCK: the model loader takes it
        with _LOCK:
            cached = _CACHE.setdefault(key, embedder)
    return cached
