"""`conf/serving/<name>.yaml`: the served twin: backend, decoding, URL grounding, quantization, bento."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from llm_twin.config.base import Schema
from llm_twin.config.crawl import check_networks


class DecodingConfig(Schema):
    """Default decoding of the served twin (a request may override the sampling fields)."""

    max_new_tokens: int = Field(ge=1, le=4096)
    temperature: float = Field(ge=0.0, le=2.0)
    top_p: float = Field(gt=0.0, le=1.0)
    repeat_penalty: float = Field(ge=1.0, le=2.0)
    time_limit_s: float = Field(gt=0, description="a generation stops here (finish_reason=time_limit)")
    seed: int | None
    stop: list[str] = Field(max_length=4, description="extra stop strings (the chat markers always stop)")


class UrlConfig(Schema):
    """Grounding in a page given with the request; non-public addresses are refused unless allowed."""

    enabled: bool
    allow_private: bool
    allowed_networks: list[str] = Field(description="CIDRs allowed anyway; cloud metadata is always refused")
    timeout_s: float = Field(gt=0, description="connect, and the longest wait for the next bytes")
    total_timeout_s: float = Field(gt=0, description="the whole fetch, every redirect hop and the body")
    max_bytes: int = Field(ge=1024)
    max_redirects: int = Field(ge=0, le=10)
    content_types: list[str] = Field(min_length=1)
    chunk_words: int = Field(ge=20)
    max_chunks: int = Field(ge=1)

    @field_validator("allowed_networks")
    @classmethod
    def _ip_networks(cls, networks: list[str]) -> list[str]:
        return check_networks(networks)


class QuantizationConfig(Schema):
    """Chosen by measurement: perplexity within tolerance, then speed, then size."""

    candidates: list[str] = Field(min_length=1)
    tolerance: float = Field(ge=0, description="max relative perplexity increase vs the PyTorch model")
    export_tolerance: float = Field(ge=0, description="F32 GGUF vs PyTorch: larger means a wrong export")
    speed_margin: float = Field(ge=0, le=1)
    window_tokens: int = Field(ge=16)
    max_windows: int = Field(ge=1)
    keep_f32: bool


class BentoConfig(Schema):
    name: str
    gguf_model: str
    index_model: str
    home: str | None = Field(description="BENTOML_HOME; null: .twin/bentoml (outside the folder built)")
    snapshot_index: bool = Field(description="local Qdrant: the bento carries a copy of the index")


class ServingConfig(Schema):
    author: str | None
    system_prompt: str = Field(description="`{author}` is replaced by the author's name")
    backend: Literal["llama_cpp", "transformers_bnb"]
    bnb_bits: Literal[4, 8]
    n_ctx: int = Field(ge=256)
    threads: int | None = Field(description="llama.cpp threads (null: all cores)")
    generation: DecodingConfig
    url: UrlConfig
    quantization: QuantizationConfig
    bento: BentoConfig
