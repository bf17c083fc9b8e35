"""`conf/retrieval/<name>.yaml`: retrieval shared by the service and evaluation (llm_twin/rag)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from llm_twin.config.base import Schema
from llm_twin.config.llm import LLMEndpointConfig


class RerankConfig(Schema):
    mode: Literal["mmr", "cross_encoder", "none"]
    cross_encoder: str | None = Field(description="a local folder or model id of a CrossEncoder")
    mmr_lambda: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _cross_encoder_named(self) -> RerankConfig:
        """`cross_encoder` mode without a model would silently serve unreranked hits: refuse it."""
        if self.mode == "cross_encoder" and not self.cross_encoder:
            raise ValueError("rerank.mode=cross_encoder needs rerank.cross_encoder (a folder or model id)")
        return self


class RetrievalConfig(Schema):
    data_types: list[Literal["articles", "posts", "code"]] = Field(min_length=1)
    self_query: Literal["rules", "llm"]
    expansion: Literal["rules", "llm"]
    expand_to_n: int = Field(ge=1, le=10)
    top_k: int = Field(ge=1, le=100, description="hits per query and collection")
    final_k: int = Field(ge=1, le=50, description="chunks kept after reranking")
    score_threshold: float | None
    context_token_budget: int = Field(ge=16)
    default_author: str | None = Field(description="author filter when the request names none")
    llm: LLMEndpointConfig
    rerank: RerankConfig
