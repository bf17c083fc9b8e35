"""`conf/features/<name>.yaml`: per data type cleaning and token-aware chunking (stream and backfill)."""

from __future__ import annotations

from pydantic import Field, model_validator

from llm_twin.config.base import Schema
from llm_twin.config.embedding import EmbeddingConfig
from llm_twin.domain.documents import DataType


class ChunkingConfig(Schema):
    """Token budget of one chunk, counted with the embedding model's own tokenizer."""

    chunk_tokens: int = Field(gt=8)
    overlap_tokens: int = Field(ge=0)

    @model_validator(mode="after")
    def _overlap_smaller(self) -> ChunkingConfig:
        if self.overlap_tokens >= self.chunk_tokens // 2:
            raise ValueError("overlap_tokens must be less than half of chunk_tokens")
        return self


class CodeCleaningConfig(Schema):
    """Which repository files are worth embedding; lock files and generated blobs only add noise."""

    ignore_globs: list[str]
    max_file_chars: int = Field(gt=0)


class FeaturesConfig(Schema):
    chunking: dict[str, ChunkingConfig] = Field(description="feature type (articles, posts, code) -> budget")
    code: CodeCleaningConfig
    backfill_batch_documents: int = Field(gt=0)

    @model_validator(mode="after")
    def _every_type_chunked(self) -> FeaturesConfig:
        missing = {t.feature_name for t in DataType} - set(self.chunking)
        if missing:
            raise ValueError(f"features.chunking lacks settings for: {sorted(missing)}")
        return self

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
