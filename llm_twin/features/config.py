"""Configuration models of the feature pipelines (`conf/features/*.yaml`, `conf/embedding/*.yaml`).

Pipeline params arrive as plain dicts; these models validate them once at the boundary, so a typo in a
YAML file fails with a clear message instead of deep inside the stream.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llm_twin.cdc.config import CdcConfig
from llm_twin.domain.documents import DataType
from llm_twin.streaming.config import StreamConfig


class EmbeddingConfig(BaseModel):
    """Which sentence-transformers model embeds chunks (`conf/embedding/<name>.yaml`)."""

    model_config = ConfigDict(extra="ignore")

    model_id: str
    package: str | None = None  # python package whose `model/` folder holds the weights; None = model_id
    dimension: int = Field(gt=0)
    max_seq_length: int = Field(default=256, gt=8)
    batch_size: int = Field(default=32, gt=0)
    device: str = "cpu"
    normalize: bool = True


class ChunkingConfig(BaseModel):
    """Token budget of one chunk, counted with the embedding model's own tokenizer."""

    model_config = ConfigDict(extra="forbid")

    chunk_tokens: int = Field(gt=8)
    overlap_tokens: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _overlap_smaller(self) -> "ChunkingConfig":
        if self.overlap_tokens >= self.chunk_tokens // 2:
            raise ValueError("overlap_tokens must be less than half of chunk_tokens")
        return self


class CodeCleaningConfig(BaseModel):
    """Which repository files are worth embedding; lock files and generated blobs only add noise."""

    model_config = ConfigDict(extra="forbid")

    ignore_globs: list[str] = Field(
        default_factory=lambda: ["*.lock", "package-lock.json", "*.min.js", "*.min.css", "*.svg", "*.ipynb"]
    )
    max_file_chars: int = Field(default=100_000, gt=0)


class FeaturesConfig(BaseModel):
    """Cleaning and chunking per data type (feature names: articles, posts, code), CDC and stream settings."""

    model_config = ConfigDict(extra="ignore")

    chunking: dict[str, ChunkingConfig] = Field(
        default_factory=lambda: {
            "articles": ChunkingConfig(chunk_tokens=254, overlap_tokens=32),
            "posts": ChunkingConfig(chunk_tokens=128, overlap_tokens=16),
            "code": ChunkingConfig(chunk_tokens=254, overlap_tokens=24),
        }
    )
    code: CodeCleaningConfig = Field(default_factory=CodeCleaningConfig)
    backfill_batch_documents: int = Field(default=64, gt=0)
    cdc: CdcConfig = Field(default_factory=CdcConfig)
    stream: StreamConfig = Field(default_factory=StreamConfig)

    @model_validator(mode="after")
    def _every_type_chunked(self) -> "FeaturesConfig":
        missing = {t.feature_name for t in DataType} - set(self.chunking)
        if missing:
            raise ValueError(f"features.chunking lacks settings for: {sorted(missing)}")
        return self

    def with_names(self, suffix: str) -> "FeaturesConfig":
        """Unique queue/exchange/topic/group/watcher names (tests and side-by-side demos)."""
        return self.model_copy(update={"cdc": self.cdc.with_names(suffix), "stream": self.stream.with_names(suffix)})

    def chunking_for(self, data_type: DataType) -> ChunkingConfig:
        return self.chunking[data_type.feature_name]

    def check_against(self, embedding: EmbeddingConfig) -> None:
        """A chunk longer than the model's window would be silently truncated at embedding time."""
        room = embedding.max_seq_length - 2  # [CLS] and [SEP]
        for name, cfg in self.chunking.items():
            if cfg.chunk_tokens > room:
                raise ValueError(
                    f"features.chunking.{name}.chunk_tokens={cfg.chunk_tokens} exceeds the embedding "
                    f"model's window ({embedding.max_seq_length} tokens incl. 2 special tokens)"
                )


