"""Retrieval settings: the `retrieval` Hydra group (conf/retrieval/*.yaml) as a validated model."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class LLMEndpoint(BaseModel):
    """An OpenAI-compatible chat endpoint used for self-query / expansion when `base_url` is set."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None
    model: str = "gpt-4o-mini"
    api_key_env: str = "RAG_LLM_API_KEY"  # the key is read from this env variable when a call is made
    timeout_s: float = Field(default=20.0, gt=0)
    retries: int = Field(default=2, ge=0, le=5)
    backoff_s: float = Field(default=0.5, ge=0, le=10, description="first retry delay, doubled each time")

    @property
    def enabled(self) -> bool:
        return bool(self.base_url)

    def api_key(self) -> SecretStr | None:
        """Never part of the config (which ZenML records as pipeline parameters)."""
        value = os.environ.get(self.api_key_env)
        return SecretStr(value) if value else None


class RerankSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["mmr", "cross_encoder", "none"] = "mmr"
    cross_encoder: str | None = None  # a local folder or model id for sentence_transformers.CrossEncoder
    mmr_lambda: float = Field(default=0.7, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _cross_encoder_named(self) -> RerankSettings:
        """`cross_encoder` mode without a model would silently serve unreranked hits: refuse it."""
        if self.mode == "cross_encoder" and not self.cross_encoder:
            raise ValueError("rerank.mode=cross_encoder needs rerank.cross_encoder (a folder or model id)")
        return self


class RetrievalSettings(BaseModel):
    """What to search and how much context to keep; defaults work offline with no configuration."""

    model_config = ConfigDict(extra="forbid")

    data_types: list[Literal["articles", "posts", "code"]] = ["articles", "posts", "code"]
    self_query: Literal["rules", "llm"] = "rules"
    expansion: Literal["rules", "llm"] = "rules"
    expand_to_n: int = Field(default=3, ge=1, le=10)
    top_k: int = Field(default=6, ge=1, le=100, description="hits per query and collection")
    final_k: int = Field(default=5, ge=1, le=50, description="chunks kept after reranking")
    score_threshold: float | None = None
    context_token_budget: int = Field(default=768, ge=16)
    default_author: str | None = None  # author_full_name filter when the request names none
    llm: LLMEndpoint = LLMEndpoint()
    rerank: RerankSettings = RerankSettings()

    @classmethod
    def from_config(cls, node: Any) -> RetrievalSettings:
        from llm_twin.config import to_plain

        data = to_plain(node)
        llm = data.get("llm") or {}
        data["llm"] = {k: v for k, v in llm.items() if v not in (None, "")}
        return cls.model_validate(data)
