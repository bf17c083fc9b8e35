"""The sentence-transformers embedder: loaded once per process, used in batches, shared by every caller.

Loading the model costs seconds and batch size 1 runs at a fraction of batched throughput on CPU (measured
here: ~5 vs ~35 chunks/s), so the feature pipelines (chunk embedding), retrieval (query embedding),
augmented-prompt retrieval, style metrics and the smoke check all go through `get_embedder`: the packaged
all-MiniLM-L6-v2 is loaded once per process, whoever asks first. Chunks and queries are embedded by the
same model, which is what makes their vectors comparable.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from llm_twin.config.embedding import EmbeddingConfig

_LOCK = threading.Lock()
_EMBEDDERS: dict[str, Embedder] = {}


def model_path(config: EmbeddingConfig) -> str:
    """Folder of a packaged model (`<package dir>/model`), else the model id itself (a hub id or folder)."""
    if not config.package:
        return config.model_id
    spec = importlib.util.find_spec(config.package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"embedding package {config.package!r} is not installed: run `make setup` "
            f"(or pip install {config.package.replace('_', '-')})"
        )
    path = Path(spec.submodule_search_locations[0]).resolve() / "model"
    if not path.is_dir():
        raise RuntimeError(f"{path} is missing: the embedding package {config.package!r} has no model folder")
    return str(path)


@lru_cache(maxsize=4)
def _tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def load_tokenizer(config: EmbeddingConfig) -> Any:
    """The embedding model's tokenizer alone (no weights): what chunk budgets are counted with."""
    return _tokenizer(model_path(config))


class Embedder:
    """One loaded model; `encode` is serialised (a shared tokenizer is not safe across threads)."""

    def __init__(self, config: EmbeddingConfig) -> None:
        from sentence_transformers import SentenceTransformer

        self.config = config
        started = time.perf_counter()
        self.model = SentenceTransformer(model_path(config), device=config.device)
        self.model.max_seq_length = config.max_seq_length
        self.load_s = time.perf_counter() - started
        dimension_of = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        dimension = dimension_of()
        if dimension != config.dimension:
            raise ValueError(f"embedding.dimension={config.dimension} but {config.model_id} outputs {dimension}")
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.config.model_id

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    def encode(self, texts: list[str]) -> np.ndarray:
        """float32 (n, dimension), in batches of `batch_size`; rows L2-normalized when configured."""
        if not texts:
            return np.zeros((0, self.config.dimension), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                texts,
                batch_size=self.config.batch_size,
                normalize_embeddings=self.config.normalize,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


def get_embedder(config: EmbeddingConfig) -> Embedder:
    """The process-wide embedder for this config (loaded on first use only)."""
    key = config.model_dump_json()
    with _LOCK:
        cached = _EMBEDDERS.get(key)
    if cached is None:
        embedder = Embedder(config)  # loaded outside the lock: seconds of work
        with _LOCK:
            cached = _EMBEDDERS.setdefault(key, embedder)
    return cached
