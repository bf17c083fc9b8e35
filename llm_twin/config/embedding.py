"""`conf/embedding/<name>.yaml`: the sentence-transformers model that embeds chunks and queries."""

from __future__ import annotations

from pydantic import Field

from llm_twin.config.base import Schema


class EmbeddingConfig(Schema):
    model_id: str = Field(min_length=1)
    package: str | None = Field(description="python package whose `model/` folder holds the weights")
    dimension: int = Field(gt=0)
    max_seq_length: int = Field(gt=8)
    batch_size: int = Field(gt=0)
    device: str
    normalize: bool
