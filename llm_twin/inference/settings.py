"""Serving settings: the `serving` Hydra group (conf/serving/*.yaml) as a validated model.

The API key is read from the environment at serve time (`LLM_TWIN_API_KEY`), never stored in the bento.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from llm_twin.inference.export import QuantizationSettings
from llm_twin.inference.generator import GenerationParams
from llm_twin.inference.url_context import UrlSettings


class BentoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "llm_twin"
    gguf_model: str = "llm_twin_gguf"
    index_model: str = "llm_twin_index"
    home: str | None = None  # BENTOML_HOME; default .twin/bentoml (outside the folder built)
    snapshot_index: bool = True  # local Qdrant: package a copy of the index in the bento


class ServingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    author: str | None = None
    system_prompt: str = "You are {author}'s writing twin: write in their voice, style and opinions."
    n_ctx: int = Field(default=2048, ge=256)
    threads: int | None = None
    generation: GenerationParams = GenerationParams()
    url: UrlSettings = UrlSettings()
    quantization: QuantizationSettings = QuantizationSettings()
    bento: BentoSettings = BentoSettings()
    backend: str = Field(default="llama_cpp", pattern="^(llama_cpp|transformers_bnb)$")
    bnb_bits: int = Field(default=4, ge=4, le=8)

    @classmethod
    def from_config(cls, node: Any) -> "ServingSettings":
        from llm_twin.config import to_plain

        data = to_plain(node)
        return cls.model_validate({k: v for k, v in data.items() if v is not None})
