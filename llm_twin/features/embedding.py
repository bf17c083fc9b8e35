"""The sentence-transformers embedder, loaded once per process and used in batches.

Loading the model costs seconds and batch size 1 runs at a fraction of batched throughput on CPU (measured
here: ~5 vs ~35 chunks/s), so every caller goes through `get_embedder` (a per-process cache) and hands
over all chunks it has at once.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from llm_twin.features.chunking import model_dir
from llm_twin.features.config import EmbeddingConfig

_CACHE: dict[str, "Embedder"] = {}
_LOCK = threading.Lock()


class Embedder:
    def __init__(self, config: EmbeddingConfig) -> None:
        from sentence_transformers import SentenceTransformer

        self.config = config
        started = time.perf_counter()
        self.model = SentenceTransformer(model_dir(config.package, config.model_id), device=config.device)
        self.model.max_seq_length = config.max_seq_length
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
        return self.model.encode(
            texts,
            batch_size=self.config.batch_size,
            normalize_embeddings=self.config.normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)


def get_embedder(config: EmbeddingConfig) -> Embedder:
    """The process-wide embedder for this config (loaded on first use only)."""
    key = config.model_dump_json()
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = Embedder(config)
        return _CACHE[key]
