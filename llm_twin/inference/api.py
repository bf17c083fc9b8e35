"""The service's API contract (pydantic): what `/generate` and `/retrieve` accept and return.

`GenerateRequest` is the one declaration of `/generate`'s input: the service uses it as the endpoint's
input spec, so validation, the OpenAPI schema and the engine all read the same fields.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from llm_twin.rag.models import RetrievedChunk

Instruction = Annotated[str, Field(min_length=1, max_length=4000, description="what the twin should write")]
Platform = Annotated[str | None, Field(default=None, max_length=50, pattern=r"^[A-Za-z0-9_.-]*$",
                                       description="platform filter, e.g. linkedin, medium, github")]


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instruction: Instruction
    url: HttpUrl | None = Field(default=None, description="a public page to ground the answer in")
    platform: Platform = None
    max_new_tokens: int = Field(default=256, ge=1, le=1024)
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    top_p: float = Field(default=0.9, ge=0.01, le=1.0)

    @field_validator("platform")
    @classmethod
    def _empty_platform_is_none(cls, value: str | None) -> str | None:
        return value or None  # the web page's "any" sends an empty string


class ContextChunk(BaseModel):
    id: str
    document_id: str
    data_type: str
    platform: str
    link: str
    title: str = ""
    score: float
    text: str

    @classmethod
    def of(cls, chunk: RetrievedChunk) -> ContextChunk:
        return cls(**chunk.model_dump(include=set(cls.model_fields)))


class GenerateResponse(BaseModel):
    answer: str
    context: list[ContextChunk]
    model_version: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    timings: dict[str, float]
    trace_id: str


class RetrieveResponse(BaseModel):
    query: str
    queries: list[str]
    filters: dict[str, str | None]
    context: list[ContextChunk]
    context_tokens: int
    timings: dict[str, float]


class ReloadRequest(BaseModel):
    """What to serve next: a bundle folder, or BentoML model tags (the index defaults to the one served)."""

    model_config = ConfigDict(extra="forbid")

    bundle_dir: str | None = Field(default=None, min_length=1, max_length=1000,
                                   description="a bundle folder on the server (<dir>/model, <dir>/index)")
    gguf_model: str | None = Field(default=None, max_length=200, pattern=r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$",
                                   description="BentoML model tag of the served model, e.g. llm_twin_gguf:abc123")
    index_model: str | None = Field(default=None, max_length=200, pattern=r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$",
                                    description="BentoML model tag of the index snapshot (default: keep the served one)")

    @model_validator(mode="after")
    def _one_source(self) -> ReloadRequest:
        if (self.bundle_dir is None) == (self.gguf_model is None):
            raise ValueError("give either bundle_dir or gguf_model (with an optional index_model)")
        if self.bundle_dir is not None and self.index_model is not None:
            raise ValueError("index_model goes with gguf_model; a bundle_dir carries its own index")
        return self


class InfoResponse(BaseModel):
    model_version: str = Field(description="the version being served (changes after /admin/reload)")
    report: dict = Field(description="measurement report of the served quantization")
    swaps: int = Field(description="model swaps since the service started")
